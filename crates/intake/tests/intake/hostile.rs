//! Hostile input (issue 17, docs/reliability.md "Hostile input"): each case
//! gets its documented answer, an error naming the archive, file, line or
//! entry, within 512 MB of memory and a deadline (`tiaki_testkit::bounded`
//! runs the body in a child process under `ulimit -v`). The inputs are
//! built here: nothing large is committed.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use tiaki_intake::{Bundle, CyberTip, CyberTipError, EXPANSION_ALLOWANCE, Limits};
use tiaki_testkit::{billion_laughs, bounded, sparse_file};

use crate::archives::{MANIFEST, raw_tar};
use crate::common::{read_all, write_bundle};

// A guard against hangs, not a measure: generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(300);
const GIB: u64 = 1 << 30;

fn open_err(path: &Path, staging: &Path) -> String {
    Bundle::open(path, staging, &Limits::default())
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// The answer to any decompression bomb: refused once it has extracted
/// more than its allowance, before the disk fills.
fn bomb_cap(archive: &Path) -> u64 {
    (fs::metadata(archive).unwrap().len() * 100).max(EXPANSION_ALLOWANCE)
}

fn bomb_message(archive: &Path) -> String {
    let size = fs::metadata(archive).unwrap().len();
    let cap = bomb_cap(archive);
    format!(
        "{}: extracts to more than {cap} bytes, over 100 times the archive's {size} bytes (a decompression bomb) (raise the limit if the bundle is genuine)",
        archive.display()
    )
}

/// Writes `n` zero bytes to `w`, a mebibyte at a time.
fn zeros(w: &mut impl Write, n: u64) {
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len() as u64) as usize;
        w.write_all(&block[..k]).unwrap();
        left -= k as u64;
    }
}

/// A tar stream: a manifest, then `accounts.ndjson` of `size` zero bytes.
fn bomb_tar(w: impl Write, size: u64) {
    let mut b = tar::Builder::new(w);
    let mut h = tar::Header::new_gnu();
    h.set_size(MANIFEST.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", MANIFEST).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    struct Zeros(u64);
    impl std::io::Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let k = (buf.len() as u64).min(self.0) as usize;
            buf[..k].fill(0);
            self.0 -= k as u64;
            Ok(k)
        }
    }
    b.append_data(&mut h, "accounts.ndjson", Zeros(size))
        .unwrap();
    b.into_inner().unwrap();
}

#[test]
fn zip_bomb_is_refused_after_its_allowance() {
    let m = bounded(
        "hostile::zip_bomb_is_refused_after_its_allowance",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("bomb.zip");
            let mut z = zip::ZipWriter::new(File::create(&path).unwrap());
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1))
                .large_file(true);
            z.start_file("manifest.json", opts).unwrap();
            z.write_all(MANIFEST).unwrap();
            // 1 GiB of zeros deflates to about a megabyte.
            z.start_file("accounts.ndjson", opts).unwrap();
            zeros(&mut z, GIB);
            z.finish().unwrap();
            let e = open_err(&path, &tmp.path().join("staging"));
            assert_eq!(e, bomb_message(&path));
        },
    );
    eprintln!(
        "zip bomb: peak {} MiB, {:?}",
        m.peak_rss_bytes >> 20,
        m.elapsed
    );
}

#[test]
fn tar_bombs_gz_and_zst_are_refused_after_their_allowance() {
    bounded(
        "hostile::tar_bombs_gz_and_zst_are_refused_after_their_allowance",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            // gzip: 1 GiB of zeros; zstd: 16 GiB of zeros in about half a megabyte.
            let gz = tmp.path().join("bomb.tar.gz");
            let mut enc = flate2::write::GzEncoder::new(
                File::create(&gz).unwrap(),
                flate2::Compression::best(),
            );
            bomb_tar(&mut enc, GIB);
            enc.finish().unwrap();
            let zst = tmp.path().join("bomb.tar.zst");
            let mut enc =
                zstd::stream::write::Encoder::new(File::create(&zst).unwrap(), 1).unwrap();
            bomb_tar(&mut enc, 16 * GIB);
            enc.finish().unwrap();
            for (i, path) in [gz, zst].iter().enumerate() {
                let staging = tmp.path().join(format!("staging{i}"));
                assert_eq!(open_err(path, &staging), bomb_message(path));
                // What was extracted before the refusal stays within the cap.
                let written: u64 = fs::metadata(staging.join("accounts.ndjson")).unwrap().len();
                assert!(written <= bomb_cap(path) + 1, "{written}");
            }
        },
    );
}

