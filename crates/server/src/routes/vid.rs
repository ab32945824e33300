//! The victim-identification database (issue 20) over `tiaki_core::vid`:
//! series with their victims, offenders, media and history, and search by
//! hash or upload. Victim-ID specialists and coordinators record and change
//! (`change_vid`); analysts, victim-ID specialists, coordinators and liaison
//! officers read (`read_vid`), a liaison officer only the records their
//! country contributed: anything else answers 404.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use std::collections::HashSet;

use tiaki_core::media::HashOptions;
use tiaki_core::store::VidStore;
use tiaki_core::types::codes::ErrorAnswer;
use tiaki_core::types::vid::{
    Offender, OffenderStatus, Series, SeriesDetail, StatusStep, Victim, VictimStatus, VidMedia,
    VidSearch,
};
use tiaki_core::vid::{self, Subject, SubjectInput};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// The series named (id or name), if the caller may see it.
async fn visible_series(state: &AppState, caller: &Caller, key: &str) -> ApiResult<Series> {
    let s = vid::series(&state.store, key).await?;
    caller.check_country(&s.agency)?;
    Ok(s)
}

/// The ids of the series the caller may see; `None`: every series.
async fn visible_ids(state: &AppState, caller: &Caller) -> ApiResult<Option<HashSet<i64>>> {
    let scope = caller.scope();
    if scope.country().is_none() {
        return Ok(None);
    }
    let series = state.store.series_list().await?;
    Ok(Some(
        series
            .into_iter()
            .filter(|s| scope.covers(&s.agency))
            .map(|s| s.id)
            .collect(),
    ))
}

/// Series the caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SeriesList {
    pub series: Vec<Series>,
}

/// Every series the caller may see (a liaison officer: their country's).
#[utoipa::path(get, path = "/api/v1/vid/series", tag = "vid", security(("bearer" = [])),
    responses(
        (status = 200, body = SeriesList),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn series_list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<SeriesList>> {
    let scope = caller.scope();
    let series = state
        .store
        .series_list()
        .await?
        .into_iter()
        .filter(|s| scope.covers(&s.agency))
        .collect();
    Ok(axum::Json(SeriesList { series }))
}

/// One series (by id or name) with its victims, offenders, media and history.
#[utoipa::path(get, path = "/api/v1/vid/series/{key}", tag = "vid", security(("bearer" = [])),
    params(("key" = String, Path, description = "series id or name")),
    responses(
        (status = 200, body = SeriesDetail),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn series_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<SeriesDetail>> {
    let s = visible_series(&state, &caller, &key).await?;
    Ok(axum::Json(
        vid::series_detail(&state.store, &s.id.to_string()).await?,
    ))
}

/// A new series.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeriesRequest {
    /// Unique; not only digits (a series is named by id or name).
    pub name: String,
    #[serde(default)]
    pub notes: String,
}

/// Records a series, contributed by the caller's agency.
#[utoipa::path(post, path = "/api/v1/vid/series", tag = "vid", security(("bearer" = [])),
    request_body = NewSeriesRequest,
    responses(
        (status = 201, body = Series),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, body = ErrorAnswer)))]
pub async fn series_add(
    State(state): State<AppState>,
    caller: Caller,
    Json(r): Json<NewSeriesRequest>,
) -> ApiResult<(StatusCode, axum::Json<Series>)> {
    let now = state.ctx.now();
    let s = vid::add_series(
        &state.store,
        &r.name,
        &caller.0.country,
        &r.notes,
        &caller.0.name,
        &now,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(s)))
}

/// Which series' records.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SeriesFilter {
    /// A series id or name; every series when absent.
    pub series: Option<String>,
}

/// A victim or offender recorded or moved on. A status after the first
/// needs `country` (where it happened) and `by` (the agency's country);
/// `date` (YYYY-MM-DD) defaults to today.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRequest<S> {
    pub status: Option<S>,
    pub country: Option<String>,
    pub by: Option<String>,
    pub date: Option<String>,
    pub notes: Option<String>,
}

impl<S> SubjectRequest<S> {
    fn input(self) -> SubjectInput<S> {
        SubjectInput {
            status: self.status,
            step: StatusStep {
                country: self.country,
                agency: self.by,
                date: self.date,
            },
            notes: self.notes,
        }
    }
}

/// Victims or offenders of a series (or all), those the caller may see.
async fn subjects<K: Subject>(
    state: &AppState,
    caller: &Caller,
    f: SeriesFilter,
) -> ApiResult<Vec<K::Row>> {
    let series_id = match f.series {
        Some(k) => Some(visible_series(state, caller, &k).await?.id),
        None => None,
    };
    let rows = K::list(&state.store, series_id).await?;
    Ok(match visible_ids(state, caller).await? {
        None => rows,
        Some(ids) => rows
            .into_iter()
            .filter(|r| ids.contains(&K::summary(r).1))
            .collect(),
    })
}

