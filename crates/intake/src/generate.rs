//! A generator of synthetic provider-report/1 bundles, for tests and the
//! ingest benchmark.
//!
//! Everything is benign and made up: account data uses documentation IP
//! ranges (RFC 5737, RFC 3849), `example.*` domains and fictional number
//! ranges; media are random hashes, or small generated images (gradients,
//! shapes, noise). Output is a deterministic function of [`GenOptions`]
//! (the random source is a fixed SplitMix64, not a crate whose streams may
//! change between versions).
//!
//! Media pick one of about `media / 10` *content items*, so the same content
//! appears under many accounts, with MD5/SHA-1/SHA-256/PDQ consistent per
//! item; about one item in ten has a PDQ that is a near-duplicate (a few bits
//! flipped) of another item's, and about one in fifty is a "video" with vPDQ
//! frames instead of a PDQ. With `files = K`, K media lines (spread evenly)
//! point at generated PNG/JPEG files, one per content item, whose provider
//! hashes are their real MD5/SHA-1/SHA-256.
//!
//! With `bad_lines`, known bad lines are mixed in (each listed in
//! [`GenSummary::bad_lines`] with its line number) so tests can check that
//! readers report exactly those.
//!
//! ```no_run
//! use tiaki_intake::generate::{generate, GenOptions};
//! let summary = generate(&GenOptions {
//!     accounts: 100,
//!     media: 1000,
//!     out: "/tmp/bundle".into(),
//!     ..GenOptions::default()
//! })?;
//! assert_eq!(summary.media, 1000);
//! # Ok::<(), tiaki_intake::generate::GenError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tiaki_types::hex;
use tiaki_types::rng::Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    pub accounts: u64,
    pub media: u64,
    /// Events to write; `None` means `accounts / 2`.
    pub events: Option<u64>,
    /// Media lines that point at generated image files.
    pub files: u64,
    pub seed: u64,
    /// Mix in known bad lines.
    pub bad_lines: bool,
    /// The bundle directory (created; existing bundle files are replaced).
    pub out: PathBuf,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            accounts: 100,
            media: 1000,
            events: None,
            files: 0,
            seed: 1,
            bad_lines: false,
            out: PathBuf::from("bundle"),
        }
    }
}

/// A deliberately bad line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    pub file: &'static str,
    /// 1-based line number.
    pub line: u64,
    /// Short tag (`bad_json`, `missing_id`, `bad_timestamp`, `bad_hash`, …).
    pub what: &'static str,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GenSummary {
    /// Good lines written per file (bad lines not counted).
    pub accounts: u64,
    pub media: u64,
    pub events: u64,
    /// Image files written.
    pub files: u64,
    pub content_items: u64,
    pub report_id: String,
    pub bad_lines: Vec<BadLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("image encoding: {0}")]
    Image(String),
    #[error("invalid options: {0}")]
    Options(String),
}

struct Item {
    md5: [u8; 16],
    sha1: [u8; 20],
    sha256: [u8; 32],
    pdq: Option<[u8; 32]>,
    vpdq: Vec<[u8; 32]>,
    /// `files/<name>` when the item has a generated file.
    file: Option<String>,
}

