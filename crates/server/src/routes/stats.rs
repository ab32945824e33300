//! The operation's figures, scoped.

use axum::extract::State;
use tiaki_core::stats::{self, Stats};
use tiaki_core::types::codes::ErrorAnswer;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

/// The figures of `tiaki stats --json`; for a liaison officer, their
/// country's only (its accounts, persons, referrals and outcomes).
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", security(("bearer" = [])),
    responses(
        (status = 200, body = Stats),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn stats(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Stats>> {
    let s = match caller.scope().country() {
        None => stats::stats(&state.store).await?,
        Some(c) => stats::country_stats(&state.store, c).await?,
    };
    Ok(Json(s))
}
