//! `tiaki serve`: the multi-agency HTTP API (issue 19) over the same store,
//! index and pipeline as the command line.
//!
//! * [`routes`]: the routes of `/api/v1` and the probes, one module per area.
//! * [`api`]: how a route is added — always with its access rule
//!   ([`auth::Access`]), which [`auth::authorize`] enforces before the
//!   handler runs and which the OpenAPI document carries (`x-tiaki-access`).
//! * [`error`]: the one error answer `{"message", "code", "type"}`.
//! * [`state`]: the shared store and index.
//!
//! What a caller may see is decided by `tiaki_core::access` alone; anything
//! outside a caller's role or country answers 404, as a missing thing does.

#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod hma;
pub mod metrics;
pub mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use tiaki_core::types::codes::Code;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa::openapi::OpenApi;

pub use state::{AppState, Limits};

use crate::error::ApiError;

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Core(#[from] tiaki_core::CoreError),
}

impl tiaki_core::ErrorCode for ServeError {
    fn error_code(&self) -> Code {
        match self {
            ServeError::Bind { .. } => Code::InvalidArgument,
            ServeError::Serve(e) => tiaki_core::ErrorCode::error_code(e),
            ServeError::Core(e) => tiaki_core::ErrorCode::error_code(e),
        }
    }
}

/// The whole application: every route, its layers, and the OpenAPI
/// document (served at `/api/v1/openapi.json`).
pub fn app(state: AppState) -> (Router, OpenApi) {
    let limits = state.limits;
    let metrics = state.metrics.clone();
    let (router, doc) = routes::api(state).finish();
    let served = doc.clone();
    let x_request_id = HeaderName::from_static("x-request-id");
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let d = served.clone();
                async move { axum::Json(d) }
            }),
        )
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::record))
        .method_not_allowed_fallback(|| async {
            ApiError::new(Code::InvalidArgument, "method not allowed on this route")
                .with_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_seconds),
        ))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(axum::extract::DefaultBodyLimit::max(limits.body_bytes))
        // Outside the limit and timeout layers, so their answers get the
        // error body too.
        .layer(from_fn(json_errors))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::new(Code::Internal, "the server could not complete the request")
                .into_response()
        }));
    let router = SECURITY_HEADERS.into_iter().fold(router, |r, (name, value)| {
        r.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    });
    // One log line per answer (method, path, status, latency) at INFO.
    let router = router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid));
    (router, doc)
}

/// OWASP ASVS V14.4 headers on every answer: nothing of the API is to be
/// sniffed, framed, cached or sent on as a referrer.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
];

/// Marks an answer whose plain-text error body is part of a protocol
/// (HMA's `/status` says `INDEX-NOT-LOADED`), so [`json_errors`] keeps it.
#[derive(Debug, Clone, Copy)]
pub struct KeepBody;

/// Every error answer carries the JSON error body, also those made by a
/// layer (a body over the limit, a timeout): a client never gets an empty
/// or plain-text 4xx/5xx.
async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || r.extensions().get::<KeepBody>().is_some() {
        return r;
    }
    let code = match status.as_u16() {
        401 => Code::Unauthenticated,
        404 => Code::NotFound,
        413 => Code::PayloadTooLarge,
        415 | 422 => Code::InvalidInput,
        503 | 408 => Code::StoreUnavailable,
        s if s >= 500 => Code::Internal,
        _ => Code::InvalidArgument,
    };
    let message = match status.as_u16() {
        413 => "the request body is larger than the limit",
        503 | 408 => "the request took too long and was stopped",
        s if s >= 500 => "the server could not complete the request",
        _ => status.canonical_reason().unwrap_or("bad request"),
    };
    ApiError::new(code, message)
        .with_status(status)
        .into_response()
}

/// Serves `state` on `addr` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    state: AppState,
    addr: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_owned(),
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    // Other processes' list changes reach this index each second.
    tokio::spawn(hma::sync_forever(state.clone()));
    if state.issuer.is_some() {
        tokio::spawn(audit::checkpoint_forever(
            state.clone(),
            Duration::from_secs(state.checkpoint_seconds),
        ));
    }
    let last = state.clone();
    let (router, _) = app(state);
    on_listening(local);
    // The client's address: the login rate limit counts per address.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServeError::Serve)?;
    // The chain's head at shutdown is signed: rows deleted from the end
    // after this are detected.
    audit::checkpoint(&last).await;
    Ok(())
}