#[test]
fn path_escapes_and_links_out_are_refused_by_entry() {
    use tar::EntryType as T;
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, T, Option<&str>, &str)> = vec![
        ("../evil.txt", T::Regular, None, "path contains `..`"),
        (
            "files/../../evil.txt",
            T::Regular,
            None,
            "path contains `..`",
        ),
        (
            "/tmp/tiaki-hostile-abs.txt",
            T::Regular,
            None,
            "absolute path",
        ),
        (
            "files/link",
            T::Symlink,
            Some("/etc/passwd"),
            "symbolic link to absolute path \"/etc/passwd\"",
        ),
        (
            "up",
            T::Symlink,
            Some(".."),
            "symbolic link to \"..\" points outside the bundle",
        ),
        (
            "h",
            T::Link,
            Some("/etc/passwd"),
            "hard link target \"/etc/passwd\": absolute path",
        ),
    ];
    for (i, (name, kind, link, reason)) in cases.into_iter().enumerate() {
        let path = tmp.path().join(format!("escape{i}.tar"));
        fs::write(
            &path,
            raw_tar(&[
                ("manifest.json", T::Regular, None, MANIFEST),
                ("accounts.ndjson", T::Regular, None, b""),
                ("media.ndjson", T::Regular, None, b""),
                (name, kind, link, b"x"),
            ]),
        )
        .unwrap();
        let e = open_err(&path, &tmp.path().join(format!("staging{i}")));
        assert_eq!(
            e,
            format!("{}: refused entry {name:?}: {reason}", path.display())
        );
    }
    assert!(!Path::new("/tmp/tiaki-hostile-abs.txt").exists());
    assert!(!tmp.path().join("evil.txt").exists());
}

#[test]
fn a_media_file_behind_a_link_out_of_a_directory_bundle_is_a_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    write_bundle(
        &dir,
        Some(std::str::from_utf8(MANIFEST).unwrap()),
        Some("{\"id\": \"u-1\"}\n"),
        Some("{\"id\": \"f-1\", \"account\": \"u-1\", \"file\": \"files/x.jpg\"}\n"),
        None,
    );
    fs::create_dir(dir.join("files")).unwrap();
    fs::write(tmp.path().join("outside.jpg"), b"x").unwrap();
    std::os::unix::fs::symlink("../../outside.jpg", dir.join("files/x.jpg")).unwrap();
    let mut b = Bundle::open(&dir, &tmp.path().join("s"), &Limits::default()).unwrap();
    let all = read_all(&mut b);
    assert_eq!(
        all.error_at("media.ndjson", 1).to_string(),
        "media.ndjson line 1: media \"f-1\": file: \"files/x.jpg\" resolves outside the bundle (symbolic link)"
    );
}

/// A zip whose end-of-central-directory record (zip64) claims 10^12 entries
/// over a directory of one.
fn zip_claiming(entries: u64) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("manifest.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(MANIFEST).unwrap();
    let mut bytes = z.finish().unwrap().into_inner();
    let eocd = bytes.len() - 22;
    assert_eq!(&bytes[eocd..eocd + 4], b"PK\x05\x06");
    let cd_size = u32::from_le_bytes(bytes[eocd + 12..eocd + 16].try_into().unwrap()) as u64;
    let cd_offset = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap()) as u64;
    bytes.truncate(eocd);
    let zip64_at = bytes.len() as u64;
    bytes.extend_from_slice(b"PK\x06\x06");
    bytes.extend_from_slice(&44u64.to_le_bytes());
    bytes.extend_from_slice(&45u16.to_le_bytes());
    bytes.extend_from_slice(&45u16.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&entries.to_le_bytes());
    bytes.extend_from_slice(&entries.to_le_bytes());
    bytes.extend_from_slice(&cd_size.to_le_bytes());
    bytes.extend_from_slice(&cd_offset.to_le_bytes());
    bytes.extend_from_slice(b"PK\x06\x07");
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&zip64_at.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(b"PK\x05\x06");
    bytes.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    bytes.extend_from_slice(&[0xff; 8]);
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

