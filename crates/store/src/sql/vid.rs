// The victim-identification database: the SQL both backends share (see
// `sql/lists.rs` for how it is included).

use tiaki_types::vid::{
    Offender, OffenderStatus, Series, Status, StatusStep, Victim, VictimStatus, VidEvent,
    VidEventKind, VidMedia, VidMediaKind, VidRecord, transition,
};

use crate::vid::{
    NewSeries, NewSubject, NewVidMedia, SubjectChange, VidCounts, VidMediaHashes, VidStore,
};

const SERIES_COLUMNS: &str = "s.id, s.name, s.agency, s.notes, s.merged_into, s.created_at, \
     s.updated_at, (SELECT COUNT(*) FROM vid_media m WHERE m.series_id = s.id) AS media, \
     (SELECT COUNT(*) FROM vid_victims v WHERE v.series_id = s.id) AS victims, \
     (SELECT COUNT(*) FROM vid_offenders o WHERE o.series_id = s.id) AS offenders";

fn series_from_row(r: &DbRow) -> Result<Series, StoreError> {
    Ok(Series {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        agency: r.try_get("agency")?,
        notes: r.try_get("notes")?,
        merged_into: r.try_get("merged_into")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        media: u64_of(r.try_get("media")?),
        victims: u64_of(r.try_get("victims")?),
        offenders: u64_of(r.try_get("offenders")?),
    })
}

/// A victim or an offender, as the shared SQL reads and writes both.
trait SubjectRow: Sized {
    type S: Status;
    const TABLE: &'static str;
    fn build(parts: SubjectParts<Self::S>) -> Self;
    fn status_of(&self) -> Self::S;
    fn series_of(&self) -> i64;
}

/// The columns of `vid_victims` and `vid_offenders`.
struct SubjectParts<S> {
    id: i64,
    series: i64,
    status: S,
    step: StatusStep,
    agency: String,
    notes: String,
    created_at: String,
    updated_at: String,
}

macro_rules! subject_row {
    ($T:ident, $S:ty, $table:literal) => {
        impl SubjectRow for $T {
            type S = $S;
            const TABLE: &'static str = $table;
            fn build(p: SubjectParts<$S>) -> $T {
                $T {
                    id: p.id,
                    series: p.series,
                    status: p.status,
                    step: p.step,
                    agency: p.agency,
                    notes: p.notes,
                    created_at: p.created_at,
                    updated_at: p.updated_at,
                }
            }
            fn status_of(&self) -> $S {
                self.status
            }
            fn series_of(&self) -> i64 {
                self.series
            }
        }
    };
}

subject_row!(Victim, VictimStatus, "vid_victims");
subject_row!(Offender, OffenderStatus, "vid_offenders");

const SUBJECT_COLUMNS: &str = "id, series_id, status, step_country, step_agency, step_date, agency, notes, created_at, updated_at";

