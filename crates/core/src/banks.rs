//! HMA-compatible banks and matching (issue 19, part 3): what Meta's
//! Hasher-Matcher-Actioner 2.0 ("OpenMediaMatch") curation and matching API
//! does, on Tiaki's known lists. A bank is a list, a bank content is an
//! entry and `bank_content_id` is `entries.id`; the service's `/m`, `/h` and
//! `/c` routes are thin over this module.
//!
//! HMA's semantics, as its code has them (read, not copied):
//!
//! * **Names** are UPPER_WITH_UNDER: `[A-Z_][A-Z0-9_]*`.
//! * **Enablement.** HMA keeps one number per bank, `matching_enabled_ratio`;
//!   `enabled: true` sets it to 1, `false` to 0, `enabled_ratio` overrides
//!   both. A lookup draws one number in [0, 1) (`random.Random(seed)`, the
//!   request's `seed`) and a bank counts when its ratio is at least that
//!   draw, so a ratio of 0.3 counts in about 30 % of lookups, the same ones
//!   for the same seed. Tiaki keeps the list's `enabled` flag (what `lists
//!   disable` sets) beside the ratio: a ratio of 0 is stored as disabled
//!   (keeping the last positive ratio, so `lists enable` restores it), and
//!   the ratio answered is 0.0 while disabled ([`BankInfo::matching_enabled_ratio`]).
//!   A bank counts in [`Known::lookup`] when that ratio is > 0 and ≥ the
//!   draw ([`LookupOptions::coinflip`]); 0.0, HMA's `bypass_coinflip`, counts
//!   every enabled bank — unlike HMA, never a disabled one.
//!   `raw_lookup` ignores enablement, of banks and of contents, as HMA's does.
//! * **Contents.** `disable_until_ts`: 1 (or never set) enabled, 0 disabled,
//!   else disabled until that unix time; a disabled content does not match in
//!   [`Known::lookup`] (the time is the caller's: core reads no clock).
//! * **Signals.** `pdq` (64 hex, Hamming distance ≤ 31, the hash as given:
//!   no dihedral variants), `video_md5` (exact, trimmed and lower-cased),
//!   and Tiaki's `md5` and `sha256` (exact). An exact match's distance is
//!   `"-"`, as HMA prints it. A PDQ lookup counts an entry's own PDQ hash
//!   only (a vPDQ frame of a video entry is not a photo match).
//! * **Negative lists** are Tiaki's: their entries are never reported, and
//!   an enabled one suppresses the entries it covers (`crate::matching`).
//!
//! **The index is extended in place.** Adding a content inserts the entry
//! and bumps the store's generation in one transaction, then adds it to the
//! loaded index (no rebuild), so it is found by the next lookup; deleting
//! logs the removal in the same transaction and drops it from the index. A
//! deleted entry is never reported even by a process that has not caught up
//! yet: every hit is read back from the store, which leaves missing rows
//! out. Other processes on the same PostgreSQL database catch up with
//! [`Known::sync`].

use std::collections::{BTreeMap, HashMap};

use tiaki_formats::model::HexDigest;
use tiaki_formats::{ListEntry, PdqEntry};
use tiaki_hash::pdq::PdqHash;
use tiaki_index::{Digest, EntryId};
use tiaki_media::{FileRecord, HashOptions, Kind};
use tiaki_store::banks::{BankChange, BankContent, BankInfo, ContentChange};
use tiaki_store::{BankStore, ListStore, StoreError, Timestamp};
use tiaki_types::codes::{Code, ErrorCode};

use crate::known::Known;
use crate::matching::MatchOptions;

/// HMA's PDQ match threshold.
pub const PDQ_THRESHOLD: u32 = 31;

/// HMA's longest note.
pub const MAX_NOTE: usize = 255;

/// `disable_until_ts` of an enabled content (HMA's `ENABLED`).
pub const ENABLED: i64 = 1;

/// `disable_until_ts` of a content disabled for good (HMA's `DISABLED`).
pub const DISABLED: i64 = 0;

