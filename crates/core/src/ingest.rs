//! `tiaki ingest`: a provider-report/1 bundle (or a CyberTipline report)
//! into the store, hashed, matched and triaged.
//!
//! # Resumability
//!
//! The intake is registered first under its natural key (provider, report
//! id). Records are then stored batch by batch, each batch in one
//! transaction, every insert `ON CONFLICT DO NOTHING` on the record's
//! natural key. The reader is deterministic, so a run killed at any moment
//! and started again re-reads the bundle, skips what is stored, and ends in
//! the state a clean run gives. Files are hashed in a second phase through
//! claims in the database (`claim_pending`): a claim whose process died is
//! released (same worker name) or expires (other workers), and the file is
//! hashed again. Only then is the intake marked complete; a complete
//! intake is never read again ("already ingested").

use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;
use tiaki_intake::{Bundle, CyberTip, LineError, LineErrorKind, Media, Record, SourceKind};
use tiaki_media::HashOptions;
use tiaki_types::model::MediaData;
use tiaki_store::intake::{
    AccountRow, Begun, EventRow, FindingRow, HashState, HashedMedia, IntakeCounts, IntakeInfo,
    IntakeState, IntakeStore, MediaHashes, MediaRow, NewIntake, PendingMedia,
};
use tiaki_store::{LinkStore, ListStore, Timestamp};
use tokio::sync::mpsc;

use crate::attribute::{AttributeOptions, AttributeReport, attribute_with, open_geo};
use crate::blobs::BlobStore;
use crate::error::CoreError;
use crate::hashing::hash_pending;
use crate::known::Known;
use crate::context::{Clock, Progress};
use crate::pipeline::Stage;
use crate::matching::{
    MatchCache, MatchOptions, Matcher, match_rows, probe_of, searchable, triage_of,
};

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Keep no media: hash the files, store no blobs.
    pub hash_only: bool,
    pub hash: HashOptions,
    /// Search all eight dihedral variants of each PDQ hash.
    pub all_variants: bool,
    /// Hash pending files in this process; if false, wait while
    /// `tiaki worker` processes (PostgreSQL) hash them.
    pub local_hashing: bool,
    /// The name this process claims files under.
    pub worker: String,
    /// A claim older than this is taken again (its worker died).
    pub lease: Duration,
    pub limits: tiaki_intake::Limits,
    /// Records per stored batch.
    pub batch: usize,
    /// Files claimed at a time.
    pub claim: u32,
    /// Geolocation sources for the linking and attribution that end an
    /// ingest which stored something (`.mmdb` or CIDR→country CSV).
    pub geoip: Vec<PathBuf>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            hash_only: false,
            hash: HashOptions::default(),
            all_variants: true,
            local_hashing: true,
            worker: local_worker_name(),
            lease: Duration::from_secs(600),
            limits: tiaki_intake::Limits::default(),
            batch: 4000,
            claim: 64,
            geoip: Vec::new(),
        }
    }
}

/// `ingest@HOST`: a restarted ingest on the same machine releases the claims
/// its killed predecessor held.
pub fn local_worker_name() -> String {
    format!("ingest@{}", hostname())
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// What happened to one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ingested,
    /// An interrupted ingest of the same report, finished now.
    Resumed,
    /// The same report was ingested before: nothing was done to it (the
    /// linking and attribution after it run again when they had not
    /// finished: `attribution` is then set).
    AlreadyIngested,
}

/// The result of ingesting one report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    pub intake_id: i64,
    pub source_kind: String,
    pub provider: String,
    pub report_id: String,
    pub outcome: Outcome,
    pub counts: IntakeCounts,
    /// Linking and attribution over the whole store, run after the intake
    /// completed (when it was already ingested: only if they had not
    /// finished after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<AttributeReport>,
}

/// A batch of records the reader hands on (to matching, then the writer).
enum Batch {
    Accounts(Vec<AccountRow>, Vec<FindingRow>),
    Media(Vec<MediaRow>, Vec<FindingRow>),
    Events(Vec<EventRow>, Vec<FindingRow>),
}