async fn subject_add<K: Subject>(
    state: &AppState,
    caller: &Caller,
    key: &str,
    r: SubjectRequest<K>,
) -> ApiResult<K::Row> {
    let s = visible_series(state, caller, key).await?;
    let now = state.ctx.now();
    Ok(vid::add_subject(
        &state.store,
        &s.id.to_string(),
        &r.input(),
        &caller.0.country,
        &caller.0.name,
        &now,
    )
    .await?)
}

async fn subject_set<K: Subject>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    r: SubjectRequest<K>,
) -> ApiResult<K::Row> {
    let now = state.ctx.now();
    Ok(vid::set_subject(&state.store, id, &r.input(), &caller.0.name, &now).await?)
}

/// Victims the caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct VictimList {
    pub victims: Vec<Victim>,
}

/// Offenders the caller may see.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OffenderList {
    pub offenders: Vec<Offender>,
}

/// Victims, of one series or all.
#[utoipa::path(get, path = "/api/v1/vid/victims", tag = "vid", security(("bearer" = [])),
    params(SeriesFilter),
    responses(
        (status = 200, body = VictimList),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn victims(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<SeriesFilter>,
) -> ApiResult<axum::Json<VictimList>> {
    let victims = subjects::<VictimStatus>(&state, &caller, f).await?;
    Ok(axum::Json(VictimList { victims }))
}

/// Records a victim of a series (`unidentified` unless another status is given).
#[utoipa::path(post, path = "/api/v1/vid/series/{key}/victims", tag = "vid", security(("bearer" = [])),
    params(("key" = String, Path, description = "series id or name")),
    request_body = SubjectRequest<VictimStatus>,
    responses(
        (status = 201, body = Victim),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn victim_add(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(r): Json<SubjectRequest<VictimStatus>>,
) -> ApiResult<(StatusCode, axum::Json<Victim>)> {
    let v = subject_add(&state, &caller, &key, r).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// Moves a victim one status on (unidentified → identified → safeguarded)
/// and/or replaces its notes; an impossible step is 409 and changes nothing.
#[utoipa::path(patch, path = "/api/v1/vid/victims/{id}", tag = "vid", security(("bearer" = [])),
    params(("id" = i64, Path, description = "victim id")),
    request_body = SubjectRequest<VictimStatus>,
    responses(
        (status = 200, body = Victim),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, body = ErrorAnswer)))]
pub async fn victim_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(r): Json<SubjectRequest<VictimStatus>>,
) -> ApiResult<axum::Json<Victim>> {
    Ok(axum::Json(subject_set(&state, &caller, id, r).await?))
}

/// Offenders, of one series or all.
#[utoipa::path(get, path = "/api/v1/vid/offenders", tag = "vid", security(("bearer" = [])),
    params(SeriesFilter),
    responses(
        (status = 200, body = OffenderList),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn offenders(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<SeriesFilter>,
) -> ApiResult<axum::Json<OffenderList>> {
    let offenders = subjects::<OffenderStatus>(&state, &caller, f).await?;
    Ok(axum::Json(OffenderList { offenders }))
}

/// Records an offender of a series (`unidentified` unless another status is given).
#[utoipa::path(post, path = "/api/v1/vid/series/{key}/offenders", tag = "vid", security(("bearer" = [])),
    params(("key" = String, Path, description = "series id or name")),
    request_body = SubjectRequest<OffenderStatus>,
    responses(
        (status = 201, body = Offender),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn offender_add(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(r): Json<SubjectRequest<OffenderStatus>>,
) -> ApiResult<(StatusCode, axum::Json<Offender>)> {
    let o = subject_add(&state, &caller, &key, r).await?;
    Ok((StatusCode::CREATED, axum::Json(o)))
}

/// Moves an offender one status on (unidentified → identified → arrested)
/// and/or replaces its notes; an impossible step is 409 and changes nothing.
#[utoipa::path(patch, path = "/api/v1/vid/offenders/{id}", tag = "vid", security(("bearer" = [])),
    params(("id" = i64, Path, description = "offender id")),
    request_body = SubjectRequest<OffenderStatus>,
    responses(
        (status = 200, body = Offender),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 409, body = ErrorAnswer)))]
pub async fn offender_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(r): Json<SubjectRequest<OffenderStatus>>,
) -> ApiResult<axum::Json<Offender>> {
    Ok(axum::Json(subject_set(&state, &caller, id, r).await?))
}

