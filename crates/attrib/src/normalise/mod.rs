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
use crate::{AccountInput, Finding, IpEvent, UnixTime};

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

fn sighting(
    field: String,
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
            findings.push(Finding::new(field, &ev.ip, reason));
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
        sightings.extend(sighting(
            format!("logins[{i}].ip"),
            ev,
            false,
            &mut findings,
        ));
    }
    let mut content_keys = Vec::new();
    for (i, up) in input.uploads.iter().enumerate() {
        if let Some(ev) = &up.ip {
            sightings.extend(sighting(
                format!("uploads[{i}].ip"),
                ev,
                true,
                &mut findings,
            ));
        }
        if let Some(k) = up.content_key
            && !content_keys.contains(&k)
        {
            content_keys.push(k);
        }
    }
    PreparedAccount {
        declared,
        estimated_location,
        emails,
        phones,
        devices,
        sightings,
        content_keys,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
