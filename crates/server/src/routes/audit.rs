//! The audit log, for coordinators (and the admin): who did what, when.

use axum::extract::State;
use tiaki_core::types::audit::{AuditAction, AuditEntry, AuditFilter};
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// Which rows.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this user's actions.
    pub user: Option<String>,
    /// Only rows at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Only this action (`referral.downloaded`, `login.failed`, …).
    pub action: Option<String>,
    /// Rows after this seq (paging).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many rows (default 100, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Audit rows, oldest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
}

/// Rows of the audit log (this read is itself recorded).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditList),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    if let Some(a) = &q.action
        && AuditAction::from_name(a).is_none()
    {
        return Err(ApiError::bad_request(format!("unknown audit action {a:?}")));
    }
    let since = match &q.since {
        Some(s) => Some(
            tiaki_core::store::Timestamp::parse(s)
                .map_err(|e| ApiError::bad_request(format!("since {s:?}: {e}")))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) || q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::bad_request("limit is 1 to 1000, after at least 0"));
    }
    let filter = AuditFilter {
        actor: q.user,
        since,
        action: q.action,
        after: q.after.unwrap_or(0),
        limit,
    };
    let entries = tiaki_core::audit::list(&state.store, &filter).await?;
    Ok(Json(AuditList { entries }))
}
