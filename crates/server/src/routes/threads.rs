//! Referral threads: messages between the coordination unit and a
//! country's liaison officers on a referral (`tiaki_core::threads`), their
//! attachments (encrypted in the blob store, at most 20 MiB each and 5 a
//! message) and read receipts. Scoped like the referral: outside the
//! caller's country, 404.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tiaki_core::blobs::BlobStore;
use tiaki_core::store::threads::NewThreadAttachment;
use tiaki_core::threads::{
    self, MAX_ATTACHMENTS, MAX_BODY_CHARS, ReadMarked, Thread, ThreadError, ThreadMessage, Upload,
};
use tiaki_core::types::codes::{Code, ErrorAnswer};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::routes::referrals::scoped;
use crate::state::AppState;

fn thread_error(e: ThreadError) -> ApiError {
    ApiError::of(&e)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let code = match e.status().as_u16() {
        413 => Code::PayloadTooLarge,
        _ => Code::InvalidArgument,
    };
    ApiError::new(code, e.body_text())
}

fn blobs(state: &AppState) -> ApiResult<BlobStore> {
    BlobStore::open(state.ctx.data()).map_err(|e| ApiError::of(&e))
}

/// Runs blocking file work (encryption, decryption) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ThreadError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a blocking thread task failed");
            ApiError::new(Code::Internal, "the server could not complete the request")
        })?
        .map_err(thread_error)
}

/// A referral's thread: its messages (oldest first), their attachments'
/// metadata and read receipts, and how many the caller has not read.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/thread", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id (R-XX-…)")),
    responses(
        (status = 200, body = Thread),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such referral in the caller's scope", body = ErrorAnswer)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Thread>> {
    let t = threads::thread(&state.store, &caller.0, &id)
        .await
        .map_err(thread_error)?;
    Ok(Json(t))
}

/// A message as JSON.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 20,000 characters.
    pub body: String,
}

/// A message with attachments, as `multipart/form-data`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // The document's description of the form; parsed by hand.
pub struct MessageForm {
    /// The message: 1 to 20,000 characters (one part).
    body: String,
    /// 0 to 5 files (parts named `file`), each at most 20 MiB, with its
    /// `filename` (a plain name: no path, quotes or control characters) and
    /// its `Content-Type` (default `application/octet-stream`).
    #[schema(value_type = Option<Vec<String>>, format = Binary, max_items = 5)]
    file: Option<Vec<Vec<u8>>>,
}

/// The largest body part in bytes (4 bytes a character at most).
const MAX_BODY_BYTES: usize = MAX_BODY_CHARS * 4;

