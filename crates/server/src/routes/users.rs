//! Users (the admin's): list, create, change role, country or state.

use axum::extract::State;
use axum::http::StatusCode;
use tiaki_core::store::UserStore;
use tiaki_core::store::users::UserRow;
use tiaki_core::types::access::Role;
use tiaki_core::types::codes::ErrorAnswer;
use tiaki_core::users;

use crate::error::ApiResult;
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Every user.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<UserRow>,
}

/// A user to create.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub name: String,
    /// The agency's country (ISO alpha-2).
    pub country: String,
    pub role: Role,
    /// At least 12 characters; none for a token-only account.
    pub password: Option<String>,
}

/// A change to a user (fields left out stay as they are).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeRequest {
    pub role: Option<Role>,
    pub country: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = UserList),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList {
        users: state.store.users().await?,
    }))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUserRequest,
    responses(
        (status = 201, body = UserRow),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, description = "the name is taken", body = ErrorAnswer)))]
pub async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<UserRow>)> {
    let now = state.ctx.now();
    let store = state.store.clone();
    let row = users::add_user(
        &store,
        &new.name,
        &new.country,
        new.role,
        new.password.as_deref(),
        &now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Changes a user.
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "users", security(("bearer" = [])),
    params(("name" = String, Path, description = "user name")),
    request_body = UserChangeRequest,
    responses(
        (status = 200, body = UserRow),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn change(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(c): Json<UserChangeRequest>,
) -> ApiResult<Json<UserRow>> {
    let now = state.ctx.now();
    let row = users::change_user(
        &state.store,
        &name,
        c.role,
        c.country.as_deref(),
        c.disabled,
        c.password.as_deref(),
        &now,
    )
    .await?;
    // A disabled user's tokens stop answering here at once.
    state.tokens.clear();
    Ok(Json(row))
}
