//! Browser sessions: log in with a name and password, log out.
//!
//! The session lives in an HttpOnly, Secure, SameSite=Strict cookie the
//! page's scripts cannot read; the CSRF token comes once in the login's
//! answer, and every state-changing request of the session echoes it in
//! `X-CSRF-Token` (`auth::authorize` checks it).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tiaki_core::types::access::Role;
use tiaki_core::types::audit::{AuditAction, AuditEvent};
use tiaki_core::types::codes::ErrorAnswer;
use tiaki_core::users;

use crate::auth::{SESSION_COOKIE, session_cookie};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

/// A login.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// A new session.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionAnswer {
    pub name: String,
    pub role: Role,
    pub country: String,
    /// Echo it in `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    /// The session's absolute end (it also ends after 30 idle minutes).
    pub expires_at: String,
}

/// Logs in: sets the session cookie. Failed logins are limited per account
/// and per address (429 when exceeded); a wrong name, a wrong password and
/// a disabled account give the same 401.
#[utoipa::path(post, path = "/api/v1/session", tag = "users",
    request_body = Login,
    responses(
        (status = 200, body = SessionAnswer, headers(("set-cookie" = String, description = "tiaki_session=…; HttpOnly; Secure; SameSite=Strict"))),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 429, body = ErrorAnswer)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(l): Json<Login>,
) -> ApiResult<Response> {
    if l.name.len() > 64 || l.password.len() > 1024 {
        return Err(ApiError::from(users::UserError::BadCredentials));
    }
    let now = state.ctx.now();
    let addr = peer.ip().to_string();
    let result = users::login(&state.store, &l.name, &l.password, &addr, &now, &state.sessions).await;
    // Every login is audited, failures too (the name tried is the actor).
    let (action, role, country) = match &result {
        Ok(s) => (
            AuditAction::LoginSucceeded,
            s.principal.role.name().to_owned(),
            Some(s.principal.country.clone()),
        ),
        Err(_) => (AuditAction::LoginFailed, String::new(), None),
    };
    let detail = match &result {
        Ok(_) => serde_json::json!({}),
        Err(e) => serde_json::json!({ "reason": e.to_string() }),
    };
    crate::audit::record(
        &state,
        AuditEvent {
            actor: l.name.clone(),
            actor_role: role,
            country,
            action,
            target: "session".into(),
            detail,
            remote_addr: Some(addr),
        },
    )
    .await;
    let s = result?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
        s.token, state.sessions.absolute_seconds
    );
    let mut r = Json(SessionAnswer {
        name: s.principal.name,
        role: s.principal.role,
        country: s.principal.country,
        csrf_token: s.csrf,
        expires_at: s.expires_at.as_str().to_owned(),
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// Logs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "users", security(("bearer" = [])),
    responses(
        (status = 204, description = "the session ended"),
        (status = 401, body = ErrorAnswer),
        (status = 403, description = "no CSRF token", body = ErrorAnswer)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(c) = session_cookie(&headers) {
        users::logout(&state.store, c).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}
