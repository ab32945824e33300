#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End-to-end tests of referral packages: build with the library, open with
//! Debian's `age` and `minisign` binaries alone, tamper, rebuild.
//!
//! Needs `/usr/bin/age`, `/usr/bin/minisign` and `tar` (Debian packages
//! `age`, `minisign`, `tar`).

#[path = "packages/hostile.rs"]
mod hostile;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tiaki_formats::model::{Md5, Sha1, Sha256 as Sha256Digest};
use tiaki_formats::{Category, CategoryScheme};
use tiaki_hash::pdq::PdqHash;
use tiaki_referral::*;

const PASSPHRASE: &str = "test issuer passphrase";

/// One issuer key pair for all tests: minisign's scrypt is slow on purpose.
fn issuer() -> &'static (GeneratedKeyFiles, IssuerKeys) {
    static KEYS: OnceLock<(GeneratedKeyFiles, IssuerKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let files = IssuerKeys::generate(PASSPHRASE).unwrap();
        let keys = IssuerKeys::load(&files.secret_key, &files.public_key, PASSPHRASE).unwrap();
        (files, keys)
    })
}

fn public_key() -> IssuerPublicKey {
    IssuerPublicKey::from_text(&issuer().0.public_key).unwrap()
}

/// A fresh agency identity: (identity file text, recipient).
fn agency_identity() -> (String, AgeRecipient) {
    let id = age::x25519::Identity::generate();
    let text = format!(
        "# created: test\n# public key: {}\n{}\n",
        id.to_public(),
        id.to_string().expose_secret()
    );
    (text, AgeRecipient::X25519(id.to_public()))
}

fn sha256_hex(b: &[u8]) -> String {
    tiaki_types::hex::encode(&Sha256::digest(b))
}

/// Benign generated media bytes.
fn media_bytes(i: usize) -> Vec<u8> {
    format!("generated test media {i}\n")
        .repeat(10 + i)
        .into_bytes()
}

