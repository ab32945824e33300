//! Authentication and the access rule of every route.
//!
//! A route is added to the service only through [`crate::api::Api::add`],
//! which takes its [`Access`] rule and puts [`authorize`] in front of its
//! handler: a handler never runs for a caller the rule refuses, and the
//! access-control test enumerates the rules with the OpenAPI document, so a
//! route without a rule fails it.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tiaki_core::access::{self, Action, Principal, Scope};

use crate::error::ApiError;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials (liveness, readiness, the API document).
    Public,
    /// Any authenticated user (their own account).
    Authenticated,
    /// Users whose role allows the action ([`access::allows`]); the handler
    /// narrows to the caller's [`Scope`].
    Action(Action),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn scope(&self) -> Scope {
        access::scope(&self.0)
    }

    /// `Ok` when `country`'s data is in the caller's scope, else the 404 a
    /// missing thing gets.
    pub fn check_country(&self, country: &str) -> Result<(), ApiError> {
        if self.scope().covers(country) {
            Ok(())
        } else {
            Err(ApiError::not_found())
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Caller, ApiError> {
        // Put there by `authorize`; a handler asking for a caller on a public
        // route is a programming error, answered as unauthenticated.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "tiaki_session";
/// The header a browser session's state-changing request carries its CSRF
/// token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the session cookie, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The middleware in front of every non-public route: 401 without valid
/// credentials, 404 when the role may not do the route's action.
pub async fn authorize(
    State((state, rule)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = state.ctx.now();
    let principal = if let Some(token) = bearer(&req) {
        match tiaki_core::users::authenticate_token(&state.store, token, &now).await {
            Ok(Some(p)) => p,
            Ok(None) => return ApiError::unauthenticated().into_response(),
            Err(e) => return ApiError::of(&e).into_response(),
        }
    } else if let Some(cookie) = session_cookie(req.headers()) {
        let found =
            tiaki_core::users::authenticate_session(&state.store, cookie, &now, &state.sessions)
                .await;
        let (p, csrf) = match found {
            Ok(Some(x)) => x,
            Ok(None) => return ApiError::unauthenticated().into_response(),
            Err(e) => return ApiError::of(&e).into_response(),
        };
        // A browser sends the cookie on any request to us, also one another
        // site makes it send; only our pages know the CSRF token.
        let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        let echoed = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| constant_time_eq(v.as_bytes(), csrf.as_bytes()));
        if !safe && !echoed {
            return ApiError::new(
                tiaki_core::types::codes::Code::CsrfRejected,
                "this request needs the session's X-CSRF-Token header",
            )
            .into_response();
        }
        p
    } else {
        return ApiError::unauthenticated().into_response();
    };
    let allowed = match rule {
        Access::Public | Access::Authenticated => true,
        Access::Action(a) => access::allows(principal.role, a),
    };
    if !allowed {
        return ApiError::not_found().into_response();
    }
    req.extensions_mut().insert(Caller(principal));
    next.run(req).await
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
