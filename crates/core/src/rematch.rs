//! Retroactive matching: after a list is imported, every stored media item
//! is looked up again from its stored hashes (no file is re-hashed), and
//! new matches are added; media that match become known.

use tiaki_store::intake::{IntakeStore, MatchRow};
use tiaki_store::{ListStore, StoreError};

use crate::known::Known;
use crate::matching::{MatchOptions, match_rows, probe_of};
use crate::pages::media_pages;

/// Media read per page.
const PAGE: u32 = 10_000;

/// What a rematch found.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RematchReport {
    pub media: u64,
    /// Matches that were not stored before.
    pub new_matches: u64,
    /// Media that were new and are known now.
    pub became_known: u64,
}

/// Looks every stored media item up in `lists` (names; empty: all enabled
/// lists) and stores the matches it did not have.
pub async fn rematch<S: ListStore + IntakeStore + Clone + 'static>(
    known: &Known<S>,
    lists: &[String],
    all_variants: bool,
) -> Result<RematchReport, StoreError> {
    let matcher = known
        .matcher(&MatchOptions {
            radius: None,
            lists: lists.to_vec(),
        })
        .await?;
    let store = known.store();
    let mut report = RematchReport::default();
    let mut pages = media_pages(store, None, PAGE);
    while let Some(page) = pages.next().await? {
        report.media += page.len() as u64;
        let probes: Vec<_> = page
            .iter()
            .map(|m| probe_of(&m.hashes, all_variants))
            .collect();
        let hits = known.find_many(&matcher, &probes).await?;
        let ids: Vec<i64> = page
            .iter()
            .zip(&hits)
            .filter(|(_, h)| !h.is_empty())
            .map(|(m, _)| m.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let have: std::collections::HashSet<(i64, u64, String)> = store
            .matches_of(&ids)
            .await?
            .into_iter()
            .map(|(id, m)| (id, m.entry_id, format!("{:?}", m.kind)))
            .collect();
        let mut add: Vec<(i64, MatchRow)> = Vec::new();
        for (m, hits) in page.iter().zip(&hits) {
            let mut any = false;
            for row in match_rows(hits) {
                if !have.contains(&(m.id, row.entry_id, format!("{:?}", row.kind))) {
                    any = true;
                    add.push((m.id, row));
                }
            }
            if any && m.triage != Some(tiaki_store::intake::Triage::Known) {
                report.became_known += 1;
            }
        }
        report.new_matches += add.len() as u64;
        if !add.is_empty() {
            store.add_matches(&add).await?;
        }
    }
    Ok(report)
}