/// The latest `disable_until_ts` HMA accepts: five years (of 365 days)
/// after now.
pub const MAX_DISABLE_SECONDS: i64 = 5 * 365 * 86_400;

/// Why a bank operation failed. Each has its code (and so the HTTP status
/// HMA answers with: 400 bad name or signal, 403 existing bank, 404 unknown
/// bank or content).
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("bank name {0:?} is not UPPER_WITH_UNDER ([A-Z_][A-Z0-9_]*)")]
    BadName(String),
    #[error("no such signal type {0:?} (pdq, video_md5, md5, sha256)")]
    NoSuchSignalType(String),
    #[error("invalid {signal_type} signal: {why}")]
    BadSignal {
        signal_type: &'static str,
        why: String,
    },
    #[error("the upload could not be hashed: {0}")]
    Unhashable(String),
    #[error("no signals given")]
    NoSignals,
    /// A request field out of range (ratio, note, time).
    #[error("{0}")]
    BadRequest(String),
    #[error("bank {0:?} already exists")]
    BankExists(String),
    #[error("bank {0:?} not found")]
    NoSuchBank(String),
    #[error("content {id} not found in bank {bank:?}")]
    NoSuchContent { bank: String, id: EntryId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for BankError {
    fn error_code(&self) -> Code {
        match self {
            BankError::BadName(_) => Code::InvalidBankName,
            BankError::NoSuchSignalType(_)
            | BankError::BadSignal { .. }
            | BankError::Unhashable(_)
            | BankError::NoSignals => Code::InvalidSignal,
            BankError::BadRequest(_) => Code::InvalidArgument,
            BankError::BankExists(_) => Code::BankExists,
            BankError::NoSuchBank(_) => Code::NoSuchBank,
            BankError::NoSuchContent { .. } => Code::NoSuchContent,
            BankError::Store(e) => e.error_code(),
        }
    }
}

/// The signal types Tiaki answers for (HMA's `SignalType` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalType {
    Pdq,
    VideoMd5,
    Md5,
    Sha256,
}

impl SignalType {
    pub const ALL: [SignalType; 4] = [
        SignalType::Pdq,
        SignalType::VideoMd5,
        SignalType::Md5,
        SignalType::Sha256,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SignalType::Pdq => "pdq",
            SignalType::VideoMd5 => "video_md5",
            SignalType::Md5 => "md5",
            SignalType::Sha256 => "sha256",
        }
    }

    pub fn from_name(name: &str) -> Result<SignalType, BankError> {
        SignalType::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| BankError::NoSuchSignalType(name.to_string()))
    }
}

/// One parsed signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Pdq(PdqHash),
    VideoMd5([u8; 16]),
    Md5([u8; 16]),
    Sha256([u8; 32]),
}

fn hex_of<const N: usize>(t: SignalType, s: &str) -> Result<[u8; N], BankError> {
    crate::hashing::parse_hex::<N>(s).ok_or_else(|| BankError::BadSignal {
        signal_type: t.name(),
        why: format!("{s:?} is not {} hexadecimal digits", N * 2),
    })
}

impl Signal {
    /// Parses `value` as a signal of type `signal_type` (surrounding blanks
    /// ignored, hex in either case).
    pub fn parse(signal_type: &str, value: &str) -> Result<Signal, BankError> {
        let t = SignalType::from_name(signal_type)?;
        let v = value.trim();
        Ok(match t {
            SignalType::Pdq => {
                if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(BankError::BadSignal {
                        signal_type: t.name(),
                        why: format!("{v:?} is not 64 hexadecimal digits"),
                    });
                }
                Signal::Pdq(PdqHash::from_hex(v).map_err(|e| BankError::BadSignal {
                    signal_type: t.name(),
                    why: e.to_string(),
                })?)
            }
            SignalType::VideoMd5 => Signal::VideoMd5(hex_of(t, &v.to_ascii_lowercase())?),
            SignalType::Md5 => Signal::Md5(hex_of(t, v)?),
            SignalType::Sha256 => Signal::Sha256(hex_of(t, v)?),
        })
    }

    pub fn signal_type(&self) -> SignalType {
        match self {
            Signal::Pdq(_) => SignalType::Pdq,
            Signal::VideoMd5(_) => SignalType::VideoMd5,
            Signal::Md5(_) => SignalType::Md5,
            Signal::Sha256(_) => SignalType::Sha256,
        }
    }

    /// Lowercase hex, as HMA echoes it.
    pub fn to_hex(&self) -> String {
        match self {
            Signal::Pdq(h) => h.to_hex(),
            Signal::VideoMd5(d) | Signal::Md5(d) => tiaki_types::hex::encode(d),
            Signal::Sha256(d) => tiaki_types::hex::encode(d),
        }
    }
}

