//! A generated, benign scenario with known truth, for tests, benchmarks and demos.
//!
//! Sixteen countries each own two IPv4 /16 networks and one IPv6 /32 (public ranges, so the
//! IP rules accept them; the mapping is synthetic). Persons live in one country and have 1–4
//! accounts; consecutive accounts of a person share an e-mail (sometimes written with dots,
//! a `+tag` or `googlemail.com`), a phone or a device id, so strong identifiers alone
//! recover the persons. Accounts are of three profiles:
//! - [`Profile::Consistent`]: every piece of evidence points to the home country;
//! - [`Profile::Proxy`]: the same, plus logins through flagged proxies placed in other
//!   countries;
//! - [`Profile::Conflicting`]: about half the logins and the phone point to a second country.
//!
//! Some accounts also carry a malformed e-mail, phone or IP, which must become findings.
//! Everything is derived from the seed; the same config gives the same scenario.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use tiaki_types::rng::Rng;

use crate::country::Country;
use crate::normalise::normalise_phone;
use crate::{AccountInput, IpEvent, UnixTime, UploadInput};

/// Size and seed of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioConfig {
    pub accounts: usize,
    /// Total login events, spread over the accounts (at least one each).
    pub logins: usize,
    pub seed: u64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            accounts: 2000,
            logins: 12_000,
            seed: 1,
        }
    }
}

/// How an account's evidence was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Consistent,
    Proxy,
    Conflicting,
}

/// What the generator knows about one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    pub country: Country,
    pub profile: Profile,
    /// Index into [`Scenario::persons`].
    pub person: u32,
    /// A malformed value was planted.
    pub malformed: bool,
}

/// A generated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The reference time: every event is before it.
    pub now: UnixTime,
    /// The synthetic geolocation: network → country.
    pub networks: Vec<(IpNet, Country)>,
    pub accounts: Vec<AccountInput>,
    pub truth: Vec<Truth>,
    /// True persons: account indices, ascending, sorted by smallest member.
    pub persons: Vec<Vec<u32>>,
}

/// The countries used, with the e-mail suffix that carries their ccTLD.
const COUNTRIES: [(&str, &str); 16] = [
    ("GB", "co.uk"),
    ("DE", "de"),
    ("FR", "fr"),
    ("US", "us"),
    ("BR", "com.br"),
    ("IN", "co.in"),
    ("JP", "co.jp"),
    ("AU", "com.au"),
    ("NZ", "co.nz"),
    ("ZA", "co.za"),
    ("NG", "com.ng"),
    ("MX", "com.mx"),
    ("PH", "com.ph"),
    ("PL", "pl"),
    ("SE", "se"),
    ("KE", "co.ke"),
];

struct Home {
    country: Country,
    v4: [u16; 2],
    v6: u16,
    suffix: &'static str,
    /// National significant number of a valid mobile number, from libphonenumber metadata.
    example: String,
    calling_code: u16,
}

fn homes() -> Vec<Home> {
    COUNTRIES
        .iter()
        .enumerate()
        .filter_map(|(i, (code, suffix))| {
            let country = Country::from_alpha2(code)?;
            let meta = phonenumber::metadata::DATABASE.by_id(*code)?;
            let example = meta
                .descriptors()
                .mobile()
                .and_then(|d| d.example())
                .or_else(|| meta.descriptors().fixed_line().and_then(|d| d.example()))?
                .to_string();
            let first = 20 + i as u16 * 2;
            Some(Home {
                country,
                v4: [first << 8 | 10, (first + 1) << 8 | 20],
                v6: 0x2a0c_u16.wrapping_add(i as u16),
                suffix,
                example,
                calling_code: meta.country_code(),
            })
        })
        .collect()
}

fn home_ip(rng: &mut Rng, h: &Home) -> IpAddr {
    if rng.chance(10) {
        let seg = [
            h.v6,
            0x0001,
            rng.next_u64() as u16,
            0,
            0,
            0,
            0,
            (rng.next_u64() as u16) | 1,
        ];
        IpAddr::V6(Ipv6Addr::from(seg))
    } else {
        let net = h.v4[rng.below(2)];
        let host = rng.next_u64() as u16;
        let host = if host & 0xff == 0 { host | 1 } else { host };
        IpAddr::V4(Ipv4Addr::from((u32::from(net) << 16) | u32::from(host)))
    }
}

