//! Persons (linked accounts) with their linking and attribution evidence.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tiaki_core::store::LinkStore;
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// Filters of the person list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PersonFilter {
    /// Only persons attributed to this country (ISO alpha-2).
    pub country: Option<String>,
}

/// Persons, with their member accounts and attribution
/// (`tiaki persons --json`).
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", security(("bearer" = [])),
    params(PersonFilter),
    responses(
        (status = 200, description = "`{\"persons\": [...]}` as `tiaki persons --json` prints them", content_type = "application/json"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(
    State(state): State<AppState>,
    Query(f): Query<PersonFilter>,
) -> ApiResult<Response> {
    let persons = state.store.persons(f.country.as_deref()).await?;
    Ok(Json(serde_json::json!({ "persons": persons })).into_response())
}

/// One person by id or label, with every link and its evidence.
#[utoipa::path(get, path = "/api/v1/persons/{key}", tag = "persons", security(("bearer" = [])),
    params(("key" = String, Path, description = "person id or label")),
    responses(
        (status = 200, description = "the person, its members, attribution and links", content_type = "application/json"),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn show(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Response> {
    let p = state
        .store
        .person(&key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(p).into_response())
}
