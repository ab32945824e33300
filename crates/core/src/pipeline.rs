//! The pipeline's stages in order, and which of them each intake has
//! finished.
//!
//! An ingest runs store → hash → match → triage for its report, then link →
//! attribute over the whole store (links across reports count). Each stage
//! that finishes is recorded per intake (`intake_stages`), so a run killed
//! between two stages leaves a record of what is left, and running the same
//! command again finishes it instead of answering "already ingested" over a
//! store without persons or countries. `tiaki intakes ls` shows the stages
//! still missing.
//!
//! Store, hash, match and triage of one report are recorded together when
//! the intake completes: the intake's own resumption (natural keys, hashing
//! claims) already makes them restartable as one step. Link and attribute are
//! recorded for every complete intake once a recompute over the store has
//! written its result, because that result covers all of them.

use serde::Serialize;
use tiaki_store::intake::{IntakeCounts, IntakeInfo, IntakeStore, StageRow};
use tiaki_store::{StoreError, Timestamp};

/// One stage of the pipeline, in running order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Every record of the report stored.
    Store,
    /// Every file hashed (or failed with a finding).
    Hash,
    /// Every media item looked up in the known lists.
    Match,
    /// Every media item marked known or new.
    Triage,
    /// Accounts linked into persons (over the whole store).
    Link,
    /// A country for every account and person (over the whole store).
    Attribute,
}

impl Stage {
    /// Every stage, in running order.
    pub const ALL: [Stage; 6] = [
        Stage::Store,
        Stage::Hash,
        Stage::Match,
        Stage::Triage,
        Stage::Link,
        Stage::Attribute,
    ];

    /// The stages one report's intake finishes itself.
    pub const INTAKE: [Stage; 4] = [Stage::Store, Stage::Hash, Stage::Match, Stage::Triage];

    /// The stages a recompute over the whole store finishes.
    pub const STORE_WIDE: [Stage; 2] = [Stage::Link, Stage::Attribute];

    /// The stored name (`store`, `attribute`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Store => "store",
            Stage::Hash => "hash",
            Stage::Match => "match",
            Stage::Triage => "triage",
            Stage::Link => "link",
            Stage::Attribute => "attribute",
        }
    }

    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The stages of one intake: finished (with when) and still to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeStages {
    pub intake_id: i64,
    pub done: Vec<(Stage, String)>,
    pub missing: Vec<Stage>,
}

/// Records `stages` as finished for each of `intake_ids` (a stage already
/// recorded keeps its first time).
pub async fn record<S: IntakeStore>(
    store: &S,
    intake_ids: &[i64],
    stages: &[Stage],
    now: &Timestamp,
) -> Result<(), StoreError> {
    let names: Vec<&'static str> = stages.iter().map(|s| s.name()).collect();
    store.record_stages(intake_ids, &names, now).await
}

/// The stages of each of `intake_ids`, in that order.
pub async fn stages<S: IntakeStore>(
    store: &S,
    intake_ids: &[i64],
) -> Result<Vec<IntakeStages>, StoreError> {
    let rows = store.intake_stages(intake_ids).await?;
    Ok(intake_ids.iter().map(|&id| of_rows(id, &rows)).collect())
}

/// One intake as `tiaki intakes ls` and the service list it: its row, its
/// counts, and the pipeline stages it has not finished.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeSummary {
    pub intake: IntakeInfo,
    pub counts: IntakeCounts,
    pub missing_stages: Vec<Stage>,
}

/// Every intake, in id order.
pub async fn intake_summaries<S: IntakeStore>(store: &S) -> Result<Vec<IntakeSummary>, StoreError> {
    let intakes = store.intakes().await?;
    let ids: Vec<i64> = intakes.iter().map(|i| i.id).collect();
    let stages = stages(store, &ids).await?;
    let mut out = Vec::with_capacity(intakes.len());
    for (intake, stages) in intakes.into_iter().zip(stages) {
        out.push(IntakeSummary {
            counts: store.intake_counts(Some(intake.id)).await?,
            intake,
            missing_stages: stages.missing,
        });
    }
    Ok(out)
}

fn of_rows(intake_id: i64, rows: &[StageRow]) -> IntakeStages {
    let mut done: Vec<(Stage, String)> = rows
        .iter()
        .filter(|r| r.intake_id == intake_id)
        // A name this version does not know (a newer Tiaki wrote it) is
        // left out rather than failing the listing.
        .filter_map(|r| Stage::parse(&r.stage).map(|s| (s, r.completed_at.clone())))
        .collect();
    done.sort();
    let missing = Stage::ALL
        .into_iter()
        .filter(|s| !done.iter().any(|(d, _)| d == s))
        .collect();
    IntakeStages {
        intake_id,
        done,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_order() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.name()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.name())
            );
        }
        let mut sorted = Stage::ALL;
        sorted.sort();
        assert_eq!(sorted, Stage::ALL);
        assert_eq!(
            [&Stage::INTAKE[..], &Stage::STORE_WIDE[..]].concat(),
            Stage::ALL
        );
    }

    #[test]
    fn missing_stages_are_those_without_a_row() {
        let row = |id: i64, stage: &str| StageRow {
            intake_id: id,
            stage: stage.into(),
            completed_at: "2021-03-01T00:00:00Z".into(),
        };
        let rows = [
            row(1, "hash"),
            row(1, "store"),
            row(2, "attribute"),
            row(1, "later"),
        ];
        let one = of_rows(1, &rows);
        assert_eq!(
            one.done.iter().map(|d| d.0).collect::<Vec<_>>(),
            [Stage::Store, Stage::Hash]
        );
        assert_eq!(
            one.missing,
            [Stage::Match, Stage::Triage, Stage::Link, Stage::Attribute]
        );
        assert_eq!(of_rows(3, &rows).missing, Stage::ALL);
    }
}
