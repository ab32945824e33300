// The audit log: the SQL both backends share (see `sql/lists.rs` for how it
// is included). The backend supplies `begin_audit`, the transaction that
// holds the writer lock before the head is read.

use crate::audit::{AuditCheckpoint, AuditEntry, AuditFilter, AuditStore, GENESIS_HASH, Seal};

const AUDIT_COLUMNS: &str =
    "seq, at, actor, actor_role, country, action, target, detail, remote_addr, prev_hash, hash";

fn audit_from_row(r: &DbRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        actor_role: r.try_get("actor_role")?,
        country: r.try_get("country")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        detail: r.try_get("detail")?,
        remote_addr: r.try_get("remote_addr")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl AuditStore for Backend {
    async fn append_audit(
        &self,
        entry: &AuditEntry,
        seal: Seal<'_>,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = begin_audit(&self.pool).await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, prev_hash) = match head {
            Some(r) => (r.try_get::<i64, _>("seq")? + 1, r.try_get::<String, _>("hash")?),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let mut row = entry.clone();
        row.seq = seq;
        row.prev_hash = prev_hash;
        row.hash = seal(&row);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, actor_role, country, action, target, detail, \
             remote_addr, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(row.seq)
        .bind(&row.at)
        .bind(&row.actor)
        .bind(&row.actor_role)
        .bind(&row.country)
        .bind(&row.action)
        .bind(&row.target)
        .bind(&row.detail)
        .bind(&row.remote_addr)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT ");
        qb.push(AUDIT_COLUMNS);
        qb.push(" FROM audit_log WHERE seq > ");
        qb.push_bind(filter.after);
        if let Some(actor) = &filter.actor {
            qb.push(" AND actor = ");
            qb.push_bind(actor.clone());
        }
        if let Some(since) = &filter.since {
            qb.push(" AND at >= ");
            qb.push_bind(since.clone());
        }
        if let Some(action) = &filter.action {
            qb.push(" AND action = ");
            qb.push_bind(action.clone());
        }
        qb.push(" ORDER BY seq LIMIT ");
        qb.push_bind(i64::from(filter.limit));
        let rows = qb.build().fetch_all(&self.pool).await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_chain_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_seq_of_hash(&self, hash: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT seq FROM audit_log WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("seq")?),
            None => None,
        })
    }

    async fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"
        )))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(audit_from_row).transpose()
    }

    async fn add_audit_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, head_hash, at, signature) VALUES ($1, $2, $3, $4)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.head_hash)
        .bind(&checkpoint.at)
        .bind(&checkpoint.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_checkpoints(&self) -> Result<Vec<AuditCheckpoint>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, head_hash, at, signature FROM audit_checkpoints ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditCheckpoint {
                    seq: r.try_get("seq")?,
                    head_hash: r.try_get("head_hash")?,
                    at: r.try_get("at")?,
                    signature: r.try_get("signature")?,
                })
            })
            .collect()
    }
}