/// A small package with `n_accounts` accounts and `n_media` media items;
/// the first `n_files` media have files in `dir`.
fn content(n_accounts: usize, n_media: usize, n_files: usize, dir: &Path) -> PackageContent {
    let accounts = (0..n_accounts)
        .map(|i| PackageAccount {
            report_id: format!("R-{}", i % 2),
            id: format!("u-{i}"),
            username: (i % 3 != 0).then(|| format!("user_{i}")),
            identifiers: vec![Identifier {
                kind: "email".into(),
                value: format!("user{i}@example.org"),
            }],
            person: (i % 2 == 0).then(|| format!("P-{}", i / 4)),
            country: "NZ".into(),
            confidence: 0.5 + (i % 5) as f64 / 10.0,
            evidence: vec![Evidence {
                kind: "ip_geolocation".into(),
                value: format!("203.0.113.{i}"),
                country: Some("NZ".into()),
                weight: Some(0.8),
                detail: Some("test database".into()),
            }],
        })
        .collect();
    let media = (0..n_media)
        .map(|i| {
            let bytes = media_bytes(i);
            let file = (i < n_files).then(|| {
                let p = dir.join(format!("m{i}.jpg"));
                fs::write(&p, &bytes).unwrap();
                p
            });
            let status = [MediaStatus::Known, MediaStatus::New, MediaStatus::Unmatched][i % 3];
            PackageMedia {
                id: Some(format!("f-{i}")),
                md5: Some(Md5::from_hex(&format!("{:032x}", i + 1)).unwrap()),
                sha1: Some(Sha1::from_hex(&format!("{:040x}", i + 1)).unwrap()),
                sha256: Some(Sha256Digest::from_hex(&sha256_hex(&bytes)).unwrap()),
                pdq: Some(PdqHash([i as u64, 1, 2, 3])),
                pdq_quality: Some(90),
                size: Some(bytes.len() as u64),
                category: (status == MediaStatus::Known)
                    .then(|| Category::new(CategoryScheme::VicsUs, "1")),
                status,
                series: (i % 3 == 0).then(|| "S-7".to_owned()),
                matches: if status == MediaStatus::Known {
                    vec![MediaMatch {
                        list: "list-a".into(),
                        entry: format!("e-{i}"),
                        kind: "pdq".into(),
                        distance: Some(4),
                    }]
                } else {
                    vec![]
                },
                viewed_by_provider: [Some(true), Some(false), None][i % 3],
                viewed_by_ncmec: (i % 4 == 1).then_some(false),
                industry_classification: (i % 4 == 2).then(|| "B1".to_owned()),
                shared_with: if i % 4 == 3 {
                    vec!["u-9".to_owned()]
                } else {
                    Vec::new()
                },
                accounts: if n_accounts == 0 {
                    vec![]
                } else {
                    vec![i % n_accounts]
                },
                original_name: Some(format!("IMG_{i}.JPG")),
                file,
            }
        })
        .collect();
    PackageContent {
        referral_id: "R2021-NZ-0001".into(),
        country: "NZ".into(),
        agency_name: "Test Agency".into(),
        issuer: "Test Issuer".into(),
        created_at: "2021-03-01T00:00:00Z".into(),
        accounts,
        media,
        figures: vec![Figure {
            label: "Operation".into(),
            value: "test".into(),
        }],
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (apt-get install age minisign): {e}"))
}

/// Checks that `dir` holds exactly the manifest's files with their hashes.
fn check_extracted(dir: &Path) -> Manifest {
    let manifest: Manifest =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut found = BTreeMap::new();
    for entry in walk(dir) {
        let rel = entry
            .strip_prefix(dir)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        if rel != "manifest.json" {
            found.insert(rel, sha256_hex(&fs::read(&entry).unwrap()));
        }
    }
    assert_eq!(found, manifest.files, "extracted files and manifest differ");
    manifest
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn build(c: &PackageContent, r: &AgeRecipient, out: &Path, include_media: bool) -> BuiltPackage {
    build_package(
        c,
        r,
        &issuer().1,
        out,
        &BuildOptions {
            include_media,
            ..BuildOptions::default()
        },
    )
    .unwrap()
}

fn decrypt_tar(package: &Path, identity: &str) -> Vec<u8> {
    let id = age::IdentityFile::from_buffer(identity.as_bytes())
        .unwrap()
        .into_identities()
        .unwrap();
    let d = age::Decryptor::new(fs::File::open(package).unwrap()).unwrap();
    let mut r = d
        .decrypt(id.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn standard_tools_open_and_check_every_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(7, 9, 4, &src);
    let out = tmp.path().join("out/NZ");
    let built = build(&c, &recipient, &out, true);
    assert_eq!(built.package, out.join("referral-R2021-NZ-0001.tar.age"));
    assert!(
        built
            .signature
            .ends_with("referral-R2021-NZ-0001.tar.age.minisig")
    );
    assert_eq!(built.manifest.files.len(), 3 + 4);
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        2,
        "no partial files left"
    );

    // What a receiving country does, with its own tools only.
    let pubkey = tmp.path().join("issuer.pub");
    fs::write(&pubkey, &issuer().0.public_key).unwrap();
    let keyfile = tmp.path().join("agency-key.txt");
    fs::write(&keyfile, &identity).unwrap();
    let v = run(Command::new("minisign")
        .arg("-V")
        .arg("-p")
        .arg(&pubkey)
        .arg("-m")
        .arg(&built.package));
    assert!(v.status.success(), "minisign -V failed: {v:?}");
    let said = String::from_utf8_lossy(&v.stdout);
    assert!(
        said.contains("Signature and comment signature verified"),
        "{said}"
    );
    assert!(said.contains("id=R2021-NZ-0001 country=NZ"), "{said}");

    let tar_path = tmp.path().join("referral.tar");
    let d = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&keyfile)
        .arg("-o")
        .arg(&tar_path)
        .arg(&built.package));
    assert!(d.status.success(), "age -d failed: {d:?}");
    let tar_bytes = fs::read(&tar_path).unwrap();
    assert_eq!(sha256_hex(&tar_bytes), built.tar_sha256);
    assert!(
        said.contains(&format!("tar_sha256={}", built.tar_sha256)),
        "signed comment names the tar hash"
    );

    let x = tmp.path().join("x");
    fs::create_dir(&x).unwrap();
    let t = run(Command::new("tar")
        .arg("-xf")
        .arg(&tar_path)
        .arg("-C")
        .arg(&x));
    assert!(t.status.success(), "tar -x failed: {t:?}");
    let manifest = check_extracted(&x);
    assert_eq!(manifest, built.manifest);
    assert_eq!(manifest.referral_id, "R2021-NZ-0001");
    assert_eq!(
        (manifest.accounts, manifest.persons, manifest.media),
        (7, 2, 9)
    );
    assert_eq!(manifest.format, "tiaki-referral/1");

    // Archive order and fixed header fields, as GNU tar lists them.
    let l = run(Command::new("tar")
        .args(["--numeric-owner", "--utc", "-tvf"])
        .arg(&tar_path));
    let listing = String::from_utf8_lossy(&l.stdout);
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split(' ').next_back())
        .collect();
    assert_eq!(names.first(), Some(&"manifest.json"));
    assert_eq!(names.last(), Some(&"summary.html"));
    for line in listing.lines() {
        assert!(line.starts_with("-rw-r--r-- 0/0"), "{line}");
        assert!(line.contains("2021-03-01 00:00"), "{line}");
    }

    // The README's check with coreutils alone.
    let list: String = manifest
        .files
        .iter()
        .map(|(p, h)| format!("{h}  {p}\n"))
        .collect();
    let mut child = Command::new("sha256sum")
        .args(["--strict", "-c", "-"])
        .current_dir(&x)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), list.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "sha256sum -c");
    let py = Command::new("sh")
        .arg("-c")
        .arg(r#"python3 -c 'import json; [print(h + "  " + p) for p, h in json.load(open("manifest.json"))["files"].items()]' | sha256sum --strict -c"#)
        .current_dir(&x)
        .output();
    if let Ok(py) = py {
        assert!(py.status.success(), "README one-liner: {py:?}");
    }

    // Media files are the originals.
    for (i, m) in c.media.iter().enumerate().take(4) {
        let name = format!("media/{}.jpg", m.sha256.unwrap().to_hex());
        assert_eq!(fs::read(x.join(&name)).unwrap(), media_bytes(i));
    }

    // accounts.ndjson: one account a line with the fixed fields.
    let accounts = fs::read_to_string(x.join("accounts.ndjson")).unwrap();
    let lines: Vec<serde_json::Value> = accounts
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    for k in [
        "report_id",
        "id",
        "username",
        "identifiers",
        "person",
        "country",
        "confidence",
        "evidence",
    ] {
        assert!(lines[0].get(k).is_some(), "accounts.ndjson lacks {k}");
    }
    assert_eq!(lines[1]["username"], "user_1");
    assert_eq!(lines[0]["evidence"][0]["kind"], "ip_geolocation");

    // media.vics.json: VICS 2.0 that our own importer reads back.
    let vics: serde_json::Value =
        serde_json::from_slice(&fs::read(x.join("media.vics.json")).unwrap()).unwrap();
    assert_eq!(
        vics["@odata.context"],
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    );
    let v0 = &vics["value"][0];
    assert_eq!(v0["MD5"], format!("{:032X}", 1));
    assert_eq!(v0["Category"], 1);
    assert_eq!(v0["MatchStatus"], "known");
    assert_eq!(v0["ViewedByProvider"], true);
    assert_eq!(v0["Series"], "S-7");
    assert_eq!(v0["Matches"][0]["list"], "list-a");
    assert_eq!(v0["Accounts"][0]["AccountID"], "u-0");
    assert!(
        v0["MediaFiles"][0]["FilePath"]
            .as_str()
            .unwrap()
            .starts_with("media/")
    );
    assert_eq!(vics["value"][1]["MatchStatus"], "new");
    assert!(vics["value"][2].get("ViewedByProvider").is_none());
    let mut n = 0;
    let s = tiaki_formats::import(
        fs::read(x.join("media.vics.json")).unwrap().as_slice(),
        &tiaki_formats::ImportOptions::default(),
        |item| {
            item.unwrap();
            n += 1;
            std::ops::ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!((s.entries, s.rejected, n), (9, 0, 9));
}

#[test]
fn library_verify_and_open() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(5, 6, 3, tmp.path());
    let built = build(&c, &recipient, &tmp.path().join("out"), true);

    let info = verify(&built.package, &public_key()).unwrap();
    assert_eq!(info.referral_id, "R2021-NZ-0001");
    assert_eq!(info.country, "NZ");
    assert_eq!(info.created_at, "2021-03-01T00:00:00Z");
    assert_eq!(info.tar_sha256, built.tar_sha256);
    assert_eq!(info.key_id, public_key().key_id());

    let id = AgeIdentity::from_text(&identity).unwrap();
    let dir = tmp.path().join("opened");
    let opened = open(&built.package, &public_key(), &id, &dir).unwrap();
    assert_eq!(opened.manifest, built.manifest);
    assert_eq!(check_extracted(&dir), built.manifest);

    // Opening again into the same directory never overwrites.
    let again = open(&built.package, &public_key(), &id, &dir);
    assert!(matches!(again, Err(OpenError::Io { .. })), "{again:?}");
    assert_eq!(check_extracted(&dir), built.manifest, "first output intact");

    // Another issuer's key.
    let other = IssuerKeys::generate("other").unwrap();
    let other = IssuerPublicKey::from_text(&other.public_key).unwrap();
    assert!(matches!(
        verify(&built.package, &other),
        Err(VerifyError::WrongKey { .. })
    ));
    // A missing signature.
    fs::rename(&built.signature, tmp.path().join("moved")).unwrap();
    assert!(matches!(
        verify(&built.package, &public_key()),
        Err(VerifyError::Io { .. })
    ));
}

#[test]
fn wrong_identity_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, recipient) = agency_identity();
    let (other_identity, _) = agency_identity();
    let c = content(3, 3, 0, tmp.path());
    let built = build(&c, &recipient, &tmp.path().join("out"), false);

    let id = AgeIdentity::from_text(&other_identity).unwrap();
    let dir = tmp.path().join("opened");
    let err = open(&built.package, &public_key(), &id, &dir).unwrap_err();
    assert!(matches!(err, OpenError::WrongIdentity), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the package is not encrypted to this identity"
    );
    assert!(!dir.join("manifest.json").exists());

    // The age CLI refuses it too.
    let keyfile = tmp.path().join("other.txt");
    fs::write(&keyfile, &other_identity).unwrap();
    let d = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&keyfile)
        .arg(&built.package));
    assert!(!d.status.success());

    assert!(matches!(
        AgeIdentity::from_text("not a key\n"),
        Err(OpenError::Identity(_))
    ));
    assert!(matches!(
        AgeIdentity::from_text("# only a comment\n"),
        Err(OpenError::Identity(_))
    ));
}