/// A valid, unused E.164 number of the home country: the metadata's example number with its
/// last digits varied, kept only if libphonenumber accepts it for that country.
fn new_phone(rng: &mut Rng, h: &Home, used: &mut HashSet<String>) -> Option<String> {
    let digits: Vec<u8> = h.example.bytes().collect();
    for _ in 0..50 {
        let mut d = digits.clone();
        let n = d.len();
        for x in d.iter_mut().skip(n.saturating_sub(5)) {
            *x = b'0' + (rng.next_u64() % 10) as u8;
        }
        let text = format!("+{}{}", h.calling_code, String::from_utf8_lossy(&d));
        if let Ok(p) = normalise_phone(&text, None)
            && p.region == Some(h.country)
            && used.insert(p.e164.clone())
        {
            return Some(text);
        }
    }
    None
}

/// Ways to write a declared country, all of which must parse.
fn declared_text(rng: &mut Rng, c: Country) -> String {
    match rng.below(4) {
        0 => c.alpha2().to_lowercase(),
        1 => c.alpha3().to_string(),
        2 => c.name().to_string(),
        _ => c.alpha2().to_string(),
    }
}

/// An e-mail spelled differently from `base` but normalising to the same address.
fn email_variant(rng: &mut Rng, local: &str, domain: &str) -> String {
    if domain == "gmail.com" {
        let mut l = local.to_string();
        if l.len() > 2 {
            l.insert(1, '.');
        }
        match rng.below(3) {
            0 => format!("{l}@googlemail.com"),
            1 => format!("{}+x{}@gmail.com", l.to_uppercase(), rng.below(99)),
            _ => format!("{l}@GMail.com"),
        }
    } else {
        format!(" {}@{} ", local.to_uppercase(), domain.to_uppercase())
    }
}

