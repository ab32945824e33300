// Intake: the SQL both backends share (see `sql/lists.rs` for how it is
// included). Backend-specific: `CLAIM_LOCK`, `insert_media_rows`,
// `insert_event_rows` and `BULK_SESSION`, defined next to each include.

use crate::MatchKind;
use crate::intake::{
    AccountRow, Begun, EventRow, FindingRow, HashState, HashedMedia, IntakeCounts, IntakeInfo,
    IntakeState, IntakeStore, MatchRow, MediaHashRow, MediaHashes, MediaInfo, MediaRow, NewIntake,
    PendingMedia, StageRow, Triage, parse_state,
};
use std::collections::HashMap;

/// Small rows (accounts, events, findings, matches) per multi-row INSERT.
const SMALL_ROWS: usize = 1000;

const INTAKE_COLUMNS: &str = "id, source_kind, provider, report_id, path, started_at, completed_at, state, hash_only, header";

fn intake_from_row(r: &DbRow) -> Result<IntakeInfo, StoreError> {
    let header: String = r.try_get("header")?;
    let state: String = r.try_get("state")?;
    Ok(IntakeInfo {
        id: r.try_get("id")?,
        source_kind: r.try_get("source_kind")?,
        provider: r.try_get("provider")?,
        report_id: r.try_get("report_id")?,
        path: r.try_get("path")?,
        started_at: r.try_get("started_at")?,
        completed_at: r.try_get("completed_at")?,
        state: parse_state(&state)?,
        hash_only: r.try_get("hash_only")?,
        header: serde_json::from_str(&header)
            .map_err(|e| StoreError::Corrupt(format!("intake header: {e}")))?,
    })
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// One media item as `media_hashes_page` aggregates it: id, intake id,
/// provider id, account (provider id), triage, MD5, SHA-1, SHA-256, PDQ
/// (hex; empty or null when absent), PDQ quality, vPDQ (JSON text).
type MediaHashTuple<'a> = (
    i64,
    i64,
    String,
    String,
    Option<std::borrow::Cow<'a, str>>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<std::borrow::Cow<'a, str>>,
);

/// The stored vPDQ features (a JSON text column; rare).
fn vpdq_of(text: Option<&str>) -> Result<Option<Vec<tiaki_hash::vpdq::VpdqFeature>>, StoreError> {
    text.map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("media vPDQ: {e}")))
}

fn triage_of(s: Option<&str>) -> Result<Option<Triage>, StoreError> {
    Ok(match s {
        None => None,
        Some("known") => Some(Triage::Known),
        Some("new") => Some(Triage::New),
        Some(o) => return Err(StoreError::Corrupt(format!("triage {o:?}"))),
    })
}

fn hash_state_of(s: &str) -> Result<HashState, StoreError> {
    HashState::ALL
        .into_iter()
        .find(|h| h.name() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("hash state {s:?}")))
}

/// The columns of [`IntakeStore::media`], in the order it reads them.
const MEDIA_INFO_COLUMNS: &str = "m.id, m.intake_id, i.report_id, i.provider, m.provider_id, \
     m.line, m.account, m.original_name, m.uploaded_at, m.upload_ip, m.viewed_by_provider, \
     m.md5, m.sha1, m.sha256, m.pdq, m.pdq_quality, m.vpdq, m.kind, m.width, m.height, m.bytes, \
     m.hash_state, m.hash_error, m.stored, m.triage, m.data";

