//! axum's extractors with the service's error body: a malformed body, a
//! wrong type, an unknown field or a bad path answers `{"message", "code",
//! "type"}` like every other error, never axum's plain text.

use axum::extract::{FromRequest, FromRequestParts};

use axum::http::StatusCode;
use tiaki_core::types::codes::Code;

use crate::error::ApiError;

/// A JSON body, which must be an object: serde would also read a struct
/// from an array (`[null, null]`), which no route documents.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Json<T>, ApiError> {
        // axum's checks first: the content type, the syntax, the size.
        let axum::Json(v) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        let unprocessable = |m: String| {
            ApiError::new(Code::InvalidInput, m).with_status(StatusCode::UNPROCESSABLE_ENTITY)
        };
        if !v.is_object() {
            return Err(unprocessable("the body must be a JSON object".into()));
        }
        serde_json::from_value(v).map(Json).map_err(|e| {
            unprocessable(format!(
                "Failed to deserialize the JSON body into the target type: {e}"
            ))
        })
    }
}

/// A query string.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}