fn subject_from_row<T: SubjectRow>(r: &DbRow) -> Result<T, StoreError> {
    let status: String = r.try_get("status")?;
    let status = T::S::from_name(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("{}.status {status:?}", T::TABLE)))?;
    Ok(T::build(SubjectParts {
        id: r.try_get("id")?,
        series: r.try_get("series_id")?,
        status,
        step: StatusStep {
            country: r.try_get("step_country")?,
            agency: r.try_get("step_agency")?,
            date: r.try_get("step_date")?,
        },
        agency: r.try_get("agency")?,
        notes: r.try_get("notes")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

/// A history event to append.
struct EventIn<'a> {
    record: VidRecord,
    record_id: i64,
    series_id: i64,
    event: VidEventKind,
    from: Option<&'a str>,
    to: Option<&'a str>,
    step: Option<&'a StatusStep>,
    note: Option<&'a str>,
    detail: serde_json::Value,
}

impl<'a> EventIn<'a> {
    fn new(record: VidRecord, record_id: i64, series_id: i64, event: VidEventKind) -> Self {
        EventIn {
            record,
            record_id,
            series_id,
            event,
            from: None,
            to: None,
            step: None,
            note: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }
}

async fn insert_vid_event(
    conn: &mut DbConn,
    e: &EventIn<'_>,
    actor: &str,
    now: &Timestamp,
) -> Result<(), StoreError> {
    let step = e.step.cloned().unwrap_or_default();
    sqlx::query(
        "INSERT INTO vid_events (record, record_id, series_id, event, from_status, to_status, \
         country, agency, date, note, actor, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(e.record.name())
    .bind(e.record_id)
    .bind(e.series_id)
    .bind(e.event.name())
    .bind(e.from)
    .bind(e.to)
    .bind(step.country)
    .bind(step.agency)
    .bind(step.date)
    .bind(e.note)
    .bind(actor)
    .bind(now.as_str())
    .bind(e.detail.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn event_from_row(r: &DbRow) -> Result<VidEvent, StoreError> {
    let record: String = r.try_get("record")?;
    let event: String = r.try_get("event")?;
    let detail: String = r.try_get("detail")?;
    Ok(VidEvent {
        id: r.try_get("id")?,
        record: VidRecord::from_name(&record)
            .ok_or_else(|| StoreError::Corrupt(format!("vid_events.record {record:?}")))?,
        record_id: r.try_get("record_id")?,
        series: r.try_get("series_id")?,
        event: VidEventKind::from_name(&event)
            .ok_or_else(|| StoreError::Corrupt(format!("vid_events.event {event:?}")))?,
        from: r.try_get("from_status")?,
        to: r.try_get("to_status")?,
        step: StatusStep {
            country: r.try_get("country")?,
            agency: r.try_get("agency")?,
            date: r.try_get("date")?,
        },
        note: r.try_get("note")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("vid_events.detail: {e}")))?,
    })
}

/// The series with this id or this name, through any executor (the
/// pool, or a transaction's connection).
async fn series_row<'c, E: sqlx::Executor<'c, Database = Db>>(
    e: E,
    id: Option<i64>,
    name: Option<&str>,
) -> Result<Option<Series>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SERIES_COLUMNS} FROM vid_series s WHERE s.id = $1 OR s.name = $2"
    )))
    .bind(id)
    .bind(name)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(series_from_row).transpose()
}

/// A series by id inside a transaction: unknown is
/// [`StoreError::NoSuchSeries`].
async fn series_in(conn: &mut DbConn, id: i64) -> Result<Series, StoreError> {
    series_row(&mut *conn, Some(id), None)
        .await?
        .ok_or_else(|| StoreError::NoSuchSeries(id.to_string()))
}

/// A series records may be added to: it exists and was not merged away.
async fn open_series_in(conn: &mut DbConn, id: i64) -> Result<Series, StoreError> {
    let s = series_in(conn, id).await?;
    match s.merged_into {
        Some(into) => Err(StoreError::SeriesMerged {
            name: s.name,
            into: Some(into),
        }),
        None => Ok(s),
    }
}

/// [`open_series_in`] without reading the series' counts (which grow with
/// its media): what a write that only adds to the series needs.
async fn check_open_series_in(conn: &mut DbConn, id: i64) -> Result<(), StoreError> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT name, merged_into FROM vid_series WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Err(StoreError::NoSuchSeries(id.to_string())),
        Some((name, Some(into))) => Err(StoreError::SeriesMerged {
            name,
            into: Some(into),
        }),
        Some((_, None)) => Ok(()),
    }
}

async fn subject_in<T: SubjectRow>(
    conn: &mut DbConn,
    record: VidRecord,
    id: i64,
) -> Result<T, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SUBJECT_COLUMNS} FROM {} WHERE id = $1",
        T::TABLE
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => subject_from_row(&r),
        None => Err(StoreError::NoSuchVidRecord { record, id }),
    }
}

async fn add_subject<T: SubjectRow>(
    pool: &sqlx::Pool<Db>,
    new: &NewSubject<T::S>,
    actor: &str,
    now: &Timestamp,
) -> Result<T, StoreError> {
    let mut tx = begin_write(pool).await?;
    check_open_series_in(&mut tx, new.series_id).await?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {} (series_id, status, step_country, step_agency, step_date, agency, notes, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         RETURNING {SUBJECT_COLUMNS}",
        T::TABLE
    )))
    .bind(new.series_id)
    .bind(new.status.name())
    .bind(&new.step.country)
    .bind(&new.step.agency)
    .bind(&new.step.date)
    .bind(&new.agency)
    .bind(&new.notes)
    .bind(now.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let subject: T = subject_from_row(&row)?;
    let mut e = EventIn::new(
        T::S::RECORD,
        subject_id(&row)?,
        new.series_id,
        VidEventKind::Created,
    );
    e.to = Some(new.status.name());
    e.step = Some(&new.step);
    e.note = Some(&new.notes)
        .filter(|n| !n.is_empty())
        .map(String::as_str);
    insert_vid_event(&mut tx, &e, actor, now).await?;
    tx.commit().await?;
    Ok(subject)
}

