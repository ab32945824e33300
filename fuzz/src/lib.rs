//! The bodies of the fuzz targets (fuzz_targets/*.rs call these), so each
//! target is one line and the harness code is linted like any other.
//!
//! Every function takes the fuzzer's bytes as untrusted input for one
//! reader, runs it to its end and renders every error it gives; a panic, a
//! hang (libFuzzer's `-timeout`) or an allocation over `-rss_limit_mb` is
//! a finding. Setup failures of the harness itself (no scratch directory)
//! abort loudly: a harness that silently did nothing would pass forever.

#![allow(clippy::expect_used)]

use std::fmt::Debug;
use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::OnceLock;

/// Separates the files packed into one fuzz input (seeds use it; the
/// fuzzer may drop, duplicate or break it like any other bytes).
pub const SEPARATOR: &[u8] = b"\n#####\n";

/// Splits an input into at most `n` parts at [`SEPARATOR`].
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < n {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// A fresh directory for one input (under `$TMPDIR`; the script points it at
/// a RAM disk where there is one).
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tiaki-fuzz-")
        .tempdir()
        .expect("scratch directory")
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).expect("write scratch file");
}

/// Renders a result the way a caller would show it.
fn show<T: Debug, E: std::fmt::Display>(r: &Result<T, E>) {
    match r {
        Ok(v) => {
            black_box(format!("{v:?}"));
        }
        Err(e) => {
            black_box(e.to_string());
        }
    }
}

/// Small limits so each input stays fast; the defaults' guarantees are the
/// hostile-input tests' business.
fn bundle_limits() -> tiaki_intake::Limits {
    tiaki_intake::Limits {
        max_extracted_bytes: 32 << 20,
        max_entries: 4096,
        max_line_bytes: 64 << 10,
        max_manifest_bytes: 1 << 20,
        ..tiaki_intake::Limits::default()
    }
}

fn read_bundle(dir: &Path, staging: &Path) {
    let opened = tiaki_intake::Bundle::open(dir, staging, &bundle_limits());
    let mut bundle = match opened {
        Ok(b) => b,
        Err(e) => {
            black_box(e.to_string());
            return;
        }
    };
    black_box(format!("{:?}", bundle.header()));
    for r in bundle.accounts() {
        show(&r);
    }
    for r in bundle.media() {
        show(&r);
    }
    for r in bundle.events() {
        show(&r);
    }
}

/// A provider-report/1 archive (zip, tar, tar.gz, tar.zst: recognised by
/// content) from an untrusted provider: extracted and read.
pub fn bundle_archive(data: &[u8]) {
    let tmp = scratch();
    let archive = tmp.path().join("bundle.tar");
    write(&archive, data);
    read_bundle(&archive, &tmp.path().join("staging"));
}

/// A provider-report/1 bundle directory: manifest.json, accounts.ndjson,
/// media.ndjson and events.ndjson, in that order, split at [`SEPARATOR`]
/// (a missing part is a missing file).
pub fn bundle_files(data: &[u8]) {
    let tmp = scratch();
    let dir = tmp.path().join("bundle");
    fs::create_dir(&dir).expect("bundle directory");
    let names = [
        "manifest.json",
        "accounts.ndjson",
        "media.ndjson",
        "events.ndjson",
    ];
    for (name, part) in names.iter().zip(split(data, names.len())) {
        write(&dir.join(name), part);
    }
    fs::create_dir(dir.join("files")).expect("files directory");
    write(
        &dir.join("files/1.jpg"),
        b"\xff\xd8\xff\xe0 not really a picture",
    );
    read_bundle(&dir, &tmp.path().join("staging"));
}

/// A CyberTipline folder: a `<report>` file and a `<fileDetails>` file,
/// split at [`SEPARATOR`].
pub fn cybertip_xml(data: &[u8]) {
    let tmp = scratch();
    for (name, part) in ["report.xml", "details.xml"].iter().zip(split(data, 2)) {
        write(&tmp.path().join(name), part);
    }
    let opts = tiaki_intake::CyberTipOptions {
        max_file_bytes: 1 << 20,
        ..tiaki_intake::CyberTipOptions::default()
    };
    match tiaki_intake::CyberTip::open_with(tmp.path(), &opts) {
        Ok(tip) => {
            for r in tip.reports() {
                if let Ok(report) = &r {
                    for m in &report.media {
                        if let Some(f) = &m.file {
                            black_box(report.resolve_file(f).is_ok());
                        }
                    }
                }
                show(&r);
            }
        }
        Err(e) => {
            black_box(e.to_string());
        }
    }
}

