//! [`Store`]: whichever backend the command line chose, behind the store
//! traits.

use std::path::Path;

use tiaki_formats::ListEntry;
use tiaki_index::EntryId;
use tokio::sync::mpsc;

use crate::intake::{
    AccountRow, Begun, EventRow, FindingRow, HashedMedia, IntakeCounts, IntakeInfo, IntakeState,
    IntakeStore, MatchRow, MediaHashRow, MediaRow, NewIntake, PendingMedia,
};
use crate::persons::{
    AccountSource, LinkCounts, LinkResult, LinkStore, PersonDetail, PersonInfo, UploadPage,
    Uploaders,
};
use crate::referrals::{
    AgencyChange, AgencyRow, AttributedAccount, CountryAccounts, EventsAdded, LedgerCounts,
    MediaPage, NewAgency, NewReferralEvent, ReferableAccount, ReferralRow, ReferralStore,
    StoredReferralEvent,
};
use crate::{
    Feed, Imported, ListInfo, ListStore, NewList, PgStore, SqliteStore, StoreError, StoredEntry,
    Timestamp,
};

/// The store of a data directory: SQLite in `DIR/tiaki.db` by default, or
/// PostgreSQL.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The same call on whichever backend this is.
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// `database`: `None` (or `sqlite`) for `dir/tiaki.db`, else a
    /// `postgres://` (or `postgresql://`) URL.
    pub async fn open(dir: &Path, database: Option<&str>) -> Result<Store, StoreError> {
        match database {
            None | Some("sqlite") => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                Ok(Store::Sqlite(
                    SqliteStore::open(&dir.join("tiaki.db")).await?,
                ))
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Store::Postgres(PgStore::connect(url).await?))
            }
            Some(other) => Err(StoreError::BadDatabase(other.to_string())),
        }
    }

    /// The random id the store was created with.
    pub async fn store_id(&self) -> Result<String, StoreError> {
        dispatch!(self, s => s.meta("store_id").await)
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(s) => s.backend_name(),
            Store::Postgres(s) => s.backend_name(),
        }
    }
}

impl ListStore for Store {
    async fn lists(&self) -> Result<Vec<ListInfo>, StoreError> {
        dispatch!(self, s => s.lists().await)
    }
    async fn list(&self, name: &str) -> Result<ListInfo, StoreError> {
        dispatch!(self, s => s.list(name).await)
    }
    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ListInfo, StoreError> {
        dispatch!(self, s => s.set_enabled(name, enabled).await)
    }
    async fn generation(&self) -> Result<u64, StoreError> {
        dispatch!(self, s => s.generation().await)
    }
    async fn import_list(
        &self,
        new: &NewList,
        now: &Timestamp,
        feed: &mut mpsc::Receiver<Feed>,
        on_batch: &mut (dyn FnMut(EntryId, &[ListEntry]) + Send),
    ) -> Result<Imported, StoreError> {
        dispatch!(self, s => s.import_list(new, now, feed, on_batch).await)
    }
    async fn entries_page(
        &self,
        list_id: Option<i64>,
        after: EntryId,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        dispatch!(self, s => s.entries_page(list_id, after, limit).await)
    }
    async fn entries_by_ids(&self, ids: &[EntryId]) -> Result<Vec<StoredEntry>, StoreError> {
        dispatch!(self, s => s.entries_by_ids(ids).await)
    }
    async fn entry_ids_of_list(&self, list_id: i64) -> Result<Vec<EntryId>, StoreError> {
        dispatch!(self, s => s.entry_ids_of_list(list_id).await)
    }
}

