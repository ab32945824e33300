//! Safe extraction of a bundle archive (`.zip`, `.tar`, `.tar.gz`,
//! `.tar.zst`) into a staging directory.
//!
//! Archives come from outside, so nothing in one may write outside the
//! staging directory or exhaust the disk:
//!
//! * entry names with `..`, an absolute path, a NUL or a non-UTF-8 name are
//!   refused;
//! * device files, FIFOs and sockets are refused;
//! * regular files are created with `create_new`, so an entry never
//!   overwrites another or writes through an existing link;
//! * symbolic links are created only after every regular file, and only if
//!   their target resolves (on the real file system, following earlier
//!   links) to something that exists inside the staging directory; since no
//!   link exists while files are written, no file write can follow one;
//! * hard links must name an earlier regular file of the archive and are
//!   materialised as copies;
//! * the total bytes written and the number of entries are capped
//!   ([`Limits`]), and so is the expansion: an archive may extract to at
//!   most [`Limits::max_expansion_ratio`] times its own size (but always to
//!   [`EXPANSION_ALLOWANCE`]), so a zip or tar bomb is refused after a few
//!   megabytes instead of filling the disk up to the absolute cap.
//!
//! Any refused entry rejects the whole archive: a bundle that tries to
//! escape is not one to half-ingest.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use crate::error::BundleError;

/// Caps that keep a hostile or broken bundle from exhausting the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes an archive may extract to, in total (actual bytes written,
    /// not the sizes the archive declares).
    pub max_extracted_bytes: u64,
    /// Most entries (files, directories, links) an archive may hold.
    pub max_entries: u64,
    /// Longest NDJSON line read; a longer line is a line error.
    pub max_line_bytes: usize,
    /// Largest manifest.json read.
    pub max_manifest_bytes: u64,
    /// Most bytes an archive may extract to per byte of its own size (a
    /// decompression bomb extracts to thousands); below
    /// [`EXPANSION_ALLOWANCE`] any archive may extract.
    pub max_expansion_ratio: u64,
}

/// What any archive may extract to whatever its size (a tiny archive of
/// highly repetitive NDJSON is genuine).
pub const EXPANSION_ALLOWANCE: u64 = 64 << 20;

impl Default for Limits {
    /// 200 GiB and 10 million entries: above the largest real reports
    /// (millions of media files), far below what breaks a server.
    fn default() -> Self {
        Limits {
            max_extracted_bytes: 200 << 30,
            max_entries: 10_000_000,
            max_line_bytes: 1 << 20,
            max_manifest_bytes: 16 << 20,
            // Media files do not compress and NDJSON compresses about 10:1;
            // deflate bombs reach 1000:1, zstd far more.
            max_expansion_ratio: 100,
        }
    }
}

/// Archive formats recognised by their first bytes (not by file name, which
/// may lie or be missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArchiveKind {
    Zip,
    Tar,
    TarGz,
    TarZst,
}

/// Looks at the first 512 bytes of `path`.
pub(crate) fn sniff(path: &Path) -> io::Result<Option<ArchiveKind>> {
    let mut head = [0u8; 512];
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let got = file.read(head.get_mut(n..).unwrap_or_default())?;
        if got == 0 {
            break;
        }
        n += got;
    }
    let head = head.get(..n).unwrap_or_default();
    Ok(
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(ArchiveKind::Zip)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(ArchiveKind::TarGz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(ArchiveKind::TarZst)
        } else if head.get(257..262) == Some(b"ustar") {
            Some(ArchiveKind::Tar)
        } else {
            None
        },
    )
}

/// Extracts `archive` into `staging` (created if absent; must be empty).
pub(crate) fn extract(
    archive: &Path,
    kind: ArchiveKind,
    staging: &Path,
    limits: &Limits,
) -> Result<(), BundleError> {
    prepare_staging(staging)?;
    let root = fs::canonicalize(staging).map_err(|e| BundleError::io(staging, e))?;
    let archive_bytes = fs::metadata(archive)
        .map_err(|e| BundleError::io(archive, e))?
        .len();
    let by_ratio = archive_bytes
        .saturating_mul(limits.max_expansion_ratio)
        .max(EXPANSION_ALLOWANCE);
    let (max_bytes, cap_reason) = if by_ratio < limits.max_extracted_bytes {
        (
            by_ratio,
            format!(
                "extracts to more than {by_ratio} bytes, over {} times the archive's {archive_bytes} bytes (a decompression bomb)",
                limits.max_expansion_ratio
            ),
        )
    } else {
        (
            limits.max_extracted_bytes,
            format!("extracts to more than {} bytes", limits.max_extracted_bytes),
        )
    };
    let mut x = Extractor {
        archive: archive.to_path_buf(),
        root,
        max_bytes,
        cap_reason,
        limits: limits.clone(),
        bytes: 0,
        entries: 0,
        seen: HashSet::new(),
        links: Vec::new(),
    };
    let open = || File::open(archive).map_err(|e| BundleError::io(archive, e));
    match kind {
        ArchiveKind::Zip => x.zip(open()?)?,
        ArchiveKind::Tar => x.tar(BufReader::new(open()?))?,
        ArchiveKind::TarGz => x.tar(flate2::read::MultiGzDecoder::new(BufReader::new(open()?)))?,
        ArchiveKind::TarZst => {
            let dec = zstd::stream::read::Decoder::new(open()?)
                .map_err(|e| x.corrupt(format!("zstd: {e}")))?;
            x.tar(dec)?;
        }
    }
    x.finish_links()
}

