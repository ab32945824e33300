//! The operation's figures (`tiaki stats --json`), named as interfaces.md
//! fixes them.

use tiaki_store::{IntakeStore, LinkStore, ReferralStore, StoreError, ThreadStore, VidStore};

/// Every figure `tiaki stats --json` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub accounts: u64,
    pub media: u64,
    pub media_known: u64,
    pub media_new: u64,
    pub persons: u64,
    pub countries_attributed: u64,
    pub referrals: u64,
    pub countries_referred: u64,
    pub accounts_referred: u64,
    /// `investigation_opened` outcome events.
    pub investigations: u64,
    /// Sum of the `arrest` outcome events' counts.
    pub arrests: u64,
    /// Sum of the `children_safeguarded` outcome events' counts.
    pub children_safeguarded: u64,
    /// Countries that acknowledged a referral and answered on its thread
    /// (a liaison officer of the country wrote) or reported an outcome
    /// (`investigation_opened`, `arrest`, `children_safeguarded`, `note`):
    /// the countries the unit worked closely with
    /// (`ThreadStore::engaged_countries`).
    pub countries_engaged: u64,
    /// Victim-identification series (not merged into another).
    pub series: u64,
    /// Media linked to a series.
    pub vid_media: u64,
    /// Victims identified (safeguarded ones included).
    pub victims_identified: u64,
    pub victims_unidentified: u64,
    pub victims_safeguarded: u64,
    /// Offenders identified (arrested ones included).
    pub offenders_identified: u64,
    /// Intake media matching a series whose victim is not yet identified.
    pub alerts: u64,
}

/// Reads every figure from the store.
pub async fn stats<S: IntakeStore + ReferralStore + ThreadStore + VidStore>(
    store: &S,
) -> Result<Stats, StoreError> {
    let intake = store.intake_counts(None).await?;
    let vid = store.vid_counts().await?;
    let ledger = store.ledger_counts().await?;
    let engaged = store.engaged_countries().await?;
    Ok(Stats {
        accounts: intake.accounts,
        media: intake.media,
        media_known: intake.media_known,
        media_new: intake.media_new,
        persons: ledger.persons,
        countries_attributed: ledger.countries_attributed,
        referrals: ledger.referrals,
        countries_referred: ledger.countries_referred,
        accounts_referred: ledger.accounts_referred,
        investigations: ledger.investigations,
        arrests: ledger.arrests,
        children_safeguarded: ledger.children_safeguarded,
        countries_engaged: engaged.len() as u64,
        series: vid.series,
        vid_media: vid.media,
        victims_identified: vid.victims_identified,
        victims_unidentified: vid.victims_unidentified,
        victims_safeguarded: vid.victims_safeguarded,
        offenders_identified: vid.offenders_identified,
        // Alerts come with the intake check (issue 20, part 4).
        alerts: 0,
    })
}

/// The figures one country's liaison officer may see (`GET
/// /api/v1/stats`): that country's attributed accounts and persons, its
/// referrals and their outcomes. Media and known-list figures stay 0: a
/// liaison officer sees no intake.
pub async fn country_stats<S: ReferralStore + LinkStore + ThreadStore>(
    store: &S,
    country: &str,
) -> Result<Stats, StoreError> {
    let attributed = store
        .attributed_countries()
        .await?
        .into_iter()
        .find(|c| c.country.eq_ignore_ascii_case(country));
    let persons = store.persons(Some(country)).await?.len() as u64;
    let referrals = store.referrals(Some(country)).await?;
    let mut s = Stats {
        accounts: attributed.as_ref().map_or(0, |c| c.accounts),
        persons,
        countries_attributed: u64::from(attributed.is_some()),
        referrals: referrals.len() as u64,
        countries_referred: u64::from(!referrals.is_empty()),
        accounts_referred: attributed.as_ref().map_or(0, |c| c.accounts - c.unreferred),
        countries_engaged: u64::from(
            store
                .engaged_countries()
                .await?
                .iter()
                .any(|c| c.eq_ignore_ascii_case(country)),
        ),
        ..Stats::default()
    };
    for r in &referrals {
        for e in store.referral_events(&r.id).await? {
            match e.event.event.as_str() {
                "investigation_opened" => s.investigations += 1,
                "arrest" => s.arrests += e.event.count,
                "children_safeguarded" => s.children_safeguarded += e.event.count,
                _ => {}
            }
        }
    }
    Ok(s)
}
