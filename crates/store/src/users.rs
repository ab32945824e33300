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
    }
}
