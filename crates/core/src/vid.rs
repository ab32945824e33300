//! The victim-identification database (issue 20): series, victims,
//! offenders and the media linked to a series by hash, and the search of
//! a file or a hash against every series medium.
//!
//! * Input is checked here (names, countries, dates, the step a status
//!   needs) and stored through [`VidStore`], which writes every change with
//!   its history event in one transaction and checks the status transition
//!   table ([`tiaki_types::vid::transition`]) inside it.
//! * Media come from files hashed as `tiaki hash` hashes them
//!   ([`media_of_record`]), from a hash ([`media_of_hash`]) or from an
//!   intake's stored media ([`media_of_intake`]).
//! * [`VidIndex`] holds every series medium's digests, PDQ and vPDQ frames
//!   in a [`KnownIndex`] and is searched through the same code as the known
//!   lists (`matching::index_candidates`): all eight dihedral variants of an
//!   image, the python-threatexchange rule for a video's frames.
//!
//! Recording the change in the audit log is the caller's (the command line
//! records its own; the service's audited routes record theirs), as for
//! users.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tiaki_index::{Digest, KnownIndex, PdqEntry};
use tiaki_media::{FileRecord, Kind};
use tiaki_store::intake::MediaHashes;
use tiaki_store::vid::{NewSeries, NewSubject, NewVidMedia, SubjectChange};
use tiaki_store::{Store, StoreError, Timestamp, VidStore};
use tiaki_types::codes::{Code, ErrorCode};
use tiaki_types::country::Country;
use tiaki_types::hashes::Probe;
use tiaki_types::vid::{
    Offender, OffenderStatus, Series, SeriesDetail, Status, StatusStep, Victim, VictimStatus,
    VidMatch, VidMedia, VidMediaKind, VidRecord, VidSearch,
};

use crate::blobs::BlobStore;
use crate::hashing::hashes_of_record;
use crate::matching::{self, MatchKind, Query};

/// Why a victim-identification operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum VidError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{0:?} is not a usable series name: 1 to 200 characters, no control characters, not only digits (digits name a series by id)"
    )]
    BadName(String),
    #[error("{arg} {value:?} is not an ISO 3166-1 alpha-2 country code")]
    BadCountry { arg: &'static str, value: String },
    #[error("--date {0:?} is not a day (YYYY-MM-DD)")]
    BadDate(String),
    /// A status after the first one needs where and by whom it was reached.
    #[error("{record} {id}: becoming {to} needs {arg}")]
    MissingStep {
        record: VidRecord,
        id: String,
        to: &'static str,
        arg: &'static str,
    },
    #[error("nothing to change: give a status or notes")]
    NothingToChange,
    #[error("{what}: no hash to link or search (no digest, no usable PDQ or vPDQ)")]
    NoHashes { what: String },
    #[error("{path}: cannot hash: {error}")]
    File { path: String, error: String },
    #[error("--hash {value:?}: {why}")]
    BadHash { value: String, why: String },
    #[error("intake {intake} has no media item {media:?}")]
    NoSuchIntakeMedia { intake: i64, media: String },
    #[error(transparent)]
    Blob(#[from] crate::blobs::BlobError),
}

impl ErrorCode for VidError {
    fn error_code(&self) -> Code {
        match self {
            VidError::Store(e) => e.error_code(),
            VidError::BadName(_)
            | VidError::BadCountry { .. }
            | VidError::BadDate(_)
            | VidError::MissingStep { .. }
            | VidError::NothingToChange
            | VidError::BadHash { .. } => Code::InvalidArgument,
            VidError::NoHashes { .. } | VidError::File { .. } => Code::InvalidInput,
            VidError::NoSuchIntakeMedia { .. } => Code::NotFound,
            VidError::Blob(e) => e.error_code(),
        }
    }
}

// ---------------------------------------------------------------------------
// Checking input

fn check_name(name: &str) -> Result<String, VidError> {
    let n = name.trim();
    let ok = (1..=200).contains(&n.chars().count())
        && !n.chars().any(char::is_control)
        && !n.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(n.to_owned())
    } else {
        Err(VidError::BadName(name.to_owned()))
    }
}

