//! Mapping a CyberTipline `<report>` (and its `<fileDetails>`) to the model.
//!
//! Problems inside a well-formed report (a timestamp that is not RFC 3339,
//! an IP that is not an address, a hash of the wrong length) do not reject
//! the report: the value is left out of the typed field, kept as written in
//! `extra`, and a warning names it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::xml::{Node, group_into};
use crate::fields::{check_ip, check_time, country, hex_digest};
use crate::model::{
    Account, EstimatedLocation, Login, Media, ProvidedHashes, ReportHeader, SourceKind,
};
use tiaki_types::fields::{Spellings, parse_bool};

/// Collects warnings with the place they refer to.
pub(crate) struct Warnings<'a> {
    pub(crate) file: &'a str,
    pub(crate) list: Vec<String>,
}

impl Warnings<'_> {
    fn add(&mut self, at: &str, msg: impl std::fmt::Display) {
        self.list.push(format!("{}: {at}: {msg}", self.file));
    }
}

/// Children of `n` not named in `used`, as JSON grouped by name.
fn rest(n: &Node, used: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    group_into(
        &mut m,
        n.children
            .iter()
            .filter(|c| !used.contains(&c.name.as_str())),
    );
    m
}

/// A timestamp element: kept if RFC 3339, else warned about (the caller
/// keeps the raw element in `extra`).
fn time_of(n: &Node, name: &str, at: &str, w: &mut Warnings<'_>) -> Option<String> {
    let t = n.text_of(name)?;
    match check_time(&t) {
        Ok(()) => Some(t),
        Err(e) => {
            w.add(&format!("{at}/{name}"), e);
            None
        }
    }
}

fn bool_of(n: &Node, name: &str, at: &str, w: &mut Warnings<'_>) -> Option<bool> {
    let t = n.text_of(name)?;
    let b = parse_bool(&t, Spellings::XsBoolean);
    if b.is_none() {
        w.add(&format!("{at}/{name}"), format!("not a boolean: {t:?}"));
    }
    b
}

pub(crate) struct Mapped {
    pub(crate) header: ReportHeader,
    pub(crate) accounts: Vec<Account>,
    /// The id media are attributed to when a report names no reported user.
    pub(crate) default_account: String,
}