/// Media linked to a series by their hashes.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaRequest {
    /// Each a PDQ hash (64 hex), an MD5, SHA-1 or SHA-256 digest.
    pub hashes: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// Media linked.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MediaList {
    pub media: Vec<VidMedia>,
}

/// Links media to a series by hash (`tiaki vid media add SERIES --hash HEX`).
#[utoipa::path(post, path = "/api/v1/vid/series/{key}/media", tag = "vid", security(("bearer" = [])),
    params(("key" = String, Path, description = "series id or name")),
    request_body = MediaRequest,
    responses(
        (status = 201, body = MediaList),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn media_add(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(r): Json<MediaRequest>,
) -> ApiResult<(StatusCode, axum::Json<MediaList>)> {
    if r.hashes.is_empty() || r.hashes.len() > 10_000 {
        return Err(ApiError::bad_request("hashes: from 1 to 10,000 of them"));
    }
    let s = visible_series(&state, &caller, &key).await?;
    let media = r
        .hashes
        .iter()
        .map(|h| vid::media_of_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    let now = state.ctx.now();
    let media = vid::add_media(
        &state.store,
        &s.id.to_string(),
        media,
        &caller.0.country,
        &r.notes,
        &caller.0.name,
        &now,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(MediaList { media })))
}

/// What to search for.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A PDQ hash (64 hex; its 8 rotations and flips are tried) or a digest.
    pub hash: String,
    /// PDQ radius, at most 64 (default 31).
    pub radius: Option<u32>,
}

/// Searches the series media: each match with its series, victim status,
/// distance and variant, among the series the caller may see.
async fn search(
    state: &AppState,
    caller: &Caller,
    query: String,
    probe: tiaki_core::matching::Probe,
    radius: u32,
) -> ApiResult<VidSearch> {
    if radius > 64 {
        return Err(ApiError::bad_request("radius is at most 64"));
    }
    // Current when it holds every medium the store has (ids only grow).
    let top = state.store.vid_media_max_id().await?;
    let stale = state
        .vid
        .read()
        .await
        .as_ref()
        .is_none_or(|i| i.max_id() < top);
    if stale {
        let mut slot = state.vid.write().await;
        match slot.as_mut() {
            Some(index) => {
                index.catch_up(&state.store).await?;
            }
            None => {
                let path = vid::index_path(state.ctx.data(), &state.store).await?;
                *slot = Some(vid::VidIndex::open(&state.store, &path).await?);
            }
        }
    }
    let slot = state.vid.read().await;
    // Set just above, never unset.
    let index = slot.as_ref().ok_or_else(|| {
        ApiError::new(
            tiaki_core::types::codes::Code::Internal,
            "the victim-ID index is not open",
        )
    })?;
    let mut found = vid::search(&state.store, index, &[(query, probe)], radius).await?;
    drop(slot);
    let mut answer = found.pop().ok_or_else(ApiError::not_found)?;
    if let Some(ids) = visible_ids(state, caller).await? {
        answer.matches.retain(|m| ids.contains(&m.series));
    }
    Ok(answer)
}

/// Searches by hash (`tiaki vid search --hash HEX`).
#[utoipa::path(get, path = "/api/v1/vid/search", tag = "vid", security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, body = VidSearch),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn search_hash(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<VidSearch>> {
    let probe = vid::probe_of_hash(&q.hash)?;
    let answer = search(&state, &caller, q.hash.clone(), probe, q.radius.unwrap_or(31)).await?;
    Ok(axum::Json(answer))
}

/// Searches by upload (`tiaki vid search PATH`): one image (its 8 rotations
/// and flips) or video (vPDQ), as a multipart field named `photo` or
/// `video`, hashed with the limits of `tiaki hash`.
#[utoipa::path(post, path = "/api/v1/vid/search", tag = "vid", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "one file (photo or video)"),
    responses(
        (status = 200, body = VidSearch),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer),
        (status = 413, body = ErrorAnswer),
        (status = 422, body = ErrorAnswer)))]
pub async fn search_upload(
    State(state): State<AppState>,
    caller: Caller,
    m: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<axum::Json<VidSearch>> {
    let upload = crate::hma::read_upload(crate::hma::multipart(m)?).await?;
    let opts = HashOptions {
        dihedral: true,
        ..HashOptions::default()
    };
    let record = crate::hma::hash_with(upload.bytes, opts).await?;
    let probe = vid::probe_of_file(&record)?;
    let answer = search(&state, &caller, "upload".to_owned(), probe, 31).await?;
    Ok(axum::Json(answer))
}
