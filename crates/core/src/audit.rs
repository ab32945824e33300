//! The audit log (issue 19, part 5): every audited event is one row of a
//! hash chain, and signed checkpoints of the chain's head say how long the
//! chain was at a given time.
//!
//! * [`record`] appends an [`AuditEvent`] at a time the caller gives.
//! * [`checkpoint`] signs the current head (seq, hash, time) with the issuer
//!   key (`refer`'s key pair, minisign), stores the checkpoint, and appends
//!   it to `DIR/audit-checkpoints.ndjson`, a file outside the database.
//! * [`verify`] reads the whole chain in pages and every checkpoint (the
//!   store's and the file's) and says what is wrong, first bad row first.
//!
//! # The row hash
//!
//! `hash = SHA-256(encoding)`, as 64 lower-case hex digits, where the
//! encoding is the tag `tiaki-audit-row/1` followed by a NUL byte, then, in
//! this order, `at`, `actor`, `actor_role`, `country`, `action`, `target`,
//! `detail`, `remote_addr` and `prev_hash`, each as the stored text:
//!
//! * a text field is its byte length as 8 bytes big-endian, then its UTF-8
//!   bytes;
//! * an optional field (`country`, `remote_addr`) is the byte 0 when absent,
//!   or the byte 1 followed by the text field.
//!
//! Length prefixes make the encoding unambiguous: no two different rows
//! encode to the same bytes, whatever their text holds. `detail` is hashed
//! as the exact JSON text stored (written by serde_json from a
//! `serde_json::Value`, whose objects keep their keys sorted). `prev_hash`
//! is the previous row's `hash`, 64 zeros for the first row.
//!
//! `seq` is not in the hash: a row's place is fixed by the chain itself
//! (its `prev_hash`) and by the checkpoints, which name seqs. Leaving it out
//! lets [`verify`] tell a moved row (hash intact, wrong neighbour) from an
//! edited one (hash no longer matching).
//!
//! # The checkpoint
//!
//! The signed message, which is also the signature's trusted comment (so
//! `minisign -V` shows it), is
//! `tiaki-audit-checkpoint/1 seq=<seq> head=<hash> at=<RFC 3339>`. A
//! checkpoint of an empty log has seq 0 and 64 zeros as its head.
//!
//! What this does and does not protect against is in docs/security.md,
//! "Audit log".

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tiaki_referral::{IssuerKeys, IssuerPublicKey, KeyError};
use tiaki_store::StoreError;
use tiaki_store::audit::{AuditStore, GENESIS_HASH};
use tiaki_types::codes::{Code, ErrorCode};
use tiaki_types::time::Timestamp;

pub use tiaki_types::audit::{AuditAction, AuditCheckpoint, AuditEntry, AuditEvent, AuditFilter};

/// The checkpoint file in the data directory: one JSON
/// [`AuditCheckpoint`] a line, only ever appended to.
pub const CHECKPOINT_FILE: &str = "audit-checkpoints.ndjson";

/// The untrusted comment of a checkpoint signature.
const UNTRUSTED_COMMENT: &str = "tiaki audit checkpoint (signed by the issuer key)";

/// Rows a verification reads per page.
const PAGE: u32 = 10_000;

/// Problems a report lists at most (their number is counted beyond).
const MAX_PROBLEMS: usize = 100;

/// Longest checkpoint line read from the file (a line is about 600 bytes).
const MAX_CHECKPOINT_LINE: usize = 64 << 10;

/// Why an audit operation could not be done (a tampered log is not an
/// error: [`verify`] reports it).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("issuer key: {0}")]
    Key(#[from] KeyError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot store the audit detail: {0}")]
    Detail(serde_json::Error),
    /// Checkpoints exist but there is no issuer key to check them with.
    #[error(
        "the audit log has signed checkpoints, and there is no issuer public key to check them with"
    )]
    NoKey,
}