/// The header and reported accounts of one `<report>`.
pub(crate) fn report(
    root: &Node,
    report_id: String,
    provider_override: Option<&str>,
    w: &mut Warnings<'_>,
) -> Mapped {
    let summary = root.child("incidentSummary");
    let incident_type = summary.and_then(|s| s.text_of("incidentType"));
    let reported: Vec<&Node> = root.all("personOrUserReported").collect();

    let provider_name = provider_override
        .map(str::to_owned)
        .or_else(|| reported.iter().find_map(|p| p.text_of("espService")))
        .or_else(|| {
            let person = root.child("reporter")?.child("reportingPerson")?;
            person
                .all("email")
                .filter_map(Node::trimmed)
                .find_map(|e| e.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        })
        .unwrap_or_else(|| "unknown reporter".to_owned());

    let mut extra = rest(
        root,
        &[
            "personOrUserReported",
            "additionalInfo",
            "reportId",
            "fileDetails",
        ],
    );
    if let Some(s) = summary {
        // incidentType is in the typed field; the rest of the summary stays.
        extra.insert(
            "incidentSummary".into(),
            Value::Object(rest(s, &["incidentType"])),
        );
    }
    let mut infos = root.all("additionalInfo").filter_map(Node::trimmed);
    let description = infos.next();
    let more: Vec<Value> = infos.map(Value::from).collect();
    if !more.is_empty() {
        extra.insert("additionalInfo".into(), Value::Array(more));
    }

    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in reported.iter().enumerate() {
        let at = format!("personOrUserReported[{}]", i + 1);
        let mut a = account(p, &at, w);
        if a.id.is_empty() {
            a.id = format!("{report_id}#reported-user-{}", i + 1);
        }
        if !seen.insert(a.id.clone()) {
            w.add(
                &at,
                format!(
                    "same account id {:?} as an earlier reported user; merged",
                    a.id
                ),
            );
            continue;
        }
        accounts.push(a);
    }
    let default_account = accounts
        .first()
        .map_or_else(|| format!("{report_id}#reported-user-1"), |a| a.id.clone());

    Mapped {
        header: ReportHeader {
            source_kind: SourceKind::CyberTip,
            provider_name,
            provider_country: None,
            report_id,
            created_at: None,
            incident_type,
            description,
            extra,
        },
        accounts,
        default_account,
    }
}

/// One `personOrUserReported` (or compatible element) as an account.
fn account(p: &Node, at: &str, w: &mut Warnings<'_>) -> Account {
    let person = p
        .child("personOrUserReportedPerson")
        .or_else(|| p.child("intendedRecipientPerson"));
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    if let Some(person) = person {
        emails.extend(person.all("email").filter_map(Node::trimmed));
        phones.extend(person.all("phone").filter_map(phone));
    }
    let mut display_names = p.all("displayName").filter_map(Node::trimmed);
    let display_name = display_names.next();
    let mut urls = p.all("profileUrl").filter_map(Node::trimmed);
    let profile_url = urls.next();

    let mut extra = rest(
        p,
        &[
            "espIdentifier",
            "screenName",
            "displayName",
            "profileUrl",
            "ipCaptureEvent",
            "deviceId",
            "estimatedLocation",
        ],
    );
    let more_names: Vec<Value> = display_names.map(Value::from).collect();
    if !more_names.is_empty() {
        extra.insert("displayName".into(), Value::Array(more_names));
    }
    let more_urls: Vec<Value> = urls.map(Value::from).collect();
    if !more_urls.is_empty() {
        extra.insert("profileUrl".into(), Value::Array(more_urls));
    }

    let mut logins = Vec::new();
    let mut bad_events = Vec::new();
    for (i, ev) in p.all("ipCaptureEvent").enumerate() {
        match login(ev, &format!("{at}/ipCaptureEvent[{}]", i + 1), w) {
            Some(l) => logins.push(l),
            None => bad_events.push(ev.to_json()),
        }
    }
    if !bad_events.is_empty() {
        extra.insert("ipCaptureEvent".into(), Value::Array(bad_events));
    }

    let device_nodes: Vec<&Node> = p.all("deviceId").collect();
    let devices = device_nodes.iter().filter_map(|d| device(d)).collect();
    if !device_nodes.is_empty() {
        // The strings lose eventName and dateTime: keep the elements too.
        extra.insert(
            "deviceId".into(),
            Value::Array(device_nodes.iter().map(|d| d.to_json()).collect()),
        );
    }

    let estimated_location = p
        .child("estimatedLocation")
        .map(|l| location(l, &format!("{at}/estimatedLocation"), w));

    Account {
        id: p
            .text_of("espIdentifier")
            .or_else(|| p.text_of("screenName"))
            .unwrap_or_default(),
        username: p.text_of("screenName"),
        display_name,
        created_at: None,
        emails,
        phones,
        declared_country: None,
        devices,
        logins,
        profile_url,
        estimated_location,
        extra,
    }
}

/// `<phone countryCallingCode="+64">21 555 0100</phone>` → `+64 21 555 0100`.
fn phone(n: &Node) -> Option<String> {
    let number = n.trimmed()?;
    match n.attr("countryCallingCode").map(str::trim) {
        Some(cc) if !cc.is_empty() && !number.starts_with('+') => {
            let cc = cc.strip_prefix('+').unwrap_or(cc);
            Some(format!("+{cc} {number}"))
        }
        _ => Some(number),
    }
}

/// `<deviceId><idType>IMEI</idType><idValue>35…</idValue></deviceId>` →
/// `IMEI:35…` (the provider-report form `android-id:8f2c…`).
fn device(n: &Node) -> Option<String> {
    let value = n.text_of("idValue")?;
    Some(match n.text_of("idType") {
        Some(t) => format!("{t}:{value}"),
        None => value,
    })
}

/// An `ipCaptureEvent`, or `None` (with a warning) if its address is not one.
fn login(ev: &Node, at: &str, w: &mut Warnings<'_>) -> Option<Login> {
    let Some(ip) = ev.text_of("ipAddress") else {
        w.add(at, "no ipAddress");
        return None;
    };
    if let Err(e) = check_ip(&ip) {
        w.add(&format!("{at}/ipAddress"), e);
        return None;
    }
    let time = time_of(ev, "dateTime", at, w);
    let mut extra = rest(ev, &["ipAddress", "possibleProxy"]);
    if time.is_some() {
        extra.remove("dateTime");
    }
    Some(Login {
        ip,
        at: time,
        possible_proxy: bool_of(ev, "possibleProxy", at, w),
        extra,
    })
}

fn location(l: &Node, at: &str, w: &mut Warnings<'_>) -> EstimatedLocation {
    let mut extra = rest(l, &["city", "region", "countryCode"]);
    let country_code = l.text_of("countryCode").and_then(|c| match country(&c) {
        Ok(c) => Some(c),
        Err(e) => {
            w.add(&format!("{at}/countryCode"), e);
            extra.insert("countryCode".into(), Value::from(c));
            None
        }
    });
    EstimatedLocation {
        country_code,
        region: l.text_of("region"),
        city: l.text_of("city"),
        verified: l
            .attr("verified")
            .and_then(|v| parse_bool(v, Spellings::XsBoolean)),
        timestamp: l.attr("timestamp").map(str::to_owned),
        extra,
    }
}

/// One `<fileDetails>` as a media item of `account`. `find_file` looks for
/// the file beside the report, given the candidate names.
pub(crate) fn media(
    fd: &Node,
    at: &str,
    account: &str,
    fallback_id: String,
    w: &mut Warnings<'_>,
    find_file: &mut dyn FnMut(&[String]) -> Option<String>,
) -> Media {
    let id = fd.text_of("fileId").unwrap_or_else(|| {
        w.add(at, format!("no fileId; using {fallback_id:?}"));
        fallback_id
    });
    let original_name = fd.text_of("originalFileName");
    let mut extra = rest(
        fd,
        &[
            "fileId",
            "originalFileName",
            "uploadedToEspTimestamp",
            "fileViewedByEsp",
            "industryClassification",
            "originalFileHash",
            "exifViewedByEsp",
            "publiclyAvailable",
        ],
    );
    // Flags as JSON booleans when they parse, so consumers need not.
    for flag in ["exifViewedByEsp", "publiclyAvailable"] {
        if let Some(t) = fd.text_of(flag) {
            let v = parse_bool(&t, Spellings::XsBoolean)
                .map_or_else(|| Value::from(t.as_str()), Value::Bool);
            extra.insert(flag.into(), v);
        }
    }
    let uploaded_at = time_of(fd, "uploadedToEspTimestamp", at, w);
    if uploaded_at.is_none()
        && let Some(raw) = fd.text_of("uploadedToEspTimestamp")
    {
        extra.insert("uploadedToEspTimestamp".into(), Value::from(raw));
    }

    let mut hashes = ProvidedHashes::default();
    let mut bad_hashes = Vec::new();
    for (i, h) in fd.all("originalFileHash").enumerate() {
        let kind = h.attr("hashType").unwrap_or("").to_owned();
        let value = h.trimmed().unwrap_or_default();
        let here = format!("{at}/originalFileHash[{}]", i + 1);
        if !put_hash(&mut hashes, &kind, &value, &here, w) {
            bad_hashes.push(h.to_json());
        }
    }
    // details type="HASH" pairs (PhotoDNA, PDQ, …); the elements also stay
    // in extra["details"].
    for d in fd.all("details") {
        let is_hash = |n: &Node| {
            n.attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("HASH"))
        };
        for (i, pair) in d.all("nameValuePair").enumerate() {
            if !(is_hash(d) || is_hash(pair)) {
                continue;
            }
            if let (Some(name), Some(value)) = (pair.text_of("name"), pair.text_of("value")) {
                let here = format!("{at}/details/nameValuePair[{}]", i + 1);
                put_hash(&mut hashes, &name, &value, &here, w);
            }
        }
    }
    if !bad_hashes.is_empty() {
        extra.insert("originalFileHash".into(), Value::Array(bad_hashes));
    }

    let upload_ip = fd
        .all("ipCaptureEvent")
        .filter(|e| {
            e.text_of("eventName")
                .is_none_or(|n| n.eq_ignore_ascii_case("Upload"))
        })
        .find_map(|e| e.text_of("ipAddress"))
        .filter(|ip| match check_ip(ip) {
            Ok(()) => true,
            Err(e) => {
                w.add(&format!("{at}/ipCaptureEvent/ipAddress"), e);
                false
            }
        });

    let mut candidates = vec![id.clone()];
    if let Some(n) = &original_name {
        candidates.push(n.clone());
    }
    let file = find_file(&candidates);
    if file.is_none() && hashes.is_empty() {
        w.add(at, "no file found beside the report and no hashes given");
    }

    Media {
        id,
        file,
        account: account.to_owned(),
        uploaded_at,
        upload_ip,
        original_name,
        shared_with: Vec::new(),
        group: None,
        hashes,
        viewed_by_provider: bool_of(fd, "fileViewedByEsp", at, w),
        viewed_by_ncmec: None,
        industry_classification: fd.text_of("industryClassification"),
        extra,
    }
}

/// Puts one provider hash in its typed slot; `false` (with a warning) when it
/// is malformed for its declared type. Unknown types go to `hashes.extra`
/// unvalidated.
fn put_hash(
    h: &mut ProvidedHashes,
    kind: &str,
    value: &str,
    at: &str,
    w: &mut Warnings<'_>,
) -> bool {
    let norm: String = kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let (slot, len, what) = match norm.as_str() {
        "md5" => (&mut h.md5, 32, "MD5"),
        "sha1" => (&mut h.sha1, 40, "SHA-1"),
        "sha256" => (&mut h.sha256, 64, "SHA-256"),
        "pdq" => (&mut h.pdq, 64, "PDQ"),
        "" => {
            w.add(at, "hash without a hashType");
            return false;
        }
        _ => {
            h.extra.insert(norm, Value::from(value));
            return true;
        }
    };
    match hex_digest(value.to_owned(), len, what) {
        Ok(v) => {
            if slot.as_ref().is_some_and(|old| *old != v) {
                w.add(at, format!("second, different {what} hash ignored"));
                return false;
            }
            *slot = Some(v);
            true
        }
        Err(e) => {
            w.add(at, format!("hashType {kind:?}: {e}"));
            false
        }
    }
}
