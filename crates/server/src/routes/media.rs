//! Media: one item's metadata and its matches against the known lists.
//! Metadata only: no route of the service hands out a media file.

use axum::extract::State;
use tiaki_core::triage::{self, MediaDetail};
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// One media item: its hashes as stored, size and type, the accounts that
/// uploaded and shared it, its report, its triage state, and every match
/// with the list entry it hit. Each call is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "intakes", security(("bearer" = [])),
    params(("id" = i64, Path, description = "media id (`media.id`: the ids triage clusters list as members)")),
    responses(
        (status = 200, body = MediaDetail),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<MediaDetail>> {
    triage::media(&state.store, id)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}