impl ErrorCode for AuditError {
    fn error_code(&self) -> Code {
        match self {
            AuditError::Store(e) => e.error_code(),
            AuditError::Key(e) => e.error_code(),
            AuditError::Io { source, .. } => source.error_code(),
            AuditError::Detail(_) => Code::Internal,
            AuditError::NoKey => Code::BadKey,
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// The chain

fn field(h: &mut Sha256, text: &str) {
    h.update((text.len() as u64).to_be_bytes());
    h.update(text.as_bytes());
}

fn optional(h: &mut Sha256, text: Option<&str>) {
    match text {
        None => h.update([0u8]),
        Some(t) => {
            h.update([1u8]);
            field(h, t);
        }
    }
}

/// The hash of a row (see the module docs for the encoding): what the row's
/// `hash` must be. Its `seq` and `hash` are not read.
pub fn row_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"tiaki-audit-row/1\0");
    field(&mut h, &e.at);
    field(&mut h, &e.actor);
    field(&mut h, &e.actor_role);
    optional(&mut h, e.country.as_deref());
    field(&mut h, &e.action);
    field(&mut h, &e.target);
    field(&mut h, &e.detail);
    optional(&mut h, e.remote_addr.as_deref());
    field(&mut h, &e.prev_hash);
    tiaki_types::hex::encode(&h.finalize())
}

/// Appends `event`, happened at `now`, to the log; returns the row as
/// stored (with its seq and hash). Appends are serialised by the store,
/// across processes too, so the chain never forks.
pub async fn record<S: AuditStore>(
    store: &S,
    event: &AuditEvent,
    now: &Timestamp,
) -> Result<AuditEntry, AuditError> {
    let entry = AuditEntry {
        seq: 0,
        at: now.as_str().to_owned(),
        actor: event.actor.clone(),
        actor_role: event.actor_role.clone(),
        country: event.country.clone(),
        action: event.action.name().to_owned(),
        target: event.target.clone(),
        detail: serde_json::to_string(&event.detail).map_err(AuditError::Detail)?,
        remote_addr: event.remote_addr.clone(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    Ok(store.append_audit(&entry, &row_hash).await?)
}

/// The events matching `filter` (`tiaki audit ls`, the coordinators' route).
pub async fn list<S: AuditStore>(
    store: &S,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, AuditError> {
    Ok(store.audit_entries(filter).await?)
}

// ---------------------------------------------------------------------------
// Checkpoints

/// The message a checkpoint signs (and its trusted comment).
pub fn checkpoint_message(seq: i64, head_hash: &str, at: &str) -> String {
    format!("tiaki-audit-checkpoint/1 seq={seq} head={head_hash} at={at}")
}

/// The checkpoint file of data directory `dir`.
pub fn checkpoint_file(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINT_FILE)
}

/// Signs the chain's current head at time `now` with the issuer key, stores
/// the checkpoint, then appends it to `DIR/audit-checkpoints.ndjson` (and
/// syncs the file). The store comes first: a checkpoint in the file but
/// not in the store means one was deleted from the store.
pub async fn checkpoint<S: AuditStore>(
    store: &S,
    keys: &IssuerKeys,
    dir: &Path,
    now: &Timestamp,
) -> Result<AuditCheckpoint, AuditError> {
    let (seq, head_hash) = match store.audit_head().await? {
        Some(head) => (head.seq, head.hash),
        None => (0, GENESIS_HASH.to_owned()),
    };
    let at = now.as_str().to_owned();
    let message = checkpoint_message(seq, &head_hash, &at);
    let signature = keys.sign_message(message.as_bytes(), UNTRUSTED_COMMENT, &message)?;
    let cp = AuditCheckpoint {
        seq,
        head_hash,
        at,
        signature,
    };
    store.add_audit_checkpoint(&cp).await?;
    let path = checkpoint_file(dir);
    let mut line = serde_json::to_string(&cp).map_err(AuditError::Detail)?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_at(&path))?;
    file.write_all(line.as_bytes()).map_err(io_at(&path))?;
    file.sync_data().map_err(io_at(&path))?;
    Ok(cp)
}

// ---------------------------------------------------------------------------
// Verification

/// Where a checkpoint was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointSource {
    /// The `audit_checkpoints` table.
    Store,
    /// `DIR/audit-checkpoints.ndjson`.
    File,
}

impl CheckpointSource {
    fn name(self) -> &'static str {
        match self {
            CheckpointSource::Store => "store",
            CheckpointSource::File => "file",
        }
    }
}