fn subject_id(r: &DbRow) -> Result<i64, StoreError> {
    Ok(r.try_get("id")?)
}

async fn set_subject<T: SubjectRow>(
    pool: &sqlx::Pool<Db>,
    id: i64,
    change: &SubjectChange<T::S>,
    actor: &str,
    now: &Timestamp,
) -> Result<T, StoreError> {
    let record = T::S::RECORD;
    let mut tx = begin_write(pool).await?;
    let current: T = subject_in(&mut tx, record, id).await?;
    let series_id = current.series_of();
    if let Some((to, step)) = &change.status {
        let from = current.status_of();
        transition(id, from, *to)?;
        // The status read above is the one replaced: a concurrent change in
        // between makes this update miss, and nothing is written.
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET status = $1, step_country = $2, step_agency = $3, step_date = $4, \
             updated_at = $5 WHERE id = $6 AND status = $7",
            T::TABLE
        )))
        .bind(to.name())
        .bind(&step.country)
        .bind(&step.agency)
        .bind(&step.date)
        .bind(now.as_str())
        .bind(id)
        .bind(from.name())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Changed { record, id });
        }
        let mut e = EventIn::new(record, id, series_id, VidEventKind::Status);
        e.from = Some(from.name());
        e.to = Some(to.name());
        e.step = Some(step);
        insert_vid_event(&mut tx, &e, actor, now).await?;
    }
    if let Some(notes) = &change.notes {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {} SET notes = $1, updated_at = $2 WHERE id = $3",
            T::TABLE
        )))
        .bind(notes)
        .bind(now.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let mut e = EventIn::new(record, id, series_id, VidEventKind::Notes);
        e.note = Some(notes);
        insert_vid_event(&mut tx, &e, actor, now).await?;
    }
    let updated = subject_in(&mut tx, record, id).await?;
    tx.commit().await?;
    Ok(updated)
}

async fn subjects<T: SubjectRow>(
    pool: &sqlx::Pool<Db>,
    series_id: Option<i64>,
) -> Result<Vec<T>, StoreError> {
    let filter = if series_id.is_some() {
        "series_id = $1"
    } else {
        "$1 IS NULL"
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SUBJECT_COLUMNS} FROM {} WHERE {filter} ORDER BY id",
        T::TABLE
    )))
    .bind(series_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(subject_from_row).collect()
}

const VID_MEDIA_COLUMNS: &str = "id, series_id, kind, md5, sha1, sha256, pdq, pdq_quality, vpdq, \
     source, agency, notes, created_at, stored";
// (The hashes are `HASH_COLUMNS` from index 3: `media_hashes_at`.)

/// A `vid_media` row read with [`VID_MEDIA_COLUMNS`], and its hashes.
fn vid_media_from_row(r: &DbRow) -> Result<(VidMedia, MediaHashes), StoreError> {
    let kind: String = r.try_get("kind")?;
    let hashes = media_hashes_at(r, 3)?;
    let hex = |b: Option<&[u8]>| b.map(tiaki_types::hex::encode);
    let media = VidMedia {
        id: r.try_get("id")?,
        series: r.try_get("series_id")?,
        kind: VidMediaKind::from_name(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("vid_media.kind {kind:?}")))?,
        md5: hex(hashes.md5.as_ref().map(|d| d.as_slice())),
        sha1: hex(hashes.sha1.as_ref().map(|d| d.as_slice())),
        sha256: hex(hashes.sha256.as_ref().map(|d| d.as_slice())),
        pdq: hashes.pdq.map(|p| p.to_hex()),
        pdq_quality: hashes.pdq_quality,
        vpdq_frames: hashes.vpdq.as_ref().map_or(0, |v| v.len() as u64),
        stored: r.try_get("stored")?,
        source: r.try_get("source")?,
        agency: r.try_get("agency")?,
        notes: r.try_get("notes")?,
        created_at: r.try_get("created_at")?,
    };
    Ok((media, hashes))
}

