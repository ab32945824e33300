//! Checking and opening a package, for a receiving country that runs Tiaki.
//!
//! [`verify`] checks the minisign signature of the `.tar.age` file against
//! the issuer's public key. It is stricter than `minisign -V`: the
//! `.minisig` file must be byte for byte as Tiaki writes it (fixed untrusted
//! comment, canonical line layout), so a change to *any* byte of either
//! file fails, not only a change to a signed byte.
//!
//! [`open`] verifies, decrypts with the agency's age identity, unpacks into
//! a directory (regular files only, names checked: nothing can land outside
//! it), checks every file against the manifest, and checks the whole
//! plaintext tar against the SHA-256 in the signed comment.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use minisign::SignatureBox;

use crate::build::MANIFEST;
use crate::hashing::HashingReader;
use crate::keys::IssuerPublicKey;
use crate::manifest::Manifest;

/// The untrusted comment line of every Tiaki signature (after
/// `untrusted comment: `).
pub const UNTRUSTED_COMMENT: &str =
    "tiaki referral package; check with: minisign -V -p issuer.pub -m FILE";

/// Largest `.minisig` file [`verify`] reads.
const MAX_SIGNATURE_BYTES: u64 = 64 << 10;

/// Largest `manifest.json` [`open`] reads into memory. A manifest lists
/// about 90 bytes per file, so this allows some 700,000 files, and keeps
/// the read text and its parsed map of names under about 250 MB (a
/// package comes from outside: issue 17 wants any of them opened within
/// 512 MB).
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// The signed (trusted) comment:
/// `tiaki-referral id=<ID> country=<CC> created_at=<T> tar_sha256=<HEX>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedComment {
    pub referral_id: String,
    pub country: String,
    pub created_at: String,
    /// SHA-256 of the plaintext tar archive.
    pub tar_sha256: String,
}

const COMMENT_TAG: &str = "tiaki-referral";

impl fmt::Display for TrustedComment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{COMMENT_TAG} id={} country={} created_at={} tar_sha256={}",
            self.referral_id, self.country, self.created_at, self.tar_sha256
        )
    }
}

impl TrustedComment {
    /// Parses what [`fmt::Display`] writes, exactly.
    pub fn parse(s: &str) -> Option<TrustedComment> {
        let mut parts = s.split(' ');
        if parts.next()? != COMMENT_TAG {
            return None;
        }
        let mut field = |key: &str| -> Option<String> {
            let v = parts.next()?.strip_prefix(key)?.strip_prefix('=')?;
            Some(v.to_owned())
        };
        let c = TrustedComment {
            referral_id: field("id")?,
            country: field("country")?,
            created_at: field("created_at")?,
            tar_sha256: field("tar_sha256")?,
        };
        let canonical = parts.next().is_none()
            && crate::content::is_valid_referral_id(&c.referral_id)
            && crate::agency::is_country_code(&c.country)
            && tiaki_types::time::unix_seconds(&c.created_at).is_ok()
            && c.tar_sha256.len() == 64
            && c.tar_sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        canonical.then_some(c)
    }
}

/// What a valid signature says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInfo {
    pub referral_id: String,
    pub country: String,
    pub created_at: String,
    /// SHA-256 of the plaintext tar the issuer built.
    pub tar_sha256: String,
    /// The trusted comment as signed.
    pub trusted_comment: String,
    /// The signing key's id, as minisign prints it.
    pub key_id: String,
}

/// Why a package is not valid.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a minisign signature file: {reason}")]
    SignatureFormat { path: PathBuf, reason: String },
    #[error("{path}: signature file has been altered (it is not exactly as the issuer wrote it)")]
    NotCanonical { path: PathBuf },
    #[error("signed by key {found}, not by the issuer key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("{path}: signature does not match the file: {reason}")]
    BadSignature { path: PathBuf, reason: String },
    #[error("signed comment is not a Tiaki referral comment: {0:?}")]
    TrustedComment(String),
}

/// `<package>.minisig`.
pub fn signature_path(package: &Path) -> PathBuf {
    let mut s = package.as_os_str().to_owned();
    s.push(".minisig");
    PathBuf::from(s)
}

/// Checks `<package>` against `<package>.minisig` and the issuer key.
pub fn verify(package: &Path, key: &IssuerPublicKey) -> Result<VerifiedInfo, VerifyError> {
    let mut file = File::open(package).map_err(|source| VerifyError::Io {
        path: package.to_owned(),
        source,
    })?;
    verify_open_file(package, &mut file, key)
}