#[test]
fn flipping_any_byte_fails_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(2, 2, 0, tmp.path());
    let built = build(&c, &recipient, &tmp.path().join("out"), false);
    let key = public_key();
    verify(&built.package, &key).unwrap();

    let mut checked = 0;
    for path in [&built.package, &built.signature] {
        let original = fs::read(path).unwrap();
        // Flip in place, one byte at a time: rewriting the whole file each
        // time would dominate the run.
        let file = fs::OpenOptions::new().write(true).open(path).unwrap();
        for (i, &b) in original.iter().enumerate() {
            for mask in [0x01u8, 0x80, 0xFF] {
                file.write_all_at(&[b ^ mask], i as u64).unwrap();
                assert!(
                    verify(&built.package, &key).is_err(),
                    "{} byte {i} ^ {mask:#x} still verifies",
                    path.display()
                );
                checked += 1;
            }
            file.write_all_at(&[b], i as u64).unwrap();
        }
        drop(file);
        // Truncation and a trailing byte, too.
        fs::write(path, &original[..original.len() - 1]).unwrap();
        assert!(verify(&built.package, &key).is_err());
        let mut longer = original.clone();
        longer.push(b'\n');
        fs::write(path, &longer).unwrap();
        assert!(verify(&built.package, &key).is_err());
        fs::write(path, &original).unwrap();
    }
    assert!(
        checked > 3 * 1000,
        "package too small to mean much: {checked}"
    );
    verify(&built.package, &key).unwrap();

    // A flipped ciphertext byte also fails `open` (at the signature already).
    let mut bytes = fs::read(&built.package).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    fs::write(&built.package, &bytes).unwrap();
    let id = AgeIdentity::from_text(&identity).unwrap();
    let err = open(&built.package, &key, &id, &tmp.path().join("o")).unwrap_err();
    assert!(
        matches!(err, OpenError::Verify(VerifyError::BadSignature { .. })),
        "{err:?}"
    );
    let v = run(Command::new("minisign")
        .arg("-V")
        .arg("-P")
        .arg(issuer().0.public_key.lines().nth(1).unwrap())
        .arg("-m")
        .arg(&built.package));
    assert!(!v.status.success());
}

