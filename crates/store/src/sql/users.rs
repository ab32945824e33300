// Users and API tokens: the SQL both backends share (see `sql/lists.rs` for
// how it is included).

use crate::users::{NewUser, TokenRow, UserChange, UserRow, UserStore};

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
}