/// One thing wrong with the log. `seq` is always the row the problem is
/// at (for a checkpoint, the row it names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Rows `seq` up to `next - 1` are not there (`next`: the seq of the
    /// row after the gap).
    Missing { seq: i64, next: i64 },
    /// The row's hash does not match its fields: edited.
    Edited { seq: i64 },
    /// The row is intact but was chained after the row now at `follows`:
    /// rows were moved (seqs swapped or renumbered).
    Reordered { seq: i64, follows: i64 },
    /// The row is intact but the row it was chained after is nowhere in
    /// the log (deleted and the later rows renumbered, or inserted).
    ChainBroken { seq: i64 },
    /// A checkpoint whose signature does not verify against the issuer key
    /// (forged, or edited).
    CheckpointSignature {
        seq: i64,
        at: String,
        source: CheckpointSource,
        reason: String,
    },
    /// A valid checkpoint names row `checkpoint_seq`, but the log ends at
    /// row `seq - 1`: the newest rows, from `seq` on, were deleted.
    Truncated {
        seq: i64,
        checkpoint_seq: i64,
        at: String,
        source: CheckpointSource,
    },
    /// A valid checkpoint says row `seq` had hash `expected`; the row there
    /// now has another (rows rewritten with their hashes recomputed).
    CheckpointMismatch {
        seq: i64,
        expected: String,
        found: String,
        at: String,
        source: CheckpointSource,
    },
    /// A checkpoint in the file is not in the store: checkpoints were
    /// deleted from the store.
    CheckpointDeleted { seq: i64, at: String },
    /// A line of the checkpoint file that is not a checkpoint.
    CheckpointFile { line: usize, reason: String },
}

impl Problem {
    /// The row the problem is at (0 for a checkpoint file line).
    pub fn seq(&self) -> i64 {
        match self {
            Problem::Missing { seq, .. }
            | Problem::Edited { seq }
            | Problem::Reordered { seq, .. }
            | Problem::ChainBroken { seq }
            | Problem::CheckpointSignature { seq, .. }
            | Problem::Truncated { seq, .. }
            | Problem::CheckpointMismatch { seq, .. }
            | Problem::CheckpointDeleted { seq, .. } => *seq,
            Problem::CheckpointFile { .. } => 0,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing { seq, next } if *next == seq + 1 => {
                write!(f, "row {seq}: missing (deleted)")
            }
            Problem::Missing { seq, next } => {
                write!(
                    f,
                    "row {seq}: missing (deleted), with every row up to {}",
                    next - 1
                )
            }
            Problem::Edited { seq } => {
                write!(f, "row {seq}: edited (its hash does not match its fields)")
            }
            Problem::Reordered { seq, follows } => write!(
                f,
                "row {seq}: reordered (it was chained after the row now at seq {follows})"
            ),
            Problem::ChainBroken { seq } => write!(
                f,
                "row {seq}: chain broken (the row it was chained after is not in the log: deleted and renumbered, or this row inserted)"
            ),
            Problem::CheckpointSignature {
                seq,
                at,
                source,
                reason,
            } => write!(
                f,
                "row {seq}: the checkpoint of {at} in the {} naming it has a bad signature (forged or edited): {reason}",
                source.name()
            ),
            Problem::Truncated {
                seq,
                checkpoint_seq,
                at,
                source,
            } => write!(
                f,
                "row {seq}: missing: the signed checkpoint of {at} in the {} names row {checkpoint_seq}, and the log ends before it (the newest rows were deleted)",
                source.name()
            ),
            Problem::CheckpointMismatch {
                seq,
                expected,
                found,
                at,
                source,
            } => write!(
                f,
                "row {seq}: differs from the signed checkpoint of {at} in the {} (hash {found}, signed {expected}): rows up to it were rewritten",
                source.name()
            ),
            Problem::CheckpointDeleted { seq, at } => write!(
                f,
                "row {seq}: the checkpoint of {at} naming it is in the checkpoint file but was deleted from the store"
            ),
            Problem::CheckpointFile { line, reason } => {
                write!(f, "checkpoint file line {line}: {reason}")
            }
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Rows read.
    pub rows: u64,
    /// The last row's seq (0 when empty) and hash.
    pub head_seq: i64,
    pub head_hash: String,
    /// Checkpoints in the store, and in the checkpoint file.
    pub store_checkpoints: u64,
    pub file_checkpoints: u64,
    /// The largest seq a valid checkpoint names; rows after it are held by
    /// the chain alone (see docs/security.md).
    pub checkpointed_seq: i64,
    /// Problems by seq, first bad row first (at most 100).
    pub problems: Vec<Problem>,
    /// How many problems there were in all.
    pub problem_count: u64,
}

impl VerifyReport {
    /// Nothing wrong.
    pub fn intact(&self) -> bool {
        self.problem_count == 0
    }

    /// The first bad row.
    pub fn first(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

struct Problems {
    list: Vec<Problem>,
    count: u64,
}

impl Problems {
    fn push(&mut self, p: Problem) {
        self.count += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        }
    }
}

/// Reads the checkpoint file (none: no checkpoints); lines that are not
/// checkpoints are problems.
fn read_checkpoint_file(
    path: &Path,
    problems: &mut Problems,
) -> Result<Vec<AuditCheckpoint>, AuditError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at(path)(e)),
    };
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut line_no = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_CHECKPOINT_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io_at(path))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() > MAX_CHECKPOINT_LINE && !buf.ends_with(b"\n") {
            problems.push(Problem::CheckpointFile {
                line: line_no,
                reason: "longer than any checkpoint".into(),
            });
            // Skip the rest of the line.
            loop {
                buf.clear();
                let n = (&mut reader)
                    .take(MAX_CHECKPOINT_LINE as u64)
                    .read_until(b'\n', &mut buf)
                    .map_err(io_at(path))?;
                if n == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<AuditCheckpoint>(text.trim()) {
            Ok(cp) => out.push(cp),
            Err(e) => problems.push(Problem::CheckpointFile {
                line: line_no,
                reason: format!("not a checkpoint: {e}"),
            }),
        }
    }
    Ok(out)
}

