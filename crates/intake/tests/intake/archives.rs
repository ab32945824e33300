//! Bundles as archives, and archives that try to escape or exhaust.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use tiaki_intake::generate::{GenOptions, generate};
use tiaki_intake::{Bundle, BundleError, Limits};

use crate::common::{open_dir, read_all, staging};

fn gen_bundle(dir: &Path) {
    generate(&GenOptions {
        accounts: 30,
        media: 300,
        files: 8,
        seed: 42,
        out: dir.to_path_buf(),
        ..GenOptions::default()
    })
    .unwrap();
}

/// Files under `dir`, sorted, relative.
fn files_of(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn tar_bytes(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(prefix, dir).unwrap();
    b.into_inner().unwrap()
}

fn zip_bytes(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for f in files_of(dir) {
        z.start_file(format!("{prefix}{f}"), opts).unwrap();
        z.write_all(&fs::read(dir.join(&f)).unwrap()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn open_archive(bytes: &[u8], name: &str, tmp: &Path) -> Result<Bundle, BundleError> {
    fs::create_dir_all(tmp).unwrap();
    let path = tmp.join(name);
    fs::write(&path, bytes).unwrap();
    Bundle::open(&path, &staging(tmp), &Limits::default())
}

#[test]
fn the_same_bundle_reads_the_same_as_dir_zip_tar_tgz_and_tzst() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    gen_bundle(&dir);
    let expected = open_dir(&dir);
    assert!(expected.errors.is_empty(), "{:#?}", expected.errors);
    assert_eq!(expected.media.len(), 300);
    let expected = expected.fingerprint();

    let tar_root = tar_bytes(&dir, ".");
    let tar_wrapped = tar_bytes(&dir, "ACME-0001");
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&tar_wrapped).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::encode_all(&tar_root[..], 3).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("b.tar", tar_root.clone()),
        ("b2.tar", tar_wrapped),
        ("b.tar.gz", gz.clone()),
        ("b.tgz", gz),
        ("b.tar.zst", zst),
        ("b.zip", zip_bytes(&dir, "")),
        ("b2.zip", zip_bytes(&dir, "top/")),
        ("no-extension", tar_root),
    ];
    for (name, bytes) in cases {
        let case = tempfile::tempdir().unwrap();
        let mut b =
            open_archive(&bytes, name, case.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            b.root()
                .starts_with(fs::canonicalize(staging(case.path())).unwrap())
        );
        assert_eq!(read_all(&mut b).fingerprint(), expected, "{name}");
        assert_eq!(b.header().report_id, "GEN-42-30-300");
    }
}

/// A tar with one hand-made entry (names the `tar` builder would refuse).
pub fn raw_tar(entries: &[(&str, tar::EntryType, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                old.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub type RawEntry<'a> = (&'a str, tar::EntryType, Option<&'a str>, &'a [u8]);
type Zip = zip::ZipWriter<std::io::Cursor<Vec<u8>>>;

pub const MANIFEST: &[u8] =
    br#"{"format": "provider-report/1", "report_id": "R", "provider": {"name": "P"}}"#;

#[test]
fn archive_entries_escaping_staging_are_refused() {
    use tar::EntryType as T;
    let base: Vec<(&str, T, Option<&str>, &[u8])> = vec![
        ("manifest.json", T::Regular, None, MANIFEST),
        ("accounts.ndjson", T::Regular, None, b""),
        ("media.ndjson", T::Regular, None, b""),
    ];
    let hostile: Vec<(&str, RawEntry, &str)> = vec![
        ("dotdot", ("../evil.txt", T::Regular, None, b"x"), "`..`"),
        (
            "nested dotdot",
            ("files/../../evil.txt", T::Regular, None, b"x"),
            "`..`",
        ),
        (
            "absolute",
            ("/tmp/tiaki-intake-abs-evil.txt", T::Regular, None, b"x"),
            "absolute",
        ),
        (
            "abs symlink",
            ("files/link", T::Symlink, Some("/etc/passwd"), b""),
            "absolute",
        ),
        ("symlink up", ("up", T::Symlink, Some(".."), b""), "outside"),
        (
            "symlink far",
            ("files/x", T::Symlink, Some("../../../../etc"), b""),
            "outside",
        ),
        (
            "hardlink out",
            ("h", T::Link, Some("../../etc/passwd"), b""),
            "`..`",
        ),
        (
            "hardlink abs",
            ("h", T::Link, Some("/etc/passwd"), b""),
            "absolute",
        ),
        (
            "hardlink to nothing",
            ("h", T::Link, Some("nothing"), b""),
            "not an earlier file",
        ),
        ("char device", ("dev", T::Char, None, b""), "device"),
        ("block device", ("dev", T::Block, None, b""), "device"),
        ("fifo", ("fifo", T::Fifo, None, b""), "FIFO"),
        (
            "duplicate",
            ("manifest.json", T::Regular, None, b"{}"),
            "duplicate",
        ),
    ];
    for (what, entry, needle) in hostile {
        let tmp = tempfile::tempdir().unwrap();
        let mut entries = base.clone();
        entries.push(entry);
        let e = open_archive(&raw_tar(&entries), "h.tar", tmp.path()).unwrap_err();
        assert!(matches!(e, BundleError::UnsafeEntry { .. }), "{what}: {e}");
        assert!(
            e.to_string().contains(needle),
            "{what}: {e} lacks {needle:?}"
        );
        assert!(!tmp.path().join("evil.txt").exists(), "{what}");
    }
    assert!(!Path::new("/tmp/tiaki-intake-abs-evil.txt").exists());

    // A link that resolves through an earlier link to outside.
    let tmp = tempfile::tempdir().unwrap();
    let mut entries = base.clone();
    entries.push(("s", T::Symlink, Some("."), b""));
    entries.push(("s2", T::Symlink, Some("s/.."), b""));
    let e = open_archive(&raw_tar(&entries), "chain.tar", tmp.path()).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
}

#[test]
fn links_inside_the_archive_are_fine() {
    use tar::EntryType as T;
    let tmp = tempfile::tempdir().unwrap();
    let entries: Vec<(&str, T, Option<&str>, &[u8])> = vec![
        ("b/manifest.json", T::Regular, None, MANIFEST),
        ("b/accounts.ndjson", T::Regular, None, b"{\"id\": \"u-1\"}\n"),
        ("b/files/a.jpg", T::Regular, None, b"jpeg"),
        // Links come before their targets' users; created last regardless.
        ("b/files/alias.jpg", T::Symlink, Some("a.jpg"), b""),
        ("b/files/copy.jpg", T::Link, Some("b/files/a.jpg"), b""),
        (
            "b/media.ndjson",
            T::Regular,
            None,
            b"{\"id\": \"m-1\", \"account\": \"u-1\", \"file\": \"files/alias.jpg\"}\n{\"id\": \"m-2\", \"account\": \"u-1\", \"file\": \"files/copy.jpg\"}\n",
        ),
    ];
    let mut b = open_archive(&raw_tar(&entries), "ok.tar", tmp.path()).unwrap();
    let all = read_all(&mut b);
    assert!(all.errors.is_empty(), "{:#?}", all.errors);
    assert_eq!(all.media.len(), 2);
    assert_eq!(
        fs::read(b.resolve_file("files/copy.jpg").unwrap()).unwrap(),
        b"jpeg"
    );
}

#[test]
fn zip_entries_escaping_are_refused() {
    let opts = zip::write::SimpleFileOptions::default();
    let build = |f: &dyn Fn(&mut Zip)| {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.start_file("manifest.json", opts).unwrap();
        z.write_all(MANIFEST).unwrap();
        f(&mut z);
        z.finish().unwrap().into_inner()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            build(&|z| {
                z.start_file("../evil.txt", opts).unwrap();
                z.write_all(b"x").unwrap();
            }),
            "`..`",
        ),
        (
            "backslash dotdot",
            build(&|z| {
                z.start_file("..\\evil.txt", opts).unwrap();
                z.write_all(b"x").unwrap();
            }),
            "`..`",
        ),
        (
            "absolute symlink",
            build(&|z| z.add_symlink("files/l", "/etc/passwd", opts).unwrap()),
            "absolute",
        ),
        (
            "symlink up",
            build(&|z| z.add_symlink("l", "../..", opts).unwrap()),
            "outside",
        ),
    ];
    for (what, bytes, needle) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let e = open_archive(&bytes, "h.zip", tmp.path()).unwrap_err();
        assert!(matches!(e, BundleError::UnsafeEntry { .. }), "{what}: {e}");
        assert!(
            e.to_string().contains(needle),
            "{what}: {e} lacks {needle:?}"
        );
        assert!(!tmp.path().join("evil.txt").exists());
    }
}

#[test]
fn limits_staging_and_corrupt_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    gen_bundle(&dir);
    let tar = tar_bytes(&dir, ".");
    let path = tmp.path().join("b.tar");
    fs::write(&path, &tar).unwrap();

    let few = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let e = Bundle::open(&path, &tmp.path().join("s1"), &few).unwrap_err();
    assert!(e.to_string().contains("more than 3 entries"), "{e}");

    let small = Limits {
        max_extracted_bytes: 1000,
        ..Limits::default()
    };
    let e = Bundle::open(&path, &tmp.path().join("s2"), &small).unwrap_err();
    assert!(e.to_string().contains("more than 1000 bytes"), "{e}");

    let used = tmp.path().join("s3");
    fs::create_dir_all(&used).unwrap();
    fs::write(used.join("x"), b"").unwrap();
    let e = Bundle::open(&path, &used, &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::StagingNotEmpty { .. }), "{e}");

    // A truncated archive is an archive error, not a panic.
    let cut = tmp.path().join("cut.tar.gz");
    let mut enc =
        flate2::write::GzEncoder::new(File::create(&cut).unwrap(), flate2::Compression::fast());
    enc.write_all(&tar).unwrap();
    enc.finish().unwrap();
    let bytes = fs::read(&cut).unwrap();
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = Bundle::open(&cut, &tmp.path().join("s4"), &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::Archive { .. }), "{e}");

    // An archive without a manifest.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, "x/y.txt", &b"y"[..]).unwrap();
    let e = open_archive(
        &b.into_inner().unwrap(),
        "nomanifest.tar",
        &tmp.path().join("t"),
    )
    .unwrap_err();
    assert!(matches!(e, BundleError::NoManifest { .. }), "{e}");
}