/// Verifies through an open handle, so [`open`] decrypts exactly the bytes
/// it verified.
fn verify_open_file(
    package: &Path,
    file: &mut File,
    key: &IssuerPublicKey,
) -> Result<VerifiedInfo, VerifyError> {
    let sig_path = signature_path(package);
    let sig_io = |source| VerifyError::Io {
        path: sig_path.clone(),
        source,
    };
    // A Tiaki signature file is under 1 KiB; never read an arbitrary file
    // whole.
    let mut sig_bytes = Vec::new();
    File::open(&sig_path)
        .and_then(|f| f.take(MAX_SIGNATURE_BYTES + 1).read_to_end(&mut sig_bytes))
        .map_err(sig_io)?;
    if sig_bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(VerifyError::NotCanonical { path: sig_path });
    }
    let sig_text = String::from_utf8(sig_bytes).map_err(|_| VerifyError::NotCanonical {
        path: sig_path.clone(),
    })?;
    let sig = SignatureBox::from_string(&sig_text).map_err(|e| VerifyError::SignatureFormat {
        path: sig_path.clone(),
        reason: e.to_string(),
    })?;
    // minisign parses leniently (trims, accepts CRLF, ignores trailing lines
    // and the untrusted comment); only the exact form we write is accepted.
    if sig.untrusted_comment().ok().as_deref() != Some(UNTRUSTED_COMMENT)
        || sig.to_string() != sig_text
    {
        return Err(VerifyError::NotCanonical { path: sig_path });
    }
    if sig.keynum() != key.key.keynum() {
        return Err(VerifyError::WrongKey {
            expected: key.key_id(),
            found: crate::keys::key_id(sig.keynum()),
        });
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|source| VerifyError::Io {
            path: package.to_owned(),
            source,
        })?;
    let reader = BufReader::with_capacity(256 << 10, &mut *file);
    minisign::verify(&key.key, &sig, reader, true, false, false).map_err(|e| {
        VerifyError::BadSignature {
            path: package.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let trusted = sig
        .trusted_comment()
        .map_err(|e| VerifyError::TrustedComment(e.to_string()))?;
    let c = TrustedComment::parse(&trusted)
        .ok_or_else(|| VerifyError::TrustedComment(trusted.clone()))?;
    Ok(VerifiedInfo {
        referral_id: c.referral_id,
        country: c.country,
        created_at: c.created_at,
        tar_sha256: c.tar_sha256,
        trusted_comment: trusted,
        key_id: key.key_id(),
    })
}

/// An agency's secret age identity.
pub struct AgeIdentity {
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
}

impl fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeIdentity({} keys)", self.identities.len())
    }
}

impl AgeIdentity {
    /// Reads an identity file: `age-keygen` output (one or more
    /// `AGE-SECRET-KEY-1…` lines, `#` comments), or an unencrypted OpenSSH
    /// `ssh-ed25519` / `ssh-rsa` private key.
    pub fn from_text(text: &str) -> Result<AgeIdentity, OpenError> {
        if text.trim_start().starts_with("-----BEGIN") {
            let id = age::ssh::Identity::from_buffer(text.as_bytes(), None)
                .map_err(|e| OpenError::Identity(e.to_string()))?;
            return match id {
                age::ssh::Identity::Unencrypted(_) => Ok(AgeIdentity {
                    identities: vec![Box::new(id)],
                }),
                age::ssh::Identity::Encrypted(_) => Err(OpenError::Identity(
                    "passphrase-protected ssh keys are not supported here; use `age -d -i KEY`"
                        .into(),
                )),
                age::ssh::Identity::Unsupported(k) => {
                    Err(OpenError::Identity(format!("unsupported ssh key: {k:?}")))
                }
            };
        }
        let file = age::IdentityFile::from_buffer(text.as_bytes())
            .map_err(|e| OpenError::Identity(e.to_string()))?;
        let identities = file
            .into_identities()
            .map_err(|e| OpenError::Identity(e.to_string()))?;
        if identities.is_empty() {
            return Err(OpenError::Identity("no identity in the file".into()));
        }
        Ok(AgeIdentity { identities })
    }
}

