// Users and API tokens: the SQL both backends share (see `sql/lists.rs` for
// how it is included).

use crate::users::{NewUser, SessionRow, TokenRow, UserChange, UserRow, UserStore};

const USER_COLUMNS: &str = "id, name, country, role, password, disabled, created_at, updated_at";

fn user_from_row(r: &DbRow) -> Result<UserRow, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        role: role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("users.role: {e}")))?,
        password: r.try_get("password")?,
        disabled: r.try_get("disabled")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn token_from_row(r: &DbRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    // SQLite: SQLITE_CONSTRAINT_UNIQUE (2067); PostgreSQL: unique_violation.
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("2067" | "23505")))
}

impl UserStore for Backend {
    async fn add_user(&self, new: &NewUser, now: &Timestamp) -> Result<UserRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (name, country, role, password, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {USER_COLUMNS}"
        )))
        .bind(&new.name)
        .bind(&new.country)
        .bind(new.role.name())
        .bind(&new.password)
        .bind(now.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::UserExists(new.name.clone())
            } else {
                StoreError::Db(e)
            }
        })?;
        user_from_row(&row)
    }

    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        now: &Timestamp,
    ) -> Result<UserRow, StoreError> {
        // COALESCE keeps what the change leaves unset; one statement, so
        // concurrent changes to different fields do not undo each other.
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE users SET role = COALESCE($2, role), country = COALESCE($3, country), \
             disabled = COALESCE($4, disabled), password = COALESCE($5, password), updated_at = $6 \
             WHERE name = $1 RETURNING {USER_COLUMNS}"
        )))
        .bind(name)
        .bind(change.role.map(|r| r.name()))
        .bind(&change.country)
        .bind(change.disabled)
        .bind(&change.password)
        .bind(now.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => user_from_row(&r),
            None => Err(StoreError::NoSuchUser(name.to_owned())),
        }
    }

    async fn add_token(
        &self,
        user_id: i64,
        token_sha256: &[u8; 32],
        expires_at: Option<&Timestamp>,
        now: &Timestamp,
    ) -> Result<TokenRow, StoreError> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_sha256, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING id, user_id, created_at, expires_at, revoked_at",
        )
        .bind(user_id)
        .bind(&token_sha256[..])
        .bind(now.as_str())
        .bind(expires_at.map(Timestamp::as_str))
        .fetch_one(&self.pool)
        .await?;
        token_from_row(&row)
    }

    async fn token_user(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<(UserRow, TokenRow)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.country, u.role, u.password, u.disabled, u.created_at, \
             u.updated_at, t.id AS token_id, t.created_at AS token_created_at, t.expires_at, \
             t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_sha256 = $1",
        )
        .bind(&token_sha256[..])
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row(&r)?;
        let token = TokenRow {
            id: r.try_get("token_id")?,
            user_id: user.id,
            created_at: r.try_get("token_created_at")?,
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
        };
        Ok(Some((user, token)))
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, created_at, expires_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_tokens(
        &self,
        user_id: i64,
        token_id: Option<i64>,
        now: &Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE user_id = $1 \
             AND ($2 IS NULL OR id = $2) AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(token_id)
        .bind(now.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn add_session(
        &self,
        user_id: i64,
        token_sha256: &[u8; 32],
        csrf: &str,
        now: &Timestamp,
        expires_at: &Timestamp,
    ) -> Result<SessionRow, StoreError> {
        let r = sqlx::query(
            "INSERT INTO sessions (user_id, token_sha256, csrf, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5) \
             RETURNING id, user_id, csrf, created_at, last_seen_at, expires_at",
        )
        .bind(user_id)
        .bind(&token_sha256[..])
        .bind(csrf)
        .bind(now.as_str())
        .bind(expires_at.as_str())
        .fetch_one(&self.pool)
        .await?;
        session_from_row(&r, "id", "created_at")
    }

    async fn session_user(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<(UserRow, SessionRow)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.country, u.role, u.password, u.disabled, u.created_at, \
             u.updated_at, s.id AS session_id, s.user_id, s.csrf, s.created_at AS session_created_at, \
             s.last_seen_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_sha256 = $1",
        )
        .bind(&token_sha256[..])
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((
            user_from_row(&r)?,
            session_from_row(&r, "session_id", "session_created_at")?,
        )))
    }

    async fn touch_session(&self, session_id: i64, now: &Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(session_id)
            .bind(now.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_sha256: &[u8; 32]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(&token_sha256[..])
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_login_failure(
        &self,
        name: &str,
        addr: &str,
        now: &Timestamp,
        prune_before: &Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(prune_before.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (name, addr, at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(addr)
            .bind(now.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(
        &self,
        name: &str,
        addr: &str,
        since: &Timestamp,
    ) -> Result<(u64, u64), StoreError> {
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE name = $1 AND at >= $3) AS by_name, \
             (SELECT COUNT(*) FROM login_failures WHERE addr = $2 AND at >= $3) AS by_addr",
        )
        .bind(name)
        .bind(addr)
        .bind(since.as_str())
        .fetch_one(&self.pool)
        .await?;
        let by_name: i64 = r.try_get("by_name")?;
        let by_addr: i64 = r.try_get("by_addr")?;
        Ok((
            u64::try_from(by_name).unwrap_or(0),
            u64::try_from(by_addr).unwrap_or(0),
        ))
    }

    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn session_from_row(r: &DbRow, id: &str, created: &str) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id: r.try_get(id)?,
        user_id: r.try_get("user_id")?,
        csrf: r.try_get("csrf")?,
        created_at: r.try_get(created)?,
        last_seen_at: r.try_get("last_seen_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}