/// A bank as HMA answers it (`{"name", "matching_enabled_ratio"}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bank {
    pub name: String,
    pub matching_enabled_ratio: f64,
}

impl From<&BankInfo> for Bank {
    fn from(b: &BankInfo) -> Bank {
        Bank {
            name: b.name.clone(),
            matching_enabled_ratio: b.matching_enabled_ratio(),
        }
    }
}

/// A bank to create or a change to one (`POST /c/banks`, `PUT /c/bank/NAME`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BankRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub enabled_ratio: Option<f64>,
}

/// A content as HMA answers it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Content {
    pub id: EntryId,
    pub disable_until_ts: i64,
    pub bank: Bank,
    /// Signal type → hex (what [`signals_of`] gives).
    pub signals: BTreeMap<String, String>,
    pub note: Option<String>,
}

/// A content just added: `{"id", "signals"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Added {
    pub id: EntryId,
    pub signals: BTreeMap<String, String>,
}

/// A change to a content (`PUT /c/bank/NAME/content/ID`): `Some` fields
/// change. A `note` of `Some(None)` (or an empty note) clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentUpdate {
    pub disable_until_ts: Option<i64>,
    pub note: Option<Option<String>>,
}

/// One match: HMA's `{"bank_content_id", "distance"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankMatch {
    pub bank_content_id: EntryId,
    /// Hamming distance of a PDQ match; `None` for an exact one.
    pub distance: Option<u32>,
}

impl BankMatch {
    /// The distance as HMA prints it: `"4"`, or `"-"` for an exact match.
    pub fn distance_text(&self) -> String {
        self.distance
            .map_or_else(|| "-".to_string(), |d| d.to_string())
    }
}

/// What a lookup counts.
#[derive(Debug, Clone, Default)]
pub struct LookupOptions {
    /// Only these banks (HMA's `banks=A,B`); unknown names match nothing.
    pub banks: Option<Vec<String>>,
    /// The lookup's draw in [0, 1) (module docs): a bank counts when its
    /// ratio is > 0 and at least this. 0.0 counts every enabled bank.
    pub coinflip: f64,
    /// Now, in unix seconds: contents disabled until later do not match.
    pub now: i64,
}

/// The draw of a lookup with HMA's `seed`: the same seed, the same draw
/// (not Python's numbers: a seeded stream of our own).
pub fn coinflip_of_seed(seed: &str) -> f64 {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(seed.as_bytes());
    let mut w = [0u8; 8];
    w.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    unit_interval(tiaki_types::rng::mix(u64::from_le_bytes(w)))
}

/// A fresh draw for a lookup without a seed.
pub fn random_coinflip() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5EED);
    unit_interval(tiaki_types::rng::mix(h.finish()))
}

