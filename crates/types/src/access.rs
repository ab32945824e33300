//! Who may do what: the roles of the multi-agency service (issue 19).
//!
//! A role is a value here (the CLI's `users add --role`, the store's
//! `users.role`, the service's answers); what each role may do is decided
//! in one place, `tiaki_core::access`, so the command line, the API and
//! the UI cannot disagree about it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role. Every user also belongs to one agency's country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Users, roles and tokens; nothing of the operation's data.
    Admin,
    /// The coordination unit: everything, every country.
    Coordinator,
    /// Intakes, triage, media, accounts and persons.
    Analyst,
    /// A country's liaison officer: that country's referrals, threads and
    /// outcomes only.
    Liaison,
    /// The victim-identification database.
    VictimId,
    /// An API-only account for HMA clients: matching (`/m`, `/h`) only.
    Matcher,
    /// Known lists and HMA's curation routes (`/c`).
    Curator,
}

impl Role {
    /// Every role, in this order (tests enumerate them).
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Coordinator,
        Role::Analyst,
        Role::Liaison,
        Role::VictimId,
        Role::Matcher,
        Role::Curator,
    ];

    /// The stable name (`victim_id`), as stored and as typed on the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Analyst => "analyst",
            Role::Liaison => "liaison",
            Role::VictimId => "victim_id",
            Role::Matcher => "matcher",
            Role::Curator => "curator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: one of admin, coordinator, analyst, liaison, victim_id, matcher, curator")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for r in Role::ALL {
            assert_eq!(r.name().parse::<Role>(), Ok(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap_or_default(),
                format!("\"{}\"", r.name())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }
}
