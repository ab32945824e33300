// HMA banks and contents: the SQL both backends share (see `sql/lists.rs`
// for how it is included; `entry_from_row`, `insert_entries` and
// `ENTRY_COLUMNS` come from there).

use crate::banks::{BankChange, BankContent, BankInfo, BankStore, ContentChange, Removed};

const BANK_COLUMNS: &str = "id, name, enabled, enabled_ratio, negative";

/// The next entry id: above every id stored and every id ever removed, so
/// ids are never reused (what incremental index catch-up rests on).
const NEXT_ENTRY_ID: &str = "SELECT COALESCE(MAX(m.id), 0) + 1 FROM \
     (SELECT MAX(id) AS id FROM entries UNION ALL SELECT MAX(entry_id) AS id FROM entry_removals) m";

fn bank_from_row(r: &DbRow) -> Result<BankInfo, StoreError> {
    Ok(BankInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        enabled: r.try_get("enabled")?,
        enabled_ratio: r.try_get("enabled_ratio")?,
        negative: r.try_get("negative")?,
    })
}

fn content_from_row(r: &DbRow) -> Result<BankContent, StoreError> {
    let e = entry_from_row(r)?;
    Ok(BankContent {
        id: e.id,
        list_id: e.list_id,
        disable_until_ts: r.try_get("disable_until_ts")?,
        entry: e.entry,
    })
}

fn i64_id(id: EntryId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A unique-key violation (a bank name taken) as [`StoreError::ListExists`].
fn name_taken(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::ListExists(name.to_string())
        }
        _ => StoreError::Db(e),
    }
}

/// Takes the entries lock (PostgreSQL) and the write lock (SQLite: this is
/// the transaction's first write) and bumps the generation: the new one.
async fn bump_generation(conn: &mut DbConn) -> Result<u64, StoreError> {
    lock_entries(conn).await?;
    let v: String = sqlx::query_scalar(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) \
         WHERE key = 'index_generation' RETURNING value",
    )
    .fetch_one(&mut *conn)
    .await?;
    v.parse()
        .map_err(|_| StoreError::Corrupt(format!("index generation {v:?}")))
}

/// Logs `ids` as removed at `generation` and deletes them.
async fn remove_entries(
    conn: &mut DbConn,
    ids: &[i64],
    generation: u64,
) -> Result<(), StoreError> {
    let g = i64::try_from(generation).unwrap_or(i64::MAX);
    for chunk in ids.chunks(500) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO entry_removals (entry_id, generation) ");
        qb.push_values(chunk, |mut b, id| {
            b.push_bind(*id).push_bind(g);
        });
        qb.build().execute(&mut *conn).await?;
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("DELETE FROM entries WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

impl Backend {
    async fn bank_by_id(&self, id: i64) -> Result<Option<BankInfo>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM lists WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(bank_from_row).transpose()
    }
}

impl BankStore for Backend {
    async fn banks(&self) -> Result<Vec<BankInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM lists ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(bank_from_row).collect()
    }

    async fn bank(&self, name: &str) -> Result<Option<BankInfo>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM lists WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(bank_from_row).transpose()
    }

    async fn create_bank(
        &self,
        name: &str,
        enabled: bool,
        enabled_ratio: f64,
        now: &Timestamp,
    ) -> Result<BankInfo, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO lists (name, source, format, imported_at, enabled, enabled_ratio) \
             VALUES ($1, 'hma', 'hma', $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(now.as_str())
        .bind(enabled)
        .bind(enabled_ratio)
        .fetch_optional(&self.pool)
        .await?;
        let Some(id) = id else {
            return Err(StoreError::ListExists(name.to_string()));
        };
        self.bank_by_id(id)
            .await?
            .ok_or_else(|| StoreError::NoSuchList(name.to_string()))
    }

    async fn update_bank(
        &self,
        name: &str,
        change: &BankChange,
    ) -> Result<Option<BankInfo>, StoreError> {
        let Some(bank) = self.bank(name).await? else {
            return Ok(None);
        };
        let new_name = change.name.as_deref().unwrap_or(&bank.name);
        sqlx::query(
            "UPDATE lists SET name = $1, enabled = $2, enabled_ratio = $3 WHERE id = $4",
        )
        .bind(new_name)
        .bind(change.enabled.unwrap_or(bank.enabled))
        .bind(change.enabled_ratio.unwrap_or(bank.enabled_ratio))
        .bind(bank.id)
        .execute(&self.pool)
        .await
        .map_err(|e| name_taken(e, new_name))?;
        self.bank_by_id(bank.id).await
    }

    async fn delete_bank(&self, name: &str) -> Result<Option<Removed>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let generation = bump_generation(&mut tx).await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM lists WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            // Dropping `tx` rolls the bump back.
            return Ok(None);
        };
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM entries WHERE list_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        remove_entries(&mut tx, &ids, generation).await?;
        sqlx::query("DELETE FROM lists WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Removed {
            entries: ids.len() as u64,
            generation,
        }))
    }

    async fn add_entry(
        &self,
        list_id: i64,
        entry: &ListEntry,
    ) -> Result<(EntryId, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let generation = bump_generation(&mut tx).await?;
        let id: i64 = sqlx::query_scalar(NEXT_ENTRY_ID)
            .fetch_one(&mut *tx)
            .await?;
        let mut plan = InsertPlan::new();
        insert_entries(&mut tx, list_id, id, vec![entry.clone()], &mut plan).await?;
        tx.commit().await?;
        let id = u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("entry id {id}")))?;
        Ok((id, generation))
    }

    async fn content(&self, id: EntryId) -> Result<Option<BankContent>, StoreError> {
        Ok(self.contents_by_ids(&[id]).await?.pop())
    }

    async fn contents_by_ids(&self, ids: &[EntryId]) -> Result<Vec<BankContent>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {ENTRY_COLUMNS}, disable_until_ts FROM entries WHERE id IN ("
            ));
            let mut sep = qb.separated(", ");
            for &id in chunk {
                sep.push_bind(i64_id(id));
            }
            qb.push(") ORDER BY id");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.push(content_from_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn update_content(
        &self,
        id: EntryId,
        change: &ContentChange,
    ) -> Result<Option<BankContent>, StoreError> {
        let Some(c) = self.content(id).await? else {
            return Ok(None);
        };
        let note = match &change.note {
            Some(n) => n.clone(),
            None => c.entry.note,
        };
        sqlx::query("UPDATE entries SET disable_until_ts = $1, note = $2 WHERE id = $3")
            .bind(change.disable_until_ts.or(c.disable_until_ts))
            .bind(note)
            .bind(i64_id(id))
            .execute(&self.pool)
            .await?;
        self.content(id).await
    }

    async fn delete_content(&self, id: EntryId) -> Result<Option<Removed>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let generation = bump_generation(&mut tx).await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM entries WHERE id = $1")
            .bind(i64_id(id))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        remove_entries(&mut tx, &[found], generation).await?;
        tx.commit().await?;
        Ok(Some(Removed {
            entries: 1,
            generation,
        }))
    }
}