fn prepare_staging(staging: &Path) -> Result<(), BundleError> {
    match fs::read_dir(staging) {
        Ok(mut it) => {
            if it.next().is_some() {
                return Err(BundleError::StagingNotEmpty {
                    path: staging.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(staging).map_err(|e| BundleError::io(staging, e))
        }
        Err(e) => Err(BundleError::io(staging, e)),
    }
}

/// A checked entry name: relative, no `..`, no root, as plain components.
fn safe_relative(name: &str) -> Result<PathBuf, String> {
    if name.contains('\0') {
        return Err("name contains a NUL byte".into());
    }
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let mut out = PathBuf::new();
    for comp in Path::new(name).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains `..`".into()),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path".into()),
        }
    }
    Ok(out)
}

struct Extractor {
    archive: PathBuf,
    root: PathBuf,
    /// The tighter of the absolute cap and the expansion cap, and what to
    /// say when it is passed.
    max_bytes: u64,
    cap_reason: String,
    limits: Limits,
    bytes: u64,
    entries: u64,
    seen: HashSet<PathBuf>,
    /// Symbolic links (relative location, target, entry name), created last.
    links: Vec<(PathBuf, String, String)>,
}

enum Kind {
    Dir,
    File,
    Symlink(String),
    Hardlink(String),
    Skip,
    Refuse(&'static str),
}

impl Extractor {
    fn corrupt(&self, message: String) -> BundleError {
        BundleError::Archive {
            archive: self.archive.clone(),
            message,
        }
    }

    fn refuse(&self, entry: &str, reason: impl Into<String>) -> BundleError {
        BundleError::UnsafeEntry {
            archive: self.archive.clone(),
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    fn count_entry(&mut self) -> Result<(), BundleError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(BundleError::LimitExceeded {
                archive: self.archive.clone(),
                what: format!("more than {} entries", self.limits.max_entries),
            });
        }
        Ok(())
    }

    fn write_io(&self, path: &Path, e: io::Error) -> BundleError {
        BundleError::io(path, e)
    }

    /// Handles one entry whose contents are readable from `data`.
    fn entry(&mut self, name: &str, kind: Kind, data: &mut dyn Read) -> Result<(), BundleError> {
        self.count_entry()?;
        let rel = safe_relative(name).map_err(|r| self.refuse(name, r))?;
        match kind {
            Kind::Skip => Ok(()),
            Kind::Refuse(why) => Err(self.refuse(name, why)),
            Kind::Dir => {
                if rel.as_os_str().is_empty() {
                    return Ok(());
                }
                let dest = self.root.join(&rel);
                fs::create_dir_all(&dest).map_err(|e| self.write_io(&dest, e))
            }
            Kind::File => {
                if rel.as_os_str().is_empty() {
                    return Err(self.refuse(name, "a file entry with an empty name"));
                }
                self.write_file(name, &rel, data)
            }
            Kind::Hardlink(target) => {
                let trel = safe_relative(&target)
                    .map_err(|r| self.refuse(name, format!("hard link target {target:?}: {r}")))?;
                let src = self.root.join(&trel);
                match fs::symlink_metadata(&src) {
                    Ok(m) if m.is_file() && self.seen.contains(&trel) => {}
                    _ => {
                        return Err(self.refuse(
                            name,
                            format!(
                                "hard link target {target:?} is not an earlier file of the archive"
                            ),
                        ));
                    }
                }
                let mut f = File::open(&src).map_err(|e| self.write_io(&src, e))?;
                self.write_file(name, &rel, &mut f)
            }
            Kind::Symlink(target) => {
                if rel.as_os_str().is_empty() {
                    return Err(self.refuse(name, "a link entry with an empty name"));
                }
                if !self.seen.insert(rel.clone()) {
                    return Err(self.refuse(name, "duplicate entry"));
                }
                self.links.push((rel, target, name.to_owned()));
                Ok(())
            }
        }
    }

    fn write_file(
        &mut self,
        name: &str,
        rel: &Path,
        data: &mut dyn Read,
    ) -> Result<(), BundleError> {
        if !self.seen.insert(rel.to_path_buf()) {
            return Err(self.refuse(name, "duplicate entry"));
        }
        let dest = self.root.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| self.write_io(parent, e))?;
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .map_err(|e| self.write_io(&dest, e))?;
        let remaining = self.max_bytes.saturating_sub(self.bytes);
        let copied = io::copy(&mut data.take(remaining.saturating_add(1)), &mut out)
            .map_err(|e| self.corrupt(format!("{name}: {e}")))?;
        self.bytes += copied;
        if copied > remaining {
            return Err(BundleError::LimitExceeded {
                archive: self.archive.clone(),
                what: self.cap_reason.clone(),
            });
        }
        Ok(())
    }

