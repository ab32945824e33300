//! Writes one package: deterministic tar → age → file, then a minisign
//! signature of the file.
//!
//! Memory stays flat whatever the package size: the three generated
//! documents are written once into spooled temporary files (in memory up to
//! [`BuildOptions::spool_bytes`], then on disk) while their SHA-256 is
//! taken, because a tar header needs the size and the manifest, which comes
//! first, needs every hash; media files are streamed from disk. The tar
//! stream goes straight through the age encryptor into the output file.
//!
//! Output appears atomically: both files are written under `.partial`
//! names and renamed at the end; on any error the partial files are removed.
//! The files are not fsynced; a caller that records the package in a
//! ledger syncs them first if it needs that guarantee.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::SpooledTempFile;
use tiaki_formats::CategoryScheme;

use crate::agency::AgeRecipient;
use crate::content::{ContentError, PackageContent};
use crate::hashing::{HashingReader, HashingWriter};
use crate::keys::{IssuerKeys, KeyError};
use crate::manifest::{self, Manifest};
use crate::verify::{TrustedComment, signature_path};

/// Archive names of the fixed files.
pub const MANIFEST: &str = "manifest.json";
pub const ACCOUNTS: &str = "accounts.ndjson";
pub const MEDIA: &str = "media.vics.json";
pub const SUMMARY: &str = "summary.html";

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Copy media files (those with a [`crate::PackageMedia::file`]) into
    /// `media/<sha256>.<ext>` (`--include-media`).
    pub include_media: bool,
    /// At most this many rows in the summary's media table.
    pub summary_media_rows: usize,
    /// The VICS profile named in `media.vics.json`'s `@odata.context`.
    pub vics_profile: CategoryScheme,
    /// Translate every category into this scheme (`--profile`); `None`
    /// keeps each code under its own scheme.
    pub map_categories_to: Option<CategoryScheme>,
    /// Generated documents stay in memory up to this size, then spill to a
    /// temporary file.
    pub spool_bytes: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            include_media: false,
            summary_media_rows: 1000,
            vics_profile: CategoryScheme::VicsUs,
            map_categories_to: None,
            spool_bytes: 16 << 20,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    /// `…/referral-<ID>.tar.age`.
    pub package: PathBuf,
    /// `…/referral-<ID>.tar.age.minisig`.
    pub signature: PathBuf,
    pub manifest: Manifest,
    /// SHA-256 of the plaintext tar archive: equal for equal content (the
    /// age ciphertext is not, by design). Also in the signed comment.
    pub tar_sha256: String,
    pub tar_bytes: u64,
    /// Size of the `.tar.age` file.
    pub package_bytes: u64,
}