#[test]
fn an_archive_claiming_a_trillion_entries_is_refused_without_allocating_for_them() {
    bounded(
        "hostile::an_archive_claiming_a_trillion_entries_is_refused_without_allocating_for_them",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("claims.zip");
            fs::write(&path, zip_claiming(1_000_000_000_000)).unwrap();
            let e = open_err(&path, &tmp.path().join("staging"));
            assert_eq!(
                e,
                format!(
                    "{}: unreadable archive: zip: invalid Zip archive: Invalid EOCD64: inconsistent number of files",
                    path.display()
                )
            );
        },
    );
    // A tar says no count up front; its entries are counted as they come.
    use tar::EntryType as T;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("many.tar");
    let names: Vec<String> = (0..5).map(|i| format!("f{i}")).collect();
    let entries: Vec<_> = names
        .iter()
        .map(|n| (n.as_str(), T::Regular, None, &b""[..]))
        .collect();
    fs::write(&path, raw_tar(&entries)).unwrap();
    let few = Limits {
        max_entries: 4,
        ..Limits::default()
    };
    let e = Bundle::open(&path, &tmp.path().join("s"), &few).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: more than 4 entries (raise the limit if the bundle is genuine)",
            path.display()
        )
    );
}

/// A directory bundle in `dir`: the test manifest, no media, and
/// accounts.ndjson written by `accounts`; opened and read whole.
fn read_accounts(tmp: &Path, accounts: impl FnOnce(&Path)) -> crate::common::All {
    let dir = tmp.join("b");
    write_bundle(
        &dir,
        Some(std::str::from_utf8(MANIFEST).unwrap()),
        None,
        Some(""),
        None,
    );
    accounts(&dir.join("accounts.ndjson"));
    let mut b = Bundle::open(&dir, &tmp.join("s"), &Limits::default()).unwrap();
    read_all(&mut b)
}

/// A directory bundle whose manifest.json is written by `manifest`: the
/// error opening it, and the manifest's path as the error names it.
fn manifest_err(tmp: &Path, manifest: impl FnOnce(&Path)) -> (String, String) {
    let dir = tmp.join("m");
    write_bundle(&dir, None, Some(""), Some(""), None);
    manifest(&dir.join("manifest.json"));
    let named = fs::canonicalize(&dir).unwrap().join("manifest.json");
    (open_err(&dir, &tmp.join("ms")), named.display().to_string())
}

#[test]
fn a_one_gib_line_is_a_line_error_and_the_next_line_reads() {
    bounded(
        "hostile::a_one_gib_line_is_a_line_error_and_the_next_line_reads",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let all = read_accounts(tmp.path(), |p| {
                sparse_file(p, GIB, b"\n{\"id\": \"u-2\"}\n")
            });
            assert_eq!(
                all.error_at("accounts.ndjson", 1).to_string(),
                "accounts.ndjson line 1: line of 1073741824 bytes is longer than the limit of 1048576 bytes"
            );
            assert_eq!(all.accounts.len(), 1);
            assert_eq!(all.accounts[0].line, 2);
        },
    );
}

#[test]
fn a_one_gib_manifest_is_refused_unread() {
    bounded(
        "hostile::a_one_gib_manifest_is_refused_unread",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let (e, manifest) = manifest_err(tmp.path(), |p| sparse_file(p, GIB, b"{}"));
            assert_eq!(
                e,
                format!("{manifest}: invalid manifest: larger than 16777216 bytes")
            );
        },
    );
}

