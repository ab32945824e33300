//! A country for every account and person, with a confidence in [0, 1], the runner-up and all
//! evidence. `docs/attribution.md` explains the formula with a worked example.
//!
//! Two steps, so that a person's accounts are read once:
//! 1. [`Attributor::collect`] turns a [`PreparedAccount`] into raw evidence items
//!    ([`Collected`]): IP sightings located by the [`GeoDb`], phone regions, e-mail ccTLDs,
//!    the declared country and the CyberTipline estimated location, each with a base weight.
//! 2. [`Attributor::score`] scores one or more [`Collected`] together: one for an account,
//!    all of its accounts for a person.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::country::Country;
pub use tiaki_types::attribution::{Attribution, CountryShare, Evidence, EvidenceKind};
use crate::geo::GeoDb;
use crate::link::Person;
use crate::normalise::PreparedAccount;
use crate::{Finding, UnixTime};

/// Base weight of one item of each kind (see `docs/attribution.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvidenceWeights {
    pub login_ip: f64,
    pub upload_ip: f64,
    pub phone: f64,
    pub email: f64,
    pub declared: f64,
    pub estimated_location: f64,
}

impl Default for EvidenceWeights {
    fn default() -> Self {
        EvidenceWeights {
            login_ip: 1.0,
            upload_ip: 1.0,
            phone: 2.0,
            email: 0.5,
            declared: 1.0,
            estimated_location: 1.5,
        }
    }
}

/// Scoring parameters; the defaults are documented in `docs/attribution.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionConfig {
    pub weights: EvidenceWeights,
    /// Multiplier for an IP flagged as a possible proxy (by the report or the database).
    pub proxy_factor: f64,
    /// Timed evidence loses half its weight per this many seconds of age (default 90 days).
    pub half_life_secs: f64,
    /// `K` in `1 − exp(−W/K)`: how much total weight makes the amount factor reach ~63 %.
    pub saturation: f64,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            weights: EvidenceWeights::default(),
            proxy_factor: 0.2,
            half_life_secs: 90.0 * 86_400.0,
            saturation: 3.0,
        }
    }
}

/// One raw evidence item, before decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub kind: EvidenceKind,
    pub value: String,
    pub country: Option<Country>,
    /// Base weight × proxy factor ÷ number of answering geolocation sources.
    pub base: f64,
    pub at: Option<UnixTime>,
    /// Which source said so (a geolocation file name, `libphonenumber`, ...).
    pub source: String,
    pub proxy: bool,
}

/// An account's raw evidence and findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
}

/// Collects and scores evidence with one set of sources, parameters and reference time.
#[derive(Debug)]
pub struct Attributor<'g> {
    geo: &'g GeoDb,
    config: AttributionConfig,
    now: UnixTime,
}

const PHONE_SOURCE: &str = "libphonenumber";
const EMAIL_SOURCE: &str = "public suffix list";
const DECLARED_SOURCE: &str = "declared";
const ESTIMATED_SOURCE: &str = "estimatedLocation";
const NO_SOURCE: &str = "no geolocation source";

impl<'g> Attributor<'g> {
    /// `now` is the reference time: evidence after it is a finding and counts as of `now`.
    pub fn new(geo: &'g GeoDb, config: AttributionConfig, now: UnixTime) -> Self {
        Attributor { geo, config, now }
    }

    pub fn config(&self) -> &AttributionConfig {
        &self.config
    }

    /// Raw evidence of one account.
    pub fn collect(&self, acc: &PreparedAccount) -> Collected {
        self.collect_with(acc, acc.findings.clone())
    }

