//! Known lists: listing and enabling.

use axum::extract::State;
use tiaki_core::store::ListInfo;
use tiaki_core::store::StoreError;
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Every known list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ListList {
    pub lists: Vec<ListInfo>,
}

/// Every known list with its entry count.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])),
    responses(
        (status = 200, body = ListList),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<ListList>> {
    let lists = state.known.read().await.lists().await?;
    Ok(Json(ListList { lists }))
}

/// Enabling or disabling a list.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListChange {
    pub enabled: bool,
}

/// Enables or disables a list (a disabled list matches nothing; its
/// entries and the index stay as they are).
#[utoipa::path(patch, path = "/api/v1/lists/{name}", tag = "lists", security(("bearer" = [])),
    params(("name" = String, Path, description = "list name")),
    request_body = ListChange,
    responses(
        (status = 200, body = ListInfo),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn set_enabled(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(change): Json<ListChange>,
) -> ApiResult<Json<ListInfo>> {
    let known = state.known.read().await;
    match known.set_enabled(&name, change.enabled).await {
        Ok(l) => Ok(Json(l)),
        Err(StoreError::NoSuchList(_)) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}