impl VidStore for Backend {
    async fn add_series(
        &self,
        new: &NewSeries,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Series, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO vid_series (name, agency, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.agency)
        .bind(&new.notes)
        .bind(now.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::SeriesExists(new.name.clone())
            } else {
                StoreError::Db(e)
            }
        })?;
        let mut e = EventIn::new(VidRecord::Series, id, id, VidEventKind::Created);
        e.note = Some(&new.notes)
            .filter(|n| !n.is_empty())
            .map(String::as_str);
        e.detail = serde_json::json!({"name": new.name, "agency": new.agency});
        insert_vid_event(&mut tx, &e, actor, now).await?;
        let s = series_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn series_list(&self) -> Result<Vec<Series>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SERIES_COLUMNS} FROM vid_series s ORDER BY s.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(series_from_row).collect()
    }

    async fn series_by_id(&self, id: i64) -> Result<Option<Series>, StoreError> {
        series_row(&self.pool, Some(id), None).await
    }

    async fn series_by_name(&self, name: &str) -> Result<Option<Series>, StoreError> {
        series_row(&self.pool, None, Some(name)).await
    }

    async fn merge_series(
        &self,
        from: i64,
        into: i64,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Series, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let source = open_series_in(&mut tx, from).await?;
        let target = open_series_in(&mut tx, into).await?;
        if from == into {
            return Err(StoreError::SeriesMerged {
                name: source.name,
                into: None,
            });
        }
        let detail = serde_json::json!({"from": from, "into": into});
        for (record, table) in [
            (VidRecord::Victim, "vid_victims"),
            (VidRecord::Offender, "vid_offenders"),
            (VidRecord::Media, "vid_media"),
        ] {
            let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT id FROM {table} WHERE series_id = $1 ORDER BY id"
            )))
            .bind(from)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET series_id = $1 WHERE series_id = $2"
            )))
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?;
            for id in ids {
                let mut e = EventIn::new(record, id, into, VidEventKind::Merged);
                e.detail = detail.clone();
                insert_vid_event(&mut tx, &e, actor, now).await?;
            }
        }
        sqlx::query("UPDATE vid_series SET merged_into = $1, updated_at = $2 WHERE id = $3")
            .bind(into)
            .bind(now.as_str())
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE vid_series SET updated_at = $1 WHERE id = $2")
            .bind(now.as_str())
            .bind(into)
            .execute(&mut *tx)
            .await?;
        for id in [from, into] {
            let mut e = EventIn::new(VidRecord::Series, id, id, VidEventKind::Merged);
            e.detail = serde_json::json!({"from": from, "into": into, "from_name": source.name, "into_name": target.name});
            insert_vid_event(&mut tx, &e, actor, now).await?;
        }
        let s = series_in(&mut tx, into).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn add_victim(
        &self,
        new: &NewSubject<VictimStatus>,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Victim, StoreError> {
        add_subject(&self.pool, new, actor, now).await
    }

    async fn set_victim(
        &self,
        id: i64,
        change: &SubjectChange<VictimStatus>,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Victim, StoreError> {
        set_subject(&self.pool, id, change, actor, now).await
    }

    async fn victims(&self, series_id: Option<i64>) -> Result<Vec<Victim>, StoreError> {
        subjects(&self.pool, series_id).await
    }

    async fn add_offender(
        &self,
        new: &NewSubject<OffenderStatus>,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Offender, StoreError> {
        add_subject(&self.pool, new, actor, now).await
    }

    async fn set_offender(
        &self,
        id: i64,
        change: &SubjectChange<OffenderStatus>,
        actor: &str,
        now: &Timestamp,
    ) -> Result<Offender, StoreError> {
        set_subject(&self.pool, id, change, actor, now).await
    }

    async fn offenders(&self, series_id: Option<i64>) -> Result<Vec<Offender>, StoreError> {
        subjects(&self.pool, series_id).await
    }

    async fn add_vid_media(
        &self,
        new: &[NewVidMedia],
        actor: &str,
        now: &Timestamp,
    ) -> Result<Vec<VidMedia>, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let mut out = Vec::with_capacity(new.len());
        let mut checked = std::collections::HashSet::new();
        for m in new {
            // Once per series and batch: a batch is usually one series.
            if checked.insert(m.series_id) {
                check_open_series_in(&mut tx, m.series_id).await?;
            }
            let h = &m.hashes;
            let row = sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO vid_media (series_id, kind, md5, sha1, sha256, pdq, pdq_quality, \
                 vpdq, source, agency, notes, created_at, stored) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 RETURNING {VID_MEDIA_COLUMNS}"
            )))
            .bind(m.series_id)
            .bind(m.kind.name())
            .bind(h.md5.map(|d| d.to_vec()))
            .bind(h.sha1.map(|d| d.to_vec()))
            .bind(h.sha256.map(|d| d.to_vec()))
            .bind(h.pdq.map(|p| p.to_bytes().to_vec()))
            .bind(h.pdq_quality.map(i64::from))
            .bind(vpdq_json(&h.vpdq))
            .bind(&m.source)
            .bind(&m.agency)
            .bind(&m.notes)
            .bind(now.as_str())
            .bind(m.stored)
            .fetch_one(&mut *tx)
            .await?;
            let (media, _) = vid_media_from_row(&row)?;
            let mut e = EventIn::new(
                VidRecord::Media,
                media.id,
                m.series_id,
                VidEventKind::Created,
            );
            e.note = Some(&m.notes).filter(|n| !n.is_empty()).map(String::as_str);
            e.detail = serde_json::json!({"source": m.source, "kind": m.kind.name()});
            insert_vid_event(&mut tx, &e, actor, now).await?;
            out.push(media);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn vid_media(&self, series_id: Option<i64>) -> Result<Vec<VidMedia>, StoreError> {
        let filter = if series_id.is_some() {
            "series_id = $1"
        } else {
            "$1 IS NULL"
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VID_MEDIA_COLUMNS} FROM vid_media WHERE {filter} ORDER BY id"
        )))
        .bind(series_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| vid_media_from_row(r).map(|(m, _)| m))
            .collect()
    }

    async fn vid_media_by_ids(&self, ids: &[i64]) -> Result<Vec<VidMedia>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {VID_MEDIA_COLUMNS} FROM vid_media WHERE id IN ("
            ));
            let mut sep = qb.separated(", ");
            for &id in chunk {
                sep.push_bind(id);
            }
            qb.push(")");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.push(vid_media_from_row(&r)?.0);
            }
        }
        out.sort_unstable_by_key(|m| m.id);
        Ok(out)
    }

    async fn vid_media_max_id(&self) -> Result<i64, StoreError> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM vid_media")
            .fetch_one(&self.pool)
            .await?;
        Ok(max.unwrap_or(0))
    }

    async fn vid_media_hashes_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<VidMediaHashes>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VID_MEDIA_COLUMNS} FROM vid_media WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (m, hashes) = vid_media_from_row(r)?;
                Ok(VidMediaHashes {
                    id: m.id,
                    series_id: m.series,
                    hashes,
                })
            })
            .collect()
    }

    async fn vid_events(
        &self,
        series_id: Option<i64>,
        record: Option<(VidRecord, i64)>,
    ) -> Result<Vec<VidEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, record, record_id, series_id, event, from_status, to_status, country, \
             agency, date, note, actor, at, detail FROM vid_events \
             WHERE ($1 IS NULL OR series_id = $1) AND ($2 IS NULL OR (record = $2 AND record_id = $3)) \
             ORDER BY id",
        )
        .bind(series_id)
        .bind(record.map(|(r, _)| r.name()))
        .bind(record.map(|(_, id)| id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn vid_counts(&self) -> Result<VidCounts, StoreError> {
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM vid_series WHERE merged_into IS NULL) AS series, \
             (SELECT COUNT(*) FROM vid_media) AS media, \
             (SELECT COUNT(*) FROM vid_victims WHERE status = 'unidentified') AS v_un, \
             (SELECT COUNT(*) FROM vid_victims WHERE status IN ('identified', 'safeguarded')) AS v_id, \
             (SELECT COUNT(*) FROM vid_victims WHERE status = 'safeguarded') AS v_safe, \
             (SELECT COUNT(*) FROM vid_offenders WHERE status IN ('identified', 'arrested')) AS o_id",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(VidCounts {
            series: u64_of(row.try_get("series")?),
            media: u64_of(row.try_get("media")?),
            victims_unidentified: u64_of(row.try_get("v_un")?),
            victims_identified: u64_of(row.try_get("v_id")?),
            victims_safeguarded: u64_of(row.try_get("v_safe")?),
            offenders_identified: u64_of(row.try_get("o_id")?),
        })
    }

    async fn intake_media_hashes(
        &self,
        intake_id: i64,
        provider_id: &str,
    ) -> Result<Option<MediaHashRow>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, intake_id, provider_id, account, triage, {HASH_COLUMNS} FROM media \
             WHERE intake_id = $1 AND provider_id = $2"
        )))
        .bind(intake_id)
        .bind(provider_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(media_hash_row_of).transpose()
    }
}