/// `YYYY-MM-DDThh:mm:ssZ` for seconds since 1970 (Hinnant's civil_from_days).
fn push_time(s: &mut String, secs: u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

/// 2015-01-01 and 2019-10-14, the span of generated activity.
const T0: u64 = 1_420_070_400;
const T1: u64 = 1_571_011_200;

fn time_between(r: &mut Rng, from: u64, to: u64) -> u64 {
    from + r.below_u64(to.saturating_sub(from).max(1))
}

const COUNTRIES: &[(&str, &str, &str)] = &[
    // (ISO code, calling code and fictional prefix, e-mail domain)
    ("NZ", "+64 21 555", "example.co.nz"),
    ("NZ", "+64 22 555", "example.net.nz"),
    ("AU", "+61 4 5550", "example.com.au"),
    ("AU", "+61 4 5551", "example.net.au"),
    ("US", "+1 202 555", "example.com"),
    ("GB", "+44 7700 900", "example.org.uk"),
    ("CA", "+1 613 555", "example.ca"),
    ("PH", "+63 917 555", "example.ph"),
    ("DE", "+49 30 5550", "example.de"),
    ("IN", "+91 98765", "example.in"),
    ("FJ", "+679 555", "example.com.fj"),
    ("WS", "+685 75", "example.ws"),
];

fn push_ip(s: &mut String, r: &mut Rng) {
    let host = r.below_u64(254) + 1;
    let _ = match r.below_u64(4) {
        0 => write!(s, "192.0.2.{host}"),
        1 => write!(s, "198.51.100.{host}"),
        2 => write!(s, "203.0.113.{host}"),
        _ => write!(s, "2001:db8:{:x}::{:x}", r.below_u64(0xffff), host),
    };
}

/// A writer that also computes the SHA-256 of what passes through, so the
/// manifest's `files_sha256` costs no second read.
struct Hashing {
    inner: BufWriter<File>,
    hash: Sha256,
    path: PathBuf,
}

impl Hashing {
    fn create(path: PathBuf) -> Result<Hashing, GenError> {
        let f = File::create(&path).map_err(|source| GenError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Hashing {
            inner: BufWriter::with_capacity(1 << 20, f),
            hash: Sha256::new(),
            path,
        })
    }
    fn line(&mut self, s: &str) -> Result<(), GenError> {
        self.hash.update(s.as_bytes());
        self.hash.update(b"\n");
        self.inner
            .write_all(s.as_bytes())
            .and_then(|()| self.inner.write_all(b"\n"))
            .map_err(|source| GenError::Io {
                path: self.path.clone(),
                source,
            })
    }
    fn finish(mut self) -> Result<String, GenError> {
        self.inner.flush().map_err(|source| GenError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut s = String::new();
        hex::push(&mut s, &self.hash.finalize(), false);
        Ok(s)
    }
}

/// Where the `k`-th of `n` bad lines goes among `good` good lines: after
/// this many good lines (at least one, so duplicates follow their original).
fn slot(k: usize, n: usize, good: u64) -> u64 {
    let pos = (k as u64 + 1) * good / (n as u64 + 1);
    pos.max(1).min(good)
}

/// Writes `good` generated lines with `bad` lines spread among them.
fn write_lines(
    w: &mut Hashing,
    file: &'static str,
    good: u64,
    bad: &[(&'static str, String)],
    summary: &mut Vec<BadLine>,
    mut gen_line: impl FnMut(u64, &mut String),
) -> Result<(), GenError> {
    let mut line_no = 0u64;
    let mut buf = String::with_capacity(1024);
    let mut next_bad = 0usize;
    let mut emit_bad = |w: &mut Hashing, after: u64, line_no: &mut u64, next_bad: &mut usize| {
        while let Some((what, text)) = bad.get(*next_bad) {
            if slot(*next_bad, bad.len(), good) != after {
                break;
            }
            *line_no += 1;
            w.line(text)?;
            summary.push(BadLine {
                file,
                line: *line_no,
                what,
            });
            *next_bad += 1;
        }
        Ok::<(), GenError>(())
    };
    for i in 0..good {
        buf.clear();
        gen_line(i, &mut buf);
        line_no += 1;
        w.line(&buf)?;
        emit_bad(w, i + 1, &mut line_no, &mut next_bad)?;
    }
    // With no good lines, bad lines still go in.
    while let Some((what, text)) = bad.get(next_bad) {
        line_no += 1;
        w.line(text)?;
        summary.push(BadLine {
            file,
            line: line_no,
            what,
        });
        next_bad += 1;
    }
    Ok(())
}

/// Generates a bundle directory; see the module documentation.
pub fn generate(opts: &GenOptions) -> Result<GenSummary, GenError> {
    if opts.accounts == 0 && opts.media > 0 {
        return Err(GenError::Options("media need at least one account".into()));
    }
    if opts.files > opts.media {
        return Err(GenError::Options("--files cannot exceed --media".into()));
    }
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenError::Io { path, source }
    };
    fs::create_dir_all(&opts.out).map_err(io_err(&opts.out))?;
    let seed = opts.seed;
    let report_id = format!("GEN-{seed}-{}-{}", opts.accounts, opts.media);
    let mut bad_summary = Vec::new();

    // Content items, with files for the first ones when files are asked for.
    let n_items = (opts.media / 10).max(1);
    let n_file_items = if opts.files == 0 {
        0
    } else {
        opts.files.div_ceil(2).min(n_items)
    };
    let mut items = Vec::with_capacity(usize::try_from(n_items).unwrap_or(0));
    let files_dir = opts.out.join("files");
    if n_file_items > 0 {
        fs::create_dir_all(&files_dir).map_err(io_err(&files_dir))?;
    }
    for c in 0..n_items {
        let mut r = Rng::with_stream(seed, 1_000_000 + c);
        let mut it = Item {
            md5: [0; 16],
            sha1: [0; 20],
            sha256: [0; 32],
            pdq: None,
            vpdq: Vec::new(),
            file: None,
        };
        if c < n_file_items {
            let (name, bytes) = image_file(c, &mut r)?;
            let path = files_dir.join(&name);
            fs::write(&path, &bytes).map_err(io_err(&path))?;
            it.md5.copy_from_slice(&Md5::digest(&bytes));
            it.sha1.copy_from_slice(&Sha1::digest(&bytes));
            it.sha256.copy_from_slice(&Sha256::digest(&bytes));
            it.file = Some(format!("files/{name}"));
        } else {
            r.fill(&mut it.md5);
            r.fill(&mut it.sha1);
            r.fill(&mut it.sha256);
            if r.chance(2) {
                for _ in 0..(3 + r.below_u64(4)) {
                    let mut f = [0u8; 32];
                    r.fill(&mut f);
                    it.vpdq.push(f);
                }
            } else {
                let mut p = [0u8; 32];
                r.fill(&mut p);
                // Near-duplicate of an earlier item: a few bits flipped.
                if c > n_file_items && r.chance(10) {
                    let base = n_file_items + r.below_u64(c - n_file_items);
                    let src: Option<&Item> = items.get(usize::try_from(base).unwrap_or(0));
                    if let Some(bp) = src.and_then(|b| b.pdq) {
                        p = bp;
                        for _ in 0..(1 + r.below_u64(8)) {
                            let bit = r.below_u64(256) as usize;
                            p[bit / 8] ^= 1 << (bit % 8);
                        }
                    }
                }
                it.pdq = Some(p);
            }
        }
        items.push(it);
    }

    // accounts.ndjson
    let bad_accounts: Vec<(&'static str, String)> = if opts.bad_lines {
        vec![
            ("bad_json", r#"{"id": "u-bad-json", "username": }"#.into()),
            ("missing_id", r#"{"username": "no_id_here"}"#.into()),
            (
                "bad_timestamp",
                r#"{"id": "u-bad-time", "created_at": "2019-02-30T10:00:00Z"}"#.into(),
            ),
            (
                "duplicate_id",
                r#"{"id": "u-0", "username": "again"}"#.into(),
            ),
            (
                "bad_country",
                r#"{"id": "u-bad-country", "declared_country": "New Zealand"}"#.into(),
            ),
        ]
    } else {
        Vec::new()
    };
    let mut w = Hashing::create(opts.out.join(crate::bundle::ACCOUNTS))?;
    write_lines(
        &mut w,
        crate::bundle::ACCOUNTS,
        opts.accounts,
        &bad_accounts,
        &mut bad_summary,
        |i, s| account_line(seed, i, s),
    )?;
    let accounts_sha = w.finish()?;

    // media.ndjson
    let some_md5 = {
        let mut s = String::new();
        hex::push(&mut s, &[0xab; 16], false);
        s
    };
    let bad_media: Vec<(&'static str, String)> = if opts.bad_lines {
        vec![
            (
                "bad_json",
                r#"{"id": "m-bad-json", "account": "u-0", "#.into(),
            ),
            (
                "missing_id",
                format!(r#"{{"account": "u-0", "hashes": {{"md5": "{some_md5}"}}}}"#),
            ),
            (
                "bad_hash",
                r#"{"id": "m-bad-hash", "account": "u-0", "hashes": {"md5": "not-hex"}}"#.into(),
            ),
            (
                "bad_timestamp",
                format!(
                    r#"{{"id": "m-bad-time", "account": "u-0", "uploaded_at": "yesterday", "hashes": {{"md5": "{some_md5}"}}}}"#
                ),
            ),
            (
                "unknown_account",
                format!(
                    r#"{{"id": "m-unknown-account", "account": "u-nobody", "hashes": {{"md5": "{some_md5}"}}}}"#
                ),
            ),
            (
                "rejected_account",
                format!(
                    r#"{{"id": "m-rejected-account", "account": "u-bad-time", "hashes": {{"md5": "{some_md5}"}}}}"#
                ),
            ),
            (
                "duplicate_id",
                format!(r#"{{"id": "m-0", "account": "u-0", "hashes": {{"md5": "{some_md5}"}}}}"#),
            ),
            (
                "path_escape",
                r#"{"id": "m-escape", "account": "u-0", "file": "../outside.jpg"}"#.into(),
            ),
            (
                "absolute_path",
                r#"{"id": "m-absolute", "account": "u-0", "file": "/etc/passwd"}"#.into(),
            ),
            (
                "missing_file",
                r#"{"id": "m-missing-file", "account": "u-0", "file": "files/does-not-exist.png"}"#
                    .into(),
            ),
            (
                "no_file_no_hashes",
                r#"{"id": "m-nothing", "account": "u-0"}"#.into(),
            ),
            (
                "bad_vpdq",
                r#"{"id": "m-bad-vpdq", "account": "u-0", "hashes": {"vpdq": ["abc,100"]}}"#.into(),
            ),
        ]
    } else {
        Vec::new()
    };
    let mut w = Hashing::create(opts.out.join(crate::bundle::MEDIA))?;
    let mut r = Rng::with_stream(seed, 2);
    let (n_media, n_files, n_accounts) = (opts.media, opts.files, opts.accounts);
    write_lines(
        &mut w,
        crate::bundle::MEDIA,
        n_media,
        &bad_media,
        &mut bad_summary,
        |j, s| {
            // Exactly `files` lines, spread evenly, point at files.
            let with_file = n_files > 0 && (j * n_files) / n_media != ((j + 1) * n_files) / n_media;
            let c = if with_file {
                r.below_u64(n_file_items)
            } else {
                r.below_u64(n_items)
            };
            let item = &items[c as usize];
            media_line(&mut r, j, item, with_file, n_accounts, s);
        },
    )?;
    let media_sha = w.finish()?;

    // events.ndjson
    let n_events = opts.events.unwrap_or(opts.accounts / 2);
    let bad_events: Vec<(&'static str, String)> = if opts.bad_lines {
        vec![
            ("bad_json", "{\"type\": \"share\"".into()),
            (
                "missing_type",
                r#"{"account": "u-0", "at": "2019-10-01T00:00:00Z"}"#.into(),
            ),
            (
                "bad_timestamp",
                r#"{"type": "login", "account": "u-0", "at": "2019-10-01"}"#.into(),
            ),
        ]
    } else {
        Vec::new()
    };
    let mut w = Hashing::create(opts.out.join(crate::bundle::EVENTS))?;
    let mut r = Rng::with_stream(seed, 3);
    write_lines(
        &mut w,
        crate::bundle::EVENTS,
        n_events,
        &bad_events,
        &mut bad_summary,
        |_, s| {
            event_line(&mut r, n_accounts.max(1), n_media.max(1), s);
        },
    )?;
    let events_sha = w.finish()?;

    // manifest.json
    let mut sums = BTreeMap::new();
    sums.insert(crate::bundle::ACCOUNTS, accounts_sha);
    sums.insert(crate::bundle::MEDIA, media_sha);
    sums.insert(crate::bundle::EVENTS, events_sha);
    let manifest = serde_json::json!({
        "format": crate::manifest::FORMAT,
        "report_id": report_id,
        "provider": {"name": "Example File Share Ltd", "country": "NZ", "contact": "trust@provider.example"},
        "created_at": "2019-10-14T03:00:00Z",
        "incident_type": "distribution",
        "description": format!("generated test bundle (seed {seed})"),
        "files_sha256": sums,
        "generator": "tiaki-intake gen_bundle",
    });
    let path = opts.out.join(crate::bundle::MANIFEST);
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| GenError::Options(format!("manifest: {e}")))?;
    fs::write(&path, text + "\n").map_err(io_err(&path))?;

    Ok(GenSummary {
        accounts: opts.accounts,
        media: opts.media,
        events: n_events,
        files: n_file_items,
        content_items: n_items,
        report_id,
        bad_lines: bad_summary,
    })
}

const FIRST: &[&str] = &[
    "Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Taylor", "Jamie", "Quinn", "Avery",
];

fn account_line(seed: u64, i: u64, s: &mut String) {
    let mut r = Rng::with_stream(seed, 10_000_000_000 + i);
    let (cc, phone, domain) = COUNTRIES[r.below_u64(COUNTRIES.len() as u64) as usize];
    let first = FIRST[r.below_u64(FIRST.len() as u64) as usize];
    let user = format!("{}_{}{}", first.to_ascii_lowercase(), i, r.below_u64(100));
    let _ = write!(
        s,
        r#"{{"id":"u-{i}","username":"{user}","display_name":"{first} {i}","created_at":""#
    );
    push_time(s, time_between(&mut r, T0, T1 - 86_400 * 30));
    let _ = write!(s, r#"","emails":["{user}@{domain}""#);
    if r.chance(30) {
        let _ = write!(s, r#","{user}.alt@example.org""#);
    }
    s.push_str(r#"],"phones":["#);
    if r.chance(70) {
        let _ = write!(s, r#""{phone} {:04}""#, r.below_u64(10_000));
    }
    let _ = write!(s, r#"],"declared_country":"{cc}","devices":["#);
    for d in 0..r.below_u64(3) {
        if d > 0 {
            s.push(',');
        }
        let mut id = [0u8; 8];
        r.fill(&mut id);
        s.push_str(if r.chance(50) {
            "\"android-id:"
        } else {
            "\"ios-idfv:"
        });
        hex::push(s, &id, false);
        s.push('"');
    }
    s.push_str(r#"],"logins":["#);
    for l in 0..(1 + r.below_u64(3)) {
        if l > 0 {
            s.push(',');
        }
        s.push_str(r#"{"ip":""#);
        push_ip(s, &mut r);
        s.push_str(r#"","at":""#);
        push_time(s, time_between(&mut r, T1 - 86_400 * 60, T1));
        let _ = write!(s, r#"","possible_proxy":{}}}"#, r.chance(10));
    }
    let _ = write!(
        s,
        r#"],"profile_url":"https://provider.example/u/{user}"}}"#
    );
}

fn media_line(r: &mut Rng, j: u64, item: &Item, with_file: bool, accounts: u64, s: &mut String) {
    let _ = write!(
        s,
        r#"{{"id":"m-{j}","account":"u-{}""#,
        r.below_u64(accounts)
    );
    if with_file && let Some(f) = &item.file {
        let _ = write!(s, r#","file":"{f}""#);
    }
    s.push_str(r#","uploaded_at":""#);
    push_time(s, time_between(r, T1 - 86_400 * 60, T1));
    s.push_str(r#"","upload_ip":""#);
    push_ip(s, r);
    let ext = match (&item.file, item.vpdq.is_empty()) {
        (Some(f), _) if with_file => f.rsplit('.').next().unwrap_or("jpg"),
        (_, true) => "jpg",
        (_, false) => "mp4",
    };
    let _ = write!(
        s,
        r#"","original_name":"IMG_{:04}.{ext}""#,
        r.below_u64(10_000)
    );
    if r.chance(10) {
        s.push_str(r#","shared_with":["#);
        for k in 0..(1 + r.below_u64(3)) {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, r#""u-{}""#, r.below_u64(accounts));
        }
        s.push(']');
    }
    if r.chance(5) {
        let _ = write!(s, r#","group":"g-{}""#, r.below_u64(1000));
    }
    s.push_str(r#","hashes":{"md5":""#);
    hex::push(s, &item.md5, false);
    s.push_str(r#"","sha1":""#);
    hex::push(s, &item.sha1, false);
    s.push_str(r#"","sha256":""#);
    hex::push(s, &item.sha256, false);
    s.push('"');
    if let Some(p) = &item.pdq {
        s.push_str(r#","pdq":""#);
        hex::push(s, p, false);
        s.push('"');
    }
    if !item.vpdq.is_empty() {
        s.push_str(r#","vpdq":["#);
        for (k, f) in item.vpdq.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            s.push('"');
            hex::push(s, f, false);
            let _ = write!(s, r#",100,{}.000""#, k);
        }
        s.push(']');
    }
    let _ = write!(s, r#"}},"viewed_by_provider":{}}}"#, r.chance(30));
}

fn event_line(r: &mut Rng, accounts: u64, media: u64, s: &mut String) {
    let kind = r.below_u64(100);
    let a = r.below_u64(accounts);
    if kind < 50 {
        let _ = write!(
            s,
            r#"{{"type":"share","from":"u-{a}","to":["u-{}""#,
            r.below_u64(accounts)
        );
        if r.chance(30) {
            let _ = write!(s, r#","u-{}""#, r.below_u64(accounts));
        }
        let _ = write!(s, r#"],"media":"m-{}","at":""#, r.below_u64(media));
    } else if kind < 80 {
        let _ = write!(s, r#"{{"type":"login","account":"u-{a}","ip":""#);
        push_ip(s, r);
        s.push_str(r#"","at":""#);
    } else if kind < 98 {
        let _ = write!(
            s,
            r#"{{"type":"group_join","account":"u-{a}","group":"g-{}","at":""#,
            r.below_u64(1000)
        );
    } else {
        // A type the spec does not define: readers must keep it.
        let _ = write!(
            s,
            r#"{{"type":"profile_update","account":"u-{a}","field":"bio","at":""#
        );
    }
    push_time(s, time_between(r, T1 - 86_400 * 60, T1));
    s.push_str("\"}");
}

/// One benign generated image (gradient, checkerboard, circles or noise),
/// PNG for even items and JPEG for odd ones; distinct per item.
fn image_file(c: u64, r: &mut Rng) -> Result<(String, Vec<u8>), GenError> {
    let w = 48 + r.below_u64(96) as u32;
    let h = 48 + r.below_u64(96) as u32;
    let pattern = r.below_u64(4);
    let (a, b, k) = (r.next_u64(), r.next_u64(), 2 + r.below_u64(10) as u32);
    let px = |x: u32, y: u32, n: u64| -> [u8; 3] {
        let ab = a.to_le_bytes();
        let bb = b.to_le_bytes();
        match pattern {
            0 => [
                (x * 255 / w) as u8 ^ ab[0],
                (y * 255 / h) as u8 ^ ab[1],
                ab[2].wrapping_add((x + y) as u8),
            ],
            1 => {
                if (x / k + y / k).is_multiple_of(2) {
                    [ab[0], ab[1], ab[2]]
                } else {
                    [bb[0], bb[1], bb[2]]
                }
            }
            2 => {
                let (cx, cy) = (w as i64 / 2, h as i64 / 2);
                let d = ((x as i64 - cx).pow(2) + (y as i64 - cy).pow(2)) as u64;
                let ring = (d / u64::from(k * k + 1)) as u8;
                [ring.wrapping_mul(ab[3] | 1), bb[4], ring ^ ab[5]]
            }
            _ => {
                let v = n.to_le_bytes();
                [v[0], v[1], v[2]]
            }
        }
    };
    let mut noise = Rng::with_stream(a, c);
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(px(x, y, noise.next_u64())));
    let mut bytes = Vec::new();
    let png = c.is_multiple_of(2);
    if png {
        img.write_to(&mut io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .map_err(|e| GenError::Image(e.to_string()))?;
    } else {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&img)
            .map_err(|e| GenError::Image(e.to_string()))?;
    }
    let name = format!("c{c}.{}", if png { "png" } else { "jpg" });
    Ok((name, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formatting() {
        let mut s = String::new();
        push_time(&mut s, 0);
        s.push(' ');
        push_time(&mut s, 1_571_011_200);
        s.push(' ');
        push_time(&mut s, 951_782_400); // 2000-02-29
        assert_eq!(
            s,
            "1970-01-01T00:00:00Z 2019-10-14T00:00:00Z 2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = (0..4)
            .scan(Rng::with_stream(7, 1), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .scan(Rng::with_stream(7, 1), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .scan(Rng::with_stream(7, 2), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