/// The top 53 bits of `x` as a float in [0, 1).
fn unit_interval(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a content matches at `now` (HMA's `BankContentConfig.enabled`).
pub fn content_enabled(disable_until_ts: Option<i64>, now: i64) -> bool {
    match disable_until_ts {
        None | Some(ENABLED) => true,
        Some(DISABLED) => false,
        Some(t) => t <= now,
    }
}

/// Whether `name` is UPPER_WITH_UNDER.
pub fn valid_bank_name(name: &str) -> bool {
    let mut b = name.bytes();
    matches!(b.next(), Some(b'A'..=b'Z' | b'_'))
        && b.all(|c| matches!(c, b'A'..=b'Z' | b'0'..=b'9' | b'_'))
}

fn check_name(name: &str) -> Result<(), BankError> {
    if valid_bank_name(name) {
        Ok(())
    } else {
        Err(BankError::BadName(name.to_string()))
    }
}

fn check_ratio(r: f64) -> Result<(), BankError> {
    if r.is_finite() && (0.0..=1.0).contains(&r) {
        Ok(())
    } else {
        Err(BankError::BadRequest(format!(
            "enabled_ratio {r} is not between 0.0 and 1.0"
        )))
    }
}

/// HMA's note rule: at most 255 characters; empty is none.
pub fn check_note(note: Option<&str>) -> Result<Option<String>, BankError> {
    match note {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > MAX_NOTE => Err(BankError::BadRequest(format!(
            "note must be at most {MAX_NOTE} characters"
        ))),
        Some(n) => Ok(Some(n.to_string())),
    }
}

/// The stored (enabled, ratio) for HMA's ratio `r`: 0 is disabled, keeping
/// `keep` (the last positive ratio) for `lists enable`.
fn stored_ratio(r: f64, keep: f64) -> (bool, f64) {
    if r > 0.0 {
        (true, r)
    } else {
        (false, if keep > 0.0 { keep } else { 1.0 })
    }
}

/// The key in `entries.extra` where a content added through the HMA API
/// records its signal types (so it answers with those, not every digest
/// Tiaki computed).
const HMA_SIGNALS: &str = "hma_signals";

/// A content's signals, by HMA signal type: the types it was added with,
/// or for an imported entry every one it carries (its MD5 as `md5`).
pub fn signals_of(e: &ListEntry) -> BTreeMap<String, String> {
    let listed: Option<Vec<&str>> = e
        .extra
        .get(HMA_SIGNALS)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    let wanted = |t: SignalType| {
        listed
            .as_ref()
            .map_or(t != SignalType::VideoMd5, |l| l.contains(&t.name()))
    };
    let mut out = BTreeMap::new();
    if let Some(p) = e.pdq
        && wanted(SignalType::Pdq)
    {
        out.insert("pdq".into(), p.hash.to_hex());
    }
    if let Some(d) = e.md5 {
        for t in [SignalType::Md5, SignalType::VideoMd5] {
            if wanted(t) {
                out.insert(t.name().into(), tiaki_types::hex::encode(&d.0));
            }
        }
    }
    if let Some(d) = e.sha256
        && wanted(SignalType::Sha256)
    {
        out.insert("sha256".into(), tiaki_types::hex::encode(&d.0));
    }
    out
}

/// The entry a set of signals makes.
fn entry_of_signals(signals: &[Signal], note: Option<String>) -> Result<ListEntry, BankError> {
    if signals.is_empty() {
        return Err(BankError::NoSignals);
    }
    let mut e = ListEntry {
        note,
        ..ListEntry::default()
    };
    let mut types = Vec::new();
    for s in signals {
        match *s {
            Signal::Pdq(h) => {
                e.pdq = Some(PdqEntry {
                    hash: h,
                    quality: None,
                })
            }
            Signal::VideoMd5(d) | Signal::Md5(d) => e.md5 = Some(HexDigest(d)),
            Signal::Sha256(d) => e.sha256 = Some(HexDigest(d)),
        }
        types.push(serde_json::Value::from(s.signal_type().name()));
    }
    e.extra
        .insert(HMA_SIGNALS.into(), serde_json::Value::Array(types));
    Ok(e)
}

/// Hashes an uploaded file as `tiaki hash` does (it is written to a
/// temporary file first: videos go to ffmpeg by path). Blocking: call it
/// off the async workers.
pub fn hash_upload(bytes: &[u8], opts: &HashOptions) -> Result<FileRecord, BankError> {
    use std::io::Write;
    let mut tmp = tempfile::NamedTempFile::new()
        .map_err(|e| BankError::Unhashable(format!("temporary file: {e}")))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.flush())
        .map_err(|e| BankError::Unhashable(format!("temporary file: {e}")))?;
    Ok(tiaki_media::with_thread_hasher(
        tiaki_media::DEFAULT_LUMA,
        |h| tiaki_media::hash_file(tmp.path(), "upload".into(), opts, h),
    ))
}

/// What `POST /h/hash` answers for a hashed upload: `{"pdq": HEX}` for an
/// image (`""` when its quality is under 50), `{"video_md5": HEX}` for a
/// video. An upload that is neither, or could not be hashed, is an error.
pub fn hma_hashes(rec: &FileRecord) -> Result<BTreeMap<String, String>, BankError> {
    let mut out = BTreeMap::new();
    match rec.kind {
        Some(Kind::Image) => {
            let Some(p) = rec.pdq else {
                return Err(BankError::Unhashable(
                    rec.error.clone().unwrap_or_else(|| "no PDQ hash".into()),
                ));
            };
            let usable = rec
                .pdq_quality
                .is_some_and(|q| q >= tiaki_hash::pdq::QUALITY_THRESHOLD);
            out.insert(
                "pdq".into(),
                if usable { p.to_hex() } else { String::new() },
            );
        }
        Some(Kind::Video) => {
            let Some(md5) = &rec.md5 else {
                return Err(BankError::Unhashable(
                    rec.error.clone().unwrap_or_else(|| "no MD5".into()),
                ));
            };
            out.insert("video_md5".into(), md5.clone());
        }
        _ => {
            return Err(BankError::Unhashable(
                rec.error
                    .clone()
                    .unwrap_or_else(|| "not an image or a video".into()),
            ));
        }
    }
    Ok(out)
}

/// The entry an uploaded file makes: an image's PDQ (with its quality;
/// under 50 it is stored but not indexed) and digests, a video's vPDQ
/// frames and digests; answered as HMA's signals ([`hma_hashes`]).
fn entry_of_upload(rec: &FileRecord, note: Option<String>) -> Result<ListEntry, BankError> {
    let hashes = hma_hashes(rec)?;
    fn digest<const N: usize>(s: &Option<String>) -> Option<HexDigest<N>> {
        s.as_deref()
            .and_then(crate::hashing::parse_hex)
            .map(HexDigest)
    }
    let mut e = ListEntry {
        note,
        md5: digest(&rec.md5),
        sha1: digest(&rec.sha1),
        sha256: digest(&rec.sha256),
        size: rec.bytes,
        ..ListEntry::default()
    };
    if rec.kind == Some(Kind::Image) {
        e.pdq = rec.pdq.map(|hash| PdqEntry {
            hash,
            quality: rec.pdq_quality,
        });
    } else {
        e.vpdq = rec.vpdq.clone();
    }
    let types = hashes.keys().map(|k| serde_json::Value::from(k.as_str()));
    e.extra.insert(
        HMA_SIGNALS.into(),
        serde_json::Value::Array(types.collect()),
    );
    Ok(e)
}

/// The state of one signal type's index (`GET /m/index/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IndexStatus {
    pub present: bool,
    /// Unix seconds up to which the index reflects the store (HMA: the
    /// newest item in the build), -1 when absent.
    pub built_to: i64,
    /// Hashes of this type in the index.
    pub size: u64,
}

