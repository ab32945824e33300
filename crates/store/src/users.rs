//! Users and API tokens of the service (`migrations/*/0010_users.sql`).
//! The store keeps what it is given: password hashing, token generation and
//! who may do what are `tiaki_core::users` and `tiaki_core::access`.

use tiaki_types::access::Role;

use crate::{StoreError, Timestamp};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    /// The agency's country (ISO alpha-2).
    pub country: String,
    pub role: Role,
    /// Argon2id PHC string; `None` for a token-only account.
    pub password: Option<String>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub country: String,
    pub role: Role,
    #[serde(skip)]
    pub password: Option<String>,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What to change about a user (unset fields stay as they are).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub country: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// A stored API token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A stored browser session (never the cookie's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub csrf: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
}

crate::surface::store_trait! {
    /// The storage interface of users and their API tokens.
    pub trait UserStore {
        /// Creates a user; a taken name is [`StoreError::UserExists`].
        async fn add_user(&self, new: &NewUser, now: &Timestamp) -> Result<UserRow, StoreError>;
        /// Every user, by name.
        async fn users(&self) -> Result<Vec<UserRow>, StoreError>;
        async fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError>;
        /// Changes a user; an unknown name is [`StoreError::NoSuchUser`].
        async fn update_user(
            &self,
            name: &str,
            change: &UserChange,
            now: &Timestamp,
        ) -> Result<UserRow, StoreError>;
        /// Keeps a new token's SHA-256 for a user.
        async fn add_token(
            &self,
            user_id: i64,
            token_sha256: &[u8; 32],
            expires_at: Option<&Timestamp>,
            now: &Timestamp,
        ) -> Result<TokenRow, StoreError>;
        /// The user and token of a token's SHA-256, whatever their state
        /// (the caller decides whether it still answers).
        async fn token_user(
            &self,
            token_sha256: &[u8; 32],
        ) -> Result<Option<(UserRow, TokenRow)>, StoreError>;
        /// A user's tokens, newest first.
        async fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>, StoreError>;
        /// Revokes one token of a user (`token_id`) or all of them; returns
        /// how many were revoked now.
        async fn revoke_tokens(
            &self,
            user_id: i64,
            token_id: Option<i64>,
            now: &Timestamp,
        ) -> Result<u64, StoreError>;
        /// Keeps a new session's SHA-256.
        async fn add_session(
            &self,
            user_id: i64,
            token_sha256: &[u8; 32],
            csrf: &str,
            now: &Timestamp,
            expires_at: &Timestamp,
        ) -> Result<SessionRow, StoreError>;
        /// The user and session of a session cookie's SHA-256, whatever
        /// their state.
        async fn session_user(
            &self,
            token_sha256: &[u8; 32],
        ) -> Result<Option<(UserRow, SessionRow)>, StoreError>;
        /// Records activity on a session (its idle timeout starts again).
        async fn touch_session(&self, session_id: i64, now: &Timestamp) -> Result<(), StoreError>;
        /// Ends a session; whether there was one.
        async fn delete_session(&self, token_sha256: &[u8; 32]) -> Result<bool, StoreError>;
        /// Records a failed login, and drops failures older than `prune_before`.
        async fn add_login_failure(
            &self,
            name: &str,
            addr: &str,
            now: &Timestamp,
            prune_before: &Timestamp,
        ) -> Result<(), StoreError>;
        /// Failed logins since `since`: (for this name, from this address).
        async fn login_failures(
            &self,
            name: &str,
            addr: &str,
            since: &Timestamp,
        ) -> Result<(u64, u64), StoreError>;
        /// Forgets a name's failures (after a successful login).
        async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError>;
    }
}