/// What the reader thread sends: a batch, or why reading stopped before the
/// end (I/O; nothing more comes).
type Msg = Result<Batch, LineError>;

impl Batch {
    /// Records and findings in the batch (what progress counts).
    fn len(&self) -> usize {
        match self {
            Batch::Accounts(r, f) => r.len() + f.len(),
            Batch::Media(r, f) => r.len() + f.len(),
            Batch::Events(r, f) => r.len() + f.len(),
        }
    }
}

fn finding_of(e: &LineError) -> FindingRow {
    FindingRow {
        file: e.file.clone(),
        line: e.line,
        subject: String::new(),
        code: "invalid_line".into(),
        message: e.message.clone(),
    }
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A record as stored JSON text (serialised once, on the reader thread).
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A media record as a row: provided hashes parsed, the file resolved.
pub(crate) fn media_row(rec: &Record<Media>, file: Option<PathBuf>) -> MediaRow {
    let m = &rec.value;
    let hashes = crate::hashing::provided_hashes(&m.hashes);
    let pending = file.is_some();
    MediaRow {
        provider_id: m.id.clone(),
        line: rec.line,
        account: m.account.clone(),
        file: file.map(|f| f.to_string_lossy().into_owned()),
        original_name: m.original_name.clone(),
        uploaded_at: m.uploaded_at.clone(),
        upload_ip: m.upload_ip.clone(),
        viewed_by_provider: m.viewed_by_provider,
        // A file's hashes are computed in the hashing phase.
        hashes: if pending {
            MediaHashes::default()
        } else {
            hashes
        },
        hash_state: if pending {
            HashState::Pending
        } else {
            HashState::Provided
        },
        triage: None,
        matches: Vec::new(),
        data: json_text(&MediaData::of(m, pending)),
    }
}

/// Reads the whole bundle, in order, into batches.
fn read_bundle(mut bundle: Bundle, tx: mpsc::Sender<Msg>, batch: usize) {
    let send = |m: Msg| tx.blocking_send(m).is_ok();
    macro_rules! pump {
        ($iter:expr, $variant:ident, $subject:expr, $conv:expr) => {{
            let mut rows = Vec::with_capacity(batch);
            let mut findings = Vec::new();
            for item in $iter {
                match item {
                    Ok(rec) => {
                        findings.extend(rec.notes.iter().map(|n| FindingRow {
                            file: rec.file.to_string(),
                            line: rec.line,
                            subject: $subject(&rec),
                            code: "invalid_value".into(),
                            message: n.clone(),
                        }));
                        rows.push($conv(rec))
                    }
                    Err(e) if e.kind == LineErrorKind::Io => {
                        send(Err(e));
                        return;
                    }
                    Err(e) => findings.push(finding_of(&e)),
                }
                if rows.len() + findings.len() >= batch
                    && !send(Ok(Batch::$variant(
                        std::mem::take(&mut rows),
                        std::mem::take(&mut findings),
                    )))
                {
                    return;
                }
            }
            if (!rows.is_empty() || !findings.is_empty())
                && !send(Ok(Batch::$variant(rows, findings)))
            {
                return;
            }
        }};
    }
    pump!(
        bundle.accounts(),
        Accounts,
        |r: &Record<tiaki_intake::Account>| r.value.id.clone(),
        |rec: Record<tiaki_intake::Account>| AccountRow {
            provider_id: rec.value.id.clone(),
            line: rec.line,
            username: rec.value.username.clone(),
            declared_country: rec.value.declared_country.clone(),
            data: json_text(&rec.value),
        }
    );
    let root = bundle.root().to_path_buf();
    pump!(
        bundle.media(),
        Media,
        |r: &Record<Media>| r.value.id.clone(),
        |rec: Record<Media>| {
            // The reader checked the path stays inside the bundle.
            let file = rec.value.file.as_ref().map(|f| root.join(f));
            media_row(&rec, file)
        }
    );
    pump!(
        bundle.events(),
        Events,
        |_: &Record<tiaki_intake::Event>| String::new(),
        |rec: Record<tiaki_intake::Event>| EventRow {
            line: rec.line,
            kind: rec.value.kind.clone(),
            at: rec.value.at.clone(),
            data: json_text(&rec.value),
        }
    );
}

/// Matches media rows that carry their hashes (hash-only lines) and marks
/// them known or new.
async fn match_provided<S: ListStore>(
    known: &Known<S>,
    matcher: &Matcher,
    cache: &mut MatchCache,
    rows: &mut [MediaRow],
    all_variants: bool,
) -> Result<(), CoreError> {
    let targets: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].hash_state == HashState::Provided)
        .collect();
    let hashes: Vec<&MediaHashes> = targets.iter().map(|&i| &rows[i].hashes).collect();
    let found = cache.lookup(known, matcher, &hashes, all_variants).await?;
    for (&i, matches) in targets.iter().zip(found) {
        rows[i].triage = Some(triage_of(&matches));
        rows[i].matches = matches;
    }
    Ok(())
}