/// Compares two PDQ hashes (`POST /m/compare`): (match at ≤ 31, distance).
pub fn compare_pdq(a: &str, b: &str) -> Result<(bool, u32), BankError> {
    let (Signal::Pdq(a), Signal::Pdq(b)) = (Signal::parse("pdq", a)?, Signal::parse("pdq", b)?)
    else {
        return Err(BankError::NoSuchSignalType("pdq".into()));
    };
    let d = a.distance(&b);
    Ok((d <= PDQ_THRESHOLD, d))
}

impl<S: ListStore> Known<S> {
    /// The index's state per signal type (`signal_type`: one only).
    /// `built_to` is the caller's time of its last [`Known::sync`] (core
    /// reads no clock).
    pub fn index_status(
        &self,
        signal_type: Option<&str>,
        built_to: i64,
    ) -> Result<BTreeMap<&'static str, IndexStatus>, BankError> {
        let types = match signal_type {
            Some(t) => vec![SignalType::from_name(t)?],
            None => SignalType::ALL.to_vec(),
        };
        let d = &self.index().digests;
        Ok(types
            .into_iter()
            .map(|t| {
                let size = match t {
                    SignalType::Pdq => self.index().pdq.len(),
                    SignalType::VideoMd5 | SignalType::Md5 => {
                        d.len_of(tiaki_index::DigestKind::Md5)
                    }
                    SignalType::Sha256 => d.len_of(tiaki_index::DigestKind::Sha256),
                };
                (
                    t.name(),
                    IndexStatus {
                        present: true,
                        built_to,
                        size: size as u64,
                    },
                )
            })
            .collect())
    }
}