/// Why a package could not be built. Nothing is left in the output
/// directory after an error.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid package content: {0}")]
    Content(#[from] ContentError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing {file}: {source}")]
    Document {
        file: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("media {index} ({path}): {reason}")]
    MediaFile {
        index: usize,
        path: PathBuf,
        reason: String,
    },
    #[error("age encryption: {0}")]
    Encrypt(String),
    #[error("signing: {0}")]
    Sign(#[from] KeyError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A generated document, hashed, waiting to be copied into the archive.
struct Spooled {
    file: SpooledTempFile,
    sha256: String,
    len: u64,
}

fn spool(
    name: &'static str,
    limit: usize,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Spooled, BuildError> {
    let doc_err = |source| BuildError::Document { file: name, source };
    let mut file = tempfile::spooled_tempfile(limit);
    let mut w = HashingWriter::new(BufWriter::with_capacity(64 << 10, &mut file));
    write(&mut w).map_err(doc_err)?;
    let (buf, sha256, len) = w.finish();
    buf.into_inner().map_err(|e| doc_err(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(doc_err)?;
    Ok(Spooled { file, sha256, len })
}

/// A media file to copy in.
struct MediaFile<'a> {
    index: usize,
    path: &'a Path,
    sha256: String,
    size: u64,
}

/// Removes the files it holds unless disarmed: no half-written package is
/// ever left under a name a reader would pick up.
struct Partial(Vec<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        for p in &self.0 {
            // Best effort: the error that got us here is the one to report.
            let _ = fs::remove_file(p);
        }
    }
}

fn tar_header(path: &str, size: u64, mtime: u64) -> io::Result<tar::Header> {
    // Every field fixed: same content, same bytes.
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// The file name of a package: `referral-<ID>.tar.age`.
pub fn package_file_name(referral_id: &str) -> String {
    format!("referral-{referral_id}.tar.age")
}

/// Builds, encrypts and signs one package into `out_dir` (created if
/// missing). An existing package of the same id is replaced.
pub fn build_package(
    content: &PackageContent,
    recipient: &AgeRecipient,
    keys: &IssuerKeys,
    out_dir: &Path,
    opts: &BuildOptions,
) -> Result<BuiltPackage, BuildError> {
    content.validate()?;
    let mtime = tiaki_types::time::unix_seconds(&content.created_at)
        .ok()
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0);
    let counts = crate::accounts::media_counts(content);

    // Media files first: a missing file should fail before any work.
    let mut media_files: BTreeMap<String, MediaFile<'_>> = BTreeMap::new();
    if opts.include_media {
        for (index, m) in content.media.iter().enumerate() {
            let (Some(path), Some(name), Some(sha)) =
                (m.file.as_deref(), crate::vics::media_path(m), m.sha256)
            else {
                continue;
            };
            if media_files.contains_key(&name) {
                continue;
            }
            let meta = fs::metadata(path).map_err(|e| BuildError::MediaFile {
                index,
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            if !meta.is_file() {
                return Err(BuildError::MediaFile {
                    index,
                    path: path.to_owned(),
                    reason: "not a regular file".into(),
                });
            }
            media_files.insert(
                name,
                MediaFile {
                    index,
                    path,
                    sha256: sha.to_hex(),
                    size: meta.len(),
                },
            );
        }
    }

    let mut accounts = spool(ACCOUNTS, opts.spool_bytes, |w| {
        crate::accounts::write_accounts(content, &counts, w)
    })?;
    let mut media = spool(MEDIA, opts.spool_bytes, |w| {
        crate::vics::write_media(
            content,
            opts.vics_profile,
            opts.map_categories_to,
            opts.include_media,
            w,
        )
    })?;
    let mut summary = spool(SUMMARY, opts.spool_bytes, |w| {
        crate::summary::write_summary(
            content,
            &counts,
            opts.summary_media_rows,
            media_files.len(),
            opts.include_media,
            w,
        )
    })?;

    let mut files = BTreeMap::new();
    files.insert(ACCOUNTS.to_owned(), accounts.sha256.clone());
    files.insert(MEDIA.to_owned(), media.sha256.clone());
    files.insert(SUMMARY.to_owned(), summary.sha256.clone());
    for (name, f) in &media_files {
        files.insert(name.clone(), f.sha256.clone());
    }
    let manifest = Manifest {
        format: manifest::FORMAT.to_owned(),
        referral_id: content.referral_id.clone(),
        country: content.country.clone(),
        agency: content.agency_name.clone(),
        issuer: content.issuer.clone(),
        created_at: content.created_at.clone(),
        accounts: content.accounts.len() as u64,
        persons: content.persons().len() as u64,
        media: content.media.len() as u64,
        files,
    };
    let mut manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| BuildError::Document {
            file: MANIFEST,
            source: io::Error::other(e),
        })?;
    manifest_json.push(b'\n');

    fs::create_dir_all(out_dir).map_err(io_at(out_dir))?;
    let package = out_dir.join(package_file_name(&content.referral_id));
    let signature = signature_path(&package);
    let package_tmp = partial_name(&package);
    let signature_tmp = partial_name(&signature);
    let mut partial = Partial(vec![package_tmp.clone(), signature_tmp.clone()]);

    // tar → SHA-256 → age → buffer → file.
    let file = File::create(&package_tmp).map_err(io_at(&package_tmp))?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient.as_recipient()))
        .map_err(|e| BuildError::Encrypt(e.to_string()))?;
    let stream = encryptor
        .wrap_output(BufWriter::with_capacity(256 << 10, file))
        .map_err(io_at(&package_tmp))?;
    let mut tar = tar::Builder::new(HashingWriter::new(stream));
    let append = |tar: &mut tar::Builder<_>, name: &str, size: u64, data: &mut dyn Read| {
        tar_header(name, size, mtime).and_then(|h| tar.append(&h, data))
    };
    append(
        &mut tar,
        MANIFEST,
        manifest_json.len() as u64,
        &mut manifest_json.as_slice(),
    )
    .map_err(io_at(&package_tmp))?;
    for name in manifest.files.keys() {
        let doc = match name.as_str() {
            ACCOUNTS => Some(&mut accounts),
            MEDIA => Some(&mut media),
            SUMMARY => Some(&mut summary),
            _ => None,
        };
        if let Some(doc) = doc {
            let mut r = CountingReader::new((&mut doc.file).take(doc.len));
            append(&mut tar, name, doc.len, &mut r).map_err(io_at(&package_tmp))?;
            if r.count != doc.len {
                return Err(BuildError::Document {
                    file: doc_name(name),
                    source: io::Error::new(io::ErrorKind::UnexpectedEof, "spooled copy is short"),
                });
            }
        } else if let Some(f) = media_files.get(name) {
            copy_media_file(&mut tar, name, f, mtime, &package_tmp)?;
        }
    }
    let (stream, tar_sha256, tar_bytes) = tar.into_inner().map_err(io_at(&package_tmp))?.finish();
    let buffered = stream.finish().map_err(io_at(&package_tmp))?;
    let file = buffered.into_inner().map_err(|e| BuildError::Io {
        path: package_tmp.clone(),
        source: e.into_error(),
    })?;
    let package_bytes = file.metadata().map_err(io_at(&package_tmp))?.len();
    drop(file);

    let comment = TrustedComment {
        referral_id: content.referral_id.clone(),
        country: content.country.clone(),
        created_at: content.created_at.clone(),
        tar_sha256: tar_sha256.clone(),
    };
    let reader = BufReader::with_capacity(
        256 << 10,
        File::open(&package_tmp).map_err(io_at(&package_tmp))?,
    );
    let sig_text = keys.sign(reader, &comment.to_string())?;
    fs::write(&signature_tmp, sig_text).map_err(io_at(&signature_tmp))?;
    fs::rename(&package_tmp, &package).map_err(io_at(&package))?;
    fs::rename(&signature_tmp, &signature).map_err(io_at(&signature))?;
    partial.0.clear();

    Ok(BuiltPackage {
        package,
        signature,
        manifest,
        tar_sha256,
        tar_bytes,
        package_bytes,
    })
}

fn doc_name(name: &str) -> &'static str {
    match name {
        ACCOUNTS => ACCOUNTS,
        MEDIA => MEDIA,
        _ => SUMMARY,
    }
}

fn partial_name(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Streams one media file into the archive, checking that it still has the
/// size the header promised and the SHA-256 it is named by.
fn copy_media_file<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    f: &MediaFile<'_>,
    mtime: u64,
    package_tmp: &Path,
) -> Result<(), BuildError> {
    let media_err = |reason: String| BuildError::MediaFile {
        index: f.index,
        path: f.path.to_owned(),
        reason,
    };
    let file = File::open(f.path).map_err(|e| media_err(e.to_string()))?;
    // `take` so a file that grew since its size was read cannot overrun the
    // tar entry; a file that shrank is caught by the count below.
    let mut r = HashingReader::new(BufReader::with_capacity(256 << 10, file).take(f.size));
    let header = tar_header(name, f.size, mtime).map_err(io_at(package_tmp))?;
    tar.append(&header, &mut r)
        .map_err(|e| media_err(e.to_string()))?;
    let (sha, len) = r.finish();
    if len != f.size {
        return Err(media_err(format!(
            "file changed while packaging: {len} bytes read, {} expected",
            f.size
        )));
    }
    if sha != f.sha256 {
        return Err(media_err(format!(
            "content SHA-256 {sha} differs from the recorded {}",
            f.sha256
        )));
    }
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader { inner, count: 0 }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
