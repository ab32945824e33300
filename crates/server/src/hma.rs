//! HMA-compatible routes (spec/interfaces.md, "HMA-compatible matcher
//! routes"): Meta's Hasher-Matcher-Actioner 2.0 matcher (`/m`), hasher
//! (`/h`) and curation (`/c`) APIs over `tiaki_core::banks`, with HMA's
//! shapes (a distance is a JSON string, a ratio a float), statuses (201 on
//! create, 403 for a taken bank name) and `/status` in plain text. Every
//! route needs a token: matching and hashing the `match` action, curation
//! `change_lists`. Every 4xx is the service's JSON error (it has HMA's
//! `message`).
//!
//! Other `tiaki serve` processes on the same PostgreSQL database see a
//! change after their next [`sync_forever`] round (each second): the index
//! is caught up in place, never rebuilt.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tiaki_core::banks::{
    self, BankError, BankMatch, BankRequest, ContentUpdate, LookupOptions, Signal,
};
use tiaki_core::index::EntryId;
use tiaki_core::media::{FileRecord, HashOptions};
use tiaki_core::store::ListStore;
use tiaki_core::types::codes::{Code, ErrorAnswer};
use tiaki_core::types::fields::{Spellings, parse_bool};

use crate::KeepBody;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// Unix seconds of the index's last catch-up with the store (HMA's
/// `built_to`), shared by the sync task and `/m/index/status`.
#[derive(Debug, Default)]
pub struct IndexClock(AtomicI64);

impl IndexClock {
    pub fn new(at: i64) -> Arc<IndexClock> {
        Arc::new(IndexClock(AtomicI64::new(at)))
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, at: i64) {
        self.0.store(at, Ordering::Relaxed);
    }
}

/// How long without a successful catch-up before `/status` says
/// `INDEX-STALE` (HMA's `INDEX_CACHE_MAX_STALE_SEC` default).
pub const STALE_SECONDS: i64 = 65;

/// Catches the index up with the store every second, for ever: the
/// generation is read without a lock, and the write lock is taken only when
/// it moved (another process added or deleted entries).
pub async fn sync_forever(state: AppState) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sync_once(&state).await;
    }
}

/// One round of [`sync_forever`].
pub async fn sync_once(state: &AppState) {
    let moved = match state.store.generation().await {
        Ok(g) => g != state.known.read().await.generation(),
        Err(e) => {
            tracing::warn!(error = %e, "index sync: the store is unreachable");
            return;
        }
    };
    if moved && let Err(e) = state.known.write().await.sync().await {
        tracing::error!(error = %e, "index sync failed");
        return;
    }
    state.index_clock.set(state.ctx.now().unix());
}

impl From<BankError> for ApiError {
    fn from(e: BankError) -> ApiError {
        ApiError::of(&e)
    }
}

fn matches_json(m: &[BankMatch]) -> Vec<Value> {
    m.iter()
        .map(|m| json!({"bank_content_id": m.bank_content_id, "distance": m.distance_text()}))
        .collect()
}

fn by_bank_json(m: &BTreeMap<String, Vec<BankMatch>>) -> Value {
    Value::Object(
        m.iter()
            .map(|(bank, v)| (bank.clone(), Value::Array(matches_json(v))))
            .collect(),
    )
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidSignal, message)
}

fn flag(v: Option<&str>) -> bool {
    v.and_then(|s| parse_bool(s, Spellings::Lenient))
        .unwrap_or(false)
}

fn bank_filter(banks: Option<&str>) -> Option<Vec<String>> {
    banks
        .filter(|b| !b.is_empty())
        .map(|b| b.split(',').map(str::to_owned).collect())
}

/// `/m/lookup`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct LookupQuery {
    pub signal_type: Option<String>,
    pub signal: Option<String>,
    /// Only these banks, comma-separated.
    pub banks: Option<String>,
    /// Same seed, same draw for banks matching in a share of lookups.
    pub seed: Option<String>,
    /// `true`: every enabled bank counts, whatever its ratio.
    pub bypass_coinflip: Option<String>,
}

