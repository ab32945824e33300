//! Who may do what (issue 19): the one place the service's access rules are
//! decided. Every route of `tiaki serve` names an [`Action`]; a caller whose
//! role does not allow it, or whose country is not the data's, gets the same
//! answer as for something that does not exist (404), so that nothing
//! outside a caller's scope leaks, not even its existence.

use tiaki_types::access::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// The caller's agency's country (ISO alpha-2).
    pub country: String,
}

/// What a request does. Each route of the service is declared with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Intakes, their findings, the triage queue, media metadata and matches.
    ReadIntakes,
    /// Accounts and persons with their linking and attribution evidence.
    ReadPersons,
    /// Referrals, their events and packages (scoped by country).
    ReadReferrals,
    /// Moving a referral's state (scoped by country).
    ChangeReferrals,
    /// Reporting outcomes of a referral (scoped by country).
    ReportOutcomes,
    /// Writing on a referral's thread (scoped by country); reading it is
    /// `ReadReferrals`.
    PostThreads,
    /// The operation's figures (scoped by country).
    ReadStats,
    /// Known lists: listing them.
    ReadLists,
    /// Known lists: importing, enabling, disabling, HMA curation (`/c`).
    ChangeLists,
    /// Matching and hashing (`/m`, `/h`).
    Match,
    /// Users, roles and tokens.
    ManageUsers,
    /// The audit log.
    ReadAudit,
    /// The service's metrics (`/metrics`: request counts, index size).
    ReadMetrics,
    /// The victim-identification database: series, victims, offenders,
    /// their media and history, search (a liaison officer: the records
    /// their country contributed).
    ReadVid,
    /// Recording and changing victim-identification records.
    ChangeVid,
}

impl Action {
    /// Every action (tests enumerate them).
    pub const ALL: [Action; 15] = [
        Action::ReadIntakes,
        Action::ReadPersons,
        Action::ReadReferrals,
        Action::ChangeReferrals,
        Action::ReportOutcomes,
        Action::PostThreads,
        Action::ReadStats,
        Action::ReadLists,
        Action::ChangeLists,
        Action::Match,
        Action::ManageUsers,
        Action::ReadAudit,
        Action::ReadMetrics,
        Action::ReadVid,
        Action::ChangeVid,
    ];
}

/// How much of the operation's data a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every country.
    All,
    /// One country's referrals, outcomes and figures only.
    Country(String),
}

impl Scope {
    /// Whether data of `country` is in scope.
    pub fn covers(&self, country: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Country(c) => c.eq_ignore_ascii_case(country),
        }
    }

    /// The country to filter by, `None` for every country.
    pub fn country(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Country(c) => Some(c),
        }
    }
}

/// Whether `role` may do `action` at all (the country is checked apart, by
/// [`scope`]). The admin manages accounts and reads nothing of the
/// operation (separation of duties: whoever can make accounts cannot read
/// referrals with them unless they also hold such a role).
pub fn allows(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Coordinator => action != A::ManageUsers,
        Role::Admin => matches!(action, A::ManageUsers | A::ReadAudit | A::ReadMetrics),
        Role::Analyst => matches!(
            action,
            A::ReadIntakes | A::ReadPersons | A::ReadStats | A::ReadLists | A::Match | A::ReadVid
        ),
        Role::Liaison => matches!(
            action,
            A::ReadReferrals
                | A::ChangeReferrals
                | A::ReportOutcomes
                | A::PostThreads
                | A::ReadStats
                | A::ReadVid
        ),
        Role::VictimId => matches!(
            action,
            A::ReadStats | A::ReadLists | A::Match | A::ReadVid | A::ChangeVid
        ),
        Role::Matcher => action == A::Match,
        Role::Curator => matches!(action, A::ReadLists | A::ChangeLists | A::Match),
    }
}

/// The data a caller sees: a liaison officer their own country's, every
/// other role all (what each role may read at all is [`allows`]).
pub fn scope(p: &Principal) -> Scope {
    match p.role {
        Role::Liaison => Scope::Country(p.country.clone()),
        _ => Scope::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_manages_users_and_matcher_only_matches() {
        for r in Role::ALL {
            assert_eq!(allows(r, Action::ManageUsers), r == Role::Admin, "{r}");
            if r == Role::Matcher {
                for a in Action::ALL {
                    assert_eq!(allows(r, a), a == Action::Match, "{a:?}");
                }
            }
        }
    }

    #[test]
    fn liaison_scope_is_their_country() {
        let p = Principal {
            user_id: 1,
            name: "l".into(),
            role: Role::Liaison,
            country: "NZ".into(),
        };
        assert!(scope(&p).covers("nz"));
        assert!(!scope(&p).covers("AU"));
        assert_eq!(scope(&p).country(), Some("NZ"));
    }
}