/// Where the staging directory of a bundle archive lives: one per bundle
/// path, so a resumed ingest extracts to the same place and the stored file
/// paths stay valid.
fn staging_dir(data: &Path, bundle: &Path) -> PathBuf {
    use sha2::Digest as _;
    let canon = std::fs::canonicalize(bundle).unwrap_or_else(|_| bundle.to_path_buf());
    let key = sha2::Sha256::digest(canon.to_string_lossy().as_bytes());
    data.join("staging")
        .join(tiaki_types::hex::encode(&key[..8]))
}

/// Ingests what `path` holds: a provider bundle (directory or archive), or
/// CyberTipline `<report>` XML (one file, or a folder of them: each report
/// is an intake of its own, all in one run). A report that cannot be read
/// is an error in the list and the others still go in.
pub async fn ingest<S: ListStore + IntakeStore + LinkStore + Clone + 'static>(
    known: &Known<S>,
    data: &Path,
    path: &Path,
    opts: &IngestOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<Vec<Result<IngestReport, CoreError>>, CoreError> {
    // Opened first: a bad --geoip fails before anything is stored.
    let geo = open_geo(&opts.geoip)?;
    let mut out = ingest_reports(known, data, path, opts, clock, progress).await?;
    // Links across reports count: when anything new went in, every account
    // of every intake is linked and attributed again, once for the batch.
    // So too when a report was ingested before but the linking and
    // attribution after it never finished (a run killed between the two):
    // its stages say so.
    let ids: Vec<i64> = out
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.intake_id)
        .collect();
    let unfinished: Vec<i64> = crate::pipeline::stages(known.store(), &ids)
        .await?
        .into_iter()
        .filter(|s| s.missing.contains(&Stage::Attribute))
        .map(|s| s.intake_id)
        .collect();
    if let Some(last) = out
        .iter_mut()
        .rev()
        .filter_map(|r| r.as_mut().ok())
        .find(|r| r.outcome != Outcome::AlreadyIngested || unfinished.contains(&r.intake_id))
    {
        let attribute_opts = AttributeOptions {
            geoip: opts.geoip.clone(),
            ..AttributeOptions::default()
        };
        let attribution =
            attribute_with(known.store(), &geo, &attribute_opts, clock, progress).await?;
        last.attribution = Some(attribution);
    }
    Ok(out)
}

/// The intake part of [`ingest`]: every report stored, hashed and matched.
async fn ingest_reports<S: ListStore + IntakeStore + Clone + 'static>(
    known: &Known<S>,
    data: &Path,
    path: &Path,
    opts: &IngestOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<Vec<Result<IngestReport, CoreError>>, CoreError> {
    if !is_cybertip(path) {
        return Ok(vec![Ok(ingest_bundle(
            known, data, path, opts, clock, progress,
        )
        .await?)]);
    }
    let tip = CyberTip::open(path)?;
    let mut out = Vec::new();
    for report in tip.reports() {
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                out.push(Err(CoreError::from(e)));
                continue;
            }
        };
        let header = report.header.clone();
        let new = NewIntake {
            source_kind: source_name(header.source_kind).into(),
            provider: header.provider_name.clone(),
            report_id: header.report_id.clone(),
            path: report.path.to_string_lossy().into_owned(),
            hash_only: opts.hash_only,
            header: json(&header),
        };
        let batch = opts.batch.max(1);
        let read = move |tx: mpsc::Sender<Msg>| read_cybertip(report, tx, batch);
        out.push(ingest_one(known, data, new, read, None, opts, clock, progress).await);
    }
    Ok(out)
}