/// A country code as stored: upper-case alpha-2 of the built-in table.
pub fn check_country(arg: &'static str, value: &str) -> Result<String, VidError> {
    Country::from_alpha2(value.trim())
        .map(|c| c.alpha2().to_owned())
        .ok_or_else(|| VidError::BadCountry {
            arg,
            value: value.to_owned(),
        })
}

fn check_date(date: &str) -> Result<String, VidError> {
    let d = date.trim();
    let shape = d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-';
    if shape && tiaki_types::time::unix_seconds(&format!("{d}T00:00:00Z")).is_ok() {
        Ok(d.to_owned())
    } else {
        Err(VidError::BadDate(date.to_owned()))
    }
}

/// A status step as given on the command line or in a request: each field
/// checked; a status after the first needs a country and an agency, and
/// its date defaults to `now`'s day.
fn check_step<S: Status>(
    id: &str,
    status: S,
    step: &StatusStep,
    now: &Timestamp,
) -> Result<StatusStep, VidError> {
    let country = step
        .country
        .as_deref()
        .map(|c| check_country("--country", c))
        .transpose()?;
    let agency = step
        .agency
        .as_deref()
        .map(|c| check_country("--by", c))
        .transpose()?;
    let mut date = step.date.as_deref().map(check_date).transpose()?;
    if status.rank() > 0 {
        let missing = |arg| VidError::MissingStep {
            record: S::RECORD,
            id: id.to_owned(),
            to: status.name(),
            arg,
        };
        if country.is_none() {
            return Err(missing("--country (where it happened)"));
        }
        if agency.is_none() {
            return Err(missing("--by (the agency's country)"));
        }
        date = date.or_else(|| now.as_str().get(..10).map(str::to_owned));
    }
    Ok(StatusStep {
        country,
        agency,
        date,
    })
}

// ---------------------------------------------------------------------------
// Series

/// A series by id (digits) or by name; a merged series is returned as it is
/// (its `merged_into` says where its records went).
pub async fn series<S: VidStore>(store: &S, key: &str) -> Result<Series, VidError> {
    let key = key.trim();
    let found = match key.parse::<i64>() {
        Ok(id) if key.bytes().all(|b| b.is_ascii_digit()) => store.series_by_id(id).await?,
        _ => store.series_by_name(key).await?,
    };
    found.ok_or_else(|| StoreError::NoSuchSeries(key.to_owned()).into())
}

pub async fn add_series<S: VidStore>(
    store: &S,
    name: &str,
    agency: &str,
    notes: &str,
    actor: &str,
    now: &Timestamp,
) -> Result<Series, VidError> {
    let new = NewSeries {
        name: check_name(name)?,
        agency: check_country("--agency", agency)?,
        notes: notes.to_owned(),
    };
    Ok(store.add_series(&new, actor, now).await?)
}

/// Merges series `from` into `into` (each by id or name): every record of
/// `from` moves; `from` stays, marked merged, with its history.
pub async fn merge_series<S: VidStore>(
    store: &S,
    from: &str,
    into: &str,
    actor: &str,
    now: &Timestamp,
) -> Result<Series, VidError> {
    let from = series(store, from).await?;
    let into = series(store, into).await?;
    Ok(store.merge_series(from.id, into.id, actor, now).await?)
}

/// A series with its victims, offenders, media and history.
pub async fn series_detail<S: VidStore>(store: &S, key: &str) -> Result<SeriesDetail, VidError> {
    let s = series(store, key).await?;
    Ok(SeriesDetail {
        victims: store.victims(Some(s.id)).await?,
        offenders: store.offenders(Some(s.id)).await?,
        media: store.vid_media(Some(s.id)).await?,
        history: store.vid_events(Some(s.id), None).await?,
        series: s,
    })
}

