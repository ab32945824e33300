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
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tiaki_core::access::{self, Action, Principal, Scope};
use tiaki_core::store::{Store, Timestamp};
use tiaki_core::users::{self, TokenGrant, UserError};

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
        match state.tokens.principal(&state.store, token, &now).await {
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

/// How long a token found good is believed without asking the store again.
/// A token revoked or a user disabled elsewhere (the command line, another
/// instance) is refused by this instance within this time; one changed
/// through this instance is refused at once ([`TokenCache::clear`]).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);

/// At most this many tokens are remembered (one per API client in use; when
/// full, the cache starts over).
const TOKEN_CACHE_MAX: usize = 10_000;

/// Bearer tokens lately found good, keyed by their SHA-256. A matcher sends
/// thousands of requests a second with one token; asking the store each
/// time costs a round trip to its worker thread (SQLite) or server
/// (PostgreSQL) per request. Only good tokens are kept; a bad one is always
/// looked up. The token's expiry is checked at every use.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (TokenGrant, Instant)>>,
}

impl TokenCache {
    /// The caller `token` stands for at `now`, if it still answers.
    pub async fn principal(
        &self,
        store: &Store,
        token: &str,
        now: &Timestamp,
    ) -> Result<Option<Principal>, UserError> {
        let key = users::token_digest(token);
        let cached = self.lock().get(&key).and_then(|(g, at)| {
            (at.elapsed() < TOKEN_CACHE_TTL).then(|| g.clone())
        });
        let grant = match cached {
            Some(g) => Some(g),
            None => {
                let g = users::token_grant(store, token).await?;
                let mut entries = self.lock();
                match &g {
                    Some(g) => {
                        if entries.len() >= TOKEN_CACHE_MAX {
                            entries.clear();
                        }
                        entries.insert(key, (g.clone(), Instant::now()));
                    }
                    None => {
                        entries.remove(&key);
                    }
                }
                g
            }
        };
        Ok(grant.filter(|g| g.live_at(now)).map(|g| g.principal))
    }

    /// Forgets every token: after a change to users or tokens made here.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (TokenGrant, Instant)>> {
        // A panic while holding the lock cannot leave the map half-changed
        // (each operation is one call): the poisoned map is still good.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