/// Why a package could not be opened. On error, the files [`open`] had
/// written are removed again.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("age identity: {0}")]
    Identity(String),
    #[error("the package is not encrypted to this identity")]
    WrongIdentity,
    #[error("decryption failed: {0}")]
    Decrypt(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("archive: {0}")]
    Archive(String),
    #[error("archive entry {0:?} is not an allowed file name")]
    UnsafePath(String),
    #[error("archive entry {0:?} is not listed in the manifest, or appears twice")]
    Unlisted(String),
    #[error("manifest.json: {0}")]
    Manifest(String),
    #[error("manifest {field} is {manifest:?} but the signature says {signed:?}")]
    ManifestMismatch {
        field: &'static str,
        manifest: String,
        signed: String,
    },
    #[error("{path}: SHA-256 {actual} does not match the manifest's {expected}")]
    HashMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{0}: listed in the manifest but missing from the archive")]
    Missing(String),
    #[error("the decrypted archive's SHA-256 {actual} is not the signed {expected}")]
    TarMismatch { expected: String, actual: String },
}

/// What [`open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub info: VerifiedInfo,
    pub manifest: Manifest,
    /// Where the files are.
    pub dir: PathBuf,
}

/// Whether `p` is a name the package layout allows: `name` or
/// `media/name`, names of `A-Z a-z 0-9 . _ -` not starting with `.`.
fn is_safe_entry_name(p: &str) -> bool {
    let ok = |c: &str| {
        !c.is_empty()
            && !c.starts_with('.')
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    match p.split_once('/') {
        None => ok(p),
        Some((dir, name)) => dir == "media" && ok(name),
    }
}

/// Files written so far; removed on drop unless kept.
struct Written(Vec<PathBuf>);

impl Drop for Written {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            // Best effort; directories only go if empty.
            let _ = fs::remove_file(p).or_else(|_| fs::remove_dir(p));
        }
    }
}

/// Verifies, decrypts and unpacks a package into `out_dir` (created if
/// missing; existing files are never overwritten), checking every file
/// against the manifest.
pub fn open(
    package: &Path,
    key: &IssuerPublicKey,
    identity: &AgeIdentity,
    out_dir: &Path,
) -> Result<Opened, OpenError> {
    let pkg_err = |source| OpenError::Io {
        path: package.to_owned(),
        source,
    };
    let mut file = File::open(package).map_err(pkg_err)?;
    let info = verify_open_file(package, &mut file, key)?;
    file.seek(SeekFrom::Start(0)).map_err(pkg_err)?;
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(256 << 10, file))
        .map_err(|e| OpenError::Decrypt(e.to_string()))?;
    let plain = decryptor
        .decrypt(
            identity
                .identities
                .iter()
                .map(|i| i.as_ref() as &dyn age::Identity),
        )
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => OpenError::WrongIdentity,
            e => OpenError::Decrypt(e.to_string()),
        })?;
    let mut plain = HashingReader::new(plain);
    let mut written = Written(Vec::new());
    let manifest = unpack(&mut plain, &info, out_dir, &mut written)?;
    // Read to the end: the archive's closing blocks count in the hash, and
    // age authenticates its last chunk only when it is read.
    io::copy(&mut plain, &mut io::sink()).map_err(|e| OpenError::Decrypt(e.to_string()))?;
    let (tar_sha256, _) = plain.finish();
    if tar_sha256 != info.tar_sha256 {
        return Err(OpenError::TarMismatch {
            expected: info.tar_sha256.clone(),
            actual: tar_sha256,
        });
    }
    written.0.clear();
    Ok(Opened {
        info,
        manifest,
        dir: out_dir.to_owned(),
    })
}

