//! A package from an untrusted sender (issue 17, docs/reliability.md
//! "Hostile input"): validly signed and encrypted, hostile inside. Path
//! escapes, links, an oversized manifest, and a manifest claiming 10^12
//! media over hundreds of thousands of listed files each get their
//! documented error within 512 MB of memory and a deadline
//! (`tiaki_testkit::bounded`), and leave nothing behind.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tiaki_referral::{AgeIdentity, IssuerPublicKey, open, verify};
use tiaki_testkit::bounded;

// A guard against hangs, not a measure: generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(300);

/// Signs and encrypts whatever tar `write_tar` writes, as a sender whose
/// key the recipient trusts would: returns the package, the issuer's public
/// key and the agency's identity.
fn package(
    dir: &Path,
    tar_sha256: &str,
    write_tar: impl FnOnce(&mut dyn Write),
) -> (PathBuf, IssuerPublicKey, AgeIdentity) {
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let public = IssuerPublicKey::from_text(&pair.pk.to_box().unwrap().into_string()).unwrap();
    let id = age::x25519::Identity::generate();
    let identity = AgeIdentity::from_text(id.to_string().expose_secret()).unwrap();
    let path = dir.join("R-1.tar.age");
    let recipient = id.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap();
    let mut stream = enc
        .wrap_output(BufWriter::new(File::create(&path).unwrap()))
        .unwrap();
    write_tar(&mut stream);
    stream.finish().unwrap().flush().unwrap();
    let comment = format!(
        "tiaki-referral id=R-1 country=NZ created_at=2021-03-01T00:00:00Z tar_sha256={tar_sha256}"
    );
    let sig = minisign::sign(
        Some(&pair.pk),
        &pair.sk,
        File::open(&path).unwrap(),
        Some(&comment),
        Some(verify::UNTRUSTED_COMMENT),
    )
    .unwrap();
    fs::write(verify::signature_path(&path), sig.into_string()).unwrap();
    (path, public, identity)
}

fn manifest(files: impl Iterator<Item = (String, String)>, media: u64) -> Vec<u8> {
    let mut m = format!(
        "{{\"format\": \"tiaki-referral/1\", \"referral_id\": \"R-1\", \"country\": \"NZ\", \"agency\": \"A\", \"issuer\": \"I\", \"created_at\": \"2021-03-01T00:00:00Z\", \"accounts\": 1, \"persons\": 1, \"media\": {media}, \"files\": {{"
    );
    for (i, (name, hash)) in files.enumerate() {
        if i > 0 {
            m.push(',');
        }
        m.push_str(&format!("\"{name}\": \"{hash}\""));
    }
    m.push_str("}}");
    m.into_bytes()
}

fn header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    h.set_cksum();
    h
}

/// Opens into `dir/out`; the error, and whether anything was left there.
fn open_err(path: &Path, key: &IssuerPublicKey, id: &AgeIdentity, dir: &Path) -> (String, bool) {
    let out = dir.join("out");
    let e = open(path, key, id, &out).unwrap_err().to_string();
    (e, out.exists())
}

#[test]
fn path_escapes_and_links_in_a_package_are_refused() {
    use tar::EntryType as T;
    let summary = b"<html></html>";
    let listed = manifest(
        std::iter::once((
            "summary.html".to_owned(),
            tiaki_types::hex::encode(&Sha256::digest(summary)),
        )),
        0,
    );
    let cases: Vec<(&[u8], T, Option<&str>, &str)> = vec![
        (
            b"../evil.txt",
            T::Regular,
            None,
            "archive entry \"../evil.txt\" is not an allowed file name",
        ),
        (
            b"/tmp/tiaki-referral-abs",
            T::Regular,
            None,
            "archive entry \"/tmp/tiaki-referral-abs\" is not an allowed file name",
        ),
        (
            b"media/../../evil",
            T::Regular,
            None,
            "archive entry \"media/../../evil\" is not an allowed file name",
        ),
        (
            b"summary.html",
            T::Symlink,
            Some("/etc/passwd"),
            "archive entry \"summary.html\" is not an allowed file name",
        ),
        (
            b"summary.html",
            T::Link,
            Some("/etc/passwd"),
            "archive entry \"summary.html\" is not an allowed file name",
        ),
        (
            b"summary.html",
            T::Char,
            None,
            "archive entry \"summary.html\" is not an allowed file name",
        ),
    ];
    for (name, kind, link, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let (path, key, id) = package(tmp.path(), &"0".repeat(64), |w| {
            let mut b = tar::Builder::new(w);
            b.append(
                &header(b"manifest.json", T::Regular, listed.len() as u64, None),
                &listed[..],
            )
            .unwrap();
            b.append(&header(name, kind, 1, link), &b"x"[..]).unwrap();
            b.finish().unwrap();
        });
        let (e, left) = open_err(&path, &key, &id, tmp.path());
        assert_eq!(e, want);
        assert!(!left, "{want}: the output folder was left behind");
        assert!(!tmp.path().join("evil.txt").exists());
    }
    assert!(!Path::new("/tmp/tiaki-referral-abs").exists());
}

#[test]
fn an_oversized_manifest_is_refused_after_64_mib() {
    bounded(
        "hostile::an_oversized_manifest_is_refused_after_64_mib",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            // An 80 MiB manifest.json, streamed (never in memory here).
            let size = 80u64 << 20;
            let (path, key, id) = package(tmp.path(), &"0".repeat(64), |w| {
                let mut b = tar::Builder::new(w);
                let body = std::io::repeat(b' ').take(size);
                b.append(
                    &header(b"manifest.json", tar::EntryType::Regular, size, None),
                    body,
                )
                .unwrap();
                b.finish().unwrap();
            });
            let (e, left) = open_err(&path, &key, &id, tmp.path());
            assert_eq!(e, "manifest.json: larger than 64 MiB");
            assert!(!left);
        },
    );
}

#[test]
fn a_manifest_claiming_a_trillion_media_over_700000_files_opens_within_bounds() {
    let m = bounded(
        "hostile::a_manifest_claiming_a_trillion_media_over_700000_files_opens_within_bounds",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let hash = "ab".repeat(32);
            // Just under the 64 MiB cap: the most a manifest can list.
            let listed = manifest(
                (0..700_000).map(|i| (format!("media/m{i:07}.bin"), hash.clone())),
                1_000_000_000_000,
            );
            assert!(listed.len() < 64 << 20, "{}", listed.len());
            let (path, key, id) = package(tmp.path(), &"0".repeat(64), |w| {
                let mut b = tar::Builder::new(w);
                b.append(
                    &header(
                        b"manifest.json",
                        tar::EntryType::Regular,
                        listed.len() as u64,
                        None,
                    ),
                    &listed[..],
                )
                .unwrap();
                b.finish().unwrap();
            });
            drop(listed);
            let (e, left) = open_err(&path, &key, &id, tmp.path());
            assert_eq!(
                e,
                "media/m0000000.bin: listed in the manifest but missing from the archive"
            );
            assert!(!left);
        },
    );
    eprintln!("700,000-file manifest: peak {} MiB", m.peak_rss_bytes >> 20);
}