    /// Creates the deferred symbolic links, each only if it resolves inside.
    fn finish_links(&mut self) -> Result<(), BundleError> {
        let links = std::mem::take(&mut self.links);
        for (rel, target, name) in links {
            if target.is_empty() || target.contains('\0') {
                return Err(self.refuse(&name, "symbolic link with an empty or NUL target"));
            }
            if Path::new(&target).is_absolute() {
                return Err(
                    self.refuse(&name, format!("symbolic link to absolute path {target:?}"))
                );
            }
            let dest = self.root.join(&rel);
            let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
            fs::create_dir_all(&parent).map_err(|e| self.write_io(&parent, e))?;
            let resolved = fs::canonicalize(parent.join(&target)).map_err(|_| {
                self.refuse(
                    &name,
                    format!("symbolic link target {target:?} does not exist in the archive"),
                )
            })?;
            if !resolved.starts_with(&self.root) {
                return Err(self.refuse(
                    &name,
                    format!("symbolic link to {target:?} points outside the bundle"),
                ));
            }
            make_symlink(&target, &dest).map_err(|e| match e {
                Some(e) => self.write_io(&dest, e),
                None => self.refuse(&name, "symbolic links are not supported on this system"),
            })?;
        }
        Ok(())
    }

    fn tar<R: Read>(&mut self, reader: R) -> Result<(), BundleError> {
        let mut ar = tar::Archive::new(reader);
        let entries = ar
            .entries()
            .map_err(|e| self.corrupt(format!("tar: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.corrupt(format!("tar: {e}")))?;
            let raw = entry.path_bytes().into_owned();
            let Ok(name) = String::from_utf8(raw) else {
                return Err(self.refuse(
                    &String::from_utf8_lossy(&entry.path_bytes()),
                    "name is not UTF-8",
                ));
            };
            use tar::EntryType as T;
            let kind = match entry.header().entry_type() {
                T::Regular | T::Continuous | T::GNUSparse => Kind::File,
                T::Directory => Kind::Dir,
                T::Symlink | T::Link => {
                    let target = match entry.link_name_bytes() {
                        Some(t) => String::from_utf8(t.into_owned())
                            .map_err(|_| self.refuse(&name, "link target is not UTF-8"))?,
                        None => return Err(self.refuse(&name, "link without a target")),
                    };
                    if entry.header().entry_type() == T::Symlink {
                        Kind::Symlink(target)
                    } else {
                        Kind::Hardlink(target)
                    }
                }
                T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => Kind::Skip,
                T::Char | T::Block => Kind::Refuse("device file"),
                T::Fifo => Kind::Refuse("FIFO"),
                _ => Kind::Refuse("unsupported entry type"),
            };
            self.entry(&name, kind, &mut entry)?;
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), BundleError> {
        let mut ar = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| self.corrupt(format!("zip: {e}")))?;
        for i in 0..ar.len() {
            let mut f = ar
                .by_index(i)
                .map_err(|e| self.corrupt(format!("zip entry {i}: {e}")))?;
            // Zip names are `/`-separated; tools on Windows sometimes write `\`.
            let name = f
                .name()
                .map_err(|e| self.corrupt(format!("zip entry {i}: name: {e}")))?
                .replace('\\', "/");
            const S_IFMT: u32 = 0o170_000;
            const S_IFREG: u32 = 0o100_000;
            const S_IFDIR: u32 = 0o040_000;
            let mode_type = f.unix_mode().map(|m| m & S_IFMT).unwrap_or(0);
            let kind = if f.is_symlink() {
                let mut target = String::new();
                f.by_ref()
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|_| self.refuse(&name, "link target is not UTF-8"))?;
                Kind::Symlink(target)
            } else if f.is_dir() {
                Kind::Dir
            } else if mode_type == 0 || mode_type == S_IFREG {
                Kind::File
            } else if mode_type == S_IFDIR {
                Kind::Dir
            } else {
                Kind::Refuse("device file, FIFO or socket")
            };
            self.entry(&name, kind, &mut f)?;
        }
        Ok(())
    }
}

/// `Err(None)` where the platform has no symbolic links.
fn make_symlink(target: &str, dest: &Path) -> Result<(), Option<io::Error>> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, dest).map_err(Some)
    }
    #[cfg(not(unix))]
    {
        let _ = (target, dest);
        Err(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names() {
        assert_eq!(safe_relative("./a/b").unwrap(), PathBuf::from("a/b"));
        assert!(safe_relative("a/../b").is_err());
        assert!(safe_relative("/etc/passwd").is_err());
        assert!(safe_relative("a\0b").is_err());
        assert_eq!(safe_relative("./").unwrap(), PathBuf::new());
    }
}
