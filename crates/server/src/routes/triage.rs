//! The triage queue: new material first, near-duplicate clusters with
//! their occurrence counts (`tiaki triage --json`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tiaki_core::triage::{self, TriageOptions};
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// Which part of the queue.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TriageQuery {
    /// Only the media of this intake.
    pub intake: Option<i64>,
    /// Clusters to skip (paging).
    pub offset: Option<usize>,
    /// Clusters to answer, at most 1,000 (default 100).
    pub limit: Option<usize>,
    /// Member ids listed per cluster, at most 1,000 (default 50; `media`
    /// always counts them all).
    pub members: Option<usize>,
}

/// Clusters of near-duplicate media, new first, then near-known, then
/// known; known clusters with their matches.
#[utoipa::path(get, path = "/api/v1/triage", tag = "intakes", security(("bearer" = [])),
    params(TriageQuery),
    responses(
        (status = 200, description = "`{\"total\": N, \"clusters\": [{\"state\", \"media\", \"accounts\", \"reports\", \"representative\", \"pdq\", \"sha256\", \"members\", \"matches\"}]}`", content_type = "application/json"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn queue(
    State(state): State<AppState>,
    Query(q): Query<TriageQuery>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(100);
    let members = q.members.unwrap_or(50);
    if limit > 1000 || members > 1000 {
        return Err(ApiError::bad_request("limit and members are at most 1000"));
    }
    let opts = TriageOptions {
        intake: q.intake,
        ..TriageOptions::default()
    };
    let all = triage::clusters(&state.store, &opts).await?;
    let total = all.len();
    let mut page: Vec<_> = all
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(limit)
        .collect();
    triage::with_matches(&state.store, &mut page).await?;
    for c in &mut page {
        c.members.truncate(members);
    }
    Ok(Json(serde_json::json!({ "total": total, "clusters": page })).into_response())
}
