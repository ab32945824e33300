//! The caller's own account.

use axum::Json;

use crate::auth::Caller;

/// Who the caller is.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    pub role: tiaki_core::types::access::Role,
    /// The caller's agency's country.
    pub country: String,
}

/// The authenticated caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, body = tiaki_core::types::codes::ErrorAnswer)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        name: caller.0.name,
        role: caller.0.role,
        country: caller.0.country,
    })
}
