// Known lists: the SQL both backends share. Included by `sqlite.rs` and
// `postgres.rs`, each of which defines `Backend` (its store type), `Db`,
// `DbRow`, `DbConn` and `lock_entries`; see ARCHITECTURE.md for why the
// code is shared this way rather than through `sqlx::Any`.

use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use tiaki_formats::model::HexDigest;
use tiaki_formats::{Category, CategoryScheme, ListEntry, PdqEntry};
use tiaki_hash::pdq::PdqHash;
use tiaki_index::EntryId;
use tokio::sync::mpsc;
use std::str::FromStr;
use std::sync::Arc;

use crate::json_page::{SqlBool, hex_bytes, parse_page};
use crate::{Feed, Imported, ListInfo, ListStore, NewList, StoreError, StoredEntry, Timestamp};

/// Rows per multi-row INSERT: 23 columns × 400 stays far below SQLite's
/// 32766 (and PostgreSQL's 65535) bound parameters.
const INSERT_ROWS: usize = 400;

const LIST_COLUMNS: &str = "l.id, l.name, l.source, l.format, l.imported_at, l.category_scheme, l.enabled, \
     l.negative, l.distance, l.extra, l.file_sha256, (SELECT COUNT(*) FROM entries e WHERE e.list_id = l.id) AS entry_count";

const ENTRY_COLUMNS: &str = "id, list_id, md5, sha1, sha256, pdq, pdq_quality, vpdq, photodna, category_scheme, \
     category_code, category_class, series, victim_identified, offender_identified, distributed, baseline, \
     submissions, size, note, source_id, case_id, extra";

fn list_from_row(r: &DbRow) -> Result<ListInfo, StoreError> {
    let extra: String = r.try_get("extra")?;
    let distance: Option<i64> = r.try_get("distance")?;
    let count: i64 = r.try_get("entry_count")?;
    Ok(ListInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        format: r.try_get("format")?,
        imported_at: r.try_get("imported_at")?,
        category_scheme: r.try_get("category_scheme")?,
        enabled: r.try_get("enabled")?,
        negative: r.try_get("negative")?,
        distance: distance.and_then(|d| u32::try_from(d).ok()),
        entries: u64::try_from(count).unwrap_or(0),
        file_sha256: r.try_get("file_sha256")?,
        extra: serde_json::from_str(&extra)
            .map_err(|e| StoreError::Corrupt(format!("list extra: {e}")))?,
    })
}

fn digest<const N: usize>(
    v: Option<Vec<u8>>,
    what: &str,
) -> Result<Option<HexDigest<N>>, StoreError> {
    v.map(|b| {
        <[u8; N]>::try_from(b.as_slice())
            .map(HexDigest)
            .map_err(|_| StoreError::Corrupt(format!("{what} of {} bytes", b.len())))
    })
    .transpose()
}

/// A serde enum's text name (`vics-us`, `pertinent`).
fn enum_name<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

fn enum_parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn entry_from_row(r: &DbRow) -> Result<StoredEntry, StoreError> {
    let id: i64 = r.try_get("id")?;
    let pdq: Option<Vec<u8>> = r.try_get("pdq")?;
    let pdq_quality: Option<i64> = r.try_get("pdq_quality")?;
    let pdq = match pdq {
        None => None,
        Some(b) => {
            let arr = <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
                StoreError::Corrupt(format!("PDQ of {} bytes in entry {id}", b.len()))
            })?;
            Some(PdqEntry {
                hash: PdqHash::from_bytes(&arr),
                quality: pdq_quality.and_then(|q| u8::try_from(q).ok()),
            })
        }
    };
    let vpdq: Option<String> = r.try_get("vpdq")?;
    let vpdq = vpdq
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("vPDQ of entry {id}: {e}")))?;
    let scheme: Option<String> = r.try_get("category_scheme")?;
    let code: Option<String> = r.try_get("category_code")?;
    let class: Option<String> = r.try_get("category_class")?;
    let category = match (scheme, code) {
        (Some(s), Some(code)) => Some(Category {
            scheme: CategoryScheme::from_str(&s).unwrap_or(CategoryScheme::Unknown),
            raw_code: code,
            mapped: class.as_deref().and_then(enum_parse),
        }),
        _ => None,
    };
    let extra: String = r.try_get("extra")?;
    let extra = serde_json::from_str(&extra)
        .map_err(|e| StoreError::Corrupt(format!("extra of entry {id}: {e}")))?;
    let to_u64 = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    Ok(StoredEntry {
        id: u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("entry id {id}")))?,
        list_id: r.try_get("list_id")?,
        entry: ListEntry {
            md5: digest(r.try_get("md5")?, "MD5")?,
            sha1: digest(r.try_get("sha1")?, "SHA-1")?,
            sha256: digest(r.try_get("sha256")?, "SHA-256")?,
            pdq,
            vpdq,
            photodna: r.try_get("photodna")?,
            category,
            series: r.try_get("series")?,
            victim_identified: r.try_get("victim_identified")?,
            offender_identified: r.try_get("offender_identified")?,
            distributed: r.try_get("distributed")?,
            baseline: r.try_get("baseline")?,
            submissions: to_u64(r.try_get("submissions")?),
            size: to_u64(r.try_get("size")?),
            note: r.try_get("note")?,
            source_id: r.try_get("source_id")?,
            case_id: r.try_get("case_id")?,
            deleted: false,
            extra,
        },
    })
}