// ---------------------------------------------------------------------------
// Victims and offenders

/// What a victim or an offender is recorded or changed with (as given).
#[derive(Debug, Clone)]
pub struct SubjectInput<S> {
    pub status: Option<S>,
    pub step: StatusStep,
    pub notes: Option<String>,
}

// By hand: a derive would ask `S: Default` of the status types.
impl<S> Default for SubjectInput<S> {
    fn default() -> Self {
        SubjectInput {
            status: None,
            step: StatusStep::default(),
            notes: None,
        }
    }
}

fn new_subject<S: Status>(
    series_id: i64,
    input: &SubjectInput<S>,
    agency: &str,
    now: &Timestamp,
) -> Result<NewSubject<S>, VidError> {
    let status = input.status.unwrap_or(S::ALL[0]);
    Ok(NewSubject {
        series_id,
        status,
        step: check_step("(new)", status, &input.step, now)?,
        agency: check_country("--agency", agency)?,
        notes: input.notes.clone().unwrap_or_default(),
    })
}

fn subject_change<S: Status>(
    id: i64,
    input: &SubjectInput<S>,
    now: &Timestamp,
) -> Result<SubjectChange<S>, VidError> {
    let status = input
        .status
        .map(|s| Ok::<_, VidError>((s, check_step(&id.to_string(), s, &input.step, now)?)))
        .transpose()?;
    if status.is_none() && input.notes.is_none() {
        return Err(VidError::NothingToChange);
    }
    Ok(SubjectChange {
        status,
        notes: input.notes.clone(),
    })
}