/// A row of [`MEDIA_INFO_COLUMNS`], its accounts not yet resolved.
fn media_info_of(r: &DbRow) -> Result<MediaInfo, StoreError> {
    let id: i64 = r.try_get(0)?;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("media {id}: {what}: {e}"))
    };
    let line: i64 = r.try_get(5)?;
    let quality: Option<i64> = r.try_get(15)?;
    let vpdq: Option<&str> = r.try_get(16)?;
    let size = |col: usize| -> Result<Option<i64>, StoreError> { Ok(r.try_get(col)?) };
    let hash_state: &str = r.try_get(21)?;
    let triage: Option<&str> = r.try_get(24)?;
    let data: &str = r.try_get(25)?;
    Ok(MediaInfo {
        id,
        intake_id: r.try_get(1)?,
        report_id: r.try_get(2)?,
        provider: r.try_get(3)?,
        provider_id: r.try_get(4)?,
        line: u64::try_from(line).unwrap_or(0),
        account: r.try_get(6)?,
        uploader: None,
        shared_with: Vec::new(),
        shared_by: Vec::new(),
        original_name: r.try_get(7)?,
        uploaded_at: r.try_get(8)?,
        upload_ip: r.try_get(9)?,
        viewed_by_provider: r.try_get(10)?,
        hashes: MediaHashes {
            md5: digest_of::<16>(r, 11, "MD5")?,
            sha1: digest_of::<20>(r, 12, "SHA-1")?,
            sha256: digest_of::<32>(r, 13, "SHA-256")?,
            pdq: digest_of::<32>(r, 14, "PDQ")?.map(|b| PdqHash::from_bytes(&b)),
            pdq_quality: quality.and_then(|q| u8::try_from(q).ok()),
            vpdq: vpdq_of(vpdq)?,
        },
        kind: r.try_get(17)?,
        width: size(18)?.and_then(|v| u32::try_from(v).ok()),
        height: size(19)?.and_then(|v| u32::try_from(v).ok()),
        bytes: size(20)?.and_then(|v| u64::try_from(v).ok()),
        hash_state: hash_state_of(hash_state)?,
        hash_error: r.try_get(22)?,
        stored: r.try_get(23)?,
        triage: triage_of(triage)?,
        data: serde_json::from_str(data).map_err(|e| corrupt("data", &e))?,
    })
}

/// A `media_matches` row (media_id, entry_id, list_id, kind, distance,
/// variant) as the media id and its match.
fn media_match_of(r: &DbRow) -> Result<(i64, MatchRow), StoreError> {
    let entry: i64 = r.try_get("entry_id")?;
    let distance: i64 = r.try_get("distance")?;
    let kind: String = r.try_get("kind")?;
    Ok((
        r.try_get("media_id")?,
        MatchRow {
            entry_id: u64::try_from(entry).unwrap_or(0),
            list_id: r.try_get("list_id")?,
            kind: kind_parse(&kind)?,
            distance: u32::try_from(distance).unwrap_or(u32::MAX),
            variant: r.try_get("variant")?,
        },
    ))
}

fn kind_name(k: MatchKind) -> &'static str {
    match k {
        MatchKind::Exact => "exact",
        MatchKind::Pdq => "pdq",
        MatchKind::Vpdq => "vpdq",
    }
}

fn kind_parse(s: &str) -> Result<MatchKind, StoreError> {
    Ok(match s {
        "exact" => MatchKind::Exact,
        "pdq" => MatchKind::Pdq,
        "vpdq" => MatchKind::Vpdq,
        o => return Err(StoreError::Corrupt(format!("match kind {o:?}"))),
    })
}

fn vpdq_json(v: &Option<Vec<tiaki_hash::vpdq::VpdqFeature>>) -> Option<String> {
    v.as_ref().and_then(|v| serde_json::to_string(v).ok())
}

/// `media_hashes_page` as plain rows, for a backend without `JSON_PAGES`.
async fn media_hash_rows(
    pool: &sqlx::Pool<Db>,
    filter: &str,
    intake_id: Option<i64>,
    after: i64,
    limit: u32,
) -> Result<Vec<MediaHashRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, intake_id, provider_id, account, triage, {HASH_COLUMNS} FROM media \
         WHERE id > $1 {filter} ORDER BY id LIMIT $2"
    )))
    .bind(after)
    .bind(i64::from(limit))
    .bind(intake_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(media_hash_row_of).collect()
}