/// What one import reuses across its insert batches: the SQL of a full
/// chunk (built and looked up in the statement cache once, not per chunk)
/// and shared copies of the short texts most rows repeat, so a row costs no
/// allocation for them.
struct InsertPlan {
    full_chunk: Arc<str>,
    texts: HashMap<String, Arc<str>>,
}

impl InsertPlan {
    fn new() -> Self {
        InsertPlan {
            full_chunk: insert_sql(INSERT_ROWS),
            texts: HashMap::new(),
        }
    }

    /// A shared copy of `s`.
    fn text(&mut self, s: &str) -> Arc<str> {
        if let Some(t) = self.texts.get(s) {
            return Arc::clone(t);
        }
        let t: Arc<str> = Arc::from(s);
        // Bounded: scheme and class names, a few empty `extra`s.
        if self.texts.len() < 1024 {
            self.texts.insert(s.to_string(), Arc::clone(&t));
        }
        t
    }
}

/// `INSERT INTO entries (…) VALUES (…), …` for `rows` rows, with the
/// backend's placeholders.
fn insert_sql(rows: usize) -> Arc<str> {
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("INSERT INTO entries ({ENTRY_COLUMNS}) "));
    let columns = ENTRY_COLUMNS.split(',').count();
    qb.push_values(0..rows, |mut b, _| {
        for _ in 0..columns {
            b.push_bind(None::<i64>);
        }
    });
    Arc::from(qb.sql().as_str())
}

