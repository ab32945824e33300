//! The service's one error answer: `{"message", "code", "type"}` with the
//! HTTP status of the code (Meilisearch's habit; the table is
//! `tiaki_types::codes`). A system or internal error never shows its
//! detail (SQL, paths, a panic) to the caller: the answer says that it
//! happened, and the log has the detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tiaki_core::types::codes::{Code, ErrorAnswer, ErrorCode, ErrorType};

/// An error as the service answers it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub answer: ErrorAnswer,
    /// A status other than the code's (405 for a method a route lacks).
    status: Option<StatusCode>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            answer: ErrorAnswer::new(code, message),
            status: None,
        }
    }

    /// The same error answered with another status.
    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = Some(status);
        self
    }

    /// What a caller gets for anything it may not see, and for what does
    /// not exist: the same answer, so existence does not leak.
    pub fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, "not found")
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            Code::Unauthenticated,
            "authentication required: send Authorization: Bearer <token>",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidArgument, message)
    }

    /// From a library error: its code decides the status; a system or
    /// internal error's detail goes to the log only.
    pub fn of<E: ErrorCode + std::fmt::Display>(e: &E) -> ApiError {
        let code = e.error_code();
        match code.error_type() {
            ErrorType::System | ErrorType::Internal => {
                tracing::error!(code = code.name(), error = %e, "request failed");
                ApiError::new(code, hidden_message(code))
            }
            _ => ApiError::new(code, e.to_string()),
        }
    }

    pub fn status(&self) -> StatusCode {
        if let Some(s) = self.status {
            return s;
        }
        StatusCode::from_u16(self.answer.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

fn hidden_message(code: Code) -> &'static str {
    match code {
        Code::StoreUnavailable => "the store is unavailable; try again later",
        _ => "the server could not complete the request; the event is in the server's log",
    }
}

// The library errors a route may return, each through its code.
macro_rules! from_coded {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> ApiError {
                ApiError::of(&e)
            }
        }
    )*};
}

from_coded!(
    tiaki_core::store::StoreError,
    tiaki_core::CoreError,
    tiaki_core::refer::ReferError,
    tiaki_core::users::UserError,
    tiaki_core::audit::AuditError,
    tiaki_core::vid::VidError,
);

// Rejections of axum's extractors (malformed JSON, a wrong type, an unknown
// field, a bad path or query) become the same JSON error body.
macro_rules! from_rejection {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for ApiError {
            fn from(r: $t) -> ApiError {
                let status = r.status();
                let code = match status.as_u16() {
                    413 => Code::PayloadTooLarge,
                    415 | 422 => Code::InvalidInput,
                    _ => Code::InvalidArgument,
                };
                ApiError::new(code, r.body_text()).with_status(status)
            }
        }
    )*};
}

from_rejection!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection,
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut r = (status, Json(self.answer)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// A route's result.
pub type ApiResult<T> = Result<T, ApiError>;
