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
        let name = hex::encode(sha256);
        self.root.join(&name[..2]).join(format!("{name}.age"))
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
}
