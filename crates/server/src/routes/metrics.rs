//! `/metrics` for Prometheus.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use tiaki_core::store::IntakeStore;

use crate::error::ApiResult;
use crate::state::AppState;

/// Request counts and latencies per route, the index's size and the
/// hashing queue's depth, in Prometheus' text format.
#[utoipa::path(get, path = "/metrics", tag = "service", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    {
        let known = state.known.read().await;
        let n = known.index().pdq.len() + known.index().digests.len();
        state.metrics.index_size.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let pending = state.store.intake_counts(None).await?.media_pending;
    state
        .metrics
        .queue_depth
        .set(i64::try_from(pending).unwrap_or(i64::MAX));
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.encode(),
    ))
}
