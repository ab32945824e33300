//! Normalisation of raw account identifiers, and [`prepare`], which applies it to a whole
//! [`AccountInput`]. Every unusable value becomes a [`Finding`] on the account.

mod email;
mod ip;
mod phone;

use std::collections::HashSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use email::{Email, GENERIC_CCTLDS, PLUS_TAG_DOMAINS, cctld_country, normalise_email};
pub use ip::{non_global_reason, parse_ip};
pub use phone::{Phone, normalise_phone};

use crate::country::Country;
use crate::{AccountInput, Finding, IpEvent, UnixTime, UploadInput};

/// Device ids that apps send when the real one is withheld; they would link everyone.
const PLACEHOLDER_DEVICE_IDS: &[&str] = &["unknown", "null", "none", "nil", "n/a", "undefined"];

/// Normalises a device id: trimmed; lower-cased when it is hexadecimal (UUIDs, Android ids),
/// whose case carries no meaning. All-zero ids (iOS's withheld advertising id) and textual
/// placeholders are refused.
pub fn normalise_device_id(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    if PLACEHOLDER_DEVICE_IDS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(t))
    {
        return Err("placeholder value".into());
    }
    let hexish = t.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if hexish && t.chars().all(|c| c == '0' || c == '-') {
        return Err("all-zero placeholder id".into());
    }
    if t.len() < 4 {
        return Err("too short to identify a device".into());
    }
    Ok(if hexish {
        t.to_ascii_lowercase()
    } else {
        t.to_string()
    })
}

/// One usable IP sighting of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    pub ip: IpAddr,
    pub at: Option<UnixTime>,
    /// Flagged as a possible proxy by the provider.
    pub possible_proxy: bool,
    /// From an upload rather than a login.
    pub upload: bool,
}

/// An account with every identifier normalised, ready for linking and attribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreparedAccount {
    pub declared: Option<Country>,
    pub estimated_location: Option<Country>,
    /// Distinct normalised addresses, in input order.
    pub emails: Vec<Email>,
    /// Distinct valid numbers, in input order.
    pub phones: Vec<Phone>,
    /// Distinct device ids, in input order.
    pub devices: Vec<String>,
    /// Logins then uploads, in input order.
    pub sightings: Vec<Sighting>,
    /// Distinct content keys of uploads.
    pub content_keys: Vec<[u8; 32]>,
    pub findings: Vec<Finding>,
}

fn country_field(
    field: &str,
    raw: &Option<String>,
    findings: &mut Vec<Finding>,
) -> Option<Country> {
    let raw = raw.as_deref()?;
    if raw.trim().is_empty() {
        return None;
    }
    let c = Country::parse(raw);
    if c.is_none() {
        findings.push(Finding::new(
            field,
            raw,
            "not an ISO 3166-1 country code or name",
        ));
    }
    c
}

fn sighting_or_finding(
    field: impl FnOnce() -> String,
    ev: &IpEvent,
    upload: bool,
    findings: &mut Vec<Finding>,
) -> Option<Sighting> {
    match parse_ip(&ev.ip) {
        Ok(ip) => Some(Sighting {
            ip,
            at: ev.at,
            possible_proxy: ev.possible_proxy,
            upload,
        }),
        Err(reason) => {
            let group = if upload { "uploads" } else { "logins" };
            Finding::record_grouped(findings, group, field, &ev.ip, &reason);
            None
        }
    }
}

/// Normalises one account. Never fails: unusable values are listed in `findings`.
///
/// Phones without `+` are read in the declared country (see [`normalise_phone`]).
pub fn prepare(input: &AccountInput) -> PreparedAccount {
    let mut findings = Vec::new();
    let declared = country_field("declared_country", &input.declared_country, &mut findings);
    let estimated_location = country_field(
        "estimated_location",
        &input.estimated_location,
        &mut findings,
    );

    let mut seen = HashSet::new();
    let mut emails = Vec::new();
    for (i, raw) in input.emails.iter().enumerate() {
        match normalise_email(raw) {
            Ok(e) => {
                if seen.insert(e.normalised.clone()) {
                    emails.push(e);
                }
            }
            Err(reason) => findings.push(Finding::new(format!("emails[{i}]"), raw, reason)),
        }
    }
    seen.clear();
    let mut phones = Vec::new();
    for (i, raw) in input.phones.iter().enumerate() {
        match normalise_phone(raw, declared) {
            Ok(p) => {
                if seen.insert(p.e164.clone()) {
                    phones.push(p);
                }
            }
            Err(reason) => findings.push(Finding::new(format!("phones[{i}]"), raw, reason)),
        }
    }
    seen.clear();
    let mut devices = Vec::new();
    for (i, raw) in input.device_ids.iter().enumerate() {
        match normalise_device_id(raw) {
            Ok(d) => {
                if seen.insert(d.clone()) {
                    devices.push(d);
                }
            }
            Err(reason) => findings.push(Finding::new(format!("device_ids[{i}]"), raw, reason)),
        }
    }

    let mut sightings = Vec::with_capacity(input.logins.len() + input.uploads.len());
    for (i, ev) in input.logins.iter().enumerate() {
        sightings.extend(sighting_or_finding(
            || format!("logins[{i}].ip"),
            ev,
            false,
            &mut findings,
        ));
    }
    let mut p = PreparedAccount {
        declared,
        estimated_location,
        emails,
        phones,
        devices,
        sightings,
        content_keys: Vec::new(),
        findings,
    };
    for (i, up) in input.uploads.iter().enumerate() {
        add_upload(&mut p, || format!("uploads[{i}].ip"), up);
    }
    finish_uploads(&mut p);
    p
}