/// Inserts `batch` (consumed: its strings move into the bound arguments
/// instead of being copied).
async fn insert_entries(
    conn: &mut DbConn,
    list_id: i64,
    first_id: i64,
    batch: Vec<ListEntry>,
    plan: &mut InsertPlan,
) -> Result<(), StoreError> {
    let mut next = first_id;
    let mut left = batch.len();
    let mut rows = batch.into_iter();
    while left > 0 {
        // Taken straight from the batch: entries are large, and copying
        // them into a chunk vector showed in profiles.
        let n = left.min(INSERT_ROWS);
        left -= n;
        let chunk = rows.by_ref().take(n);
        let sql = if n == INSERT_ROWS {
            Arc::clone(&plan.full_chunk)
        } else {
            insert_sql(n)
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        let i64_of = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        for e in chunk {
            let (scheme, code, class) = match e.category {
                Some(c) => (
                    Some(plan.text(c.scheme.name())),
                    Some(c.raw_code),
                    c.mapped
                        .as_ref()
                        .and_then(enum_name)
                        .map(|n| plan.text(&n)),
                ),
                None => (None, None, None),
            };
            let extra = if e.extra.is_empty() {
                plan.text("{}")
            } else {
                Arc::from(serde_json::Value::Object(e.extra).to_string())
            };
            q = q
                .bind(next)
                .bind(list_id)
                .bind(e.md5.map(|d| d.0.to_vec()))
                .bind(e.sha1.map(|d| d.0.to_vec()))
                .bind(e.sha256.map(|d| d.0.to_vec()))
                .bind(e.pdq.map(|p| p.hash.to_bytes().to_vec()))
                .bind(e.pdq.and_then(|p| p.quality).map(i64::from))
                .bind(e.vpdq.as_ref().and_then(|v| serde_json::to_string(v).ok()))
                .bind(e.photodna)
                .bind(scheme)
                .bind(code)
                .bind(class)
                .bind(e.series)
                .bind(e.victim_identified)
                .bind(e.offender_identified)
                .bind(e.distributed)
                .bind(e.baseline)
                .bind(i64_of(e.submissions))
                .bind(i64_of(e.size))
                .bind(e.note)
                .bind(e.source_id)
                .bind(e.case_id)
                .bind(extra);
            next += 1;
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn read_generation(conn: &mut DbConn) -> Result<u64, StoreError> {
    let v: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'index_generation'")
        .fetch_one(&mut *conn)
        .await?;
    v.parse()
        .map_err(|_| StoreError::Corrupt(format!("index generation {v:?}")))
}

impl ListStore for Backend {
    async fn lists(&self) -> Result<Vec<ListInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM lists l ORDER BY l.name"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(list_from_row).collect()
    }

    async fn list(&self, name: &str) -> Result<ListInfo, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM lists l WHERE l.name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => list_from_row(&r),
            None => Err(StoreError::NoSuchList(name.to_string())),
        }
    }

    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ListInfo, StoreError> {
        let done = sqlx::query("UPDATE lists SET enabled = $1 WHERE name = $2")
            .bind(enabled)
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchList(name.to_string()));
        }
        self.list(name).await
    }

    async fn generation(&self) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_generation(&mut conn).await
    }

    async fn import_list(
        &self,
        new: &NewList,
        now: &Timestamp,
        feed: &mut mpsc::Receiver<Feed>,
        on_batch: &mut (dyn FnMut(EntryId, &[ListEntry]) + Send),
    ) -> Result<Imported, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Write first: from here on this transaction holds the write lock,
        // so MAX(id) below cannot move under us.
        let list_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO lists (name, source, format, imported_at, negative, distance, file_sha256) \
             VALUES ($1, $2, 'unknown', $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.source)
        .bind(now.as_str())
        .bind(new.negative)
        .bind(new.distance.map(i64::from))
        .bind(&new.file_sha256)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(list_id) = list_id else {
            return Err(StoreError::ListExists(new.name.clone()));
        };
        lock_entries(&mut tx).await?;
        // Above every id ever given, removed ones included (`sql/banks.rs`).
        let mut next: i64 = sqlx::query_scalar(NEXT_ENTRY_ID)
            .fetch_one(&mut *tx)
            .await?;
        let mut entries = 0u64;
        let mut plan = InsertPlan::new();
        while let Some(msg) = feed.recv().await {
            match msg {
                Feed::Entries(batch) => {
                    // Indexed first so the insert can take the entries; a
                    // failed import reloads the index from its file.
                    on_batch(u64::try_from(next).unwrap_or(0), &batch);
                    let n = batch.len();
                    insert_entries(&mut tx, list_id, next, batch, &mut plan).await?;
                    next += i64::try_from(n).unwrap_or(i64::MAX);
                    entries += n as u64;
                }
                // Dropping `tx` rolls the whole import back.
                Feed::Failed(e) => return Err(StoreError::Import(e)),
                Feed::End(summary) => {
                    let meta = &summary.meta;
                    let extra = serde_json::json!({
                        "format_version": meta.format_version,
                        "document_kind": meta.document_kind,
                        "profile": meta.profile,
                        "cases": meta.cases,
                        "extra": meta.extra,
                        "rejected": summary.rejected,
                        "deleted": summary.deleted,
                    });
                    sqlx::query(
                        "UPDATE lists SET format = $1, category_scheme = $2, extra = $3, \
                         source = COALESCE(source, $4) WHERE id = $5",
                    )
                    .bind(meta.format.name())
                    .bind(meta.category_scheme.map(|s| s.name()))
                    .bind(extra.to_string())
                    .bind(&meta.source)
                    .bind(list_id)
                    .execute(&mut *tx)
                    .await?;
                    let generation = read_generation(&mut tx).await? + 1;
                    sqlx::query("UPDATE meta SET value = $1 WHERE key = 'index_generation'")
                        .bind(generation.to_string())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(Imported {
                        list_id,
                        entries,
                        generation,
                        summary,
                    });
                }
            }
        }
        Err(StoreError::ImportAborted)
    }

    async fn entries_page(
        &self,
        list_id: Option<i64>,
        after: EntryId,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = match list_id {
            Some(l) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {ENTRY_COLUMNS} FROM entries WHERE list_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                )))
                .bind(l)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(AssertSqlSafe(format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id > $1 ORDER BY id LIMIT $2")))
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(entry_from_row).collect()
    }

    async fn entries_by_ids(&self, ids: &[EntryId]) -> Result<Vec<StoredEntry>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new(format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id IN ("));
            let mut sep = qb.separated(", ");
            for &id in chunk {
                sep.push_bind(i64::try_from(id).unwrap_or(i64::MAX));
            }
            qb.push(")");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.push(entry_from_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn entry_ids_of_list(&self, list_id: i64) -> Result<Vec<EntryId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM entries WHERE list_id = $1")
            .bind(list_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|i| u64::try_from(i).ok())
            .collect())
    }

    async fn removed_since(&self, generation: u64) -> Result<Vec<EntryId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT entry_id FROM entry_removals WHERE generation > $1 ORDER BY entry_id",
        )
        .bind(i64::try_from(generation).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().filter_map(|i| u64::try_from(i).ok()).collect())
    }
}
