//! Links between accounts, and persons as connected components over strong enough links.
//!
//! # Links
//! - **Email, Phone, Device**: accounts sharing a normalised e-mail, an E.164 number or a
//!   device id. For an identifier shared by `k` accounts, `k − 1` links are made, a star
//!   from the lowest account index to each other one, each naming the shared value: that
//!   is enough to connect them and keeps the link count linear. An identifier shared by more
//!   than [`LinkConfig::max_accounts_per_identifier`] accounts makes no link at all and is
//!   listed in [`Linking::skipped`]: at that size it is a placeholder or a shared service
//!   address, not one person.
//! - **IpTime**: two accounts seen on the same IP (logins and uploads alike) within
//!   [`LinkConfig::ip_window_secs`] of each other. One link per pair of accounts and IP, with
//!   the two closest times as evidence. An IP that any sighting flags as a possible proxy,
//!   or that is seen on more than [`LinkConfig::max_accounts_per_ip`] accounts (carrier NAT,
//!   public Wi-Fi, VPN exits), never links and is listed in [`Linking::skipped`]. Sightings
//!   without a time cannot be compared and are ignored here.
//! - **SharedUpload**: accounts that uploaded the same content (SHA-256). Widely circulated
//!   content says nothing about identity, so content uploaded by more than
//!   [`LinkConfig::max_accounts_per_upload`] accounts never links.
//!
//! # Persons
//! Each link has a weight in [0, 1] (from [`LinkWeights`], by kind). The links between the
//! same two accounts combine as independent evidence (noisy-or):
//! `pair = 1 − Π(1 − wᵢ)`, stored on every link as [`Link::pair_weight`]. Two accounts are
//! joined when `pair ≥ threshold`; a person is a connected component of joined accounts
//! (every account belongs to exactly one person, alone if nothing joins it). With the
//! defaults, one shared e-mail, phone or device joins; one shared IP at the same time does
//! not, four on distinct IPs do (`1 − 0.6⁴ ≈ 0.87`); shared uploads only add to other links.
//!
//! Output is deterministic: links sorted by `(a, b, kind, evidence)`, persons by their
//! smallest member, members ascending.

use std::collections::HashMap;
use std::net::IpAddr;

use petgraph::unionfind::UnionFind;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::normalise::PreparedAccount;

/// What two linked accounts share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Email,
    Phone,
    Device,
    IpTime,
    SharedUpload,
}

/// Weight of one link of each kind, in [0, 1] (values outside are clamped).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkWeights {
    pub email: f64,
    pub phone: f64,
    pub device: f64,
    pub ip_time: f64,
    pub shared_upload: f64,
}

impl Default for LinkWeights {
    fn default() -> Self {
        LinkWeights {
            email: 1.0,
            phone: 1.0,
            device: 1.0,
            ip_time: 0.4,
            shared_upload: 0.25,
        }
    }
}

impl LinkWeights {
    fn of(&self, kind: LinkKind) -> f64 {
        let w = match kind {
            LinkKind::Email => self.email,
            LinkKind::Phone => self.phone,
            LinkKind::Device => self.device,
            LinkKind::IpTime => self.ip_time,
            LinkKind::SharedUpload => self.shared_upload,
        };
        if w.is_nan() { 0.0 } else { w.clamp(0.0, 1.0) }
    }
}

/// How links are made and when they join accounts into a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// Two sightings of one IP at most this far apart link their accounts (default 1 hour).
    pub ip_window_secs: i64,
    /// An IP seen on more accounts than this never links (default 4).
    pub max_accounts_per_ip: usize,
    /// An e-mail, phone or device id on more accounts than this never links (default 50).
    pub max_accounts_per_identifier: usize,
    /// Content uploaded by more accounts than this never links (default 3).
    pub max_accounts_per_upload: usize,
    pub weights: LinkWeights,
    /// Combined pair weight at which two accounts are joined (default 0.8).
    pub threshold: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            ip_window_secs: 3600,
            max_accounts_per_ip: 4,
            max_accounts_per_identifier: 50,
            max_accounts_per_upload: 3,
            weights: LinkWeights::default(),
            threshold: 0.8,
        }
    }
}

/// One piece of evidence that two accounts belong together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The lower account index.
    pub a: u32,
    /// The higher account index.
    pub b: u32,
    pub kind: LinkKind,
    /// The shared value; for IpTime the IP and both times.
    pub evidence: String,
    pub weight: f64,
    /// All links between `a` and `b` combined; the pair is joined when this reaches the threshold.
    pub pair_weight: f64,
}