/// A CyberTipline path: an `.xml` file, or a directory with XML reports and
/// no provider-bundle manifest.
fn is_cybertip(path: &Path) -> bool {
    let is_xml = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    if path.is_file() {
        return is_xml(path);
    }
    path.is_dir()
        && !path.join("manifest.json").exists()
        && std::fs::read_dir(path)
            .map(|d| d.flatten().any(|e| is_xml(&e.path())))
            .unwrap_or(false)
}

/// Hands one CyberTipline report to the store in batches: its reported
/// users, its files (each in the report's folder), its warnings as findings.
fn read_cybertip(report: tiaki_intake::CyberTipReport, tx: mpsc::Sender<Msg>, batch: usize) {
    let file = report
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let warnings: Vec<FindingRow> = report
        .warnings
        .iter()
        .map(|w| FindingRow {
            file: file.clone(),
            line: 0,
            subject: String::new(),
            code: "warning".into(),
            message: w.clone(),
        })
        .collect();
    let accounts: Vec<AccountRow> = report
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| AccountRow {
            provider_id: a.id.clone(),
            line: i as u64 + 1,
            username: a.username.clone(),
            declared_country: a.declared_country.clone(),
            data: json_text(a),
        })
        .collect();
    let mut findings = Vec::new();
    let mut media = Vec::new();
    for (i, m) in report.media.iter().enumerate() {
        let rec = Record {
            file: "fileDetails",
            line: i as u64 + 1,
            value: m.clone(),
            notes: Vec::new(),
        };
        let resolved = match m.file.as_deref().map(|f| report.resolve_file(f)) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(why)) => {
                // No file beside the report: the reported hashes still count.
                findings.push(FindingRow {
                    file: file.clone(),
                    line: 0,
                    subject: m.id.clone(),
                    code: "file_missing".into(),
                    message: why,
                });
                None
            }
        };
        media.push(media_row(&rec, resolved));
    }
    let send = |m: Msg| tx.blocking_send(m).is_ok();
    if !send(Ok(Batch::Accounts(accounts, warnings))) {
        return;
    }
    for chunk in media.chunks(batch) {
        if !send(Ok(Batch::Media(
            chunk.to_vec(),
            std::mem::take(&mut findings),
        ))) {
            return;
        }
    }
    if !findings.is_empty() {
        send(Ok(Batch::Media(Vec::new(), findings)));
    }
}

/// Ingests one provider bundle (directory or archive): intake only, no
/// linking or attribution ([`ingest`] does those).
pub async fn ingest_bundle<S: ListStore + IntakeStore + Clone + 'static>(
    known: &Known<S>,
    data: &Path,
    path: &Path,
    opts: &IngestOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<IngestReport, CoreError> {
    let staging = staging_dir(data, path);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|source| CoreError::Io {
            path: staging.clone(),
            source,
        })?;
    }
    let bundle = Bundle::open(path, &staging, &opts.limits)?;
    let header = bundle.header().clone();
    let new = NewIntake {
        source_kind: source_name(header.source_kind).into(),
        provider: header.provider_name.clone(),
        report_id: header.report_id.clone(),
        path: path.to_string_lossy().into_owned(),
        hash_only: opts.hash_only,
        header: json(&header),
    };
    let batch = opts.batch.max(1);
    let read = move |tx: mpsc::Sender<Msg>| read_bundle(bundle, tx, batch);
    ingest_one(known, data, new, read, Some(staging), opts, clock, progress).await
}