impl<S: ListStore + BankStore> Known<S> {
    /// Every bank, by name.
    pub async fn banks(&self) -> Result<Vec<Bank>, BankError> {
        Ok(self.store().banks().await?.iter().map(Bank::from).collect())
    }

    async fn bank_info(&self, name: &str) -> Result<BankInfo, BankError> {
        self.store()
            .bank(name)
            .await?
            .ok_or_else(|| BankError::NoSuchBank(name.to_string()))
    }

    pub async fn bank(&self, name: &str) -> Result<Bank, BankError> {
        Ok(Bank::from(&self.bank_info(name).await?))
    }

    /// Creates an empty bank (HMA: the ratio if given, else 1.0 or 0.0 as
    /// `enabled` says, else 1.0).
    pub async fn create_bank(&self, req: &BankRequest, now: &Timestamp) -> Result<Bank, BankError> {
        let name = req.name.as_deref().unwrap_or_default();
        check_name(name)?;
        let ratio = match (req.enabled_ratio, req.enabled) {
            (Some(r), _) => r,
            (None, Some(e)) => f64::from(u8::from(e)),
            (None, None) => 1.0,
        };
        check_ratio(ratio)?;
        let (enabled, ratio) = stored_ratio(ratio, 1.0);
        match self.store().create_bank(name, enabled, ratio, now).await {
            Ok(b) => Ok(Bank::from(&b)),
            Err(StoreError::ListExists(n)) => Err(BankError::BankExists(n)),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames a bank, or changes its enablement (HMA: `enabled` sets the
    /// ratio to 1.0 or 0.0, `enabled_ratio` overrides it).
    pub async fn update_bank(&self, name: &str, req: &BankRequest) -> Result<Bank, BankError> {
        let bank = self.bank_info(name).await?;
        if let Some(n) = &req.name {
            check_name(n)?;
        }
        let mut ratio = bank.matching_enabled_ratio();
        if let Some(e) = req.enabled {
            ratio = f64::from(u8::from(e));
        }
        if let Some(r) = req.enabled_ratio {
            check_ratio(r)?;
            ratio = r;
        }
        let change = if req.enabled.is_some() || req.enabled_ratio.is_some() {
            let (enabled, ratio) = stored_ratio(ratio, bank.enabled_ratio);
            BankChange {
                name: req.name.clone(),
                enabled: Some(enabled),
                enabled_ratio: Some(ratio),
            }
        } else {
            BankChange {
                name: req.name.clone(),
                ..BankChange::default()
            }
        };
        match self.store().update_bank(name, &change).await {
            Ok(Some(b)) => Ok(Bank::from(&b)),
            Ok(None) => Err(BankError::NoSuchBank(name.to_string())),
            Err(StoreError::ListExists(n)) => Err(BankError::BankExists(n)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a bank and its contents, out of the index at once; how many
    /// contents went with it.
    pub async fn delete_bank(&mut self, name: &str) -> Result<u64, BankError> {
        let bank = self.bank_info(name).await?;
        let ids = self.store().entry_ids_of_list(bank.id).await?;
        let Some(removed) = self.store().delete_bank(name).await? else {
            return Err(BankError::NoSuchBank(name.to_string()));
        };
        // `ids` was read before the delete: an entry added between is
        // dropped by the sync `removed` falls back to.
        self.removed(&ids, removed.generation).await?;
        Ok(removed.entries)
    }

    async fn add_entry(&mut self, bank: &str, entry: ListEntry) -> Result<Added, BankError> {
        let info = self.bank_info(bank).await?;
        let (id, generation) = self.store().add_entry(info.id, &entry).await?;
        self.added(id, &entry, generation).await?;
        Ok(Added {
            id,
            signals: signals_of(&entry),
        })
    }

    /// Adds one content holding `signals` (`POST /c/bank/NAME/signal`):
    /// findable by the next lookup.
    pub async fn add_signals(
        &mut self,
        bank: &str,
        signals: &[Signal],
        note: Option<&str>,
    ) -> Result<Added, BankError> {
        let note = check_note(note)?;
        let entry = entry_of_signals(signals, note)?;
        self.add_entry(bank, entry).await
    }

    /// Adds a hashed upload as one content (`POST /c/bank/NAME/content`);
    /// hash it with [`hash_upload`] first.
    pub async fn add_upload(
        &mut self,
        bank: &str,
        rec: &FileRecord,
        note: Option<&str>,
    ) -> Result<Added, BankError> {
        let note = check_note(note)?;
        // The bank is checked before the upload's hashes (HMA's order: 404 first).
        self.bank_info(bank).await?;
        let entry = entry_of_upload(rec, note)?;
        self.add_entry(bank, entry).await
    }

    async fn content_in(
        &self,
        bank: &str,
        id: EntryId,
    ) -> Result<(BankInfo, BankContent), BankError> {
        let info = self.bank_info(bank).await?;
        match self.store().content(id).await? {
            Some(c) if c.list_id == info.id => Ok((info, c)),
            _ => Err(BankError::NoSuchContent {
                bank: bank.to_string(),
                id,
            }),
        }
    }

    fn content_answer(info: &BankInfo, c: &BankContent) -> Content {
        Content {
            id: c.id,
            disable_until_ts: c.disable_until_ts.unwrap_or(ENABLED),
            bank: Bank::from(info),
            signals: signals_of(&c.entry),
            note: c.entry.note.clone(),
        }
    }

    /// One content of a bank (another bank's content is not found).
    pub async fn content(&self, bank: &str, id: EntryId) -> Result<Content, BankError> {
        let (info, c) = self.content_in(bank, id).await?;
        Ok(Self::content_answer(&info, &c))
    }

    /// Changes a content's `disable_until_ts` (0..=now + 5 years, HMA's
    /// bounds) or note; the index is untouched (lookups read the time).
    pub async fn update_content(
        &self,
        bank: &str,
        id: EntryId,
        change: &ContentUpdate,
        now: i64,
    ) -> Result<Content, BankError> {
        let (info, _) = self.content_in(bank, id).await?;
        if let Some(t) = change.disable_until_ts {
            if t < 0 {
                return Err(BankError::BadRequest(
                    "disable_until_ts must be a non-negative integer".into(),
                ));
            }
            if t > now.saturating_add(MAX_DISABLE_SECONDS) {
                return Err(BankError::BadRequest(
                    "disable_until_ts must be less than 5 years in the future".into(),
                ));
            }
        }
        let note = match &change.note {
            Some(n) => Some(check_note(n.as_deref())?),
            None => None,
        };
        let stored = ContentChange {
            disable_until_ts: change.disable_until_ts,
            note,
        };
        match self.store().update_content(id, &stored).await? {
            Some(c) => Ok(Self::content_answer(&info, &c)),
            None => Err(BankError::NoSuchContent {
                bank: bank.to_string(),
                id,
            }),
        }
    }

    /// Deletes a content, out of the index at once.
    pub async fn delete_content(&mut self, bank: &str, id: EntryId) -> Result<u64, BankError> {
        self.content_in(bank, id).await?;
        let Some(removed) = self.store().delete_content(id).await? else {
            return Err(BankError::NoSuchContent {
                bank: bank.to_string(),
                id,
            });
        };
        self.removed(&[id], removed.generation).await?;
        Ok(removed.entries)
    }

    /// The contents `signal` hits, read back from the store (so a deleted
    /// entry is never reported), with their bank, before any enablement.
    async fn hits(
        &self,
        signal: &Signal,
    ) -> Result<Vec<(BankContent, BankInfo, Option<u32>)>, BankError> {
        let mut ids: Vec<EntryId> = match signal {
            Signal::Pdq(h) => self
                .index()
                .pdq
                .query(h, PDQ_THRESHOLD)
                .into_iter()
                .map(|m| m.id)
                .collect(),
            Signal::Md5(d) | Signal::VideoMd5(d) => self.index().digests.get(&Digest::Md5(*d)),
            Signal::Sha256(d) => self.index().digests.get(&Digest::Sha256(*d)),
        };
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let contents = self.store().contents_by_ids(&ids).await?;
        let banks: HashMap<i64, BankInfo> = self
            .store()
            .banks()
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        // Tiaki's negative lists: suppression as `tiaki lookup` has it.
        let matcher = if banks.values().any(|b| b.negative && b.enabled) {
            Some(
                self.matcher(&MatchOptions {
                    radius: Some(PDQ_THRESHOLD),
                    lists: Vec::new(),
                })
                .await?,
            )
        } else {
            None
        };
        let mut out = Vec::with_capacity(contents.len());
        for c in contents {
            let Some(bank) = banks.get(&c.list_id) else {
                continue;
            };
            if bank.negative {
                continue;
            }
            // The entry's own hash, not a vPDQ frame under the same id.
            let distance = match signal {
                Signal::Pdq(h) => match c.entry.pdq {
                    Some(p) if p.hash.distance(h) <= PDQ_THRESHOLD => Some(p.hash.distance(h)),
                    _ => continue,
                },
                Signal::Md5(d) | Signal::VideoMd5(d) if c.entry.md5.map(|m| m.0) == Some(*d) => {
                    None
                }
                Signal::Sha256(d) if c.entry.sha256.map(|m| m.0) == Some(*d) => None,
                _ => continue,
            };
            if let Some(m) = &matcher
                && self.is_suppressed(m, &c.entry)
            {
                continue;
            }
            out.push((c, bank.clone(), distance));
        }
        Ok(out)
    }

    /// HMA's `/m/lookup` for one signal: per bank that counts (module docs),
    /// its enabled contents hit, by id.
    pub async fn lookup(
        &self,
        signal: &Signal,
        opts: &LookupOptions,
    ) -> Result<BTreeMap<String, Vec<BankMatch>>, BankError> {
        let mut out: BTreeMap<String, Vec<BankMatch>> = BTreeMap::new();
        for (c, bank, distance) in self.hits(signal).await? {
            let ratio = bank.matching_enabled_ratio();
            if ratio <= 0.0 || ratio < opts.coinflip {
                continue;
            }
            if opts.banks.as_ref().is_some_and(|b| !b.contains(&bank.name)) {
                continue;
            }
            if !content_enabled(c.disable_until_ts, opts.now) {
                continue;
            }
            out.entry(bank.name).or_default().push(BankMatch {
                bank_content_id: c.id,
                distance,
            });
        }
        Ok(out)
    }

    /// HMA's `/m/raw_lookup`: every content hit, by id, whatever the
    /// enablement of its bank or itself; `banks` filters by bank name.
    pub async fn raw_lookup(
        &self,
        signal: &Signal,
        banks: Option<&[String]>,
    ) -> Result<Vec<BankMatch>, BankError> {
        Ok(self
            .hits(signal)
            .await?
            .into_iter()
            .filter(|(_, b, _)| banks.is_none_or(|names| names.contains(&b.name)))
            .map(|(c, _, distance)| BankMatch {
                bank_content_id: c.id,
                distance,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