/// A known-media hash list. The first byte picks the reader: 0–6 force
/// one of the seven formats, anything else detects (bit 7 also asks for
/// deletion notices).
pub fn hash_lists(data: &[u8]) {
    use tiaki_formats::{Format, ImportOptions, import};
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let opts = ImportOptions {
        format: Format::ALL.get(usize::from(sel & 0x7f)).copied(),
        include_deleted: sel & 0x80 != 0,
        ..ImportOptions::default()
    };
    let (mut ok, mut bad) = (0u64, 0u64);
    let result = import(rest, &opts, |item| {
        match &item {
            Ok(_) => ok += 1,
            Err(_) => bad += 1,
        }
        show(&item);
        ControlFlow::Continue(())
    });
    match result {
        Ok(s) => {
            let delivered = s.entries + if opts.include_deleted { s.deleted } else { 0 };
            assert_eq!(
                (delivered, s.rejected),
                (ok, bad),
                "summary disagrees with the sink"
            );
        }
        Err(e) => {
            black_box(e.to_string());
        }
    }
}

/// An image file: sniffed, EXIF read, decoded under limits.
pub fn media_image(data: &[u8]) {
    black_box(tiaki_media::sniff(data));
    black_box(tiaki_media::exif::read_exif(data));
    // Smaller than the defaults so each input stays fast; a header over
    // these is refused the same way as one over the defaults.
    let limits = tiaki_media::Limits {
        max_pixels: 4_000_000,
        max_decoder_alloc: 64 << 20,
        ..tiaki_media::Limits::default()
    };
    show(&tiaki_media::decode_image(data, &limits));
}

struct Keys {
    secret: minisign::SecretKey,
    public: minisign::PublicKey,
    issuer: tiaki_referral::IssuerPublicKey,
    recipient: age::x25519::Recipient,
    identity: tiaki_referral::AgeIdentity,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use age::secrecy::ExposeSecret;
        let pair = minisign::KeyPair::generate_unencrypted_keypair().expect("minisign key");
        let public_text = pair.pk.to_box().expect("public key box").into_string();
        let issuer = tiaki_referral::IssuerPublicKey::from_text(&public_text).expect("issuer key");
        let id = age::x25519::Identity::generate();
        let identity = tiaki_referral::AgeIdentity::from_text(id.to_string().expose_secret())
            .expect("age identity");
        Keys {
            secret: pair.sk,
            public: pair.pk,
            issuer,
            recipient: id.to_public(),
            identity,
        }
    })
}

/// The fields of the signed comment; seeds' manifests say the same.
pub const REFERRAL_ID: &str = "R-1";
pub const COUNTRY: &str = "NZ";
pub const CREATED_AT: &str = "2021-03-01T00:00:00Z";

fn sign(package: &[u8], tar_sha256: &str) -> String {
    let k = keys();
    let comment = format!(
        "tiaki-referral id={REFERRAL_ID} country={COUNTRY} created_at={CREATED_AT} tar_sha256={tar_sha256}"
    );
    minisign::sign(
        Some(&k.public),
        &k.secret,
        package,
        Some(&comment),
        Some(tiaki_referral::verify::UNTRUSTED_COMMENT),
    )
    .expect("sign")
    .into_string()
}

fn encrypt(plain: &[u8]) -> Vec<u8> {
    let k = keys();
    let enc = age::Encryptor::with_recipients(std::iter::once(&k.recipient as &dyn age::Recipient))
        .expect("encryptor");
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).expect("age stream");
    w.write_all(plain).expect("encrypt");
    w.finish().expect("finish");
    out
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A referral package from a sender whose key the recipient trusts but
/// whose content is hostile. The first byte picks the layer:
/// * 0 — the rest is the plaintext tar: encrypted to the agency, signed
///   (the trusted comment carries its true SHA-256) and opened;
/// * 1 — the rest is the `.tar.age` file itself, validly signed, opened
///   (the age header and stream are what is fuzzed);
/// * otherwise — the rest is the `.minisig` file of a small valid package,
///   verified.
pub fn referral_open(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tmp = scratch();
    let package = tmp.path().join("package.tar.age");
    let signature = tiaki_referral::verify::signature_path(&package);
    let (bytes, sig) = match mode {
        0 => {
            let enc = encrypt(rest);
            let sig = sign(&enc, &sha256_hex(rest));
            (enc, sig.into_bytes())
        }
        1 => {
            let sig = sign(rest, &sha256_hex(b""));
            (rest.to_vec(), sig.into_bytes())
        }
        _ => (b"package".to_vec(), rest.to_vec()),
    };
    write(&package, &bytes);
    write(&signature, &sig);
    let k = keys();
    if mode > 1 {
        show(&tiaki_referral::verify::verify(&package, &k.issuer));
        return;
    }
    let out = tmp.path().join("out");
    show(&tiaki_referral::verify::open(
        &package,
        &k.issuer,
        &k.identity,
        &out,
    ));
}
