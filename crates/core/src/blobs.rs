//! The media blob store: files kept content-addressed by SHA-256 under
//! `DIR/blobs/<first two hex>/<sha256>.age`, encrypted at rest with age to
//! the store's own X25519 identity in `DIR/blob-identity.txt` (created with
//! the store, mode 0600). `age -d -i DIR/blob-identity.txt FILE` opens a
//! blob with the standard tool.
//!
//! Invariants: a blob file is complete or absent (written to a temporary
//! name in the same directory, then renamed), and its name is the SHA-256
//! of its plaintext, so a second copy of the same content is never written.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use tiaki_types::hex;

/// Why the blob store failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not an age X25519 identity: {why}", path.display())]
    BadIdentity { path: PathBuf, why: String },
    #[error("cannot encrypt {}: {why}", path.display())]
    Encrypt { path: PathBuf, why: String },
    #[error("cannot decrypt {}: {why}", path.display())]
    Decrypt { path: PathBuf, why: String },
    #[error("{} does not hash to its name", path.display())]
    Tampered { path: PathBuf },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Encrypted, content-addressed media.
pub struct BlobStore {
    root: PathBuf,
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl BlobStore {
    /// Opens `dir/blobs`, creating the identity on first use.
    pub fn open(dir: &Path) -> Result<BlobStore, BlobError> {
        let root = dir.join("blobs");
        fs::create_dir_all(&root).map_err(io_at(&root))?;
        let key_path = dir.join("blob-identity.txt");
        let identity = match fs::read_to_string(&key_path) {
            Ok(text) => parse_identity(&text).map_err(|why| BlobError::BadIdentity {
                path: key_path.clone(),
                why,
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_identity(&key_path)?,
            Err(e) => {
                return Err(BlobError::Io {
                    path: key_path,
                    source: e,
                });
            }
        };
        let recipient = identity.to_public();
        Ok(BlobStore {
            root,
            identity,
            recipient,
        })
    }

    /// Where the blob of `sha256` lives (whether or not it exists).
    pub fn path_of(&self, sha256: &[u8; 32]) -> PathBuf {
        blob_path(&self.root, sha256)
    }

    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.path_of(sha256).is_file()
    }

    /// Stores the file at `src` (whose SHA-256 the caller computed) unless
    /// a blob of that content exists. Returns whether it wrote one.
    pub fn put_file(&self, src: &Path, sha256: &[u8; 32]) -> Result<bool, BlobError> {
        let dest = self.path_of(sha256);
        if dest.is_file() {
            return Ok(false);
        }
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            hex::encode(sha256),
            std::process::id()
        ));
        let result = self.encrypt_to(src, &tmp);
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &dest).map_err(io_at(&dest))?;
        Ok(true)
    }

    fn encrypt_to(&self, src: &Path, tmp: &Path) -> Result<(), BlobError> {
        let mut input = BufReader::new(File::open(src).map_err(io_at(src))?);
        let out = File::create(tmp).map_err(io_at(tmp))?;
        let enc = age::Encryptor::with_recipients(std::iter::once(
            &self.recipient as &dyn age::Recipient,
        ))
        .map_err(|e| BlobError::Encrypt {
            path: src.to_path_buf(),
            why: e.to_string(),
        })?;
        let mut w = enc.wrap_output(BufWriter::new(out)).map_err(io_at(tmp))?;
        // Not `io::copy`: a read error is the source file's, a write error
        // (a full disk) the blob's, and the message must say which.
        let mut written = Ok(());
        tiaki_types::chunks::for_each_chunk(&mut input, 64 << 10, |c| {
            written = w.write_all(c);
            if written.is_ok() {
                std::ops::ControlFlow::Continue(())
            } else {
                std::ops::ControlFlow::Break(())
            }
        })
        .map_err(io_at(src))?;
        written.map_err(io_at(tmp))?;
        let mut out = w.finish().map_err(io_at(tmp))?;
        out.flush().map_err(io_at(tmp))?;
        out.get_ref().sync_all().map_err(io_at(tmp))?;
        Ok(())
    }

    /// A blob written as its bytes arrive (an upload): encrypted on the
    /// way to a temporary file in the store, named by its SHA-256 on
    /// [`BlobWriter::finish`]. The plaintext never touches the disk.
    pub fn writer(&self) -> Result<BlobWriter, BlobError> {
        let tmp = tempfile::Builder::new()
            .prefix(".upload.")
            .suffix(".tmp")
            .tempfile_in(&self.root)
            .map_err(io_at(&self.root))?;
        let enc = age::Encryptor::with_recipients(std::iter::once(
            &self.recipient as &dyn age::Recipient,
        ))
        .map_err(|e| BlobError::Encrypt {
            path: tmp.path().to_path_buf(),
            why: e.to_string(),
        })?;
        let path = tmp.path().to_path_buf();
        let out = enc
            .wrap_output(BufWriter::new(tmp))
            .map_err(io_at(&path))?;
        Ok(BlobWriter {
            root: self.root.clone(),
            path,
            out,
            hasher: sha2::Sha256::default(),
            size: 0,
        })
    }

    /// The plaintext of a blob, checked against its name.
    pub fn read(&self, sha256: &[u8; 32]) -> Result<Vec<u8>, BlobError> {
        use sha2::Digest as _;
        let path = self.path_of(sha256);
        let file = BufReader::new(File::open(&path).map_err(io_at(&path))?);
        let dec = age::Decryptor::new(file).map_err(|e| BlobError::Decrypt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        let mut r = dec
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|e| BlobError::Decrypt {
                path: path.clone(),
                why: e.to_string(),
            })?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(io_at(&path))?;
        if sha2::Sha256::digest(&out).as_slice() != sha256 {
            return Err(BlobError::Tampered { path });
        }
        Ok(out)
    }
}