#[test]
fn same_content_same_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(6, 8, 3, tmp.path());
    let a = build(&c, &recipient, &tmp.path().join("a"), true);
    let b = build(&c, &recipient, &tmp.path().join("b"), true);
    assert_eq!(a.tar_sha256, b.tar_sha256);
    assert_eq!(a.manifest, b.manifest);
    let (ta, tb) = (
        decrypt_tar(&a.package, &identity),
        decrypt_tar(&b.package, &identity),
    );
    assert_eq!(ta, tb, "decrypted tars are byte-identical");
    assert_eq!(sha256_hex(&ta), a.tar_sha256);
    assert_ne!(
        fs::read(&a.package).unwrap(),
        fs::read(&b.package).unwrap(),
        "age ciphertext differs per build"
    );
    // Rebuilding into the same directory replaces the package.
    let again = build(&c, &recipient, &tmp.path().join("a"), true);
    assert_eq!(again.tar_sha256, a.tar_sha256);
    verify(&again.package, &public_key()).unwrap();

    let mut later = c.clone();
    later.created_at = "2021-03-02T00:00:00Z".into();
    let l = build(&later, &recipient, &tmp.path().join("c"), true);
    assert_ne!(l.tar_sha256, a.tar_sha256);
}

#[test]
fn summary_is_self_contained_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let mut c = content(4, 5, 0, tmp.path());
    let hostile = "<img src=x onerror=alert(1)>";
    c.accounts[1].username = Some(hostile.into());
    c.accounts[2].identifiers.push(Identifier {
        kind: "profile_url".into(),
        value: "\"><script>alert(2)</script>".into(),
    });
    c.accounts[0].person = Some("<b>P</b>".into());
    c.media[0].series = Some("</td><style>".into());
    c.agency_name = "Agency & <Co>".into();
    let built = build(&c, &recipient, &tmp.path().join("out"), false);
    let id = AgeIdentity::from_text(&identity).unwrap();
    let dir = tmp.path().join("o");
    open(&built.package, &public_key(), &id, &dir).unwrap();
    let html = fs::read_to_string(dir.join("summary.html")).unwrap();

    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("<img"), "hostile tag escaped");
    assert!(!html.contains("<b>P"));
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external URLs"
    );
    assert!(
        !html.contains("href=") && !html.contains("src=\""),
        "no links or sources"
    );
    assert!(html.contains("Content-Security-Policy"));
    // Every tag is one of the template's own.
    let allowed = [
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "dl", "dt", "dd",
        "p", "span", "table", "tr", "th", "td", "ul", "li",
    ];
    for (i, _) in html.match_indices('<') {
        let rest = &html[i + 1..];
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            allowed.contains(&name.as_str()),
            "unexpected tag <{name} at {i}"
        );
    }
    // The figures a liaison officer looks for.
    assert!(html.contains("Referral R2021-NZ-0001"));
    for label in [
        "Accounts",
        "Persons",
        "Matched a known hash list",
        "In a known series",
        "Flagged as new material",
        "Viewed by the provider",
        "Not viewed by the provider",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // The raw JSON keeps the value verbatim.
    let accounts = fs::read_to_string(dir.join("accounts.ndjson")).unwrap();
    assert!(accounts.contains(hostile));
}