#[test]
fn invalid_utf8_is_named_by_file_line_column_or_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let all = read_accounts(tmp.path(), |p| {
        fs::write(p, b"{\"id\": \"u-1\"}\n{\"id\": \"u-\xff\xfe\"}\n").unwrap()
    });
    assert_eq!(
        all.error_at("accounts.ndjson", 2).to_string(),
        "accounts.ndjson line 2: not UTF-8 (bad byte at column 11)"
    );
    assert_eq!(all.accounts.len(), 1);

    // In the manifest: the bundle is rejected whole.
    let (e, manifest) = manifest_err(tmp.path(), |p| {
        fs::write(
            p,
            b"{\"format\": \"provider-report/1\", \"report_id\": \"R\xff\"}",
        )
        .unwrap()
    });
    assert_eq!(
        e,
        format!(
            "{manifest}: invalid manifest: not valid JSON: invalid unicode code point at line 1 column 48"
        )
    );

    // In an archive entry's name: refused.
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..6].copy_from_slice(b"f\xff.txt");
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    let mut t = tar::Builder::new(Vec::new());
    t.append(&h, &b""[..]).unwrap();
    let path = tmp.path().join("names.tar");
    fs::write(&path, t.into_inner().unwrap()).unwrap();
    assert_eq!(
        open_err(&path, &tmp.path().join("s3")),
        format!(
            "{}: refused entry \"f\u{fffd}.txt\": name is not UTF-8",
            path.display()
        )
    );
}

#[test]
fn deeply_nested_json_stops_at_the_parser_depth_limit() {
    bounded(
        "hostile::deeply_nested_json_stops_at_the_parser_depth_limit",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let deep = format!("{}\n{{\"id\": \"u-2\"}}\n", "[".repeat(1_000_000));
            let all = read_accounts(tmp.path(), |p| fs::write(p, deep).unwrap());
            assert_eq!(
                all.error_at("accounts.ndjson", 1).to_string(),
                "accounts.ndjson line 1: not valid JSON: recursion limit exceeded at line 1 column 128"
            );
            assert_eq!(all.accounts.len(), 1);

            let deep = format!("{{\"format\": {}", "{\"a\": ".repeat(1_000_000));
            let (e, manifest) = manifest_err(tmp.path(), |p| fs::write(p, deep).unwrap());
            assert_eq!(
                e,
                format!(
                    "{manifest}: invalid manifest: not valid JSON: recursion limit exceeded at line 1 column 768"
                )
            );
        },
    );
}

fn cybertip_errors(dir: &Path) -> Vec<String> {
    let tip = CyberTip::open(dir).unwrap();
    tip.reports()
        .filter_map(|r| r.err())
        .map(|e: CyberTipError| e.to_string())
        .collect()
}

#[test]
fn deeply_nested_cybertip_xml_is_refused_at_depth_64() {
    bounded(
        "hostile::deeply_nested_cybertip_xml_is_refused_at_depth_64",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("deep.xml");
            let n = 1_000_000;
            let doc = format!("<report>\n{}{}</report>", "<a>".repeat(n), "</a>".repeat(n));
            fs::write(&path, doc).unwrap();
            let path = fs::canonicalize(&path).unwrap();
            assert_eq!(
                cybertip_errors(tmp.path()),
                [format!(
                    "{}: malformed XML at line 2, column 190: elements nested deeper than 64",
                    path.display()
                )]
            );
        },
    );
}

#[test]
fn cybertip_entity_declarations_billion_laughs_are_refused() {
    bounded(
        "hostile::cybertip_entity_declarations_billion_laughs_are_refused",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let dtd = billion_laughs("report", "<report><reportId>&lol9;</reportId></report>");
            fs::write(tmp.path().join("laughs.xml"), dtd).unwrap();
            let path = fs::canonicalize(tmp.path().join("laughs.xml")).unwrap();
            assert_eq!(
                cybertip_errors(tmp.path()),
                [format!(
                    "{}: malformed XML at line 2, column 1: the DOCTYPE declares entities (<!ENTITY ...>); entity declarations are refused, never expanded",
                    path.display()
                )]
            );
        },
    );
}

#[test]
fn a_one_gib_cybertip_file_is_refused_unread() {
    bounded(
        "hostile::a_one_gib_cybertip_file_is_refused_unread",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            sparse_file(&tmp.path().join("big.xml"), GIB, b"<report/>");
            let path = fs::canonicalize(tmp.path().join("big.xml")).unwrap();
            assert_eq!(
                cybertip_errors(tmp.path()),
                [format!(
                    "{}: larger than the limit of 67108864 bytes",
                    path.display()
                )]
            );
        },
    );
}
