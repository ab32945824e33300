// Shared by the integration tests: run the generated scenario end to end.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tiaki_attrib::scenario::{Profile, Scenario};
use tiaki_attrib::{
    Attribution, AttributionConfig, Attributor, GeoDb, LinkConfig, Linking, PreparedAccount,
    attribute_all, link, prepare,
};

#[derive(Debug)]
pub struct Run {
    pub prepared: Vec<PreparedAccount>,
    pub linking: Linking,
    pub accounts: Vec<Attribution>,
    pub persons: Vec<Attribution>,
}

pub fn run(s: &Scenario, geo: &GeoDb) -> Run {
    let prepared: Vec<PreparedAccount> = s.accounts.iter().map(prepare).collect();
    let linking = link(&prepared, &LinkConfig::default());
    let attributor = Attributor::new(geo, AttributionConfig::default(), s.now);
    let (accounts, persons) = attribute_all(&attributor, prepared.clone(), &linking.persons);
    Run {
        prepared,
        linking,
        accounts,
        persons,
    }
}

/// Checks the acceptance criteria on a run; returns the share of consistent
/// accounts attributed right.
pub fn check(s: &Scenario, r: &Run) -> f64 {
    // Strong identifiers recover the true persons exactly.
    let got: Vec<Vec<u32>> = r
        .linking
        .persons
        .iter()
        .map(|p| p.members.clone())
        .collect();
    if got != s.persons {
        let i = got
            .iter()
            .zip(&s.persons)
            .position(|(g, t)| g != t)
            .unwrap_or(0);
        panic!(
            "persons differ from the truth at person {i}: got {:?}, expected {:?}",
            got.get(i),
            s.persons.get(i)
        );
    }

    let mut right = 0usize;
    let mut consistent = 0usize;
    let mut conf_consistent = Vec::new();
    let mut conf_conflicting = Vec::new();
    for (t, a) in s.truth.iter().zip(&r.accounts) {
        match t.profile {
            Profile::Consistent | Profile::Proxy => {
                consistent += 1;
                if a.country == Some(t.country) {
                    right += 1;
                }
                conf_consistent.push(a.confidence);
            }
            Profile::Conflicting => {
                assert!(a.runner_up.is_some(), "conflict not visible: {a:#?}");
                conf_conflicting.push(a.confidence);
            }
        }
        if t.malformed {
            assert!(
                !a.findings.is_empty(),
                "planted malformed value without finding"
            );
        }
        assert!((0.0..=1.0).contains(&a.confidence));
    }
    let rate = right as f64 / consistent as f64;
    assert!(
        rate >= 0.99,
        "only {right}/{consistent} consistent accounts right"
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (mc, mx) = (mean(&conf_consistent), mean(&conf_conflicting));
    assert!(!conf_conflicting.is_empty());
    assert!(
        mx < mc - 0.2,
        "conflicting accounts not visibly less confident: {mx:.3} vs {mc:.3}"
    );
    // Persons are attributed too: those without a conflicting account to their true country.
    let (mut person_right, mut person_consistent) = (0usize, 0usize);
    for (p, a) in r.linking.persons.iter().zip(&r.persons) {
        let truth = |m: &u32| &s.truth[*m as usize];
        if p.members
            .iter()
            .any(|m| truth(m).profile == Profile::Conflicting)
        {
            continue;
        }
        person_consistent += 1;
        if a.country == Some(truth(&p.members[0]).country) {
            person_right += 1;
        }
    }
    assert!(
        person_right as f64 >= 0.99 * person_consistent as f64,
        "only {person_right}/{person_consistent} persons right"
    );
    rate
}