fn lookup_options(state: &AppState, q: &LookupQuery) -> LookupOptions {
    let coinflip = if flag(q.bypass_coinflip.as_deref()) {
        0.0
    } else if let Some(seed) = &q.seed {
        banks::coinflip_of_seed(seed)
    } else {
        banks::random_coinflip()
    };
    LookupOptions {
        banks: bank_filter(q.banks.as_deref()),
        coinflip,
        now: state.ctx.now().unix(),
    }
}

/// Matches per bank for one signal: `{"BANK": [{"bank_content_id", "distance"}]}`.
#[utoipa::path(get, path = "/m/lookup", tag = "hma", security(("bearer" = [])),
    params(LookupQuery),
    responses(
        (status = 200, description = "matches by bank; `{}` for none"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn lookup_get(
    State(state): State<AppState>,
    Query(q): Query<LookupQuery>,
) -> ApiResult<axum::Json<Value>> {
    let (Some(t), Some(s)) = (&q.signal_type, &q.signal) else {
        return Err(bad(
            "Either url or both signal and signal_type are required",
        ));
    };
    let signal = Signal::parse(t, s)?;
    let opts = lookup_options(&state, &q);
    let found = state.known.read().await.lookup(&signal, &opts).await?;
    Ok(axum::Json(by_bank_json(&found)))
}

/// An upload read from a multipart body: the file, its note.
pub(crate) struct Upload {
    pub(crate) bytes: Vec<u8>,
    pub(crate) note: Option<String>,
}

pub(crate) async fn read_upload(mut m: Multipart) -> ApiResult<Upload> {
    let mut bytes = None;
    let mut note = None;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(ApiError::bad_request(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        match name.as_str() {
            "note" if !is_file => note = Some(String::from_utf8_lossy(&data).into_owned()),
            "metadata" if !is_file => {
                let v: Value = serde_json::from_slice(&data)
                    .map_err(|_| ApiError::bad_request("metadata form field must be valid JSON"))?;
                if !v.is_object() {
                    return Err(ApiError::bad_request("metadata should be a json object"));
                }
            }
            _ if bytes.is_none() => bytes = Some(data.to_vec()),
            _ => return Err(ApiError::bad_request("one file per request")),
        }
    }
    let Some(bytes) = bytes else {
        return Err(ApiError::bad_request(
            "no file uploaded (a multipart field named photo or video)",
        ));
    };
    Ok(Upload { bytes, note })
}

async fn hash(bytes: Vec<u8>) -> ApiResult<FileRecord> {
    hash_with(bytes, HashOptions::default()).await
}

/// Hashes an upload as `tiaki hash` hashes a file (media limits; video in a
/// subprocess with its timeout), off the async workers.
pub(crate) async fn hash_with(bytes: Vec<u8>, opts: HashOptions) -> ApiResult<FileRecord> {
    tokio::task::spawn_blocking(move || banks::hash_upload(&bytes, &opts))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the hashing task stopped"))?
        .map_err(ApiError::from)
}

pub(crate) fn multipart(
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Multipart> {
    m.map_err(|r| ApiError::bad_request(r.body_text()))
}

/// Matches for an uploaded file, per signal type: `{"pdq": {"BANK": [...]}}`.
#[utoipa::path(post, path = "/m/lookup", tag = "hma", security(("bearer" = [])),
    params(LookupQuery),
    request_body(content_type = "multipart/form-data", description = "one file, in a field named photo or video"),
    responses(
        (status = 200, description = "matches by signal type, then bank"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn lookup_post(
    State(state): State<AppState>,
    Query(q): Query<LookupQuery>,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<axum::Json<Value>> {
    let upload = read_upload(multipart(m)?).await?;
    let rec = hash(upload.bytes).await?;
    let hashes = banks::hma_hashes(&rec)?;
    let opts = lookup_options(&state, &q);
    let known = state.known.read().await;
    let mut out = serde_json::Map::new();
    for (t, v) in hashes {
        let found = if v.is_empty() {
            BTreeMap::new()
        } else {
            known.lookup(&Signal::parse(&t, &v)?, &opts).await?
        };
        out.insert(t, by_bank_json(&found));
    }
    Ok(axum::Json(Value::Object(out)))
}

/// `/m/raw_lookup`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RawLookupQuery {
    pub signal_type: Option<String>,
    pub signal: Option<String>,
    pub include_distance: Option<String>,
    pub banks: Option<String>,
}

/// Every content a signal hits, whatever its enablement: `{"matches": [16]}`
/// or, with `include_distance`, `{"matches": [{"bank_content_id", "distance"}]}`.
#[utoipa::path(get, path = "/m/raw_lookup", tag = "hma", security(("bearer" = [])),
    params(RawLookupQuery),
    responses(
        (status = 200, description = "content ids"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn raw_lookup(
    State(state): State<AppState>,
    Query(q): Query<RawLookupQuery>,
) -> ApiResult<axum::Json<Value>> {
    let signal = Signal::parse(
        q.signal_type.as_deref().unwrap_or_default(),
        q.signal.as_deref().unwrap_or_default(),
    )?;
    let filter = bank_filter(q.banks.as_deref());
    let found = state
        .known
        .read()
        .await
        .raw_lookup(&signal, filter.as_deref())
        .await?;
    let matches = if flag(q.include_distance.as_deref()) {
        matches_json(&found)
    } else {
        found.iter().map(|m| json!(m.bank_content_id)).collect()
    };
    Ok(axum::Json(json!({ "matches": matches })))
}

/// Compares pairs of hashes: `{"pdq": [true, {"distance": 9}]}`.
#[utoipa::path(post, path = "/m/compare", tag = "hma", security(("bearer" = [])),
    request_body(content = Object, description = "`{\"pdq\": [HEX1, HEX2]}`"),
    responses(
        (status = 200, description = "per signal type: [match, {distance}]"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn compare(Json(body): Json<Value>) -> ApiResult<axum::Json<Value>> {
    let Value::Object(pairs) = body else {
        return Err(bad("Request input was not a dict"));
    };
    let mut out = serde_json::Map::new();
    for (t, v) in pairs {
        let Some([a, b]) = v.as_array().map(Vec::as_slice) else {
            return Err(bad(format!(
                "Comparison hash list for {t} must be a list of exactly 2"
            )));
        };
        let (Some(a), Some(b)) = (a.as_str(), b.as_str()) else {
            return Err(bad(format!("Invalid {t} hash: not a string")));
        };
        banks::SignalType::from_name(&t)?;
        if t != "pdq" {
            return Err(bad(format!("{t} does not support hash comparison")));
        }
        let (matched, distance) = banks::compare_pdq(a, b)?;
        out.insert(t, json!([matched, {"distance": distance}]));
    }
    Ok(axum::Json(Value::Object(out)))
}

/// `/m/index/status`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct StatusQuery {
    pub signal_type: Option<String>,
}

/// The index per signal type: `{"pdq": {"present", "built_to", "size"}}`.
#[utoipa::path(get, path = "/m/index/status", tag = "hma", security(("bearer" = [])),
    params(StatusQuery),
    responses(
        (status = 200, description = "per signal type"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn index_status(
    State(state): State<AppState>,
    Query(q): Query<StatusQuery>,
) -> ApiResult<axum::Json<Value>> {
    let status = state
        .known
        .read()
        .await
        .index_status(q.signal_type.as_deref(), state.index_clock.get())?;
    Ok(axum::Json(json!(status)))
}

/// Hashes an uploaded file: `{"pdq": HEX}` (`""` under quality 50), or
/// `{"video_md5": HEX}` for a video.
#[utoipa::path(post, path = "/h/hash", tag = "hma", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "one file, in a field named photo or video"),
    responses(
        (status = 200, description = "signal type → hash"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn hash_file(
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<axum::Json<BTreeMap<String, String>>> {
    let upload = read_upload(multipart(m)?).await?;
    let rec = hash(upload.bytes).await?;
    Ok(axum::Json(banks::hma_hashes(&rec)?))
}

/// HMA's liveness: `I-AM-ALIVE`, or 503 `INDEX-STALE` when the index has
/// not caught up with the store for over a minute.
#[utoipa::path(get, path = "/status", tag = "hma", security(("bearer" = [])),
    responses(
        (status = 200, description = "I-AM-ALIVE", content_type = "text/plain"),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 503, description = "INDEX-STALE", content_type = "text/plain")))]
pub async fn status(State(state): State<AppState>) -> Response {
    let behind = state.ctx.now().unix() - state.index_clock.get();
    let (code, text) = if behind > STALE_SECONDS {
        (StatusCode::SERVICE_UNAVAILABLE, "INDEX-STALE")
    } else {
        (StatusCode::OK, "I-AM-ALIVE")
    };
    let mut r = (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response();
    r.extensions_mut().insert(KeepBody);
    r
}

/// Every bank: `[{"name", "matching_enabled_ratio"}]`.
#[utoipa::path(get, path = "/c/banks", tag = "hma", security(("bearer" = [])),
    responses(
        (status = 200, description = "the banks", body = [banks::Bank]),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn banks_list(State(state): State<AppState>) -> ApiResult<axum::Json<Vec<banks::Bank>>> {
    Ok(axum::Json(state.known.read().await.banks().await?))
}

/// Creates an empty bank: 201, or 400 for a name that is not
/// UPPER_WITH_UNDER, 403 for a taken one.
#[utoipa::path(post, path = "/c/banks", tag = "hma", security(("bearer" = [])),
    request_body = BankRequest,
    responses(
        (status = 201, description = "the bank", body = banks::Bank),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 403, description = "the name is taken", body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_create(
    State(state): State<AppState>,
    Json(req): Json<BankRequest>,
) -> ApiResult<(StatusCode, axum::Json<banks::Bank>)> {
    let now = state.ctx.now();
    let bank = state.known.read().await.create_bank(&req, &now).await?;
    Ok((StatusCode::CREATED, axum::Json(bank)))
}

/// One bank.
#[utoipa::path(get, path = "/c/bank/{name}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name")),
    responses(
        (status = 200, body = banks::Bank),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<banks::Bank>> {
    Ok(axum::Json(state.known.read().await.bank(&name).await?))
}

/// Renames a bank or changes its enablement.
#[utoipa::path(put, path = "/c/bank/{name}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name")),
    request_body = BankRequest,
    responses(
        (status = 200, body = banks::Bank),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 403, description = "the new name is taken", body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<BankRequest>,
) -> ApiResult<axum::Json<banks::Bank>> {
    Ok(axum::Json(
        state.known.read().await.update_bank(&name, &req).await?,
    ))
}

/// Deletes a bank and its contents: `{"message": "Done"}`.
#[utoipa::path(delete, path = "/c/bank/{name}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name")),
    responses(
        (status = 200, description = "{\"message\": \"Done\"}"),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    state.known.write().await.delete_bank(&name).await?;
    Ok(axum::Json(json!({"message": "Done"})))
}

/// Adds a content by its signals: `{"pdq": HEX, "note"?}` → `{"id", "signals"}`.
#[utoipa::path(post, path = "/c/bank/{name}/signal", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name")),
    request_body(content = Object, description = "signal type → hash, and an optional note"),
    responses(
        (status = 200, description = "`{\"id\", \"signals\"}`"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_add_signal(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<banks::Added>> {
    let Value::Object(mut fields) = body else {
        return Err(bad(
            "the body must be a JSON object of signal type → signal",
        ));
    };
    let note = match fields.remove("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::bad_request("note should be a string")),
    };
    let mut known = state.known.write().await;
    // 404 for an unknown bank before any signal is judged (HMA's order).
    known.bank(&name).await?;
    let mut signals = Vec::new();
    for (t, v) in &fields {
        let Some(v) = v.as_str() else {
            return Err(bad(format!("Invalid {t} signal: not a string")));
        };
        signals.push(Signal::parse(t, v)?);
    }
    Ok(axum::Json(
        known.add_signals(&name, &signals, note.as_deref()).await?,
    ))
}

/// Adds an uploaded file as a content: `{"id", "signals"}`.
#[utoipa::path(post, path = "/c/bank/{name}/content", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name")),
    request_body(content_type = "multipart/form-data", description = "one file (photo or video), optional metadata and note"),
    responses(
        (status = 200, description = "`{\"id\", \"signals\"}`"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn bank_add_content(
    State(state): State<AppState>,
    Path(name): Path<String>,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<axum::Json<banks::Added>> {
    state.known.read().await.bank(&name).await?;
    let upload = read_upload(multipart(m)?).await?;
    let rec = hash(upload.bytes).await?;
    Ok(axum::Json(
        state
            .known
            .write()
            .await
            .add_upload(&name, &rec, upload.note.as_deref())
            .await?,
    ))
}

/// `GET /c/bank/NAME/content/ID`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ContentQuery {
    /// `true`: the answer carries the content's signals.
    pub include_signals: Option<String>,
}

fn content_json(c: &banks::Content, signals: bool) -> Value {
    let mut v = json!({
        "id": c.id,
        "disable_until_ts": c.disable_until_ts,
        "bank": c.bank,
    });
    if signals {
        v["signals"] = json!(c.signals);
    }
    if let Some(n) = &c.note {
        v["note"] = json!(n);
    }
    v
}

/// One content of a bank: `{id, disable_until_ts, bank, signals?, note?}`.
#[utoipa::path(get, path = "/c/bank/{name}/content/{id}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name"),
        ("id" = u64, Path, description = "bank content id"), ContentQuery),
    responses(
        (status = 200, description = "the content"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn content_get(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, EntryId)>,
    Query(q): Query<ContentQuery>,
) -> ApiResult<axum::Json<Value>> {
    let c = state.known.read().await.content(&name, id).await?;
    Ok(axum::Json(content_json(
        &c,
        flag(q.include_signals.as_deref()),
    )))
}

/// Disables a content until a time, or changes its note.
#[utoipa::path(put, path = "/c/bank/{name}/content/{id}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name"),
        ("id" = u64, Path, description = "bank content id")),
    request_body(content = Object, description = "`{\"disable_until_ts\"?, \"note\"?}`"),
    responses(
        (status = 200, description = "the content"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn content_update(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, EntryId)>,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let mut change = ContentUpdate::default();
    if let Some(v) = fields.get("disable_until_ts") {
        let t = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        change.disable_until_ts = Some(t.ok_or_else(|| {
            ApiError::bad_request("disable_until_ts must be a non-negative integer")
        })?);
    }
    if let Some(v) = fields.get("note") {
        change.note = Some(match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err(ApiError::bad_request("note should be a string")),
        });
    }
    let now = state.ctx.now().unix();
    let c = state
        .known
        .read()
        .await
        .update_content(&name, id, &change, now)
        .await?;
    Ok(axum::Json(content_json(&c, false)))
}

/// Deletes a content: `{"deleted": 1}`.
#[utoipa::path(delete, path = "/c/bank/{name}/content/{id}", tag = "hma", security(("bearer" = [])),
    params(("name" = String, Path, description = "bank name"),
        ("id" = u64, Path, description = "bank content id")),
    responses(
        (status = 200, description = "`{\"deleted\": 1}`"),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn content_delete(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, EntryId)>,
) -> ApiResult<axum::Json<Value>> {
    let n = state.known.write().await.delete_content(&name, id).await?;
    Ok(axum::Json(json!({ "deleted": n })))
}