/// Registers one report and takes it in: records from `read` (run on its
/// own thread), then hashing, then completion.
#[allow(clippy::too_many_arguments)]
async fn ingest_one<S, R>(
    known: &Known<S>,
    data: &Path,
    new: NewIntake,
    read: R,
    staging: Option<PathBuf>,
    opts: &IngestOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<IngestReport, CoreError>
where
    S: ListStore + IntakeStore + Clone + 'static,
    R: FnOnce(mpsc::Sender<Msg>) + Send + 'static,
{
    let cleanup = || {
        if let Some(dir) = &staging {
            let _ = std::fs::remove_dir_all(dir);
        }
    };
    let store = known.store();
    let (info, outcome) = match store.begin_intake(&new, &clock.now()).await? {
        Begun::New(i) => (i, Outcome::Ingested),
        Begun::Resumed(i) => (i, Outcome::Resumed),
        Begun::Complete(i) => {
            cleanup();
            // `complete` means its own stages ran; a run killed between
            // marking it complete and recording them left no row (the
            // record keeps the first time when there is one).
            crate::pipeline::record(store, &[i.id], &Stage::INTAKE, &clock.now()).await?;
            return report(store, &i, Outcome::AlreadyIngested).await;
        }
    };
    let intake_id = info.id;
    if outcome == Outcome::Resumed {
        store.release_claims(intake_id, &opts.worker).await?;
    }
    if info.state == IntakeState::Reading {
        let (tx, mut rx) = mpsc::channel(4);
        let reader = std::thread::Builder::new()
            .name("tiaki-ingest-reader".into())
            .spawn(move || read(tx))
            .map_err(|source| CoreError::Io {
                path: PathBuf::from(&new.path),
                source,
            })?;
        // Three stages: the reader thread parses, this task matches, the
        // writer task stores. Matching a batch (CPU) and storing the one
        // before it (mostly SQLite's own thread) overlap; batches are
        // stored in reading order, so a killed run resumes as before.
        let (wtx, wrx) = mpsc::channel(2);
        let writer = tokio::spawn(write_batches(store.clone(), intake_id, wrx));
        let matcher = known.matcher(&MatchOptions::default()).await?;
        let mut cache = MatchCache::default();
        progress.stage("reading", None);
        let mut failed = None;
        while let Some(msg) = rx.recv().await {
            let mut batch = match msg {
                Ok(b) => b,
                Err(e) => {
                    failed = Some(CoreError::ReadFailed(e));
                    break;
                }
            };
            progress.inc(batch.len() as u64);
            if let Batch::Media(rows, _) = &mut batch
                && let Err(e) =
                    match_provided(known, &matcher, &mut cache, rows, opts.all_variants).await
            {
                failed = Some(e);
                break;
            }
            if wtx.send(batch).await.is_err() {
                // The writer stopped on an error: it says which below.
                break;
            }
        }
        drop(wtx);
        // Either way, what the writer was given is stored (or failed)
        // before this returns: no write outlives the ingest.
        let written = writer.await.map_err(|_| CoreError::WriterLost)?;
        if let Some(e) = failed {
            return Err(e);
        }
        written?;
        reader.join().map_err(|_| CoreError::ReaderLost)?;
        store
            .set_intake_state(intake_id, IntakeState::Hashing, &clock.now())
            .await?;
    }
    finish_hashing(known, data, intake_id, opts, clock, progress).await?;
    let now = clock.now();
    store
        .set_intake_state(intake_id, IntakeState::Complete, &now)
        .await?;
    crate::pipeline::record(store, &[intake_id], &Stage::INTAKE, &now).await?;
    cleanup();
    let info = IntakeInfo {
        state: IntakeState::Complete,
        ..info
    };
    report(store, &info, outcome).await
}

/// The writer stage of [`ingest_one`]: stores batches in the order given,
/// each in its own transaction.
async fn write_batches<S: IntakeStore>(
    store: S,
    intake_id: i64,
    mut rx: mpsc::Receiver<Batch>,
) -> Result<(), CoreError> {
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Accounts(rows, f) => store.insert_accounts(intake_id, &rows, &f).await?,
            Batch::Media(rows, f) => store.insert_media(intake_id, &rows, &f).await?,
            Batch::Events(rows, f) => store.insert_events(intake_id, &rows, &f).await?,
        }
    }
    Ok(())
}