    /// [`Attributor::collect`] with the account's findings already taken out of it (a run
    /// over many accounts moves them rather than holding two copies).
    fn collect_with(&self, acc: &PreparedAccount, mut findings: Vec<Finding>) -> Collected {
        let w = &self.config.weights;
        let mut items = Vec::with_capacity(acc.sightings.len() + acc.phones.len() + 4);
        let fixed = |kind, value: String, country, base, source: &str| Item {
            kind,
            value,
            country: Some(country),
            base,
            at: None,
            source: source.to_string(),
            proxy: false,
        };
        if let Some(c) = acc.declared {
            items.push(fixed(
                EvidenceKind::Declared,
                c.alpha2().into(),
                c,
                w.declared,
                DECLARED_SOURCE,
            ));
        }
        if let Some(c) = acc.estimated_location {
            items.push(fixed(
                EvidenceKind::EstimatedLocation,
                c.alpha2().into(),
                c,
                w.estimated_location,
                ESTIMATED_SOURCE,
            ));
        }
        for p in &acc.phones {
            if let Some(c) = p.region {
                items.push(fixed(
                    EvidenceKind::Phone,
                    p.e164.clone(),
                    c,
                    w.phone,
                    PHONE_SOURCE,
                ));
            }
        }
        for e in &acc.emails {
            if let Some(c) = e.country {
                items.push(fixed(
                    EvidenceKind::Email,
                    e.normalised.clone(),
                    c,
                    w.email,
                    EMAIL_SOURCE,
                ));
            }
        }
        let mut cache: HashMap<std::net::IpAddr, crate::geo::GeoLookup> = HashMap::new();
        for s in &acc.sightings {
            let (kind, base) = if s.upload {
                (EvidenceKind::UploadIp, w.upload_ip)
            } else {
                (EvidenceKind::LoginIp, w.login_ip)
            };
            let at = s.at.map(|t| {
                if t > self.now {
                    Finding::record_grouped(
                        &mut findings,
                        "ip time",
                        || "ip time".into(),
                        &format!("{} at {t}", s.ip),
                        &format!("after the reference time {}; counted as of then", self.now),
                    );
                    self.now
                } else {
                    t
                }
            });
            let found = cache.entry(s.ip).or_insert_with(|| {
                let l = self.geo.lookup(s.ip);
                for p in &l.problems {
                    findings.push(Finding::new("ip", &s.ip.to_string(), p.clone()));
                }
                l
            });
            let value = s.ip.to_string();
            if found.answers.is_empty() {
                items.push(Item {
                    kind,
                    value,
                    country: None,
                    base: 0.0,
                    at,
                    source: NO_SOURCE.to_string(),
                    proxy: s.possible_proxy,
                });
                continue;
            }
            let split = found.answers.len() as f64;
            for a in &found.answers {
                let proxy = s.possible_proxy || a.proxy;
                let factor = if proxy { self.config.proxy_factor } else { 1.0 };
                items.push(Item {
                    kind,
                    value: value.clone(),
                    country: Some(a.country),
                    base: base * factor / split,
                    at,
                    source: self.geo.source_name(a.source).to_string(),
                    proxy,
                });
            }
        }
        Collected { items, findings }
    }

    /// Scores the evidence of one account, or of all the accounts of a person together.
    /// Findings of all parts are carried over.
    pub fn score(&self, parts: &[&Collected]) -> Attribution {
        let mut a = self.score_evidence(parts);
        a.findings = parts
            .iter()
            .flat_map(|p| p.findings.iter().cloned())
            .collect();
        a
    }

