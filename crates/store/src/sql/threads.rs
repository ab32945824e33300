// Referral threads: the SQL both backends share (see `sql/lists.rs` for how
// it is included).

use crate::threads::{
    NewThreadMessage, ReadReceipt, ThreadAttachment, ThreadAuthor, ThreadMessage, ThreadStore,
    UnreadCount,
};

const ATTACHMENT_COLUMNS: &str = "a.id, a.message_id, a.file_name, a.content_type, a.size, a.sha256";

fn role_of(text: &str, column: &str) -> Result<tiaki_types::access::Role, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn attachment_from_row(r: &DbRow) -> Result<ThreadAttachment, StoreError> {
    Ok(ThreadAttachment {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: u64_of(r.try_get("size")?),
        sha256: r.try_get("sha256")?,
    })
}

fn message_from_row(r: &DbRow) -> Result<ThreadMessage, StoreError> {
    let role: String = r.try_get("author_role")?;
    Ok(ThreadMessage {
        id: r.try_get("id")?,
        referral_id: r.try_get("referral_id")?,
        author: ThreadAuthor {
            name: r.try_get("author_name")?,
            role: role_of(&role, "thread_messages.author_role")?,
            country: r.try_get("author_country")?,
        },
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        attachments: Vec::new(),
        read_by: Vec::new(),
    })
}

/// The outcome events that show a country at work on a referral (the
/// state events `acknowledged` and `closed` are also a coordinator's marks,
/// so they do not).
const ENGAGING_OUTCOMES: &str = "'investigation_opened', 'arrest', 'children_safeguarded', 'note'";

impl ThreadStore for Backend {
    async fn add_thread_message(
        &self,
        new: &NewThreadMessage,
        now: &Timestamp,
    ) -> Result<ThreadMessage, StoreError> {
        let mut tx = self.pool.begin().await?;
        let known: Option<String> = sqlx::query_scalar("SELECT id FROM referrals WHERE id = $1")
            .bind(&new.referral_id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(StoreError::NoSuchReferral(new.referral_id.clone()));
        }
        let row = sqlx::query(
            "INSERT INTO thread_messages (referral_id, author_id, author_name, author_role, \
             author_country, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, referral_id, author_name, author_role, author_country, body, created_at",
        )
        .bind(&new.referral_id)
        .bind(new.author_id)
        .bind(&new.author_name)
        .bind(new.author_role.name())
        .bind(&new.author_country)
        .bind(&new.body)
        .bind(now.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let mut message = message_from_row(&row)?;
        for a in &new.attachments {
            let size = i64::try_from(a.size)
                .map_err(|_| StoreError::Corrupt(format!("attachment size {}", a.size)))?;
            let row = sqlx::query(
                "INSERT INTO thread_attachments (message_id, file_name, content_type, size, sha256) \
                 VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id, message_id, file_name, content_type, size, sha256",
            )
            .bind(message.id)
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(size)
            .bind(&a.sha256)
            .fetch_one(&mut *tx)
            .await?;
            message.attachments.push(attachment_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(message)
    }

    async fn thread_messages(&self, referral_id: &str) -> Result<Vec<ThreadMessage>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, referral_id, author_name, author_role, author_country, body, created_at \
             FROM thread_messages WHERE referral_id = $1 ORDER BY id",
        )
        .bind(referral_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Messages are in id order: attach the rest by binary search.
        let find = |messages: &[ThreadMessage], id: i64| {
            messages.binary_search_by_key(&id, |m| m.id).ok()
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM thread_attachments a \
             JOIN thread_messages m ON m.id = a.message_id WHERE m.referral_id = $1 ORDER BY a.id"
        )))
        .bind(referral_id)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let a = attachment_from_row(r)?;
            if let Some(i) = find(&messages, a.message_id) {
                messages[i].attachments.push(a);
            }
        }
        let rows = sqlx::query(
            "SELECT t.message_id, u.name, u.role, u.country, t.read_at FROM thread_reads t \
             JOIN thread_messages m ON m.id = t.message_id JOIN users u ON u.id = t.user_id \
             WHERE m.referral_id = $1 ORDER BY t.message_id, t.read_at, u.name",
        )
        .bind(referral_id)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let message_id: i64 = r.try_get("message_id")?;
            let role: String = r.try_get("role")?;
            let receipt = ReadReceipt {
                name: r.try_get("name")?,
                role: role_of(&role, "users.role")?,
                country: r.try_get("country")?,
                read_at: r.try_get("read_at")?,
            };
            if let Some(i) = find(&messages, message_id) {
                messages[i].read_by.push(receipt);
            }
        }
        Ok(messages)
    }

    async fn thread_attachment(
        &self,
        referral_id: &str,
        attachment_id: i64,
    ) -> Result<Option<ThreadAttachment>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM thread_attachments a \
             JOIN thread_messages m ON m.id = a.message_id WHERE a.id = $1 AND m.referral_id = $2"
        )))
        .bind(attachment_id)
        .bind(referral_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attachment_from_row).transpose()
    }

    async fn mark_thread_read(
        &self,
        referral_id: &str,
        user_id: i64,
        up_to: Option<i64>,
        now: &Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO thread_reads (message_id, user_id, read_at) \
             SELECT m.id, $2, $3 FROM thread_messages m \
             WHERE m.referral_id = $1 AND m.author_id <> $2 AND m.id <= $4 \
             ON CONFLICT DO NOTHING",
        )
        .bind(referral_id)
        .bind(user_id)
        .bind(now.as_str())
        .bind(up_to.unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn thread_unread(
        &self,
        user_id: i64,
        country: Option<&str>,
    ) -> Result<Vec<UnreadCount>, StoreError> {
        let filter = if country.is_some() {
            "r.country = $2"
        } else {
            "$2 IS NULL"
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT m.referral_id, COUNT(*) AS unread FROM thread_messages m \
             JOIN referrals r ON r.id = m.referral_id \
             WHERE {filter} AND m.author_id <> $1 AND NOT EXISTS \
             (SELECT 1 FROM thread_reads t WHERE t.message_id = m.id AND t.user_id = $1) \
             GROUP BY m.referral_id ORDER BY m.referral_id"
        )))
        .bind(user_id)
        .bind(country)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UnreadCount {
                    referral_id: r.try_get("referral_id")?,
                    unread: u64_of(r.try_get("unread")?),
                })
            })
            .collect()
    }

    async fn engaged_countries(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT DISTINCT r.country FROM referrals r \
             WHERE r.state IN ('acknowledged', 'investigating', 'closed') AND (\
             EXISTS (SELECT 1 FROM thread_messages m WHERE m.referral_id = r.id \
             AND m.author_role = 'liaison' AND UPPER(m.author_country) = UPPER(r.country)) \
             OR EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id \
             AND e.event IN ({ENGAGING_OUTCOMES}))) ORDER BY r.country"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