fn source_name(k: SourceKind) -> &'static str {
    match k {
        SourceKind::ProviderReport => "provider-report",
        SourceKind::CyberTip => "cybertip",
    }
}

async fn report<S: IntakeStore>(
    store: &S,
    info: &IntakeInfo,
    outcome: Outcome,
) -> Result<IngestReport, CoreError> {
    Ok(IngestReport {
        intake_id: info.id,
        source_kind: info.source_kind.clone(),
        provider: info.provider.clone(),
        report_id: info.report_id.clone(),
        outcome,
        counts: store.intake_counts(Some(info.id)).await?,
        attribution: None,
    })
}

/// Hashes the intake's pending files here, or waits for workers to.
async fn finish_hashing<S: ListStore + IntakeStore>(
    known: &Known<S>,
    data: &Path,
    intake_id: i64,
    opts: &IngestOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<(), CoreError> {
    let store = known.store();
    let pending = store.intake_counts(Some(intake_id)).await?.media_pending;
    if pending == 0 {
        return Ok(());
    }
    progress.stage("hashing", Some(pending));
    if !opts.local_hashing {
        loop {
            let left = store.intake_counts(Some(intake_id)).await?.media_pending;
            if left == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let blobs = if opts.hash_only {
        None
    } else {
        Some(BlobStore::open(data)?)
    };
    let matcher = known.matcher(&MatchOptions::default()).await?;
    loop {
        let done = hash_claimed(
            known,
            &matcher,
            Some(intake_id),
            opts,
            blobs.as_ref(),
            clock,
        )
        .await?;
        if done == 0 {
            return Ok(());
        }
        progress.inc(done as u64);
    }
}

/// Claims a batch of pending files (of one intake or any), hashes them in
/// parallel, matches them and records the results. Returns how many.
pub async fn hash_claimed<S: ListStore + IntakeStore>(
    known: &Known<S>,
    matcher: &Matcher,
    intake: Option<i64>,
    opts: &IngestOptions,
    blobs: Option<&BlobStore>,
    clock: &dyn Clock,
) -> Result<usize, CoreError> {
    let store = known.store();
    let now = clock.now();
    let stale =
        Timestamp::from_unix(now.unix() - i64::try_from(opts.lease.as_secs()).unwrap_or(i64::MAX));
    let claimed = store
        .claim_pending(intake, &opts.worker, &now, &stale, opts.claim)
        .await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let names: std::collections::HashMap<i64, String> = store
        .intakes()
        .await?
        .into_iter()
        .map(|i| {
            let file = if i.source_kind == "cybertip" {
                Path::new(&i.path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            } else {
                MEDIA_FILE.to_string()
            };
            (i.id, file)
        })
        .collect();
    let mut done = hash_many(&claimed, &names, &opts.hash, blobs)?;
    let probes: Vec<_> = done
        .iter()
        .map(|d| probe_of(&d.hashes, opts.all_variants))
        .collect();
    let hits = known.find_many(matcher, &probes).await?;
    for ((d, hits), probe) in done.iter_mut().zip(hits).zip(&probes) {
        d.matches = match_rows(&hits);
        d.triage = Some(if searchable(probe) {
            triage_of(&d.matches)
        } else {
            triage_of(&[])
        });
    }
    store.complete_hashing(&opts.worker, &done).await?;
    Ok(done.len())
}

/// Hashes claimed files on the rayon pool, one reused hasher per thread.
fn hash_many(
    claimed: &[PendingMedia],
    media_file: &std::collections::HashMap<i64, String>,
    opts: &HashOptions,
    blobs: Option<&BlobStore>,
) -> Result<Vec<HashedMedia>, crate::blobs::BlobError> {
    claimed
        .par_iter()
        .map(|p| {
            let file = media_file
                .get(&p.intake_id)
                .map_or(MEDIA_FILE, String::as_str);
            tiaki_media::with_thread_hasher(tiaki_media::DEFAULT_LUMA, |h| {
                hash_pending(p, file, opts, h, blobs)
            })
        })
        .collect()
}

/// The bundle file media findings point at (a CyberTipline report's
/// findings point at its XML file).
const MEDIA_FILE: &str = "media.ndjson";