fn unpack<R: Read>(
    plain: &mut R,
    info: &VerifiedInfo,
    out_dir: &Path,
    written: &mut Written,
) -> Result<Manifest, OpenError> {
    let archive_err = |e: io::Error| OpenError::Archive(e.to_string());
    let mut archive = tar::Archive::new(plain);
    let mut entries = archive.entries().map_err(archive_err)?;

    let mut first = entries
        .next()
        .ok_or_else(|| OpenError::Archive("empty archive".into()))?
        .map_err(archive_err)?;
    if first.path_bytes().as_ref() != MANIFEST.as_bytes()
        || first.header().entry_type() != tar::EntryType::Regular
    {
        return Err(OpenError::Archive(
            "the first entry is not manifest.json".into(),
        ));
    }
    let mut manifest_bytes = Vec::new();
    (&mut first)
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut manifest_bytes)
        .map_err(archive_err)?;
    if manifest_bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(OpenError::Manifest(format!(
            "larger than {} MiB",
            MAX_MANIFEST_BYTES >> 20
        )));
    }
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| OpenError::Manifest(e.to_string()))?;
    if !manifest.format.starts_with("tiaki-referral/") {
        return Err(OpenError::Manifest(format!(
            "unknown format {:?}",
            manifest.format
        )));
    }
    for (field, m, s) in [
        ("referral_id", &manifest.referral_id, &info.referral_id),
        ("country", &manifest.country, &info.country),
        ("created_at", &manifest.created_at, &info.created_at),
    ] {
        if m != s {
            return Err(OpenError::ManifestMismatch {
                field,
                manifest: m.clone(),
                signed: s.clone(),
            });
        }
    }
    if let Some(bad) = manifest
        .files
        .keys()
        .find(|p| !is_safe_entry_name(p) || *p == MANIFEST)
    {
        return Err(OpenError::UnsafePath(bad.clone()));
    }

    create_dir(out_dir, written)?;
    write_new(
        &out_dir.join(MANIFEST),
        &mut manifest_bytes.as_slice(),
        written,
    )?;

    let mut pending: BTreeSet<&str> = manifest.files.keys().map(String::as_str).collect();
    for entry in entries {
        let mut entry = entry.map_err(archive_err)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular || !is_safe_entry_name(&name) {
            return Err(OpenError::UnsafePath(name));
        }
        if !pending.remove(name.as_str()) {
            return Err(OpenError::Unlisted(name));
        }
        let expected = manifest.files.get(&name).cloned().unwrap_or_default();
        if let Some((dir, _)) = name.split_once('/') {
            create_dir(&out_dir.join(dir), written)?;
        }
        let mut r = HashingReader::new(&mut entry);
        write_new(&out_dir.join(&name), &mut r, written)?;
        let (actual, _) = r.finish();
        if actual != expected {
            return Err(OpenError::HashMismatch {
                path: name,
                expected,
                actual,
            });
        }
    }
    if let Some(missing) = pending.into_iter().next() {
        return Err(OpenError::Missing(missing.to_owned()));
    }
    Ok(manifest)
}

/// Creates a directory, or accepts an existing real one (not a symlink).
fn create_dir(dir: &Path, written: &mut Written) -> Result<(), OpenError> {
    let io_err = |source| OpenError::Io {
        path: dir.to_owned(),
        source,
    };
    match fs::create_dir(dir) {
        Ok(()) => {
            written.0.push(dir.to_owned());
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(dir).map_err(io_err)?.is_dir() {
                Ok(())
            } else {
                Err(io_err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                )))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io_err)?;
            written.0.push(dir.to_owned());
            Ok(())
        }
        Err(e) => Err(io_err(e)),
    }
}

