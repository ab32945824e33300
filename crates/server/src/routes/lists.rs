//! Known lists: listing and enabling.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use tiaki_core::formats::{CategoryScheme, Format, ImportOptions};
use tiaki_core::known::ImportReport;
use tiaki_core::lists::{ListImport, import_list_file};
use tiaki_core::rematch::RematchReport;
use tiaki_core::store::{ListInfo, ListStore, NewList, StoreError};
use tiaki_core::types::codes::{Code, ErrorAnswer};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// Every known list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ListList {
    pub lists: Vec<ListInfo>,
}

/// Every known list with its entry count.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])),
    responses(
        (status = 200, body = ListList),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<ListList>> {
    let lists = state.known.read().await.lists().await?;
    Ok(Json(ListList { lists }))
}

/// Enabling or disabling a list.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListChange {
    pub enabled: bool,
}

/// Enables or disables a list (a disabled list matches nothing; its
/// entries and the index stay as they are).
#[utoipa::path(patch, path = "/api/v1/lists/{name}", tag = "lists", security(("bearer" = [])),
    params(("name" = String, Path, description = "list name")),
    request_body = ListChange,
    responses(
        (status = 200, body = ListInfo),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn set_enabled(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(change): Json<ListChange>,
) -> ApiResult<Json<ListInfo>> {
    let known = state.known.read().await;
    match known.set_enabled(&name, change.enabled).await {
        Ok(l) => Ok(Json(l)),
        Err(StoreError::NoSuchList(_)) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// How to import an uploaded list (as `tiaki lists import`'s options).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The new list's name (unique).
    pub name: String,
    /// vics, icse, csv, pdq, vpdq, vpdq-json or ncmec; detected when absent.
    pub format: Option<String>,
    /// Where the list came from.
    pub source: Option<String>,
    /// A list of known false positives.
    pub negative: Option<bool>,
    /// PDQ match distance for this list (default 31).
    pub distance: Option<u32>,
    /// Category scheme of the file's codes, when the file does not say.
    pub category_scheme: Option<String>,
}

/// What an upload did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ListImported {
    pub list: ListInfo,
    /// The import; absent when this same file was imported under this name
    /// before (nothing imported again).
    pub import: Option<ImportReport>,
    /// Earlier intakes matched against the list.
    pub rematch: RematchReport,
    /// Every skipped record, named by its position (`line 7: …`).
    pub rejected: Vec<String>,
}

fn parse_param<T: std::str::FromStr>(what: &str, v: Option<&str>) -> ApiResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    v.map(|v| {
        v.parse::<T>()
            .map_err(|e| ApiError::bad_request(format!("{what} {v:?}: {e}")))
    })
    .transpose()
}

/// Imports a list from the request body (the file as it is, any format
/// `tiaki lists import` reads), then matches earlier intakes against it.
/// The same file sent again under the same name imports nothing (200);
/// another file under a taken name is 409.
#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])),
    params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the list file"),
    responses(
        (status = 201, body = ListImported),
        (status = 200, description = "already imported from this same file", body = ListImported),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, description = "the name is taken by another file", body = ErrorAnswer),
        (status = 413, body = ErrorAnswer),
        (status = 422, description = "the document is malformed as a whole", body = ErrorAnswer)))]
pub async fn import(
    State(state): State<AppState>,
    Query(p): Query<ImportParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ListImported>)> {
    let format = parse_param::<Format>("format", p.format.as_deref())?;
    let category_scheme =
        parse_param::<CategoryScheme>("category_scheme", p.category_scheme.as_deref())?;
    if p.name.trim().is_empty() || p.name.len() > 200 {
        return Err(ApiError::bad_request("name must be 1 to 200 characters"));
    }
    // The body goes to a file in the data directory first (streamed, never
    // whole in memory): the import reads the file twice (hash, import).
    let tmp = tempfile::NamedTempFile::new_in(state.ctx.data())
        .map_err(|e| ApiError::of(&tiaki_core::CoreError::Io { path: state.ctx.data().to_owned(), source: e }))?;
    let mut file = tmp.as_file().try_clone().map_err(|e| ApiError::new(Code::Io, e.to_string()))?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk.map_err(|e| {
            if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
                ApiError::new(Code::PayloadTooLarge, "the list is larger than the request body limit")
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        file.write_all(&chunk).map_err(|e| ApiError::of(&tiaki_core::CoreError::Io { path: tmp.path().to_owned(), source: e }))?;
    }
    let opts = ImportOptions {
        format,
        file_name: None,
        list_name: Some(p.name.clone()),
        category_scheme,
        include_deleted: false,
    };
    let new = NewList {
        name: p.name.clone(),
        source: p.source,
        negative: p.negative.unwrap_or(false),
        distance: p.distance,
        file_sha256: None,
    };
    let rejected = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&rejected);
    let mut known = state.known.write().await;
    let done = import_list_file(
        &mut known,
        tmp.path(),
        opts,
        new,
        state.ctx.now(),
        Arc::new(tiaki_core::NoProgress),
        move |e| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        },
    )
    .await?;
    let rejected = rejected.lock().map(|v| v.clone()).unwrap_or_default();
    let (status, import, rematch) = match done {
        ListImport::Imported { report, rematch } => (StatusCode::CREATED, Some(report), rematch),
        ListImport::AlreadyImported { rematch, .. } => (StatusCode::OK, None, rematch),
    };
    let list = known.store().list(&p.name).await?;
    Ok((
        status,
        Json(ListImported {
            list,
            import,
            rematch,
            rejected,
        }),
    ))
}