/// Checks the whole log: every row's hash and link in seq order, then every
/// checkpoint of the store and of `DIR/audit-checkpoints.ndjson` (its
/// signature by `key`, and the row it names). `key` may be `None` only
/// when there are no checkpoints ([`AuditError::NoKey`] otherwise).
pub async fn verify<S: AuditStore>(
    store: &S,
    key: Option<&IssuerPublicKey>,
    dir: &Path,
) -> Result<VerifyReport, AuditError> {
    let mut problems = Problems {
        list: Vec::new(),
        count: 0,
    };
    let mut expected = 1i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut rows = 0u64;
    loop {
        let page = store.audit_chain_page(expected - 1, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            rows += 1;
            let gap = row.seq != expected;
            if gap {
                problems.push(Problem::Missing {
                    seq: expected,
                    next: row.seq,
                });
            }
            if row_hash(row) != row.hash {
                problems.push(Problem::Edited { seq: row.seq });
            } else if !gap && row.prev_hash != prev_hash {
                // An intact row after the wrong one: where was it chained?
                let follows = if row.prev_hash == GENESIS_HASH {
                    Some(0)
                } else {
                    store.audit_seq_of_hash(&row.prev_hash).await?
                };
                problems.push(match follows {
                    Some(follows) => Problem::Reordered {
                        seq: row.seq,
                        follows,
                    },
                    None => Problem::ChainBroken { seq: row.seq },
                });
            }
            prev_hash.clone_from(&row.hash);
            expected = row.seq + 1;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    let head_seq = expected - 1;

    let stored = store.audit_checkpoints().await?;
    let in_file = read_checkpoint_file(&checkpoint_file(dir), &mut problems)?;
    if key.is_none() && !(stored.is_empty() && in_file.is_empty()) {
        return Err(AuditError::NoKey);
    }
    let mut checkpointed_seq = 0;
    let all = stored
        .iter()
        .map(|c| (c, CheckpointSource::Store))
        .chain(in_file.iter().map(|c| (c, CheckpointSource::File)));
    for (cp, source) in all {
        let Some(key) = key else { break };
        let message = checkpoint_message(cp.seq, &cp.head_hash, &cp.at);
        let checked = key
            .verify_message(message.as_bytes(), &cp.signature)
            .and_then(|trusted| {
                if trusted == message {
                    Ok(())
                } else {
                    Err(KeyError::BadSignature(format!(
                        "its signed comment {trusted:?} is not the checkpoint's"
                    )))
                }
            });
        if let Err(e) = checked {
            problems.push(Problem::CheckpointSignature {
                seq: cp.seq,
                at: cp.at.clone(),
                source,
                reason: e.to_string(),
            });
            continue;
        }
        if source == CheckpointSource::File && !stored.contains(cp) {
            problems.push(Problem::CheckpointDeleted {
                seq: cp.seq,
                at: cp.at.clone(),
            });
        }
        if cp.seq > head_seq {
            problems.push(Problem::Truncated {
                seq: head_seq + 1,
                checkpoint_seq: cp.seq,
                at: cp.at.clone(),
                source,
            });
            continue;
        }
        let found = if cp.seq == 0 {
            Some(GENESIS_HASH.to_owned())
        } else {
            store
                .audit_chain_page(cp.seq - 1, 1)
                .await?
                .into_iter()
                .find(|r| r.seq == cp.seq)
                .map(|r| r.hash)
        };
        match found {
            // The row itself is missing: already a `Missing` problem.
            None => {}
            Some(found) if found != cp.head_hash => problems.push(Problem::CheckpointMismatch {
                seq: cp.seq,
                expected: cp.head_hash.clone(),
                found,
                at: cp.at.clone(),
                source,
            }),
            Some(_) => checkpointed_seq = checkpointed_seq.max(cp.seq),
        }
    }
    problems.list.sort_by_key(Problem::seq);
    Ok(VerifyReport {
        rows,
        head_seq,
        head_hash: prev_hash,
        store_checkpoints: stored.len() as u64,
        file_checkpoints: in_file.len() as u64,
        checkpointed_seq,
        problems: problems.list,
        problem_count: problems.count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "ana".into(),
            actor_role: "coordinator".into(),
            country: Some("NZ".into()),
            action: "media.viewed".into(),
            target: "media/1".into(),
            detail: "{}".into(),
            remote_addr: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_covered_and_the_encoding_is_unambiguous() {
        let base = entry();
        let h = row_hash(&base);
        assert_eq!(h.len(), 64);
        // seq and hash are not covered.
        let mut e = base.clone();
        e.seq = 9;
        e.hash = "x".into();
        assert_eq!(row_hash(&e), h);
        let edits: [fn(&mut AuditEntry); 10] = [
            |e| e.at.push('x'),
            |e| e.actor.push('x'),
            |e| e.actor_role.push('x'),
            |e| e.country = None,
            |e| e.country = Some(String::new()),
            |e| e.action.push('x'),
            |e| e.target.push('x'),
            |e| e.detail.push(' '),
            |e| e.remote_addr = Some(String::new()),
            |e| e.prev_hash.replace_range(0..1, "1"),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut e = base.clone();
            edit(&mut e);
            assert_ne!(row_hash(&e), h, "edit {i}");
        }
        // Moving text from one field to the next changes the hash.
        let mut a = base.clone();
        a.actor = "an".into();
        a.actor_role = "acoordinator".into();
        assert_ne!(row_hash(&a), h);
    }

    #[test]
    fn problems_read_as_sentences() {
        assert_eq!(
            Problem::Missing { seq: 4, next: 5 }.to_string(),
            "row 4: missing (deleted)"
        );
        assert_eq!(
            Problem::Edited { seq: 3 }.to_string(),
            "row 3: edited (its hash does not match its fields)"
        );
        let t = Problem::Truncated {
            seq: 8,
            checkpoint_seq: 10,
            at: "T".into(),
            source: CheckpointSource::Store,
        };
        assert_eq!(t.seq(), 8);
        assert!(t.to_string().starts_with("row 8: missing"), "{t}");
    }
}
