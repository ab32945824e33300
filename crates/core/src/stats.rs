//! The operation's figures (`tiaki stats --json`), named as interfaces.md
//! fixes them.

use tiaki_store::{IntakeStore, ReferralStore, StoreError};

/// Every figure `tiaki stats --json` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
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
    // The victim-identification figures stay 0 until the victim-ID database
    // (its own issue) exists: there is nothing yet to count.
    pub series: u64,
    pub victims_identified: u64,
    pub victims_unidentified: u64,
    pub offenders_identified: u64,
    /// Intake media matching a series whose victim is not yet identified.
    pub alerts: u64,
}

/// Reads every figure from the store.
pub async fn stats<S: IntakeStore + ReferralStore>(store: &S) -> Result<Stats, StoreError> {
    let intake = store.intake_counts(None).await?;
    let ledger = store.ledger_counts().await?;
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
        ..Stats::default()
    })
}