/// Writes a new file; an existing one (or a symlink in its place) is an error.
fn write_new(path: &Path, data: &mut dyn Read, written: &mut Written) -> Result<(), OpenError> {
    let io_err = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err)?;
    written.0.push(path.to_owned());
    let mut w = BufWriter::with_capacity(256 << 10, file);
    io::copy(data, &mut w).map_err(io_err)?;
    w.flush().map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        for ok in ["manifest.json", "media/abc.jpg", "summary.html", "a-b_c.d"] {
            assert!(is_safe_entry_name(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "../x",
            "/etc/passwd",
            "media/../x",
            "media/",
            "media/a/b",
            "other/x",
            "a\\b",
            "media/.x",
            "a b",
        ] {
            assert!(!is_safe_entry_name(bad), "{bad}");
        }
    }

    fn info() -> VerifiedInfo {
        VerifiedInfo {
            referral_id: "R-1".into(),
            country: "NZ".into(),
            created_at: "2021-03-01T00:00:00Z".into(),
            tar_sha256: "00".repeat(32),
            trusted_comment: String::new(),
            key_id: String::new(),
        }
    }

    fn manifest_json(files: &[(&str, &[u8])]) -> Vec<u8> {
        let m = Manifest {
            format: crate::manifest::FORMAT.into(),
            referral_id: "R-1".into(),
            country: "NZ".into(),
            agency: "A".into(),
            issuer: "I".into(),
            created_at: "2021-03-01T00:00:00Z".into(),
            accounts: 0,
            persons: 0,
            media: 0,
            files: files
                .iter()
                .map(|(n, d)| {
                    use sha2::Digest;
                    (
                        n.to_string(),
                        tiaki_types::hex::encode(&sha2::Sha256::digest(d)),
                    )
                })
                .collect(),
        };
        serde_json::to_vec(&m).unwrap()
    }

    /// A tar with raw entry names (so `..` and links can be written).
    fn tar_of(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, ty, data) in entries {
            let mut h = tar::Header::new_ustar();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(*ty);
            if *ty == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn try_unpack(tar: &[u8]) -> (Result<Manifest, OpenError>, Vec<PathBuf>) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let result = {
            let mut written = Written(Vec::new());
            let r = unpack(&mut &tar[..], &info(), &out, &mut written);
            if r.is_ok() {
                written.0.clear();
            }
            r
        };
        let mut left = Vec::new();
        for e in walk(tmp.path()) {
            left.push(e.strip_prefix(tmp.path()).unwrap().to_owned());
        }
        (result, left)
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
        out
    }

    const REG: tar::EntryType = tar::EntryType::Regular;

    #[test]
    fn unpack_accepts_listed_files() {
        let m = manifest_json(&[("a.txt", b"a"), ("media/x.bin", b"x")]);
        let tar = tar_of(&[
            (b"manifest.json", REG, &m),
            (b"a.txt", REG, b"a"),
            (b"media/x.bin", REG, b"x"),
        ]);
        let (r, left) = try_unpack(&tar);
        assert_eq!(r.unwrap().files.len(), 2);
        assert_eq!(left.len(), 5, "{left:?}");
    }

    #[test]
    fn unpack_rejects_and_cleans_up() {
        let listed = manifest_json(&[("a.txt", b"a")]);
        let escaping = manifest_json(&[("../evil", b"a")]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tar_of(&[(b"manifest.json", REG, &listed), (b"../evil", REG, b"a")]),
                "not an allowed file name",
            ),
            (
                tar_of(&[(b"manifest.json", REG, &escaping), (b"../evil", REG, b"a")]),
                "not an allowed file name",
            ),
            (
                tar_of(&[
                    (b"manifest.json", REG, &listed),
                    (b"a.txt", tar::EntryType::Symlink, b""),
                ]),
                "not an allowed file name",
            ),
            (
                tar_of(&[(b"manifest.json", REG, &listed), (b"b.txt", REG, b"b")]),
                "not listed",
            ),
            (
                tar_of(&[
                    (b"manifest.json", REG, &listed),
                    (b"a.txt", REG, b"a"),
                    (b"a.txt", REG, b"a"),
                ]),
                "appears twice",
            ),
            (
                tar_of(&[
                    (b"manifest.json", REG, &listed),
                    (b"a.txt", REG, b"changed"),
                ]),
                "does not match the manifest",
            ),
            (
                tar_of(&[(b"manifest.json", REG, &listed)]),
                "missing from the archive",
            ),
            (
                tar_of(&[(b"a.txt", REG, b"a"), (b"manifest.json", REG, &listed)]),
                "first entry is not manifest.json",
            ),
            (
                tar_of(&[(b"manifest.json", REG, b"{not json")]),
                "manifest.json:",
            ),
            (
                tar_of(&[(
                    b"manifest.json",
                    REG,
                    &String::from_utf8(listed.clone())
                        .unwrap()
                        .replace("\"NZ\"", "\"AU\"")
                        .into_bytes(),
                )]),
                "manifest country is \"AU\" but the signature says \"NZ\"",
            ),
            (Vec::new(), "empty archive"),
        ];
        for (tar, want) in cases {
            let (r, left) = try_unpack(&tar);
            let err = r.unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
            assert!(left.is_empty(), "{want}: left behind {left:?}");
        }
    }

    #[test]
    fn trusted_comment_round_trip() {
        let c = TrustedComment {
            referral_id: "R-1".into(),
            country: "NZ".into(),
            created_at: "2021-03-01T00:00:00Z".into(),
            tar_sha256: "ab".repeat(32),
        };
        assert_eq!(TrustedComment::parse(&c.to_string()), Some(c.clone()));
        assert_eq!(TrustedComment::parse(&format!("{c} extra=1")), None);
        assert_eq!(
            TrustedComment::parse(&c.to_string().replace("NZ", "nz")),
            None
        );
    }
}