#[test]
fn summary_media_table_is_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(3, 30, 0, tmp.path());
    let built = build_package(
        &c,
        &recipient,
        &issuer().1,
        &tmp.path().join("out"),
        &BuildOptions {
            summary_media_rows: 10,
            ..BuildOptions::default()
        },
    )
    .unwrap();
    let id = AgeIdentity::from_text(&identity).unwrap();
    let dir = tmp.path().join("o");
    open(&built.package, &public_key(), &id, &dir).unwrap();
    let html = fs::read_to_string(dir.join("summary.html")).unwrap();
    if let Ok(p) = std::env::var("TIAKI_SUMMARY_SAMPLE") {
        fs::write(p, &html).unwrap();
    }
    assert!(html.contains("The first 10 of 30 media items are listed"));
    let vics: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("media.vics.json")).unwrap()).unwrap();
    assert_eq!(vics["value"].as_array().unwrap().len(), 30);
}

#[test]
fn build_errors_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, recipient) = agency_identity();
    let out = tmp.path().join("out");
    let opts = BuildOptions {
        include_media: true,
        ..BuildOptions::default()
    };

    let mut c = content(2, 3, 2, tmp.path());
    fs::write(c.media[1].file.as_ref().unwrap(), b"changed since hashing").unwrap();
    let err = build_package(&c, &recipient, &issuer().1, &out, &opts).unwrap_err();
    assert!(
        matches!(&err, BuildError::MediaFile { index: 1, reason, .. } if reason.contains("SHA-256")),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        0,
        "partial files removed"
    );

    c.media[1].file = Some(tmp.path().join("missing.jpg"));
    let err = build_package(&c, &recipient, &issuer().1, &out, &opts).unwrap_err();
    assert!(
        matches!(err, BuildError::MediaFile { index: 1, .. }),
        "{err}"
    );

    let mut bad = content(2, 2, 0, tmp.path());
    bad.media[1].accounts = vec![5];
    let err = build_package(&bad, &recipient, &issuer().1, &out, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid package content: media 1: account index 5 is out of range (2 accounts)"
    );
    for (f, want) in [
        (
            (|c: &mut PackageContent| c.referral_id = "../x".into()) as fn(&mut PackageContent),
            "referral_id",
        ),
        (|c| c.country = "nz".into(), "country"),
        (|c| c.created_at = "yesterday".into(), "created_at"),
        (|c| c.accounts[1].confidence = 1.5, "confidence"),
        (|c| c.accounts[1].id = "u-0".into(), "already account 0"),
        (|c| c.issuer = "a\nb".into(), "one line"),
    ] {
        let mut c = content(2, 2, 0, tmp.path());
        c.accounts[1].report_id = c.accounts[0].report_id.clone();
        f(&mut c);
        let err = build_package(&c, &recipient, &issuer().1, &out, &opts).unwrap_err();
        assert!(err.to_string().contains(want), "{err} lacks {want}");
    }
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn empty_package_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = agency_identity();
    let c = content(0, 0, 0, tmp.path());
    let built = build(&c, &recipient, &tmp.path().join("out"), true);
    let id = AgeIdentity::from_text(&identity).unwrap();
    let opened = open(&built.package, &public_key(), &id, &tmp.path().join("o")).unwrap();
    assert_eq!(opened.manifest.accounts, 0);
    assert_eq!(check_extracted(&tmp.path().join("o")), built.manifest);
}