impl IntakeStore for Store {
    async fn begin_intake(&self, new: &NewIntake, now: &Timestamp) -> Result<Begun, StoreError> {
        dispatch!(self, s => s.begin_intake(new, now).await)
    }
    async fn intakes(&self) -> Result<Vec<IntakeInfo>, StoreError> {
        dispatch!(self, s => s.intakes().await)
    }
    async fn set_intake_state(
        &self,
        intake_id: i64,
        state: IntakeState,
        now: &Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_intake_state(intake_id, state, now).await)
    }
    async fn insert_accounts(
        &self,
        intake_id: i64,
        rows: &[AccountRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_accounts(intake_id, rows, findings).await)
    }
    async fn insert_media(
        &self,
        intake_id: i64,
        rows: &[MediaRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_media(intake_id, rows, findings).await)
    }
    async fn insert_events(
        &self,
        intake_id: i64,
        rows: &[EventRow],
        findings: &[FindingRow],
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_events(intake_id, rows, findings).await)
    }
    async fn claim_pending(
        &self,
        intake_id: Option<i64>,
        worker: &str,
        now: &Timestamp,
        stale_before: &Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingMedia>, StoreError> {
        dispatch!(self, s => s.claim_pending(intake_id, worker, now, stale_before, limit).await)
    }
    async fn release_claims(&self, intake_id: i64, worker: &str) -> Result<u64, StoreError> {
        dispatch!(self, s => s.release_claims(intake_id, worker).await)
    }
    async fn complete_hashing(&self, worker: &str, done: &[HashedMedia]) -> Result<(), StoreError> {
        dispatch!(self, s => s.complete_hashing(worker, done).await)
    }
    async fn media_hashes_page(
        &self,
        intake_id: Option<i64>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MediaHashRow>, StoreError> {
        dispatch!(self, s => s.media_hashes_page(intake_id, after, limit).await)
    }
    async fn add_matches(&self, matches: &[(i64, MatchRow)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.add_matches(matches).await)
    }
    async fn intake_counts(&self, intake_id: Option<i64>) -> Result<IntakeCounts, StoreError> {
        dispatch!(self, s => s.intake_counts(intake_id).await)
    }
    async fn findings(&self, intake_id: i64) -> Result<Vec<FindingRow>, StoreError> {
        dispatch!(self, s => s.findings(intake_id).await)
    }
    async fn matches_of(&self, media_ids: &[i64]) -> Result<Vec<(i64, MatchRow)>, StoreError> {
        dispatch!(self, s => s.matches_of(media_ids).await)
    }
    async fn dump_intakes(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self, s => s.dump_intakes().await)
    }
}

impl LinkStore for Store {
    async fn account_sources_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AccountSource>, StoreError> {
        dispatch!(self, s => s.account_sources_page(after, limit).await)
    }
    async fn upload_sources_page(
        &self,
        after: i64,
        limit: u32,
        uploaders: &Uploaders,
    ) -> Result<UploadPage, StoreError> {
        dispatch!(self, s => s.upload_sources_page(after, limit, uploaders).await)
    }
    async fn replace_links(&self, result: &LinkResult, now: &Timestamp) -> Result<(), StoreError> {
        dispatch!(self, s => s.replace_links(result, now).await)
    }
    async fn persons(&self, country: Option<&str>) -> Result<Vec<PersonInfo>, StoreError> {
        dispatch!(self, s => s.persons(country).await)
    }
    async fn person(&self, key: &str) -> Result<Option<PersonDetail>, StoreError> {
        dispatch!(self, s => s.person(key).await)
    }
    async fn link_counts(&self) -> Result<LinkCounts, StoreError> {
        dispatch!(self, s => s.link_counts().await)
    }
}

impl ReferralStore for Store {
    async fn import_agencies(
        &self,
        agencies: &[NewAgency],
        now: &Timestamp,
    ) -> Result<Vec<AgencyChange>, StoreError> {
        dispatch!(self, s => s.import_agencies(agencies, now).await)
    }
    async fn agencies(&self) -> Result<Vec<AgencyRow>, StoreError> {
        dispatch!(self, s => s.agencies().await)
    }
    async fn attributed_countries(&self) -> Result<Vec<CountryAccounts>, StoreError> {
        dispatch!(self, s => s.attributed_countries().await)
    }
    async fn referable_accounts(
        &self,
        include_referred: bool,
    ) -> Result<Vec<ReferableAccount>, StoreError> {
        dispatch!(self, s => s.referable_accounts(include_referred).await)
    }
    async fn attributed_accounts(
        &self,
        account_ids: &[i64],
    ) -> Result<Vec<AttributedAccount>, StoreError> {
        dispatch!(self, s => s.attributed_accounts(account_ids).await)
    }
    async fn media_id_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        dispatch!(self, s => s.media_id_range().await)
    }
    async fn uploaded_media(
        &self,
        after: i64,
        upto: i64,
        uploaders: &Uploaders,
    ) -> Result<MediaPage, StoreError> {
        dispatch!(self, s => s.uploaded_media(after, upto, uploaders).await)
    }
    async fn record_referral(
        &self,
        referral: &ReferralRow,
        account_ids: &[i64],
        now: &Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.record_referral(referral, account_ids, now).await)
    }
    async fn referrals(&self, country: Option<&str>) -> Result<Vec<ReferralRow>, StoreError> {
        dispatch!(self, s => s.referrals(country).await)
    }
    async fn referral(&self, id: &str) -> Result<Option<ReferralRow>, StoreError> {
        dispatch!(self, s => s.referral(id).await)
    }
    async fn referral_events(&self, id: &str) -> Result<Vec<StoredReferralEvent>, StoreError> {
        dispatch!(self, s => s.referral_events(id).await)
    }
    async fn add_referral_events(
        &self,
        events: &[NewReferralEvent],
        now: &Timestamp,
    ) -> Result<EventsAdded, StoreError> {
        dispatch!(self, s => s.add_referral_events(events, now).await)
    }
    async fn ledger_counts(&self) -> Result<LedgerCounts, StoreError> {
        dispatch!(self, s => s.ledger_counts().await)
    }
}
