//! The audit log's values (issue 19, part 5): what happened
//! ([`AuditEvent`], with its [`AuditAction`]), a row as stored and
//! chained ([`AuditEntry`]), and a signed checkpoint of the chain's head
//! ([`AuditCheckpoint`]). Hashing, signing and verifying are
//! `tiaki_core::audit`'s; the store keeps the rows (`tiaki_store::audit`).
//!
//! A stored row keeps every field as the text that was hashed, not as a
//! parsed value: verification must be able to read, and name, a row someone
//! edited into something Tiaki would never have written.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an audited user did. The stable name ([`AuditAction::name`]) is
/// what the log stores, what `tiaki audit ls --action` filters on and what
/// the service answers with: names are never renamed or reused (add new
/// actions at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditAction {
    /// A login that succeeded (password or token).
    LoginSucceeded,
    /// A login that failed (the target names the account tried).
    LoginFailed,
    Logout,
    /// A media item's metadata or picture was viewed.
    MediaViewed,
    /// A media file was downloaded.
    MediaDownloaded,
    /// A referral package was downloaded.
    ReferralDownloaded,
    /// A referral moved to another state.
    ReferralStateChanged,
    /// An outcome was reported for a referral.
    OutcomeReported,
    /// A message (or attachment) was posted on a referral thread.
    ThreadMessagePosted,
    /// A thread attachment was downloaded.
    ThreadAttachmentDownloaded,
    /// A list (bank) was imported, created, enabled, disabled or deleted,
    /// or its content changed.
    ListChanged,
    UserAdded,
    UserChanged,
    UserDisabled,
    RoleChanged,
    TokenIssued,
    TokenRevoked,
    /// The audit log itself was read (the coordinators' route).
    AuditViewed,
    /// A signed checkpoint of the chain head was written.
    CheckpointWritten,
    /// A victim-identification series was created.
    VidSeriesAdded,
    /// A victim-identification series was merged into another.
    VidSeriesMerged,
    /// Media were linked to a victim-identification series.
    VidMediaAdded,
    /// A victim was recorded with a series.
    VidVictimAdded,
    /// A victim's status or notes changed.
    VidVictimChanged,
    /// An offender was recorded with a series.
    VidOffenderAdded,
    /// An offender's status or notes changed.
    VidOffenderChanged,
}

impl AuditAction {
    /// Every action, in this order.
    pub const ALL: [AuditAction; 26] = [
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::MediaViewed,
        AuditAction::MediaDownloaded,
        AuditAction::ReferralDownloaded,
        AuditAction::ReferralStateChanged,
        AuditAction::OutcomeReported,
        AuditAction::ThreadMessagePosted,
        AuditAction::ThreadAttachmentDownloaded,
        AuditAction::ListChanged,
        AuditAction::UserAdded,
        AuditAction::UserChanged,
        AuditAction::UserDisabled,
        AuditAction::RoleChanged,
        AuditAction::TokenIssued,
        AuditAction::TokenRevoked,
        AuditAction::AuditViewed,
        AuditAction::CheckpointWritten,
        AuditAction::VidSeriesAdded,
        AuditAction::VidSeriesMerged,
        AuditAction::VidMediaAdded,
        AuditAction::VidVictimAdded,
        AuditAction::VidVictimChanged,
        AuditAction::VidOffenderAdded,
        AuditAction::VidOffenderChanged,
    ];