#[test]
fn ssh_recipient_round_trip() {
    // An ed25519 OpenSSH key made for this test only.
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("id");
    let k = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output();
    let Ok(k) = k else {
        eprintln!("ssh-keygen not installed; skipping the ssh recipient test");
        return;
    };
    assert!(k.status.success());
    let public = fs::read_to_string(key.with_extension("pub")).unwrap();
    let agencies = parse_agencies(&format!(
        "[[agency]]\ncountry = \"AU\"\nname = \"A\"\nage_recipient = \"{}\"\ncontact = \"a@example.org\"\n",
        public.trim()
    ))
    .unwrap();
    assert!(matches!(agencies[0].recipient, AgeRecipient::Ssh(_)));
    let mut c = content(2, 2, 0, tmp.path());
    c.country = "AU".into();
    let built = build(&c, &agencies[0].recipient, &tmp.path().join("out"), false);
    let id = AgeIdentity::from_text(&fs::read_to_string(&key).unwrap()).unwrap();
    open(&built.package, &public_key(), &id, &tmp.path().join("o")).unwrap();
    let d = run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&built.package));
    assert!(d.status.success(), "{d:?}");
}

#[test]
fn agencies_file() {
    let (_, r1) = agency_identity();
    let (_, r2) = agency_identity();
    let good = format!(
        "[[agency]]\ncountry = \"NZ\"\nname = \"Digital Child Exploitation Team\"\nage_recipient = \"{r1}\"\ncontact = \"dcet@example.govt.nz\"\n\n\
         [[agency]]\ncountry = \"AU\"\nname = \"B\"\nage_recipient = \"{r2}\"\ncontact = \"b@example.org\"\n"
    );
    let a = parse_agencies(&good).unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].country, "NZ");
    assert_eq!(a[0].age_recipient, r1.to_string());
    assert_eq!(a[1].recipient, r2);
    assert!(parse_agencies("").unwrap().is_empty());

    let cases: Vec<(String, &str)> = vec![
        (
            good.replace("\"AU\"", "\"nz\""),
            "agency 2 (country, line 8): \"nz\" is not a two-letter upper-case country code",
        ),
        (
            good.replace("\"AU\"", "\"NZL\""),
            "agency 2 (country, line 8)",
        ),
        (
            good.replace("\"AU\"", "\"NZ\""),
            "agency 2 (country, line 8): country NZ is already given to agency 1",
        ),
        (
            good.replace(&r2.to_string(), "age1notakey"),
            "agency 2 (age_recipient, line 10): not a valid age X25519 recipient",
        ),
        (
            good.replace(&r2.to_string(), "AGE-SECRET-KEY-1XYZ"),
            "agency 2 (age_recipient, line 10): expected an age recipient",
        ),
        (
            good.replace(&r1.to_string(), "ssh-dss AAAAB3NzaC1kc3M="),
            "agency 1 (age_recipient, line 4)",
        ),
        (
            good.replace("name = \"B\"", "name = \"  \""),
            "agency 2 (name, line 9): is empty",
        ),
        (
            good.replace("contact = \"b@example.org\"\n", ""),
            "missing field `contact`",
        ),
        (
            good.replace(
                "contact = \"b@example.org\"",
                "contact = \"b\"\nphone = \"1\"",
            ),
            "line 12",
        ),
        (good.replace("country = \"AU\"", "country = 61"), "line 8"),
        ("[[agency]\n".to_owned(), "line 1"),
    ];
    for (text, want) in cases {
        let err = parse_agencies(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} does not contain {want:?}");
    }
}