/// A row of `id, intake_id, provider_id, account, triage` and
/// [`HASH_COLUMNS`], in this order.
fn media_hash_row_of(r: &DbRow) -> Result<MediaHashRow, StoreError> {
    let triage: Option<&str> = r.try_get(4)?;
    Ok(MediaHashRow {
        id: r.try_get(0)?,
        intake_id: r.try_get(1)?,
        provider_id: r.try_get(2)?,
        account: r.try_get(3)?,
        hashes: media_hashes_at(r, 5)?,
        triage: triage_of(triage)?,
    })
}

/// The [`HASH_COLUMNS`] of a row, the first at index `at`.
fn media_hashes_at(r: &DbRow, at: usize) -> Result<MediaHashes, StoreError> {
    let pdq_quality: Option<i64> = r.try_get(at + 4)?;
    let vpdq: Option<&str> = r.try_get(at + 5)?;
    Ok(MediaHashes {
        md5: digest_of::<16>(r, at, "MD5")?,
        sha1: digest_of::<20>(r, at + 1, "SHA-1")?,
        sha256: digest_of::<32>(r, at + 2, "SHA-256")?,
        pdq: digest_of::<32>(r, at + 3, "PDQ")?.map(|b| PdqHash::from_bytes(&b)),
        pdq_quality: pdq_quality.and_then(|q| u8::try_from(q).ok()),
        vpdq: vpdq_of(vpdq)?,
    })
}

/// A digest column (`None`: NULL or empty).
fn digest_of<const N: usize>(
    r: &DbRow,
    col: usize,
    what: &str,
) -> Result<Option<[u8; N]>, StoreError> {
    let bytes: Option<&[u8]> = r.try_get(col)?;
    match bytes.filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(b) => <[u8; N]>::try_from(b)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("media {what}: {} bytes, not {N}", b.len()))),
    }
}