    /// [`Attributor::score`] without the findings.
    fn score_evidence(&self, parts: &[&Collected]) -> Attribution {
        let newest = parts
            .iter()
            .flat_map(|p| p.items.iter().filter_map(|i| i.at))
            .max();
        let anchor = newest.map(|t| t.min(self.now));
        let half_life = self.config.half_life_secs;
        let decay = |at: Option<UnixTime>| match (at, anchor) {
            (Some(t), Some(anchor)) if half_life > 0.0 => {
                let age = (anchor - t).max(0) as f64;
                (0.5f64).powf(age / half_life)
            }
            _ => 1.0,
        };

        // Ordered, so the total is summed in the same order every run: a rerun on the same
        // data gives bit-identical confidences (a HashMap's order changes per process).
        let mut votes: BTreeMap<Country, f64> = BTreeMap::new();
        let mut grouped: HashMap<(EvidenceKind, &str, Option<Country>, &str), Evidence> =
            HashMap::new();
        for item in parts.iter().flat_map(|p| p.items.iter()) {
            let weight = item.base * decay(item.at);
            if let Some(c) = item.country {
                *votes.entry(c).or_insert(0.0) += weight;
            }
            let e = grouped
                .entry((item.kind, &item.value, item.country, &item.source))
                .or_insert_with(|| Evidence {
                    kind: item.kind,
                    value: item.value.clone(),
                    country: item.country,
                    weight: 0.0,
                    count: 0,
                    first_at: None,
                    last_at: None,
                    source: item.source.clone(),
                    proxy: false,
                });
            e.weight += weight;
            e.count += 1;
            e.proxy |= item.proxy;
            if let Some(t) = item.at {
                e.first_at = Some(e.first_at.map_or(t, |f| f.min(t)));
                e.last_at = Some(e.last_at.map_or(t, |l| l.max(t)));
            }
        }

        let total: f64 = votes.values().sum();
        let mut shares: Vec<CountryShare> = votes
            .into_iter()
            .filter(|(_, w)| *w > 0.0)
            .map(|(country, weight)| CountryShare {
                country,
                weight,
                share: if total > 0.0 { weight / total } else { 0.0 },
            })
            .collect();
        shares.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.country.cmp(&b.country))
        });
        let top = shares.first().copied();
        let amount = if self.config.saturation > 0.0 {
            1.0 - (-total / self.config.saturation).exp()
        } else {
            1.0
        };
        let confidence = top.map_or(0.0, |t| (t.share * amount).clamp(0.0, 1.0));

        let mut evidence: Vec<Evidence> = grouped.into_values().collect();
        evidence.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then(b.weight.total_cmp(&a.weight))
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.source.cmp(&b.source))
                .then(a.country.cmp(&b.country))
        });
        Attribution {
            country: top.map(|t| t.country),
            confidence,
            runner_up: shares.get(1).copied(),
            shares,
            total_weight: total,
            evidence,
            findings: Vec::new(),
        }
    }

    /// Collects and scores one account.
    pub fn account(&self, acc: &PreparedAccount) -> Attribution {
        self.score(&[&self.collect(acc)])
    }
}