/// Reads a message form: the body and the attachments, each streamed into
/// the encrypted blob store as it arrives.
async fn read_form(
    state: &AppState,
    form: &mut Multipart,
) -> ApiResult<(String, Vec<NewThreadAttachment>)> {
    let blobs = blobs(state)?;
    let mut body: Option<String> = None;
    let mut attachments = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("body") => {
                if body.is_some() {
                    return Err(ApiError::new(Code::InvalidInput, "the form has two body parts"));
                }
                let mut bytes = Vec::new();
                while let Some(c) = field.chunk().await.map_err(multipart_error)? {
                    if bytes.len() + c.len() > MAX_BODY_BYTES {
                        return Err(thread_error(ThreadError::BadBody(MAX_BODY_CHARS + 1)));
                    }
                    bytes.extend_from_slice(&c);
                }
                body = Some(String::from_utf8(bytes).map_err(|_| {
                    ApiError::new(Code::InvalidInput, "the body part is not UTF-8 text")
                })?);
            }
            Some("file") => {
                if attachments.len() == MAX_ATTACHMENTS {
                    return Err(thread_error(ThreadError::TooManyAttachments));
                }
                let name = field.file_name().unwrap_or_default().to_owned();
                let mut up = Upload::start(&blobs, &name, field.content_type())
                    .map_err(thread_error)?;
                while let Some(c) = field.chunk().await.map_err(multipart_error)? {
                    up.write(&c).map_err(thread_error)?;
                }
                attachments.push(blocking(move || up.finish()).await?);
            }
            other => {
                return Err(ApiError::new(
                    Code::InvalidInput,
                    format!(
                        "unknown form part {:?} (expected body and file)",
                        other.unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let body = body.ok_or_else(|| ApiError::new(Code::InvalidInput, "the form has no body part"))?;
    Ok((body, attachments))
}

/// Reads what is left of a refused form (within the request body limit),
/// so that the client gets its error answer rather than a reset
/// connection.
async fn drain(form: &mut Multipart) {
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// Posts a message on a referral's thread: JSON (`{"body": …}`), or
/// `multipart/form-data` with a `body` part and up to 5 `file` parts (each
/// at most 20 MiB, stored encrypted). A liaison officer writes on their own
/// country's referrals; the coordination unit on all.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/thread", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id")),
    request_body(content(
        (NewMessage = "application/json"),
        (MessageForm = "multipart/form-data"))),
    responses(
        (status = 201, body = ThreadMessage),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such referral in the caller's scope", body = ErrorAnswer),
        (status = 413, description = "an attachment over 20 MiB, or the request over the body limit", body = ErrorAnswer),
        (status = 422, description = "an empty or too long body, a bad file name or type, more than 5 files", body = ErrorAnswer)))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<(StatusCode, Json<ThreadMessage>)> {
    // The scope first: outside it, 404 whatever the body.
    scoped(&state, &caller, &id).await?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (body, attachments) = if multipart {
        let mut form = Multipart::from_request(req, &state)
            .await
            .map_err(|r| ApiError::new(Code::InvalidArgument, r.body_text()))?;
        match read_form(&state, &mut form).await {
            Ok(read) => read,
            Err(e) => {
                drain(&mut form).await;
                return Err(e);
            }
        }
    } else {
        let Json(m) = Json::<NewMessage>::from_request(req, &state).await?;
        (m.body, Vec::new())
    };
    let now = state.ctx.now();
    let message = threads::post_message(&state.store, &caller.0, &id, &body, attachments, &now)
        .await
        .map_err(thread_error)?;
    tracing::info!(
        referral = %id,
        message = message.id,
        user = %caller.0.name,
        attachments = message.attachments.len(),
        "thread message posted"
    );
    Ok((StatusCode::CREATED, Json(message)))
}

/// What to mark read.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadUpTo {
    /// The newest message read (inclusive); absent: every message.
    #[serde(default)]
    pub up_to: Option<i64>,
}

/// Marks a thread read by the caller (a read receipt on every message of
/// others up to `up_to`).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/thread/read", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path, description = "referral id")),
    request_body = ReadUpTo,
    responses(
        (status = 200, body = ReadMarked),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such referral in the caller's scope", body = ErrorAnswer)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(read): Json<ReadUpTo>,
) -> ApiResult<Json<ReadMarked>> {
    let now = state.ctx.now();
    let marked = threads::mark_read(&state.store, &caller.0, &id, read.up_to, &now)
        .await
        .map_err(thread_error)?;
    Ok(Json(marked))
}

/// `Content-Disposition` for a checked file name: the name as is when it
/// is ASCII, else an ASCII stand-in and the UTF-8 name (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '_' })
        .collect();
    if ascii == name {
        return format!("attachment; filename=\"{name}\"");
    }
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// An attachment of a thread's message, decrypted.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/thread/attachments/{attachment}", tag = "threads",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "referral id"),
        ("attachment" = i64, Path, description = "attachment id (from the thread)")),
    responses(
        (status = 200, description = "the file as uploaded, with its content type and name", content_type = "application/octet-stream"),
        (status = 401, body = ErrorAnswer),
        (status = 404, description = "no such attachment on the thread of a referral in the caller's scope", body = ErrorAnswer)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let a = threads::attachment(&state.store, &caller.0, &id, attachment)
        .await
        .map_err(thread_error)?;
    let blobs = blobs(&state)?;
    let meta = a.clone();
    let bytes = blocking(move || threads::read_attachment(&blobs, &meta)).await?;
    tracing::info!(referral = %id, attachment, user = %caller.0.name, "thread attachment downloaded");
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition(&a.file_name)),
        ],
        Body::from(bytes),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn dispositions() {
        assert_eq!(disposition("a b.pdf"), "attachment; filename=\"a b.pdf\"");
        assert_eq!(
            disposition("rāpoto.txt"),
            "attachment; filename=\"r_poto.txt\"; filename*=UTF-8''r%C4%81poto.txt"
        );
    }
}
