//! Referrals: the ledger scoped to the caller's country, the package file,
//! state changes and outcome reports.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tiaki_core::refer::{self, ReferralDetail};
use tiaki_core::store::ReferralStore;
use tiaki_core::store::referrals::{EventsAdded, ReferralRow, ReferralState};
use tiaki_core::types::access::Role;
use tiaki_core::types::codes::{Code, ErrorAnswer};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// The referrals a caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReferralList {
    pub referrals: Vec<ReferralRow>,
}

/// A referral in the caller's scope, or the 404 of a missing one.
pub(crate) async fn scoped(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ReferralRow> {
    let row = state.store.referral(id).await?;
    match row {
        Some(r) if caller.scope().covers(&r.country) => Ok(r),
        _ => Err(ApiError::not_found()),
    }
}

/// The referrals of the caller's scope (a liaison officer: their country's).
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralList),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "the caller's role may not read referrals", body = ErrorAnswer)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ReferralList>> {
    let referrals = state.store.referrals(caller.scope().country()).await?;
    Ok(Json(ReferralList { referrals }))
}

/// One referral with its events.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id (R-XX-…)")),
    responses(
        (status = 200, body = ReferralDetail),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such referral in the caller's scope", body = ErrorAnswer)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferralDetail>> {
    let referral = scoped(&state, &caller, &id).await?;
    let events = state.store.referral_events(&id).await?;
    Ok(Json(ReferralDetail { referral, events }))
}

/// The referral's package (`.tar.age`), as built.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/package", tag = "referrals", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id")),
    responses(
        (status = 200, description = "the age-encrypted tar", content_type = "application/octet-stream"),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such referral in scope, or its file is no longer on the server", body = ErrorAnswer)))]
pub async fn package(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let referral = scoped(&state, &caller, &id).await?;
    let file = tokio::fs::File::open(&referral.package).await.map_err(|e| {
        tracing::warn!(referral = %id, path = %referral.package, error = %e, "package file missing");
        ApiError::new(
            Code::NotFound,
            format!("the package file of referral {id} is no longer on the server; build it again"),
        )
    })?;
    let name = format!("referral-{id}.tar.age");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}

/// A state change.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    /// `sent`, `acknowledged`, `investigating` or `closed` (forward only).
    pub state: String,
    pub note: Option<String>,
}

/// Moves a referral forward. A liaison officer may acknowledge, start
/// investigating or close their own country's referrals; sending is the
/// coordination unit's.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/state", tag = "referrals", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id")),
    request_body = StateChange,
    responses(
        (status = 200, body = ReferralRow),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, description = "the state would move backwards", body = ErrorAnswer)))]
pub async fn set_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(change): Json<StateChange>,
) -> ApiResult<Json<ReferralRow>> {
    scoped(&state, &caller, &id).await?;
    let to = ReferralState::ALL
        .into_iter()
        .find(|s| s.name() == change.state)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "state {:?} is not one of sent, acknowledged, investigating, closed",
                change.state
            ))
        })?;
    if to == ReferralState::Built || (caller.0.role == Role::Liaison && to == ReferralState::Sent) {
        return Err(ApiError::bad_request(format!(
            "a {} cannot mark a referral {}",
            caller.0.role,
            to.name()
        )));
    }
    let now = state.ctx.now();
    let row = refer::mark_referral(&state.store, &id, to, change.note.as_deref(), &now).await?;
    Ok(Json(row))
}

/// An outcome of a referral, as in an outcome file (interfaces.md) without
/// the referral id, which is the path's.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeReport {
    /// RFC 3339 time of the event.
    pub at: String,
    /// `acknowledged`, `investigation_opened`, `arrest`, `children_safeguarded`, `closed`, `note`.
    pub event: String,
    /// For `arrest` and `children_safeguarded`: at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Records an outcome of a referral of the caller's country (the same
/// checks as `tiaki outcomes import`).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/outcomes", tag = "referrals", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id")),
    request_body = OutcomeReport,
    responses(
        (status = 200, body = EventsAdded),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 422, description = "not a valid outcome", body = ErrorAnswer)))]
pub async fn report_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(report): Json<OutcomeReport>,
) -> ApiResult<Json<EventsAdded>> {
    scoped(&state, &caller, &id).await?;
    // One checker for outcome files and this route: the report becomes the
    // outcome line it stands for.
    let mut line = serde_json::to_value(&report)
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    if let Some(o) = line.as_object_mut() {
        o.insert("referral_id".into(), id.clone().into());
    }
    let events = refer::parse_outcomes(&line.to_string())?;
    let rows: Vec<_> = events.into_iter().map(|(_, e)| e).collect();
    let now = state.ctx.now();
    Ok(Json(state.store.add_referral_events(&rows, &now).await?))
}