/// Attributes every account and every person, in parallel (rayon).
/// Person attributions keep only the scoring, not the members' findings (those are on the
/// accounts already). The accounts' findings are moved into their attributions, so the
/// accounts are taken by value: an operation's worth of findings is never held twice.
pub fn attribute_all(
    attributor: &Attributor<'_>,
    mut accounts: Vec<PreparedAccount>,
    persons: &[Person],
) -> (Vec<Attribution>, Vec<Attribution>) {
    let mut collected: Vec<Collected> = accounts
        .par_iter_mut()
        .map(|a| {
            let findings = std::mem::take(&mut a.findings);
            attributor.collect_with(a, findings)
        })
        .collect();
    drop(accounts);
    let per_account: Vec<Attribution> = collected
        .par_iter_mut()
        .map(|c| {
            let mut a = attributor.score_evidence(&[c]);
            a.findings = std::mem::take(&mut c.findings);
            a
        })
        .collect();
    let per_person: Vec<Attribution> = persons
        .par_iter()
        .map(|p| {
            let parts: Vec<&Collected> = p
                .members
                .iter()
                .filter_map(|&m| collected.get(m as usize))
                .collect();
            attributor.score_evidence(&parts)
        })
        .collect();
    (per_account, per_person)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{Phone, Sighting};

    fn c(s: &str) -> Country {
        Country::from_alpha2(s).unwrap()
    }

    fn geo() -> GeoDb {
        let mut g = GeoDb::empty();
        g.add_networks(
            "test.csv",
            [
                ("81.0.0.0/8".parse().unwrap(), c("DE")),
                ("82.0.0.0/8".parse().unwrap(), c("FR")),
            ],
        );
        g
    }

    fn sight(ip: &str, at: i64, proxy: bool) -> Sighting {
        Sighting {
            ip: ip.parse().unwrap(),
            at: Some(at),
            possible_proxy: proxy,
            upload: false,
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn consistent_account_is_confident() {
        let g = geo();
        let at = Attributor::new(&g, AttributionConfig::default(), 100 * DAY);
        let acc = PreparedAccount {
            declared: Some(c("DE")),
            phones: vec![Phone {
                e164: "+4930123456".into(),
                region: Some(c("DE")),
            }],
            sightings: (0..5)
                .map(|i| sight("81.1.1.1", 100 * DAY - i * DAY, false))
                .collect(),
            ..PreparedAccount::default()
        };
        let a = at.account(&acc);
        assert_eq!(a.country, Some(c("DE")));
        assert!(a.confidence > 0.9, "{a:#?}");
        assert!(a.runner_up.is_none());
        // Five logins from one IP are one evidence entry with count 5.
        let ip = a
            .evidence
            .iter()
            .find(|e| e.kind == EvidenceKind::LoginIp)
            .unwrap();
        assert_eq!(ip.count, 5);
        assert_eq!(ip.source, "test.csv");
    }

    #[test]
    fn conflict_lowers_confidence_and_shows_runner_up() {
        let g = geo();
        let at = Attributor::new(&g, AttributionConfig::default(), 100 * DAY);
        let acc = PreparedAccount {
            declared: Some(c("FR")),
            sightings: vec![
                sight("81.1.1.1", 100 * DAY, false),
                sight("81.1.1.2", 100 * DAY, false),
                sight("82.1.1.1", 100 * DAY, false),
            ],
            ..PreparedAccount::default()
        };
        let a = at.account(&acc);
        assert!(a.country.is_some());
        let r = a.runner_up.unwrap();
        assert!((r.share - 0.5).abs() < 1e-9);
        assert!(a.confidence <= 0.5);
    }

    #[test]
    fn proxies_and_age_weigh_less() {
        let g = geo();
        let at = Attributor::new(&g, AttributionConfig::default(), 1000 * DAY);
        let acc = PreparedAccount {
            sightings: vec![
                sight("81.1.1.1", 1000 * DAY, false),
                sight("82.1.1.1", 1000 * DAY, true),
                sight("82.1.1.2", 1000 * DAY, true),
                // One half-life older than the newest: weighs 0.5.
                sight("82.1.1.4", 910 * DAY, false),
            ],
            ..PreparedAccount::default()
        };
        let a = at.account(&acc);
        assert_eq!(a.country, Some(c("DE")));
        let fr = a.runner_up.unwrap();
        assert!((fr.weight - (0.4 + 0.5)).abs() < 1e-9, "{fr:?}");
    }

    #[test]
    fn future_times_are_findings_and_unknown_ips_are_visible() {
        let g = geo();
        let at = Attributor::new(&g, AttributionConfig::default(), 10);
        let acc = PreparedAccount {
            sightings: vec![sight("81.1.1.1", 20, false), sight("9.9.9.9", 5, false)],
            ..PreparedAccount::default()
        };
        let a = at.account(&acc);
        assert_eq!(a.findings.len(), 1);
        assert!(a.findings[0].reason.contains("reference time"));
        assert!(
            a.evidence
                .iter()
                .any(|e| e.value == "9.9.9.9" && e.country.is_none())
        );
    }

    #[test]
    fn no_evidence_no_country() {
        let g = GeoDb::empty();
        let at = Attributor::new(&g, AttributionConfig::default(), 0);
        let a = at.account(&PreparedAccount::default());
        assert_eq!(a.country, None);
        assert_eq!(a.confidence, 0.0);
    }
    #[test]
    fn worked_example_from_scoring_md() {
        let g = geo();
        let now = 1_767_225_600; // 2026-01-01
        let at = Attributor::new(&g, AttributionConfig::default(), now);
        let acc = PreparedAccount {
            declared: Some(c("DE")),
            phones: vec![Phone {
                e164: "+4915123456789".into(),
                region: Some(c("DE")),
            }],
            emails: vec![crate::normalise::normalise_email("x@web.de").unwrap()],
            sightings: vec![
                sight("81.1.1.1", now - DAY, false),
                sight("81.1.1.1", now - 91 * DAY, false),
                sight("82.1.1.1", now - DAY, true),
                sight("82.2.2.2", now - DAY, false),
            ],
            ..PreparedAccount::default()
        };
        let a = at.account(&acc);
        assert_eq!(a.country, Some(c("DE")));
        assert!((a.total_weight - 6.2).abs() < 1e-9);
        let r = a.runner_up.unwrap();
        assert_eq!(r.country, c("FR"));
        assert!((r.share - 0.193_548).abs() < 1e-6);
        assert!((a.confidence - 0.704_349).abs() < 1e-6, "{}", a.confidence);
    }
}