/// Adds one upload to a prepared account: its IP as a sighting (or, if it
/// is no usable address, a finding under `field`, which starts with
/// `uploads`: such findings are grouped by reason) and its content key.
///
/// [`prepare`] does this for `input.uploads`. A caller that streams the
/// uploads of many accounts (the store holds millions) prepares each
/// account without them, adds each upload as it is read, then calls
/// [`finish_uploads`] once per account: no account ever holds its raw
/// uploads.
pub fn add_upload(p: &mut PreparedAccount, field: impl FnOnce() -> String, up: &UploadInput) {
    if let Some(ev) = &up.ip {
        p.sightings
            .extend(sighting_or_finding(field, ev, true, &mut p.findings));
    }
    if let Some(k) = up.content_key {
        p.content_keys.push(k);
    }
}

/// Makes the content keys distinct (sorted: linking only asks which keys
/// an account has, and sorting keeps an account with thousands of uploads
/// linear-logarithmic rather than quadratic).
pub fn finish_uploads(p: &mut PreparedAccount) {
    p.content_keys.sort_unstable();
    p.content_keys.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_added_one_by_one_equal_prepare() {
        let ev = |ip: &str| IpEvent {
            ip: ip.into(),
            at: Some(5),
            possible_proxy: false,
        };
        let uploads = vec![
            UploadInput {
                ip: Some(ev("81.2.69.160")),
                content_key: Some([2; 32]),
            },
            UploadInput {
                ip: Some(ev("not an address")),
                content_key: Some([1; 32]),
            },
            UploadInput {
                ip: None,
                content_key: Some([2; 32]),
            },
        ];
        let input = AccountInput {
            logins: vec![ev("89.160.20.112")],
            uploads: uploads.clone(),
            ..AccountInput::default()
        };
        let whole = prepare(&input);
        let mut streamed = prepare(&AccountInput {
            uploads: Vec::new(),
            ..input
        });
        for (i, u) in uploads.iter().enumerate() {
            add_upload(&mut streamed, || format!("uploads[{i}].ip"), u);
        }
        finish_uploads(&mut streamed);
        assert_eq!(whole, streamed);
        assert_eq!(whole.content_keys, vec![[1; 32], [2; 32]]);
        assert_eq!(whole.sightings.len(), 2);
        assert_eq!(whole.findings[0].field, "uploads[1].ip");
    }

    #[test]
    fn prepare_collects_findings() {
        let input = AccountInput {
            declared_country: Some("United Kingdom".into()),
            estimated_location: Some("Atlantis".into()),
            emails: vec!["A.B@gmail.com".into(), "ab@gmail.com".into(), "bad".into()],
            phones: vec!["020 7946 0000".into(), "12".into()],
            device_ids: vec![
                "ABCDEF12-0000-0000-0000-000000000001".into(),
                "00000000-0000-0000-0000-000000000000".into(),
            ],
            logins: vec![
                IpEvent {
                    ip: "8.8.8.8".into(),
                    at: Some(1),
                    possible_proxy: false,
                },
                IpEvent {
                    ip: "10.1.1.1".into(),
                    at: Some(2),
                    possible_proxy: false,
                },
                IpEvent {
                    ip: "1.2.3.999".into(),
                    at: None,
                    possible_proxy: false,
                },
            ],
            uploads: vec![],
        };
        let p = prepare(&input);
        assert_eq!(p.declared, Country::from_alpha2("GB"));
        assert_eq!(p.estimated_location, None);
        assert_eq!(p.emails.len(), 1);
        assert_eq!(p.phones.len(), 1);
        assert_eq!(p.phones[0].e164, "+442079460000");
        assert_eq!(
            p.devices,
            vec!["abcdef12-0000-0000-0000-000000000001".to_string()]
        );
        assert_eq!(p.sightings.len(), 1);
        let fields: Vec<_> = p.findings.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "estimated_location",
                "emails[2]",
                "phones[1]",
                "device_ids[1]",
                "logins[1].ip",
                "logins[2].ip"
            ]
        );
    }
}