/// Generates a scenario.
pub fn generate(config: &ScenarioConfig) -> Scenario {
    let mut rng = Rng::new(config.seed ^ 0x005e_ed0f_7a1a);
    let homes = homes();
    let now: UnixTime = 1_767_225_600; // 2026-01-01T00:00:00Z
    let year = 365 * 86_400;

    let mut networks = Vec::new();
    for h in &homes {
        for net in h.v4 {
            let addr = Ipv4Addr::from(u32::from(net) << 16);
            networks.extend(
                ipnet::Ipv4Net::new(addr, 16)
                    .ok()
                    .map(|n| (IpNet::V4(n), h.country)),
            );
        }
        let addr = Ipv6Addr::from([h.v6, 0x0001, 0, 0, 0, 0, 0, 0]);
        networks.extend(
            ipnet::Ipv6Net::new(addr, 32)
                .ok()
                .map(|n| (IpNet::V6(n), h.country)),
        );
    }
    // Flagged proxy exits, spread over the countries.
    let proxies: Vec<IpAddr> = (0..200)
        .map(|i| home_ip(&mut rng, &homes[i % homes.len()]))
        .collect();

    let n = config.accounts;
    let avg_logins = (config.logins / n.max(1)).max(1);
    let mut extra_logins = config.logins.saturating_sub(avg_logins * n);
    let mut used_phones = HashSet::new();
    let mut accounts = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    let mut persons: Vec<Vec<u32>> = Vec::new();

    while accounts.len() < n {
        let person = persons.len();
        let size = match rng.below(100) {
            0..70 => 1,
            70..85 => 2,
            85..95 => 3,
            _ => 4,
        }
        .min(n - accounts.len());
        let hi = rng.below(homes.len());
        let h = &homes[hi];
        let local = format!("user{person}x{}", rng.below(1000));
        let domain = if rng.chance(50) {
            "gmail.com".to_string()
        } else {
            format!("mail.{}", h.suffix)
        };
        let phone = if rng.chance(70) {
            new_phone(&mut rng, h, &mut used_phones)
        } else {
            None
        };
        let device = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let household: Vec<IpAddr> = (0..1 + rng.below(3))
            .map(|_| home_ip(&mut rng, h))
            .collect();
        let mut members = Vec::new();
        for k in 0..size {
            let idx = accounts.len() as u32;
            members.push(idx);
            let profile = match rng.below(100) {
                0..85 => Profile::Consistent,
                85..92 => Profile::Proxy,
                _ => Profile::Conflicting,
            };
            let mut acc = AccountInput::default();
            // The first account holds every identifier of the person; later ones share
            // at least one with it, chosen at random, so persons are recoverable exactly.
            let share = if k == 0 { 7 } else { 1 << rng.below(3) };
            let mut shared_any = false;
            if share & 1 != 0 {
                acc.emails.push(if k == 0 {
                    format!("{local}@{domain}")
                } else {
                    email_variant(&mut rng, &local, &domain)
                });
                shared_any = true;
            }
            if share & 2 != 0
                && let Some(p) = &phone
            {
                acc.phones.push(p.clone());
                shared_any = true;
            }
            if share & 4 != 0 || !shared_any {
                acc.device_ids.push(device.to_uppercase());
            }
            // Each account also has an identifier of its own.
            acc.emails.push(format!("acct{idx}@example.com"));

            let declared_ok = rng.chance(70);
            if declared_ok {
                acc.declared_country = Some(declared_text(&mut rng, h.country));
            }
            if rng.chance(30) {
                acc.estimated_location = Some(h.country.alpha2().to_string());
            }
            let other = &homes[(hi + 1 + rng.below(homes.len() - 1)) % homes.len()];
            let mut count = avg_logins / 2 + rng.below(avg_logins + 1);
            if extra_logins > 0 {
                count += 1;
                extra_logins -= 1;
            }
            let count = count.max(1);
            for j in 0..count {
                let at = Some(now - (rng.next_u64() % year as u64) as i64);
                let (ip, proxy) = match profile {
                    Profile::Proxy if j % 3 == 1 => (proxies[rng.below(proxies.len())], true),
                    Profile::Conflicting if j % 2 == 1 => (home_ip(&mut rng, other), false),
                    _ if rng.chance(70) => (household[rng.below(household.len())], false),
                    _ => (home_ip(&mut rng, h), false),
                };
                acc.logins.push(IpEvent {
                    ip: ip.to_string(),
                    at,
                    possible_proxy: proxy,
                });
            }
            if profile == Profile::Conflicting {
                // The phone of a second country, as a conflicting account has.
                if let Some(p) = new_phone(&mut rng, other, &mut used_phones) {
                    acc.phones.push(p);
                }
            }
            if rng.chance(20) {
                acc.uploads.push(UploadInput {
                    ip: Some(IpEvent {
                        ip: household[0].to_string(),
                        at: Some(now - (rng.next_u64() % year as u64) as i64),
                        possible_proxy: false,
                    }),
                    content_key: Some({
                        let mut k = [0u8; 32];
                        for chunk in k.chunks_mut(8) {
                            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
                        }
                        k
                    }),
                });
            }
            let malformed = rng.chance(3);
            if malformed {
                match rng.below(4) {
                    0 => acc.emails.push("not-an-email".into()),
                    1 => acc.phones.push("+12".into()),
                    2 => acc.logins.push(IpEvent {
                        ip: "999.1.2.3".into(),
                        at: Some(now),
                        possible_proxy: false,
                    }),
                    _ => acc.logins.push(IpEvent {
                        ip: "10.0.0.1".into(),
                        at: Some(now),
                        possible_proxy: false,
                    }),
                }
            }
            accounts.push(acc);
            truth.push(Truth {
                country: h.country,
                profile,
                person: person as u32,
                malformed,
            });
        }
        persons.push(members);
    }
    Scenario {
        now,
        networks,
        accounts,
        truth,
        persons,
    }
}

impl Scenario {
    /// The networks as a CIDR→country CSV file (with a header).
    pub fn cidr_csv(&self) -> String {
        let mut s = String::from("network,country\n");
        for (net, c) in &self.networks {
            s.push_str(&format!("{net},{c}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let cfg = ScenarioConfig {
            accounts: 300,
            logins: 2000,
            seed: 7,
        };
        let a = generate(&cfg);
        let b = generate(&cfg);
        assert_eq!(a, b);
        assert_eq!(a.accounts.len(), 300);
        let logins: usize = a.accounts.iter().map(|x| x.logins.len()).sum();
        assert!((1900..2200).contains(&logins), "{logins}");
        assert_eq!(homes().len(), 16);
        let members: usize = a.persons.iter().map(Vec::len).sum();
        assert_eq!(members, 300);
    }
}