/// Accounts joined into one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Account indices, ascending.
    pub members: Vec<u32>,
    /// Indices into [`Linking::links`] of every link between two members (joining or not).
    pub links: Vec<u32>,
}

/// A shared value that was not allowed to link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedIdentifier {
    pub kind: LinkKind,
    pub value: String,
    /// How many accounts share it.
    pub accounts: usize,
    pub reason: String,
}

/// The result of [`link`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Linking {
    pub links: Vec<Link>,
    /// Persons, sorted by smallest member; singletons included.
    pub persons: Vec<Person>,
    /// For each account, the index of its person in `persons`.
    pub person_of: Vec<u32>,
    pub skipped: Vec<SkippedIdentifier>,
}

/// Links `accounts` (their index in the slice is their id) and groups them into persons.
pub fn link(accounts: &[PreparedAccount], config: &LinkConfig) -> Linking {
    let mut links = Vec::new();
    let mut skipped = Vec::new();
    strong_links(accounts, config, &mut links, &mut skipped);
    ip_time_links(accounts, config, &mut links, &mut skipped);
    upload_links(accounts, config, &mut links, &mut skipped);

    links.par_sort_unstable_by(|x, y| {
        (x.a, x.b, x.kind, &x.evidence).cmp(&(y.a, y.b, y.kind, &y.evidence))
    });
    skipped.sort_unstable_by(|x, y| (x.kind, &x.value).cmp(&(y.kind, &y.value)));

    // Combine links per pair; links are sorted by pair so each pair is one run.
    let mut start = 0;
    while start < links.len() {
        let pair = (links[start].a, links[start].b);
        let end = links[start..]
            .iter()
            .position(|l| (l.a, l.b) != pair)
            .map_or(links.len(), |p| start + p);
        let miss: f64 = links[start..end].iter().map(|l| 1.0 - l.weight).product();
        for l in &mut links[start..end] {
            l.pair_weight = 1.0 - miss;
        }
        start = end;
    }

    let n = accounts.len();
    let mut uf = UnionFind::<usize>::new(n);
    for l in &links {
        if l.pair_weight >= config.threshold {
            uf.union(l.a as usize, l.b as usize);
        }
    }
    let mut person_of = vec![0u32; n];
    let mut persons: Vec<Person> = Vec::new();
    let mut person_of_root: HashMap<usize, u32> = HashMap::new();
    for (i, slot) in person_of.iter_mut().enumerate() {
        let root = uf.find(i);
        let p = *person_of_root.entry(root).or_insert_with(|| {
            persons.push(Person {
                members: Vec::new(),
                links: Vec::new(),
            });
            index_u32(persons.len() - 1)
        });
        persons[p as usize].members.push(index_u32(i));
        *slot = p;
    }
    for (i, l) in links.iter().enumerate() {
        let pa = person_of[l.a as usize];
        if pa == person_of[l.b as usize] {
            persons[pa as usize].links.push(index_u32(i));
        }
    }
    Linking {
        links,
        persons,
        person_of,
        skipped,
    }
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn push_link(
    links: &mut Vec<Link>,
    config: &LinkConfig,
    x: u32,
    y: u32,
    kind: LinkKind,
    evidence: String,
) {
    links.push(Link {
        a: x.min(y),
        b: x.max(y),
        kind,
        evidence,
        weight: config.weights.of(kind),
        pair_weight: 0.0,
    });
}

fn strong_links(
    accounts: &[PreparedAccount],
    config: &LinkConfig,
    links: &mut Vec<Link>,
    skipped: &mut Vec<SkippedIdentifier>,
) {
    let mut groups: HashMap<(LinkKind, &str), Vec<u32>> = HashMap::new();
    for (i, acc) in accounts.iter().enumerate() {
        let i = index_u32(i);
        let ids = acc
            .emails
            .iter()
            .map(|e| (LinkKind::Email, e.normalised.as_str()))
            .chain(
                acc.phones
                    .iter()
                    .map(|p| (LinkKind::Phone, p.e164.as_str())),
            )
            .chain(acc.devices.iter().map(|d| (LinkKind::Device, d.as_str())));
        for key in ids {
            let v = groups.entry(key).or_default();
            // Accounts are visited in order, so a repeat can only be the last entry.
            if v.last() != Some(&i) {
                v.push(i);
            }
        }
    }
    let mut groups: Vec<_> = groups.into_iter().filter(|(_, v)| v.len() > 1).collect();
    groups.sort_unstable_by(|x, y| x.0.cmp(&y.0));
    for ((kind, value), members) in groups {
        if members.len() > config.max_accounts_per_identifier {
            skipped.push(SkippedIdentifier {
                kind,
                value: value.to_string(),
                accounts: members.len(),
                reason: format!(
                    "shared by more than {} accounts",
                    config.max_accounts_per_identifier
                ),
            });
            continue;
        }
        for &m in &members[1..] {
            push_link(links, config, members[0], m, kind, value.to_string());
        }
    }
}

#[derive(Clone, Copy)]
struct IpSighting {
    ip: IpAddr,
    at: i64,
    account: u32,
    proxy: bool,
}

/// The closest two sightings of accounts `a` < `b` on one IP, at `ta` and `tb`.
struct Closest {
    a: u32,
    b: u32,
    gap: i64,
    ta: i64,
    tb: i64,
}

fn ip_time_links(
    accounts: &[PreparedAccount],
    config: &LinkConfig,
    links: &mut Vec<Link>,
    skipped: &mut Vec<SkippedIdentifier>,
) {
    let mut all: Vec<IpSighting> = accounts
        .iter()
        .enumerate()
        .flat_map(|(i, acc)| {
            acc.sightings.iter().filter_map(move |s| {
                s.at.map(|at| IpSighting {
                    ip: s.ip,
                    at,
                    account: index_u32(i),
                    proxy: s.possible_proxy,
                })
            })
        })
        .collect();
    all.par_sort_unstable_by(|x, y| (x.ip, x.at, x.account).cmp(&(y.ip, y.at, y.account)));

    let mut members: Vec<u32> = Vec::new();
    let mut last_seen: Vec<(u32, i64)> = Vec::new();
    // Per pair of accounts, the closest two sightings on this IP.
    let mut best: Vec<Closest> = Vec::new();
    for group in all.chunk_by(|x, y| x.ip == y.ip) {
        members.clear();
        members.extend(group.iter().map(|s| s.account));
        members.sort_unstable();
        members.dedup();
        if members.len() < 2 {
            continue;
        }
        let ip = group[0].ip;
        if group.iter().any(|s| s.proxy) {
            skipped.push(SkippedIdentifier {
                kind: LinkKind::IpTime,
                value: ip.to_string(),
                accounts: members.len(),
                reason: "flagged as a possible proxy".into(),
            });
            continue;
        }
        if members.len() > config.max_accounts_per_ip {
            skipped.push(SkippedIdentifier {
                kind: LinkKind::IpTime,
                value: ip.to_string(),
                accounts: members.len(),
                reason: format!("seen on more than {} accounts", config.max_accounts_per_ip),
            });
            continue;
        }
        last_seen.clear();
        best.clear();
        for s in group {
            for &(other, t0) in &last_seen {
                let gap = s.at - t0;
                if other == s.account || gap > config.ip_window_secs {
                    continue;
                }
                let found = if other < s.account {
                    Closest {
                        a: other,
                        b: s.account,
                        gap,
                        ta: t0,
                        tb: s.at,
                    }
                } else {
                    Closest {
                        a: s.account,
                        b: other,
                        gap,
                        ta: s.at,
                        tb: t0,
                    }
                };
                match best.iter_mut().find(|c| (c.a, c.b) == (found.a, found.b)) {
                    Some(c) if c.gap <= gap => {}
                    Some(c) => *c = found,
                    None => best.push(found),
                }
            }
            match last_seen.iter_mut().find(|(a, _)| *a == s.account) {
                Some(e) => e.1 = s.at,
                None => last_seen.push((s.account, s.at)),
            }
        }
        for c in &best {
            let evidence = format!("{ip} at {} and {} ({} s apart)", c.ta, c.tb, c.gap);
            push_link(links, config, c.a, c.b, LinkKind::IpTime, evidence);
        }
    }
}

fn upload_links(
    accounts: &[PreparedAccount],
    config: &LinkConfig,
    links: &mut Vec<Link>,
    skipped: &mut Vec<SkippedIdentifier>,
) {
    let mut groups: HashMap<&[u8; 32], Vec<u32>> = HashMap::new();
    for (i, acc) in accounts.iter().enumerate() {
        let i = index_u32(i);
        for k in &acc.content_keys {
            let v = groups.entry(k).or_default();
            if v.last() != Some(&i) {
                v.push(i);
            }
        }
    }
    let mut groups: Vec<_> = groups.into_iter().filter(|(_, v)| v.len() > 1).collect();
    groups.sort_unstable_by(|x, y| x.0.cmp(y.0));
    for (key, members) in groups {
        if members.len() > config.max_accounts_per_upload {
            skipped.push(SkippedIdentifier {
                kind: LinkKind::SharedUpload,
                value: tiaki_types::hex::encode(key),
                accounts: members.len(),
                reason: format!(
                    "uploaded by more than {} accounts",
                    config.max_accounts_per_upload
                ),
            });
            continue;
        }
        // At most max_accounts_per_upload² / 2 pairs: every pair, since each is weak alone.
        for (i, &x) in members.iter().enumerate() {
            for &y in &members[i + 1..] {
                push_link(
                    links,
                    config,
                    x,
                    y,
                    LinkKind::SharedUpload,
                    tiaki_types::hex::encode(key),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{Email, Phone, Sighting};
    use proptest::prelude::*;

    fn acc(emails: &[&str], phones: &[&str], devices: &[&str]) -> PreparedAccount {
        PreparedAccount {
            emails: emails
                .iter()
                .map(|e| Email {
                    normalised: (*e).to_string(),
                    country: None,
                })
                .collect(),
            phones: phones
                .iter()
                .map(|p| Phone {
                    e164: (*p).to_string(),
                    region: None,
                })
                .collect(),
            devices: devices.iter().map(|d| (*d).to_string()).collect(),
            ..PreparedAccount::default()
        }
    }

    fn sight(ip: &str, at: i64, proxy: bool) -> Sighting {
        Sighting {
            ip: ip.parse().unwrap(),
            at: Some(at),
            possible_proxy: proxy,
            upload: false,
        }
    }

    fn members(l: &Linking) -> Vec<Vec<u32>> {
        l.persons.iter().map(|p| p.members.clone()).collect()
    }

    #[test]
    fn star_links_and_persons() {
        let accounts = vec![
            acc(&["a@x.com"], &[], &[]),
            acc(&[], &["+1"], &[]),
            acc(&["a@x.com"], &["+1"], &[]),
            acc(&["b@x.com"], &[], &["d1"]),
            acc(&["a@x.com"], &[], &[]),
            acc(&[], &[], &["d1"]),
        ];
        let l = link(&accounts, &LinkConfig::default());
        assert_eq!(members(&l), vec![vec![0, 1, 2, 4], vec![3, 5]]);
        assert_eq!(l.person_of, vec![0, 0, 0, 1, 0, 1]);
        // a@x.com on 3 accounts: 2 links (star from 0), +1 on 2: 1 link, d1: 1 link.
        assert_eq!(l.links.len(), 4);
        assert_eq!((l.links[0].a, l.links[0].b), (0, 2));
        assert_eq!(l.persons[0].links.len(), 3);
    }

    #[test]
    fn crowded_identifier_is_skipped() {
        let accounts: Vec<_> = (0..5).map(|_| acc(&["none@x.com"], &[], &[])).collect();
        let cfg = LinkConfig {
            max_accounts_per_identifier: 4,
            ..LinkConfig::default()
        };
        let l = link(&accounts, &cfg);
        assert!(l.links.is_empty());
        assert_eq!(l.persons.len(), 5);
        assert_eq!(l.skipped.len(), 1);
        assert_eq!(l.skipped[0].accounts, 5);
    }

    #[test]
    fn ip_time_accumulates_and_respects_exclusions() {
        let mut a = PreparedAccount::default();
        let mut b = PreparedAccount::default();
        for (i, ip) in ["81.0.0.1", "81.0.0.2", "81.0.0.3", "81.0.0.4"]
            .iter()
            .enumerate()
        {
            let t = 1_000_000 + i as i64 * 100_000;
            a.sightings.push(sight(ip, t, false));
            b.sightings.push(sight(ip, t + 60, false));
            b.sightings.push(sight(ip, t + 5000, false));
        }
        // Same IP outside the window: no link.
        a.sightings.push(sight("81.0.0.9", 0, false));
        b.sightings.push(sight("81.0.0.9", 10_000, false));
        // Proxy IP: no link.
        a.sightings.push(sight("81.0.0.10", 0, true));
        b.sightings.push(sight("81.0.0.10", 1, false));
        let three = link(&[a.clone(), b.clone()], &LinkConfig::default());
        assert_eq!(three.links.len(), 4);
        assert!(three.links.iter().all(|l| l.kind == LinkKind::IpTime));
        assert!(
            three.links[0].evidence.contains("60 s apart"),
            "{}",
            three.links[0].evidence
        );
        assert!((three.links[0].pair_weight - (1.0 - 0.6f64.powi(4))).abs() < 1e-12);
        assert_eq!(members(&three), vec![vec![0, 1]]);
        assert_eq!(three.skipped.len(), 1);

        // Only three shared IPs: below the threshold, two persons, links still visible.
        a.sightings.remove(0);
        let l = link(&[a, b], &LinkConfig::default());
        assert_eq!(l.links.len(), 3);
        assert_eq!(l.persons.len(), 2);
    }

    #[test]
    fn busy_ip_never_links() {
        let accounts: Vec<_> = (0..6)
            .map(|i| PreparedAccount {
                sightings: vec![sight("81.0.0.1", i, false)],
                ..PreparedAccount::default()
            })
            .collect();
        let l = link(&accounts, &LinkConfig::default());
        assert!(l.links.is_empty());
        assert_eq!(l.skipped[0].accounts, 6);
    }

    #[test]
    fn shared_uploads_are_weak_and_capped() {
        let k = [7u8; 32];
        let k2 = [9u8; 32];
        let mut accounts: Vec<_> = (0..3)
            .map(|_| PreparedAccount {
                content_keys: vec![k],
                ..PreparedAccount::default()
            })
            .collect();
        for _ in 0..4 {
            accounts.push(PreparedAccount {
                content_keys: vec![k2],
                ..PreparedAccount::default()
            });
        }
        let l = link(&accounts, &LinkConfig::default());
        assert_eq!(l.links.len(), 3);
        assert_eq!(l.persons.len(), 7);
        assert_eq!(l.skipped.len(), 1);
    }

    fn oracle(accounts: &[PreparedAccount]) -> Vec<Vec<u32>> {
        let n = accounts.len();
        let ids = |a: &PreparedAccount| -> Vec<String> {
            a.emails
                .iter()
                .map(|e| format!("e{}", e.normalised))
                .chain(a.phones.iter().map(|p| format!("p{}", p.e164)))
                .chain(a.devices.iter().map(|d| format!("d{d}")))
                .collect()
        };
        let mut comp: Vec<usize> = (0..n).collect();
        // Naive O(n²) relabelling until stable.
        loop {
            let mut changed = false;
            for i in 0..n {
                for j in 0..n {
                    let share = ids(&accounts[i])
                        .iter()
                        .any(|x| ids(&accounts[j]).contains(x));
                    if share && comp[i] != comp[j] {
                        let m = comp[i].min(comp[j]);
                        comp[i] = m;
                        comp[j] = m;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut out: Vec<Vec<u32>> = Vec::new();
        let mut label: HashMap<usize, usize> = HashMap::new();
        for (i, c) in comp.iter().enumerate() {
            let k = *label.entry(*c).or_insert_with(|| {
                out.push(Vec::new());
                out.len() - 1
            });
            out[k].push(i as u32);
        }
        out
    }

    proptest! {
        #[test]
        fn strong_identifiers_match_naive_components(
            raw in proptest::collection::vec(
                (proptest::collection::vec(0u8..12, 0..3),
                 proptest::collection::vec(0u8..12, 0..2),
                 proptest::collection::vec(0u8..12, 0..2)),
                0..30)
        ) {
            let accounts: Vec<PreparedAccount> = raw.iter().map(|(e, p, d)| {
                let e: Vec<String> = e.iter().map(|x| format!("u{x}@x.com")).collect();
                let p: Vec<String> = p.iter().map(|x| format!("+{x}")).collect();
                let d: Vec<String> = d.iter().map(|x| format!("dev{x}")).collect();
                let mut a = acc(&[], &[], &[]);
                a.emails = e.into_iter().map(|normalised| Email { normalised, country: None }).collect();
                a.phones = p.into_iter().map(|e164| Phone { e164, region: None }).collect();
                a.devices = d;
                a
            }).collect();
            let l = link(&accounts, &LinkConfig::default());
            prop_assert_eq!(members(&l), oracle(&accounts));
            // Link count stays linear: at most one link per (account, identifier).
            let ids: usize = accounts.iter().map(|a| a.emails.len() + a.phones.len() + a.devices.len()).sum();
            prop_assert!(l.links.len() <= ids);
        }
    }
}