fn blob_path(root: &Path, sha256: &[u8; 32]) -> PathBuf {
    let name = hex::encode(sha256);
    root.join(&name[..2]).join(format!("{name}.age"))
}

/// A blob being written ([`BlobStore::writer`]). Dropped unfinished, it
/// leaves nothing behind (its temporary file is removed).
pub struct BlobWriter {
    root: PathBuf,
    /// The temporary file, for error messages.
    path: PathBuf,
    out: age::stream::StreamWriter<BufWriter<tempfile::NamedTempFile>>,
    hasher: sha2::Sha256,
    size: u64,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("path", &self.path)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Appends plaintext bytes.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        use sha2::Digest as _;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.out.write_all(chunk).map_err(io_at(&self.path))
    }

    /// The plaintext bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Completes the blob: its SHA-256 and size. A blob of the same
    /// content already stored is kept and this copy dropped.
    pub fn finish(self) -> Result<([u8; 32], u64), BlobError> {
        use sha2::Digest as _;
        let BlobWriter {
            root,
            path,
            out,
            hasher,
            size,
        } = self;
        let sha256: [u8; 32] = hasher.finalize().into();
        let buffered = out.finish().map_err(io_at(&path))?;
        let tmp = buffered
            .into_inner()
            .map_err(|e| io_at(&path)(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io_at(&path))?;
        let dest = blob_path(&root, &sha256);
        if dest.is_file() {
            return Ok((sha256, size));
        }
        let dir = dest.parent().unwrap_or(&root);
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        tmp.persist(&dest).map_err(|e| io_at(&dest)(e.error))?;
        Ok((sha256, size))
    }
}

fn parse_identity(text: &str) -> Result<age::x25519::Identity, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("the file is empty")?;
    age::x25519::Identity::from_str(line).map_err(|e| e.to_string())
}

fn create_identity(path: &Path) -> Result<age::x25519::Identity, BlobError> {
    let identity = age::x25519::Identity::generate();
    let text = format!(
        "# Tiaki blob store identity: media under blobs/ are encrypted to it.\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    );
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes()).map_err(io_at(path))?;
            f.sync_all().map_err(io_at(path))?;
            Ok(identity)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(io_at(path))?;
            parse_identity(&text).map_err(|why| BlobError::BadIdentity {
                path: path.to_path_buf(),
                why,
            })
        }
        Err(e) => Err(BlobError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    #[test]
    fn round_trip_and_dedup() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.bin");
        fs::write(&src, b"benign bytes").unwrap();
        let sha: [u8; 32] = sha2::Sha256::digest(b"benign bytes").into();
        let store = BlobStore::open(&dir.path().join("data")).unwrap();
        assert!(store.put_file(&src, &sha).unwrap());
        assert!(!store.put_file(&src, &sha).unwrap());
        let on_disk = fs::read(store.path_of(&sha)).unwrap();
        assert!(
            !on_disk.windows(6).any(|w| w == b"benign"),
            "stored in the clear"
        );
        assert_eq!(store.read(&sha).unwrap(), b"benign bytes");
        // The identity persists: a second open reads the same blob.
        let again = BlobStore::open(&dir.path().join("data")).unwrap();
        assert_eq!(again.read(&sha).unwrap(), b"benign bytes");
    }

    #[test]
    fn a_writer_stores_what_put_file_stores() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let mut w = store.writer().unwrap();
        w.write(b"benign ").unwrap();
        w.write(b"bytes").unwrap();
        assert_eq!(w.size(), 12);
        let (sha, size) = w.finish().unwrap();
        assert_eq!(sha, <[u8; 32]>::from(sha2::Sha256::digest(b"benign bytes")));
        assert_eq!(size, 12);
        assert_eq!(store.read(&sha).unwrap(), b"benign bytes");
        let on_disk = fs::read(store.path_of(&sha)).unwrap();
        assert!(!on_disk.windows(6).any(|w| w == b"benign"), "stored in the clear");
        // The same content again: one blob; an unfinished writer leaves nothing.
        let mut w = store.writer().unwrap();
        w.write(b"benign bytes").unwrap();
        assert_eq!(w.finish().unwrap().0, sha);
        let mut w = store.writer().unwrap();
        w.write(b"half").unwrap();
        drop(w);
        let left: Vec<_> = fs::read_dir(dir.path().join("blobs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }
}
