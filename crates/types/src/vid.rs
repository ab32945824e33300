//! The victim-identification database's values (issue 20): series, the
//! victims and offenders recorded with them, the media linked to a series by
//! hash, the history of every change, and the status transition table.
//!
//! The store keeps these rows (`tiaki_store::vid`), `tiaki_core::vid`
//! checks and searches them; the command line and the service answer with
//! these types. Nothing here describes content: a series is a name and the
//! hashes linked to it.
//!
//! # Statuses
//!
//! A victim moves `unidentified → identified → safeguarded`, an offender
//! `unidentified → identified → arrested`: one step at a time, forward only.
//! [`transition`] is the whole table, a pure function, and the store calls
//! it inside the transaction that changes the row, so a refused transition
//! changes nothing and says which record, in which state, was asked for
//! which.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A status of a victim or an offender: its place in a forward-only chain.
pub trait Status: Copy + Eq + fmt::Debug + fmt::Display + 'static {
    /// Every status, in order; the first is where a record starts by default.
    const ALL: &'static [Self];
    /// What a record with this status is called (`victim`, `offender`).
    const RECORD: VidRecord;
    /// The stable name (`unidentified`).
    fn name(self) -> &'static str;
    /// The position in [`Status::ALL`].
    fn rank(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
    /// The status of a stable name.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }
}