/// Victims and offenders alike, by their status type: the row the store
/// answers with, and the store's methods for it.
pub trait Subject: Status + Send + Sync {
    /// [`Victim`] or [`Offender`].
    type Row: serde::Serialize + Send;
    fn add<St: VidStore>(
        store: &St,
        new: &NewSubject<Self>,
        actor: &str,
        now: &Timestamp,
    ) -> impl Future<Output = Result<Self::Row, StoreError>> + Send;
    fn set<St: VidStore>(
        store: &St,
        id: i64,
        change: &SubjectChange<Self>,
        actor: &str,
        now: &Timestamp,
    ) -> impl Future<Output = Result<Self::Row, StoreError>> + Send;
    /// Those of a series, or all, by id.
    fn list<St: VidStore>(
        store: &St,
        series_id: Option<i64>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
    /// A row's id, series, status, step and notes.
    fn summary(row: &Self::Row) -> (i64, i64, Self, &StatusStep, &str);
}

macro_rules! subject {
    ($S:ty, $Row:ty, $add:ident, $set:ident, $list:ident) => {
        impl Subject for $S {
            type Row = $Row;
            fn add<St: VidStore>(
                store: &St,
                new: &NewSubject<Self>,
                actor: &str,
                now: &Timestamp,
            ) -> impl Future<Output = Result<$Row, StoreError>> + Send {
                store.$add(new, actor, now)
            }
            fn set<St: VidStore>(
                store: &St,
                id: i64,
                change: &SubjectChange<Self>,
                actor: &str,
                now: &Timestamp,
            ) -> impl Future<Output = Result<$Row, StoreError>> + Send {
                store.$set(id, change, actor, now)
            }
            fn list<St: VidStore>(
                store: &St,
                series_id: Option<i64>,
            ) -> impl Future<Output = Result<Vec<$Row>, StoreError>> + Send {
                store.$list(series_id)
            }
            fn summary(r: &$Row) -> (i64, i64, Self, &StatusStep, &str) {
                (r.id, r.series, r.status, &r.step, &r.notes)
            }
        }
    };
}

subject!(VictimStatus, Victim, add_victim, set_victim, victims);
subject!(
    OffenderStatus,
    Offender,
    add_offender,
    set_offender,
    offenders
);

/// Records a victim or an offender with a series (by id or name), in the
/// first status unless another is given.
pub async fn add_subject<St: VidStore, K: Subject>(
    store: &St,
    series_key: &str,
    input: &SubjectInput<K>,
    agency: &str,
    actor: &str,
    now: &Timestamp,
) -> Result<K::Row, VidError> {
    let s = series(store, series_key).await?;
    let new = new_subject(s.id, input, agency, now)?;
    Ok(K::add(store, &new, actor, now).await?)
}

/// Moves a victim or an offender on (one status forward) and/or replaces
/// its notes.
pub async fn set_subject<St: VidStore, K: Subject>(
    store: &St,
    id: i64,
    input: &SubjectInput<K>,
    actor: &str,
    now: &Timestamp,
) -> Result<K::Row, VidError> {
    let change = subject_change(id, input, now)?;
    Ok(K::set(store, id, &change, actor, now).await?)
}

/// The series id of an optional series key.
pub async fn series_filter<S: VidStore>(
    store: &S,
    key: Option<&str>,
) -> Result<Option<i64>, VidError> {
    match key {
        Some(k) => Ok(Some(series(store, k).await?.id)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------
// Media

/// A medium to link, before it has a series: its kind, hashes and source.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInput {
    pub kind: VidMediaKind,
    pub hashes: MediaHashes,
    pub source: String,
    /// The file hashed, which may be kept in the blob store.
    pub file: Option<std::path::PathBuf>,
    /// Kept in the blob store ([`keep_files`]).
    pub stored: bool,
}

fn searchable(h: &MediaHashes) -> bool {
    h.md5.is_some() || h.sha1.is_some() || h.sha256.is_some() || h.pdq.is_some() || h.vpdq.is_some()
}

/// A file hashed as `tiaki hash` hashes it: a record with an error is
/// refused, naming the file.
pub fn media_of_record(r: &FileRecord) -> Result<MediaInput, VidError> {
    if let Some(error) = &r.error {
        return Err(VidError::File {
            path: r.path.clone(),
            error: error.clone(),
        });
    }
    let hashes = hashes_of_record(r);
    if !searchable(&hashes) {
        return Err(VidError::NoHashes {
            what: r.path.clone(),
        });
    }
    let kind = match r.kind {
        Some(Kind::Image) => VidMediaKind::Image,
        Some(Kind::Video) => VidMediaKind::Video,
        _ => VidMediaKind::Other,
    };
    let name = std::path::Path::new(&r.path)
        .file_name()
        .map_or_else(|| r.path.clone(), |n| n.to_string_lossy().into_owned());
    Ok(MediaInput {
        kind,
        hashes,
        source: format!("file:{name}"),
        file: Some(std::path::PathBuf::from(&r.path)),
        stored: false,
    })
}

/// A medium known by one hash: `pdq:`, `md5:`, `sha1:` or `sha256:` say
/// which; without a prefix, 32 hex digits are MD5, 40 SHA-1 and 64 a PDQ
/// hash (write `sha256:` for a SHA-256).
pub fn media_of_hash(value: &str) -> Result<MediaInput, VidError> {
    let bad = |e: StoreError| VidError::BadHash {
        value: value.to_owned(),
        why: match e {
            StoreError::BadQuery(why) => why,
            other => other.to_string(),
        },
    };
    let mut hashes = MediaHashes::default();
    match matching::parse_query(value).map_err(bad)? {
        Query::Pdq(p) | Query::Sha256OrPdq(_, p) => hashes.pdq = Some(p),
        Query::Digest(Digest::Md5(d)) => hashes.md5 = Some(d),
        Query::Digest(Digest::Sha1(d)) => hashes.sha1 = Some(d),
        Query::Digest(Digest::Sha256(d)) => hashes.sha256 = Some(d),
    }
    Ok(MediaInput {
        kind: VidMediaKind::Other,
        hashes,
        source: "hash".to_owned(),
        file: None,
        stored: false,
    })
}

/// A media item of an intake, by the provider's media id, with the hashes
/// stored for it (provided or computed).
pub async fn media_of_intake<S: VidStore>(
    store: &S,
    intake: i64,
    media: &str,
) -> Result<MediaInput, VidError> {
    let row = store
        .intake_media_hashes(intake, media)
        .await?
        .ok_or_else(|| VidError::NoSuchIntakeMedia {
            intake,
            media: media.to_owned(),
        })?;
    let source = format!("intake:{intake}/{media}");
    if !searchable(&row.hashes) {
        return Err(VidError::NoHashes { what: source });
    }
    let kind = if row.hashes.vpdq.is_some() {
        VidMediaKind::Video
    } else if row.hashes.pdq.is_some() {
        VidMediaKind::Image
    } else {
        VidMediaKind::Other
    };
    Ok(MediaInput {
        kind,
        hashes: row.hashes,
        source,
        file: None,
        stored: false,
    })
}

/// Keeps each file of `media` (with its SHA-256), encrypted, in the blob
/// store, before its row exists: content-addressed, so a run stopped before
/// the rows are stored leaves only blobs that the next run finds there.
pub fn keep_files(blobs: &BlobStore, media: &mut [MediaInput]) -> Result<(), VidError> {
    for m in media {
        if let (Some(file), Some(sha256)) = (&m.file, &m.hashes.sha256) {
            blobs.put_file(file, sha256)?;
            m.stored = true;
        }
    }
    Ok(())
}

/// Links media to a series (by id or name), all or none.
pub async fn add_media<S: VidStore>(
    store: &S,
    series_key: &str,
    media: Vec<MediaInput>,
    agency: &str,
    notes: &str,
    actor: &str,
    now: &Timestamp,
) -> Result<Vec<VidMedia>, VidError> {
    let s = series(store, series_key).await?;
    let agency = check_country("--agency", agency)?;
    let new: Vec<NewVidMedia> = media
        .into_iter()
        .map(|m| NewVidMedia {
            series_id: s.id,
            kind: m.kind,
            hashes: m.hashes,
            stored: m.stored,
            source: m.source,
            agency: agency.clone(),
            notes: notes.to_owned(),
        })
        .collect();
    Ok(store.add_vid_media(&new, actor, now).await?)
}

// ---------------------------------------------------------------------------
// Search

/// Series media read per store page while the index is built.
const PAGE: u32 = 10_000;

/// Every series medium's hashes, indexed (digests, PDQ, vPDQ frames): ids
/// are `vid_media.id`, and a hit's series is read from the store, so a
/// merge (which moves media, not hashes) leaves the index as it is.
///
/// Series media are only ever added, so an index is current once it holds
/// every id up to the store's highest: [`VidIndex::open`] loads the file
/// beside the store and adds the media stored since; one holding an id the
/// store does not reach (a store restored from an older backup) is rebuilt.
#[derive(Debug, Default)]
pub struct VidIndex {
    index: KnownIndex,
    /// The highest `vid_media.id` held.
    max_id: i64,
}

impl VidIndex {
    /// Reads every series medium from the store into a new index.
    pub async fn build<S: VidStore>(store: &S) -> Result<VidIndex, StoreError> {
        let mut out = VidIndex::default();
        out.catch_up(store).await?;
        Ok(out)
    }

    /// The index file at `path`, caught up with the store (and written
    /// again when anything was added); missing, unreadable or ahead of the
    /// store, it is rebuilt.
    pub async fn open<S: VidStore>(store: &S, path: &Path) -> Result<VidIndex, StoreError> {
        let top = store.vid_media_max_id().await?;
        let mut out = match crate::known::read_index(path) {
            Ok((_, max_id, index)) if i64::try_from(max_id).is_ok_and(|m| m <= top) => VidIndex {
                index,
                max_id: i64::try_from(max_id).unwrap_or(0),
            },
            _ => VidIndex::default(),
        };
        if out.catch_up(store).await? > 0 || !path.exists() {
            out.index.pdq.build_tables()?;
            let max_id = u64::try_from(out.max_id).unwrap_or(0);
            crate::known::write_index(path, 0, max_id, &out.index)?;
        }
        Ok(out)
    }

    /// The highest `vid_media.id` held: the index is current while the
    /// store's highest is no more.
    pub fn max_id(&self) -> i64 {
        self.max_id
    }

    /// Adds the media stored above the highest id held; returns how many
    /// (a long-lived index, the service's, calls it before each search).
    pub async fn catch_up<S: VidStore>(&mut self, store: &S) -> Result<u64, StoreError> {
        let mut added = 0;
        loop {
            let page = store.vid_media_hashes_page(self.max_id, PAGE).await?;
            let Some(last) = page.last() else { break };
            self.max_id = last.id;
            added += page.len() as u64;
            let mut pdq = Vec::new();
            for m in &page {
                let Ok(id) = u64::try_from(m.id) else {
                    continue;
                };
                let h = &m.hashes;
                let digests = [
                    h.md5.map(Digest::Md5),
                    h.sha1.map(Digest::Sha1),
                    h.sha256.map(Digest::Sha256),
                ];
                for d in digests.iter().flatten() {
                    self.index.digests.insert(d, id);
                }
                if let Some(hash) = h.pdq {
                    // A hash given without its quality counts as usable.
                    let quality = h.pdq_quality.unwrap_or(100);
                    pdq.push(PdqEntry { hash, quality, id });
                }
                for f in h.vpdq.iter().flatten() {
                    pdq.push(PdqEntry {
                        hash: f.hash,
                        quality: f.quality,
                        id,
                    });
                }
            }
            // Low-quality hashes stay out of the index (and out of queries).
            self.index.pdq.extend_bulk(pdq)?;
        }
        Ok(added)
    }
}

/// Where the data directory keeps the index of series media: `vid.idx`
/// beside the SQLite store, `vid-<store id>.idx` for a PostgreSQL store
/// (one database serves many data directories), as for `known.idx`.
pub async fn index_path(dir: &Path, store: &Store) -> Result<PathBuf, StoreError> {
    Ok(match store {
        Store::Sqlite(_) => dir.join("vid.idx"),
        Store::Postgres(_) => dir.join(format!("vid-{}.idx", store.store_id().await?)),
    })
}

/// What to search for a file (its digests, the eight dihedral variants of
/// its image PDQ, its vPDQ frames); the record must have been hashed with
/// the dihedral variants.
pub fn probe_of_file(r: &FileRecord) -> Result<Probe, VidError> {
    if let Some(error) = &r.error {
        return Err(VidError::File {
            path: r.path.clone(),
            error: error.clone(),
        });
    }
    let probe = matching::probe_of_record(r);
    if matching::searchable(&probe) {
        Ok(probe)
    } else {
        Err(VidError::NoHashes {
            what: r.path.clone(),
        })
    }
}

/// What to search for a hash (a PDQ hash's eight variants from its bits).
pub fn probe_of_hash(value: &str) -> Result<Probe, VidError> {
    matching::parse_query(value)
        .map(|q| q.probe())
        .map_err(|e| VidError::BadHash {
            value: value.to_owned(),
            why: match e {
                StoreError::BadQuery(why) => why,
                other => other.to_string(),
            },
        })
}

/// Searches each probe (`queries`: what to call it in the answer) against
/// every series medium: exact digests, PDQ within `radius` over the eight
/// variants, vPDQ by python-threatexchange's rule. Each hit names its
/// series and the least advanced status of the series' victims.
pub async fn search<S: VidStore>(
    store: &S,
    index: &VidIndex,
    queries: &[(String, Probe)],
    radius: u32,
) -> Result<Vec<VidSearch>, VidError> {
    let probes: Vec<Probe> = queries.iter().map(|(_, p)| p.clone()).collect();
    let found = matching::index_candidates(&index.index, radius, &probes);
    let mut ids: Vec<i64> = found
        .iter()
        .flat_map(|hits| hits.keys())
        .filter_map(|&id| i64::try_from(id).ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut series_of: HashMap<i64, i64> = HashMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut status_of: HashMap<i64, VictimStatus> = HashMap::new();
    if !ids.is_empty() {
        for m in store.vid_media_by_ids(&ids).await? {
            series_of.insert(m.id, m.series);
        }
        for s in store.series_list().await? {
            names.insert(s.id, s.name);
        }
        for v in store.victims(None).await? {
            let slot = status_of.entry(v.series).or_insert(v.status);
            *slot = (*slot).min(v.status);
        }
    }
    let mut out = Vec::with_capacity(queries.len());
    for ((query, _), hits) in queries.iter().zip(found) {
        let mut matches: Vec<VidMatch> = hits
            .into_iter()
            .filter(|(_, (kind, distance, _))| *kind == MatchKind::Exact || *distance <= radius)
            .filter_map(|(id, (kind, distance, variant))| {
                let media = i64::try_from(id).ok()?;
                let series = *series_of.get(&media)?;
                Some(VidMatch {
                    series,
                    series_name: names.get(&series).cloned().unwrap_or_default(),
                    media,
                    kind,
                    distance,
                    variant: variant.map(|v| v.name().to_owned()),
                    victim_status: status_of.get(&series).copied(),
                })
            })
            .collect();
        matches.sort_by(|a, b| {
            (a.kind != MatchKind::Exact, a.distance, a.series, a.media).cmp(&(
                b.kind != MatchKind::Exact,
                b.distance,
                b.series,
                b.media,
            ))
        });
        out.push(VidSearch {
            query: query.clone(),
            matches,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_dates_countries_and_steps_are_checked() {
        assert_eq!(check_name("  Sunrise ").unwrap(), "Sunrise");
        assert!(check_name("123").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert_eq!(check_country("--agency", "nz").unwrap(), "NZ");
        assert!(check_country("--agency", "QQ").is_err());
        assert_eq!(check_date("2026-02-28").unwrap(), "2026-02-28");
        assert!(check_date("2026-02-30").is_err());
        assert!(check_date("26-2-1").is_err());
        let now = Timestamp::from_unix(1_796_083_200);
        let step = StatusStep::default();
        assert_eq!(
            check_step("1", VictimStatus::Unidentified, &step, &now).unwrap(),
            step
        );
        let e = check_step("1", VictimStatus::Identified, &step, &now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "victim 1: becoming identified needs --country (where it happened)"
        );
        let given = StatusStep {
            country: Some("au".into()),
            agency: Some("gb".into()),
            date: None,
        };
        let got = check_step("1", OffenderStatus::Arrested, &given, &now).unwrap();
        assert_eq!(got.country.as_deref(), Some("AU"));
        assert_eq!(got.date.as_deref(), Some(&now.as_str()[..10]));
    }

    #[test]
    fn hashes_say_what_they_are() {
        let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let m = media_of_hash(pdq).unwrap();
        assert!(m.hashes.pdq.is_some() && m.hashes.sha256.is_none());
        let m = media_of_hash(&format!("sha256:{pdq}")).unwrap();
        assert!(m.hashes.pdq.is_none() && m.hashes.sha256.is_some());
        let m = media_of_hash(&"ab".repeat(16)).unwrap();
        assert!(m.hashes.md5.is_some());
        let e = media_of_hash("xyz").unwrap_err();
        assert_eq!(e.to_string(), "--hash \"xyz\": \"xyz\" is not hexadecimal");
        assert_eq!(probe_of_hash(pdq).unwrap().pdq.map(|v| v.len()), Some(8));
    }
}