impl Backend {
    /// The connection of the intake's bulk writes (`crate::bulk_conns`),
    /// prepared the backend's way (`BULK_SESSION`) on first use.
    async fn bulk_conn(
        &self,
        intake_id: i64,
    ) -> Result<sqlx::pool::PoolConnection<Db>, StoreError> {
        if let Some(conn) = self.bulk.take(intake_id) {
            return Ok(conn);
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query(BULK_SESSION).execute(&mut *conn).await?;
        Ok(conn)
    }

    /// After a batch on `conn`: kept for the next one when the batch went
    /// in; closed when it failed (its state is then unknown).
    fn bulk_done(
        &self,
        intake_id: i64,
        mut conn: sqlx::pool::PoolConnection<Db>,
        batch: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match batch {
            Ok(()) => self.bulk.put(intake_id, conn),
            Err(_) => conn.close_on_drop(),
        }
        batch
    }
}

/// Inserts event rows, skipping those already stored (same intake and
/// line), as multi-row statements.
async fn insert_events_skipping(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[EventRow],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(SMALL_ROWS) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO events (intake_id, line, kind, at, data) ");
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(intake_id)
                .push_bind(i64_of(e.line))
                .push_bind(e.kind.as_str())
                .push_bind(e.at.as_deref())
                .push_bind(e.data.as_str());
        });
        qb.push(" ON CONFLICT (intake_id, line) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_findings(
    conn: &mut DbConn,
    intake_id: i64,
    findings: &[FindingRow],
) -> Result<(), StoreError> {
    for chunk in findings.chunks(SMALL_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO findings (intake_id, file, line, subject, code, message) ",
        );
        qb.push_values(chunk, |mut b, f| {
            b.push_bind(intake_id)
                .push_bind(f.file.as_str())
                .push_bind(i64_of(f.line))
                .push_bind(f.subject.as_str())
                .push_bind(f.code.as_str())
                .push_bind(f.message.as_str());
        });
        qb.push(" ON CONFLICT (intake_id, file, line, subject, code) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_matches(conn: &mut DbConn, rows: &[(i64, &MatchRow)]) -> Result<(), StoreError> {
    for chunk in rows.chunks(SMALL_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO media_matches (media_id, entry_id, list_id, kind, distance, variant) ",
        );
        qb.push_values(chunk, |mut b, (media_id, m)| {
            b.push_bind(*media_id)
                .push_bind(i64_of(m.entry_id))
                .push_bind(m.list_id)
                .push_bind(kind_name(m.kind))
                .push_bind(i64::from(m.distance))
                .push_bind(m.variant.as_deref());
        });
        qb.push(" ON CONFLICT (media_id, entry_id, kind) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

const HASH_COLUMNS: &str = "md5, sha1, sha256, pdq, pdq_quality, vpdq";

impl Backend {
    /// A value of the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<String, StoreError> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        v.ok_or_else(|| StoreError::Corrupt(format!("no {key} in meta")))
    }
}

impl IntakeStore for Backend {
    async fn begin_intake(&self, new: &NewIntake, now: &Timestamp) -> Result<Begun, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO intakes (source_kind, provider, report_id, path, started_at, state, hash_only, header) \
             VALUES ($1, $2, $3, $4, $5, 'reading', $6, $7) \
             ON CONFLICT (provider, report_id) DO NOTHING RETURNING {INTAKE_COLUMNS}"
        )))
        .bind(&new.source_kind)
        .bind(&new.provider)
        .bind(&new.report_id)
        .bind(&new.path)
        .bind(now.as_str())
        .bind(new.hash_only)
        .bind(new.header.to_string())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(Begun::New(intake_from_row(&r)?));
        }
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INTAKE_COLUMNS} FROM intakes WHERE provider = $1 AND report_id = $2"
        )))
        .bind(&new.provider)
        .bind(&new.report_id)
        .fetch_one(&self.pool)
        .await?;
        let info = intake_from_row(&r)?;
        Ok(if info.state == IntakeState::Complete {
            Begun::Complete(info)
        } else {
            Begun::Resumed(info)
        })
    }

    async fn intakes(&self) -> Result<Vec<IntakeInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INTAKE_COLUMNS} FROM intakes ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(intake_from_row).collect()
    }

    async fn set_intake_state(
        &self,
        intake_id: i64,
        state: IntakeState,
        now: &Timestamp,
    ) -> Result<(), StoreError> {
        // The intake is read (or done): its bulk connection goes.
        if let Some(conn) = self.bulk.take(intake_id) {
            conn.close().await?;
        }
        let completed = (state == IntakeState::Complete).then(|| now.as_str().to_string());
        sqlx::query("UPDATE intakes SET state = $1, completed_at = $2 WHERE id = $3")
            .bind(state.name())
            .bind(completed)
            .bind(intake_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_accounts(
        &self,
        intake_id: i64,
        rows: &[AccountRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        let mut conn = self.bulk_conn(intake_id).await?;
        let batch = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for chunk in rows.chunks(SMALL_ROWS) {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO accounts (intake_id, provider_id, line, username, declared_country, data) ",
                );
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(intake_id)
                        .push_bind(a.provider_id.as_str())
                        .push_bind(i64_of(a.line))
                        .push_bind(a.username.as_deref())
                        .push_bind(a.declared_country.as_deref())
                        .push_bind(a.data.as_str());
                });
                qb.push(" ON CONFLICT (intake_id, provider_id) DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            insert_findings(&mut tx, intake_id, findings).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        self.bulk_done(intake_id, conn, batch)
    }

    async fn insert_media(
        &self,
        intake_id: i64,
        rows: &[MediaRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        let mut conn = self.bulk_conn(intake_id).await?;
        let batch = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            // Backend-specific: SQLite binds rows on its raw handle,
            // PostgreSQL copies them in (see `insert_media_rows` in each).
            let inserted = insert_media_rows(&mut tx, intake_id, rows).await?;
            let matches: Vec<(i64, &MatchRow)> = inserted
                .iter()
                .filter_map(|&(i, id)| rows.get(i).map(|m| (id, m)))
                .flat_map(|(id, m)| m.matches.iter().map(move |x| (id, x)))
                .collect();
            insert_matches(&mut tx, &matches).await?;
            insert_findings(&mut tx, intake_id, findings).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        self.bulk_done(intake_id, conn, batch)
    }

    async fn insert_events(
        &self,
        intake_id: i64,
        rows: &[EventRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        let mut conn = self.bulk_conn(intake_id).await?;
        let batch = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            // Backend-specific: PostgreSQL copies them in (see
            // `insert_event_rows` in each).
            insert_event_rows(&mut tx, intake_id, rows).await?;
            insert_findings(&mut tx, intake_id, findings).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        self.bulk_done(intake_id, conn, batch)
    }

    async fn claim_pending(
        &self,
        intake_id: Option<i64>,
        worker: &str,
        now: &Timestamp,
        stale_before: &Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingMedia>, StoreError> {
        let filter = if intake_id.is_some() {
            "AND intake_id = $5"
        } else {
            "AND $5 IS NULL"
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE media SET hash_state = 'claimed', worker = $1, claimed_at = $2 \
             WHERE id IN (SELECT id FROM media \
                 WHERE hash_state IN ('pending', 'claimed') \
                   AND (hash_state = 'pending' OR claimed_at < $3) {filter} \
                 ORDER BY id LIMIT $4{CLAIM_LOCK}) \
             RETURNING id, intake_id, provider_id, line, file, data"
        )))
        .bind(worker)
        .bind(now.as_str())
        .bind(stale_before.as_str())
        .bind(i64::from(limit))
        .bind(intake_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let data: String = r.try_get("data")?;
            let file: Option<String> = r.try_get("file")?;
            let line: i64 = r.try_get("line")?;
            out.push(PendingMedia {
                id: r.try_get("id")?,
                intake_id: r.try_get("intake_id")?,
                provider_id: r.try_get("provider_id")?,
                line: u64::try_from(line).unwrap_or(0),
                file: file
                    .ok_or_else(|| StoreError::Corrupt("pending media without a file".into()))?,
                data: serde_json::from_str(&data)
                    .map_err(|e| StoreError::Corrupt(format!("media data: {e}")))?,
            });
        }
        out.sort_by_key(|p| p.id);
        Ok(out)
    }

    async fn release_claims(&self, intake_id: i64, worker: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE media SET hash_state = 'pending', worker = NULL, claimed_at = NULL \
             WHERE intake_id = $1 AND hash_state = 'claimed' AND worker = $2",
        )
        .bind(intake_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn complete_hashing(&self, worker: &str, done: &[HashedMedia]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut matches = Vec::new();
        for d in done {
            let h = &d.hashes;
            sqlx::query(
                "UPDATE media SET md5 = $1, sha1 = $2, sha256 = $3, pdq = $4, pdq_quality = $5, \
                 vpdq = $6, kind = $7, width = $8, height = $9, bytes = $10, hash_state = $11, \
                 hash_error = $12, stored = $13, triage = $14, worker = $15 WHERE id = $16",
            )
            .bind(h.md5.map(|d| d.to_vec()))
            .bind(h.sha1.map(|d| d.to_vec()))
            .bind(h.sha256.map(|d| d.to_vec()))
            .bind(h.pdq.map(|p| p.to_bytes().to_vec()))
            .bind(h.pdq_quality.map(i64::from))
            .bind(vpdq_json(&h.vpdq))
            .bind(d.kind.clone())
            .bind(d.width.map(i64::from))
            .bind(d.height.map(i64::from))
            .bind(d.bytes.map(i64_of))
            .bind(d.state.name())
            .bind(d.error.clone())
            .bind(d.stored)
            .bind(d.triage.map(Triage::name))
            .bind(worker)
            .bind(d.id)
            .execute(&mut *tx)
            .await?;
            matches.extend(d.matches.iter().map(|m| (d.id, m)));
            insert_findings(&mut tx, d.intake_id, &d.findings).await?;
        }
        insert_matches(&mut tx, &matches).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn media_hashes_page(
        &self,
        intake_id: Option<i64>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MediaHashRow>, StoreError> {
        let filter = if intake_id.is_some() {
            "AND intake_id = $3"
        } else {
            "AND $3 IS NULL"
        };
        if !JSON_PAGES {
            return media_hash_rows(&self.pool, filter, intake_id, after, limit).await;
        }
        // The page as one JSON text (see `json_page`): the rows are chosen
        // by the inner ORDER BY/LIMIT, then aggregated in any order.
        let sql = format!(
            "SELECT CAST((SELECT {JSON_GROUP_ARRAY}({JSON_ARRAY}(m.id, m.intake_id, \
             m.provider_id, m.account, m.triage, {}, {}, {}, {}, m.pdq_quality, m.vpdq)) \
             FROM (SELECT id, intake_id, provider_id, account, triage, {HASH_COLUMNS} FROM media \
             WHERE id > $1 {filter} ORDER BY id LIMIT $2) m) AS TEXT)",
            hex_sql("m.md5"),
            hex_sql("m.sha1"),
            hex_sql("m.sha256"),
            hex_sql("m.pdq"),
        );
        let text: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .bind(intake_id)
            .fetch_one(&self.pool)
            .await?;
        let items: Vec<MediaHashTuple<'_>> = parse_page(text.as_deref(), "media")?;
        let mut out = Vec::with_capacity(items.len());
        for (id, intake_id, provider_id, account, triage, md5, sha1, sha256, pdq, quality, vpdq) in
            items
        {
            out.push(MediaHashRow {
                id,
                intake_id,
                provider_id,
                account,
                hashes: MediaHashes {
                    md5: hex_bytes::<16>(md5, "MD5")?,
                    sha1: hex_bytes::<20>(sha1, "SHA-1")?,
                    sha256: hex_bytes::<32>(sha256, "SHA-256")?,
                    pdq: hex_bytes::<32>(pdq, "PDQ")?.map(|b| PdqHash::from_bytes(&b)),
                    pdq_quality: quality.and_then(|q| u8::try_from(q).ok()),
                    vpdq: vpdq_of(vpdq.as_deref())?,
                },
                triage: triage_of(triage.as_deref())?,
            });
        }
        // Either backend may aggregate in any order.
        out.sort_unstable_by_key(|m| m.id);
        Ok(out)
    }

    async fn add_matches(&self, matches: &[(i64, MatchRow)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let refs: Vec<(i64, &MatchRow)> = matches.iter().map(|(id, m)| (*id, m)).collect();
        insert_matches(&mut tx, &refs).await?;
        let mut ids: Vec<i64> = matches.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("UPDATE media SET triage = 'known' WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn intake_counts(&self, intake_id: Option<i64>) -> Result<IntakeCounts, StoreError> {
        let filter = if intake_id.is_some() {
            "WHERE intake_id = $1"
        } else {
            "WHERE $1 IS NULL"
        };
        let count = |table: &str| format!("SELECT COUNT(*) FROM {table} {filter}");
        let mut out = IntakeCounts::default();
        let mut conn = self.pool.acquire().await?;
        for (slot, table) in [
            (&mut out.accounts, "accounts"),
            (&mut out.events, "events"),
            (&mut out.findings, "findings"),
        ] {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(count(table)))
                .bind(intake_id)
                .fetch_one(&mut *conn)
                .await?;
            *slot = u64::try_from(n).unwrap_or(0);
        }
        // The media counts in one pass over the table (millions of rows,
        // deliberately not indexed by state).
        let sum = |cond: &str| format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)");
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n, {} AS known, {} AS new, {} AS pending, {} AS failed FROM media {filter}",
            sum("triage = 'known'"),
            sum("triage = 'new'"),
            sum("hash_state IN ('pending', 'claimed')"),
            sum("hash_state = 'failed'"),
        )))
        .bind(intake_id)
        .fetch_one(&mut *conn)
        .await?;
        let get = |name: &str| -> Result<u64, StoreError> {
            let v: i64 = row.try_get(name)?;
            Ok(u64::try_from(v).unwrap_or(0))
        };
        out.media = get("n")?;
        out.media_known = get("known")?;
        out.media_new = get("new")?;
        out.media_pending = get("pending")?;
        out.media_failed = get("failed")?;
        Ok(out)
    }

    async fn findings(&self, intake_id: i64) -> Result<Vec<FindingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT file, line, subject, code, message FROM findings WHERE intake_id = $1 \
             ORDER BY file, line, subject, code",
        )
        .bind(intake_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let line: i64 = r.try_get("line")?;
                Ok(FindingRow {
                    file: r.try_get("file")?,
                    line: u64::try_from(line).unwrap_or(0),
                    subject: r.try_get("subject")?,
                    code: r.try_get("code")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    async fn media(&self, id: i64) -> Result<Option<MediaInfo>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {MEDIA_INFO_COLUMNS} FROM media m JOIN intakes i ON i.id = m.intake_id \
             WHERE m.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut media = media_info_of(&row)?;
        // Who shared it: the report's share events that name it (events are
        // keyed by intake first, so this reads one report's shares).
        let mut shared_with: Vec<String> = media.data.shared_with.to_vec();
        let mut shared_by: Vec<String> = Vec::new();
        let events: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM events WHERE intake_id = $1 AND kind = 'share' ORDER BY line",
        )
        .bind(media.intake_id)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        for text in &events {
            let e: tiaki_types::model::Event = serde_json::from_str(text).map_err(|e| {
                StoreError::Corrupt(format!("a share event of intake {}: {e}", media.intake_id))
            })?;
            if e.media.as_deref() == Some(media.provider_id.as_str()) {
                shared_by.extend(e.from);
                shared_with.extend(e.to);
            }
        }
        let mut wanted: Vec<&str> = [media.account.as_str()]
            .into_iter()
            .chain(shared_with.iter().map(String::as_str))
            .chain(shared_by.iter().map(String::as_str))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let refs = account_refs_in_intake(&self.pool, media.intake_id, &wanted).await?;
        let resolve = |ids: &[String]| {
            let mut out: Vec<AccountRef> = ids.iter().filter_map(|p| refs.get(p).cloned()).collect();
            out.sort_by_key(|a| a.account_id);
            out.dedup_by_key(|a| a.account_id);
            out
        };
        media.uploader = refs.get(&media.account).cloned();
        media.shared_with = resolve(&shared_with);
        media.shared_by = resolve(&shared_by);
        Ok(Some(media))
    }

    async fn matches_of(&self, media_ids: &[i64]) -> Result<Vec<(i64, MatchRow)>, StoreError> {
        let mut out = Vec::new();
        for chunk in media_ids.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT media_id, entry_id, list_id, kind, distance, variant FROM media_matches WHERE media_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY media_id, entry_id, kind");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.push(media_match_of(&r)?);
            }
        }
        Ok(out)
    }

    async fn dump_intakes(&self) -> Result<Vec<String>, StoreError> {
        // Each query yields one text column; `||` concatenates in both
        // backends, and CAST makes every piece text.
        const QUERIES: &[&str] = &[
            "SELECT 'intake|' || source_kind || '|' || provider || '|' || report_id || '|' || state || '|' \
             || CAST(hash_only AS TEXT) || '|' || header FROM intakes",
            "SELECT 'account|' || i.report_id || '|' || a.provider_id || '|' || CAST(a.line AS TEXT) || '|' \
             || COALESCE(a.username, '-') || '|' || COALESCE(a.declared_country, '-') || '|' || a.data \
             FROM accounts a JOIN intakes i ON i.id = a.intake_id",
            "SELECT 'media|' || i.report_id || '|' || m.provider_id || '|' || CAST(m.line AS TEXT) || '|' \
             || m.account || '|' || COALESCE(m.file, '-') || '|' || COALESCE(CAST(m.viewed_by_provider AS TEXT), '-') \
             || '|' || COALESCE(LOWER(HEX_MD5), '-') || '|' || COALESCE(LOWER(HEX_SHA256), '-') || '|' \
             || COALESCE(LOWER(HEX_PDQ), '-') || '|' || COALESCE(CAST(m.pdq_quality AS TEXT), '-') || '|' \
             || COALESCE(m.vpdq, '-') || '|' || COALESCE(m.kind, '-') || '|' || m.hash_state || '|' \
             || COALESCE(m.hash_error, '-') || '|' || CAST(m.stored AS TEXT) || '|' || COALESCE(m.triage, '-') \
             || '|' || m.data FROM media m JOIN intakes i ON i.id = m.intake_id",
            "SELECT 'match|' || i.report_id || '|' || m.provider_id || '|' || CAST(x.entry_id AS TEXT) || '|' \
             || x.kind || '|' || CAST(x.distance AS TEXT) || '|' || COALESCE(x.variant, '-') \
             FROM media_matches x JOIN media m ON m.id = x.media_id JOIN intakes i ON i.id = m.intake_id",
            "SELECT 'event|' || i.report_id || '|' || CAST(e.line AS TEXT) || '|' || e.kind || '|' \
             || COALESCE(e.at, '-') || '|' || e.data FROM events e JOIN intakes i ON i.id = e.intake_id",
            "SELECT 'finding|' || i.report_id || '|' || f.file || '|' || CAST(f.line AS TEXT) || '|' \
             || f.subject || '|' || f.code || '|' || f.message FROM findings f JOIN intakes i ON i.id = f.intake_id",
            "SELECT 'stage|' || i.report_id || '|' || s.stage FROM intake_stages s JOIN intakes i ON i.id = s.intake_id",
        ];
        let mut out = Vec::new();
        for q in QUERIES {
            let q = q
                .replace("HEX_MD5", &hex_sql("m.md5"))
                .replace("HEX_SHA256", &hex_sql("m.sha256"))
                .replace("HEX_PDQ", &hex_sql("m.pdq"));
            let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(q))
                .fetch_all(&self.pool)
                .await?;
            out.extend(rows);
        }
        out.sort();
        Ok(out)
    }

    async fn record_stages(
        &self,
        intake_ids: &[i64],
        stages: &[&str],
        now: &Timestamp,
    ) -> Result<(), StoreError> {
        let pairs: Vec<(i64, &str)> = intake_ids
            .iter()
            .flat_map(|&id| stages.iter().map(move |&s| (id, s)))
            .collect();
        let mut tx = self.pool.begin().await?;
        for chunk in pairs.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("INSERT INTO intake_stages (intake_id, stage, completed_at) ");
            qb.push_values(chunk, |mut b, (id, stage)| {
                b.push_bind(*id).push_bind(*stage).push_bind(now.as_str());
            });
            qb.push(" ON CONFLICT (intake_id, stage) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn intake_stages(&self, intake_ids: &[i64]) -> Result<Vec<StageRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in intake_ids.chunks(SMALL_ROWS) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT intake_id, stage, completed_at FROM intake_stages WHERE intake_id IN (",
            );
            let mut ids = qb.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            qb.push(") ORDER BY intake_id, stage");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.push(StageRow {
                    intake_id: r.try_get("intake_id")?,
                    stage: r.try_get("stage")?,
                    completed_at: r.try_get("completed_at")?,
                });
            }
        }
        Ok(out)
    }
}