macro_rules! status_enum {
    (
        $(#[$attr:meta])*
        $Name:ident, $record:expr, [$($(#[$vattr:meta])* $Variant:ident = $name:literal),+ $(,)?]
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "lowercase")]
        pub enum $Name {
            $($(#[$vattr])* $Variant,)+
        }

        impl Status for $Name {
            const ALL: &'static [Self] = &[$($Name::$Variant),+];
            const RECORD: VidRecord = $record;
            fn name(self) -> &'static str {
                match self {
                    $($Name::$Variant => $name,)+
                }
            }
        }

        impl fmt::Display for $Name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $Name {
            type Err = BadStatus;
            fn from_str(s: &str) -> Result<Self, BadStatus> {
                <$Name as Status>::from_name(&s.trim().to_ascii_lowercase()).ok_or_else(|| BadStatus {
                    record: $record,
                    given: s.to_owned(),
                    expected: <$Name as Status>::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    };
}

status_enum!(
    /// Where a victim's identification stands.
    VictimStatus,
    VidRecord::Victim,
    [
        /// Not yet identified: the most urgent state.
        Unidentified = "unidentified",
        /// Identified, not yet safeguarded.
        Identified = "identified",
        /// Identified and safeguarded.
        Safeguarded = "safeguarded",
    ]
);

status_enum!(
    /// Where an offender's identification stands.
    OffenderStatus,
    VidRecord::Offender,
    [
        Unidentified = "unidentified",
        Identified = "identified",
        /// Identified and arrested.
        Arrested = "arrested",
    ]
);

/// A status name that is not one of its record's statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a {record} status (expected one of: {expected})")]
pub struct BadStatus {
    pub record: VidRecord,
    pub given: String,
    pub expected: String,
}

/// The kinds of record of the database (what a history event is about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VidRecord {
    Series,
    Victim,
    Offender,
    Media,
}

impl VidRecord {
    pub const ALL: [VidRecord; 4] = [
        VidRecord::Series,
        VidRecord::Victim,
        VidRecord::Offender,
        VidRecord::Media,
    ];

    /// The stable name (`series`, `victim`, ...).
    pub fn name(self) -> &'static str {
        match self {
            VidRecord::Series => "series",
            VidRecord::Victim => "victim",
            VidRecord::Offender => "offender",
            VidRecord::Media => "media",
        }
    }

    pub fn from_name(name: &str) -> Option<VidRecord> {
        VidRecord::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for VidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a status change was refused (nothing was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The record already has the status asked for.
    Same,
    /// The status asked for comes before the current one.
    Backwards,
    /// The status asked for is more than one step ahead; `next` is the
    /// step that must come first.
    Skips { next: &'static str },
}

/// A status change the transition table refuses: names the record, its
/// status and the status asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TransitionError {
    pub record: VidRecord,
    pub id: i64,
    pub from: &'static str,
    pub to: &'static str,
    pub refusal: Refusal,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TransitionError {
            record,
            id,
            from,
            to,
            refusal,
        } = self;
        match refusal {
            Refusal::Same => write!(f, "{record} {id} is already {from}; nothing was changed"),
            Refusal::Backwards => write!(
                f,
                "{record} {id} is {from} and cannot go back to {to}: a status only moves forward; nothing was changed"
            ),
            Refusal::Skips { next } => write!(
                f,
                "{record} {id} is {from} and cannot become {to} before it is {next}; nothing was changed"
            ),
        }
    }
}

/// The transition table: whether record `id`, now `from`, may become `to`.
/// Only the next status in [`Status::ALL`] is allowed.
pub fn transition<S: Status>(id: i64, from: S, to: S) -> Result<(), TransitionError> {
    let (a, b) = (from.rank(), to.rank());
    let refusal = if b == a + 1 {
        return Ok(());
    } else if b == a {
        Refusal::Same
    } else if b < a {
        Refusal::Backwards
    } else {
        Refusal::Skips {
            next: S::ALL.get(a + 1).map_or("", |s| s.name()),
        }
    };
    Err(TransitionError {
        record: S::RECORD,
        id,
        from: from.name(),
        to: to.name(),
        refusal,
    })
}

/// Where, when and by whom a status was reached (each field as given; the
/// first status of a record may have none of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusStep {
    /// The country where it happened (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The agency that did it (its country, ISO 3166-1 alpha-2, as agencies
    /// are named everywhere in Tiaki).
    pub agency: Option<String>,
    /// The day it happened (`YYYY-MM-DD`).
    pub date: Option<String>,
}

/// A series: media of one origin, and the victims and offenders recorded
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Series {
    pub id: i64,
    pub name: String,
    /// The contributing agency (its country, ISO 3166-1 alpha-2).
    pub agency: String,
    pub notes: String,
    /// The series this one was merged into (its records moved there).
    pub merged_into: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Media linked to it.
    pub media: u64,
    pub victims: u64,
    pub offenders: u64,
}

/// A victim recorded with a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Victim {
    pub id: i64,
    pub series: i64,
    pub status: VictimStatus,
    /// Where, when and by whom the current status was reached.
    pub step: StatusStep,
    /// The contributing agency (its country).
    pub agency: String,
    pub notes: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An offender recorded with a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offender {
    pub id: i64,
    pub series: i64,
    pub status: OffenderStatus,
    /// Where, when and by whom the current status was reached.
    pub step: StatusStep,
    /// The contributing agency (its country).
    pub agency: String,
    pub notes: String,
    pub created_at: String,
    pub updated_at: String,
}

/// What a series medium is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VidMediaKind {
    Image,
    Video,
    /// Known by its hashes alone (`--hash`), or a file neither image nor video.
    Other,
}

impl VidMediaKind {
    pub fn name(self) -> &'static str {
        match self {
            VidMediaKind::Image => "image",
            VidMediaKind::Video => "video",
            VidMediaKind::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<VidMediaKind> {
        [
            VidMediaKind::Image,
            VidMediaKind::Video,
            VidMediaKind::Other,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// A medium linked to a series by its hashes (hex; absent when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VidMedia {
    pub id: i64,
    pub series: i64,
    pub kind: VidMediaKind,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub pdq: Option<String>,
    pub pdq_quality: Option<u8>,
    /// vPDQ frames kept (0 for an image).
    pub vpdq_frames: u64,
    /// The file is kept, encrypted, in the blob store (named by its SHA-256).
    pub stored: bool,
    /// Where it came from: `file:NAME`, `hash`, or `intake:N/ID`.
    pub source: String,
    /// The contributing agency (its country).
    pub agency: String,
    pub notes: String,
    pub created_at: String,
}

/// What a history event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VidEventKind {
    /// The record was created (with its first status, for a victim or an
    /// offender).
    Created,
    /// The status moved on (`from` → `to`, with the step).
    Status,
    /// The notes were replaced (`note` holds the new text).
    Notes,
    /// A series was merged into another (`detail.into`), or a record moved
    /// to another series by a merge (`detail.from`, `detail.into`).
    Merged,
}

impl VidEventKind {
    pub const ALL: [VidEventKind; 4] = [
        VidEventKind::Created,
        VidEventKind::Status,
        VidEventKind::Notes,
        VidEventKind::Merged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            VidEventKind::Created => "created",
            VidEventKind::Status => "status",
            VidEventKind::Notes => "notes",
            VidEventKind::Merged => "merged",
        }
    }

    pub fn from_name(name: &str) -> Option<VidEventKind> {
        VidEventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One change of the database, as kept (never updated, never deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VidEvent {
    pub id: i64,
    pub record: VidRecord,
    pub record_id: i64,
    /// The series the record belonged to when it happened.
    pub series: i64,
    pub event: VidEventKind,
    /// The status before (status events).
    pub from: Option<String>,
    /// The status after (created and status events of victims and offenders).
    pub to: Option<String>,
    pub step: StatusStep,
    /// The notes' new text (created and notes events).
    pub note: Option<String>,
    /// Who made the change (`cli:USER`, or a service user's name).
    pub actor: String,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Anything else (a merge's series).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// A series with everything recorded with it (`tiaki vid series show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesDetail {
    pub series: Series,
    pub victims: Vec<Victim>,
    pub offenders: Vec<Offender>,
    pub media: Vec<VidMedia>,
    /// Every event of the series and its records, oldest first.
    pub history: Vec<VidEvent>,
}

/// One near-duplicate (or exact) hit of a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VidMatch {
    pub series: i64,
    pub series_name: String,
    /// The series medium hit.
    pub media: i64,
    /// `exact` (a digest), `pdq` or `vpdq`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: crate::hashes::MatchKind,
    /// PDQ Hamming distance (for vPDQ the best frame's; 0 for exact).
    pub distance: u32,
    /// The dihedral variant of the query that matched (PDQ only).
    pub variant: Option<String>,
    /// The least advanced status among the series' victims (`None`: no
    /// victim recorded): `unidentified` means a child may still be abused.
    pub victim_status: Option<VictimStatus>,
}

/// A search's answer, as interfaces.md fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VidSearch {
    /// The file searched, or the hash.
    pub query: String,
    /// Best first: exact, then by distance, series and media id.
    pub matches: Vec<VidMatch>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The oracle: the statuses as a plain list, only the next one allowed.
    fn oracle(order: &[&str], from: &str, to: &str) -> bool {
        let i = order.iter().position(|s| *s == from).unwrap();
        order.get(i + 1) == Some(&to)
    }

    fn check_all<S: Status>() {
        let order: Vec<&str> = S::ALL.iter().map(|s| s.name()).collect();
        for &from in S::ALL {
            for &to in S::ALL {
                let got = transition(7, from, to);
                assert_eq!(got.is_ok(), oracle(&order, from.name(), to.name()));
                if let Err(e) = got {
                    let text = e.to_string();
                    assert!(text.contains(&format!("{} 7", S::RECORD)), "{text}");
                    assert!(
                        text.contains(from.name()) && text.contains(to.name()) || to == from,
                        "{text}"
                    );
                    assert!(text.ends_with("nothing was changed"), "{text}");
                }
            }
        }
    }

    #[test]
    fn every_transition_of_both_chains() {
        check_all::<VictimStatus>();
        check_all::<OffenderStatus>();
        let e = transition(3, VictimStatus::Unidentified, VictimStatus::Safeguarded).unwrap_err();
        assert_eq!(
            e.to_string(),
            "victim 3 is unidentified and cannot become safeguarded before it is identified; nothing was changed"
        );
        let e = transition(4, OffenderStatus::Arrested, OffenderStatus::Identified).unwrap_err();
        assert_eq!(e.refusal, Refusal::Backwards);
    }

    #[test]
    fn names_round_trip() {
        for &s in VictimStatus::ALL {
            assert_eq!(s.name().parse::<VictimStatus>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        for &s in OffenderStatus::ALL {
            assert_eq!(s.name().parse::<OffenderStatus>().unwrap(), s);
        }
        let e = "found".parse::<VictimStatus>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"found\" is not a victim status (expected one of: unidentified, identified, safeguarded)"
        );
        for k in VidEventKind::ALL {
            assert_eq!(VidEventKind::from_name(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        for r in VidRecord::ALL {
            assert_eq!(VidRecord::from_name(r.name()), Some(r));
        }
    }

    proptest! {
        /// Any sequence of asked statuses: the table accepts exactly the
        /// oracle's steps, and a refused step leaves the status as it was.
        #[test]
        fn walks_follow_the_oracle(asks in proptest::collection::vec(0usize..3, 0..20)) {
            let order: Vec<&str> = VictimStatus::ALL.iter().map(|s| s.name()).collect();
            let mut now = VictimStatus::Unidentified;
            let mut oracle_now = 0usize;
            for a in asks {
                let to = VictimStatus::ALL[a];
                let ok = transition(1, now, to).is_ok();
                prop_assert_eq!(ok, oracle(&order, order[oracle_now], to.name()));
                if ok {
                    now = to;
                    oracle_now = a;
                }
                prop_assert_eq!(now.name(), order[oracle_now]);
            }
        }
    }
}
