//! Liveness and readiness, without authentication (for a proxy or an
//! orchestrator; they say nothing about the data).

use axum::Json;
use axum::extract::State;
use tiaki_core::store::ListStore;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The answer of the probes.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (liveness) or `ready` (readiness).
    pub status: &'static str,
    /// Readiness: hashes in the loaded index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_size: Option<u64>,
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        index_size: None,
    })
}

/// The store answers and the index is loaded.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "ready", body = Health),
        (status = 503, description = "the store is unreachable", body = tiaki_core::types::codes::ErrorAnswer)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.generation().await.map_err(|e| ApiError::of(&e))?;
    let known = state.known.read().await;
    Ok(Json(Health {
        status: "ready",
        index_size: Some((known.index().pdq.len() + known.index().digests.len()) as u64),
    }))
}