    /// The stable name (`login.succeeded`).
    pub fn name(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::Logout => "logout",
            AuditAction::MediaViewed => "media.viewed",
            AuditAction::MediaDownloaded => "media.downloaded",
            AuditAction::ReferralDownloaded => "referral.downloaded",
            AuditAction::ReferralStateChanged => "referral.state_changed",
            AuditAction::OutcomeReported => "outcome.reported",
            AuditAction::ThreadMessagePosted => "thread.message_posted",
            AuditAction::ThreadAttachmentDownloaded => "thread.attachment_downloaded",
            AuditAction::ListChanged => "list.changed",
            AuditAction::UserAdded => "user.added",
            AuditAction::UserChanged => "user.changed",
            AuditAction::UserDisabled => "user.disabled",
            AuditAction::RoleChanged => "user.role_changed",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::AuditViewed => "audit.viewed",
            AuditAction::CheckpointWritten => "audit.checkpoint",
            AuditAction::VidSeriesAdded => "vid.series_added",
            AuditAction::VidSeriesMerged => "vid.series_merged",
            AuditAction::VidMediaAdded => "vid.media_added",
            AuditAction::VidVictimAdded => "vid.victim_added",
            AuditAction::VidVictimChanged => "vid.victim_changed",
            AuditAction::VidOffenderAdded => "vid.offender_added",
            AuditAction::VidOffenderChanged => "vid.offender_changed",
        }
    }

    /// The action of a stable name.
    pub fn from_name(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AuditAction::from_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audit action {s:?}")))
    }
}

/// One thing that happened, as the service (or a command) records it; the
/// time is given separately, by the caller's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The user (login name), or `system` for what Tiaki does by itself.
    pub actor: String,
    /// The actor's role name (`tiaki_types::access::Role`), or `system`.
    pub actor_role: String,
    /// The actor's country (ISO 3166-1 alpha-2), when the role has one.
    pub country: Option<String>,
    pub action: AuditAction,
    /// What was acted on: a referral id, `media/123`, a user name, a list.
    pub target: String,
    /// Anything else worth keeping (old and new state, a list's size): a
    /// JSON value, stored as its text.
    pub detail: serde_json::Value,
    /// The client's address, for requests over the network.
    pub remote_addr: Option<String>,
}

/// A row of the audit log as stored: every field as the text the row hash
/// covers (`tiaki_core::audit` documents the encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the chain, 1, 2, 3, … without gaps.
    pub seq: i64,
    /// RFC 3339 UTC, as `Timestamp` writes it.
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub country: Option<String>,
    /// An [`AuditAction`] name.
    pub action: String,
    pub target: String,
    /// The detail's JSON text (shown as JSON by `--json`).
    #[serde(serialize_with = "detail_as_json")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: String,
    pub remote_addr: Option<String>,
    /// The previous row's hash (64 hex digits; 64 zeros for the first row).
    pub prev_hash: String,
    /// This row's hash (64 hex digits).
    pub hash: String,
}

/// The detail text as the JSON it is, or as a string when it is not JSON
/// (a hand-edited row: `tiaki audit ls` still shows it).
fn detail_as_json<S: serde::Serializer>(detail: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(v) => v.serialize(s),
        Err(_) => s.serialize_str(detail),
    }
}

/// A signed statement that the chain's head was `head_hash` at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpoint {
    /// The head's seq (0: the log was empty).
    pub seq: i64,
    /// The head's hash (64 zeros for an empty log).
    pub head_hash: String,
    /// When the checkpoint was made (RFC 3339 UTC).
    pub at: String,
    /// The minisign signature (`.minisig` text) of the checkpoint's
    /// message, by the issuer key.
    pub signature: String,
}

/// Which rows `tiaki audit ls` (and the service's audit route) want.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only rows at or after this time (RFC 3339 UTC, as stored).
    pub since: Option<String>,
    /// Only this action (its stable name).
    pub action: Option<String>,
    /// Only rows with a larger seq (paging: the last seq of the page before).
    pub after: i64,
    /// At most this many rows.
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.name()).collect();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_name(a.name()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<AuditAction>(&json).unwrap(), a);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::from_name("nope"), None);
    }

    #[test]
    fn entry_shows_detail_as_json() {
        let mut e = AuditEntry {
            seq: 1,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "a".into(),
            actor_role: "admin".into(),
            country: None,
            action: "logout".into(),
            target: "t".into(),
            detail: r#"{"k":1}"#.into(),
            remote_addr: None,
            prev_hash: "0".repeat(64),
            hash: "1".repeat(64),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["detail"]["k"], 1);
        e.detail = "not json".into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["detail"], "not json");
    }
}
