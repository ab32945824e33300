//! Turning one parsed NDJSON object into a model record, checking every rule
//! that concerns the line alone (cross-line rules live in `bundle`).

use serde_json::Value;

use crate::fields::{
    Obj, bool_v, country_v, hex_digest, id_v, ip_v, kind, list_v, object, req_id_v, split, str_v,
    time_v, vpdq_entry,
};
use crate::model::{Account, EstimatedLocation, Event, Login, Media, ProvidedHashes};

/// A rejected line, with the id it claimed when that much could be read
/// (so later lines can still be checked against it).
#[derive(Debug)]
pub(crate) struct Rejected {
    pub(crate) id: Option<String>,
    pub(crate) message: String,
}

fn with_id(id: &str) -> impl Fn(String) -> Rejected + '_ {
    move |message| Rejected {
        id: Some(id.to_owned()),
        message,
    }
}

fn no_id(message: String) -> Rejected {
    Rejected { id: None, message }
}

const ACCOUNT_KEYS: [&str; 11] = [
    "id",
    "username",
    "display_name",
    "created_at",
    "emails",
    "phones",
    "declared_country",
    "devices",
    "logins",
    "profile_url",
    "estimated_location",
];

/// An account line. `notes` receives the problems that do not reject it.
pub(crate) fn account(o: Obj, notes: &mut Vec<String>) -> Result<Account, Rejected> {
    let (
        [
            id,
            username,
            display_name,
            created_at,
            emails,
            phones,
            country,
            devices,
            logins_v,
            url,
            loc,
        ],
        extra,
    ) = split(o, &ACCOUNT_KEYS);
    let id = req_id_v(id, "id").map_err(no_id)?;
    let rest = (|| {
        Ok(Account {
            id: String::new(),
            username: str_v(username, "username")?,
            display_name: str_v(display_name, "display_name")?,
            created_at: time_v(created_at, "created_at")?,
            emails: list_v(emails, "emails")?,
            phones: list_v(phones, "phones")?,
            declared_country: country_v(country, "declared_country")?,
            devices: list_v(devices, "devices")?,
            logins: logins(logins_v, notes)?,
            profile_url: str_v(url, "profile_url")?,
            estimated_location: match loc {
                None | Some(Value::Null) => None,
                Some(v) => Some(estimated_location(object(v, "estimated_location")?)?),
            },
            extra: Obj::new(),
        })
    })()
    .map_err(with_id(&id))?;
    Ok(Account { id, extra, ..rest })
}

fn logins(v: Option<Value>, notes: &mut Vec<String>) -> Result<Vec<Login>, String> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!("logins: expected an array, found {}", kind(&other)));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let at = |f: &str| format!("logins[{i}]{f}");
            let ([ip, when, proxy], extra) =
                split(object(v, &at(""))?, &["ip", "at", "possible_proxy"]);
            let Some(ip) = ip_v(ip, &at(".ip"), notes)? else {
                return Err(format!("{}: missing (required)", at(".ip")));
            };
            Ok(Login {
                ip,
                at: time_v(when, &at(".at"))?,
                possible_proxy: bool_v(proxy, &at(".possible_proxy"))?,
                extra,
            })
        })
        .collect()
}

fn estimated_location(l: Obj) -> Result<EstimatedLocation, String> {
    let ([cc, region, city, verified, ts], extra) = split(
        l,
        &["country_code", "region", "city", "verified", "timestamp"],
    );
    Ok(EstimatedLocation {
        country_code: country_v(cc, "estimated_location.country_code")?,
        region: str_v(region, "estimated_location.region")?,
        city: str_v(city, "estimated_location.city")?,
        verified: bool_v(verified, "estimated_location.verified")?,
        timestamp: time_v(ts, "estimated_location.timestamp")?,
        extra,
    })
}

const MEDIA_KEYS: [&str; 12] = [
    "id",
    "account",
    "file",
    "hashes",
    "uploaded_at",
    "upload_ip",
    "original_name",
    "shared_with",
    "group",
    "viewed_by_provider",
    "viewed_by_ncmec",
    "industry_classification",
];

/// A media line. `notes` receives the problems that do not reject it.
pub(crate) fn media(o: Obj, notes: &mut Vec<String>) -> Result<Media, Rejected> {
    let (
        [
            id,
            account,
            file,
            hashes_v,
            uploaded_at,
            upload_ip,
            original_name,
            shared_with,
            group,
            viewed,
            viewed_ncmec,
            class,
        ],
        extra,
    ) = split(o, &MEDIA_KEYS);
    let id = req_id_v(id, "id").map_err(no_id)?;
    let rest = (|| {
        let account = req_id_v(account, "account")?;
        let file = str_v(file, "file")?;
        if file.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err("file: is empty".to_owned());
        }
        let hashes = match hashes_v {
            None | Some(Value::Null) => ProvidedHashes::default(),
            Some(v) => hashes(object(v, "hashes")?)?,
        };
        if file.is_none() && hashes.is_empty() {
            return Err("neither file nor hashes given (one is required)".to_owned());
        }
        Ok(Media {
            id: String::new(),
            file,
            account,
            uploaded_at: time_v(uploaded_at, "uploaded_at")?,
            upload_ip: ip_v(upload_ip, "upload_ip", notes)?,
            original_name: str_v(original_name, "original_name")?,
            shared_with: list_v(shared_with, "shared_with")?,
            group: id_v(group, "group")?,
            hashes,
            viewed_by_provider: bool_v(viewed, "viewed_by_provider")?,
            viewed_by_ncmec: bool_v(viewed_ncmec, "viewed_by_ncmec")?,
            industry_classification: str_v(class, "industry_classification")?,
            extra: Obj::new(),
        })
    })()
    .map_err(with_id(&id))?;
    Ok(Media { id, extra, ..rest })
}

fn digest(v: Option<Value>, at: &str, len: usize, what: &str) -> Result<Option<String>, String> {
    match str_v(v, at)? {
        None => Ok(None),
        Some(s) => hex_digest(s, len, what)
            .map(Some)
            .map_err(|e| format!("{at}: {e}")),
    }
}

fn hashes(h: Obj) -> Result<ProvidedHashes, String> {
    let ([md5, sha1, sha256, pdq, vpdq], extra) =
        split(h, &["md5", "sha1", "sha256", "pdq", "vpdq"]);
    let md5 = digest(md5, "hashes.md5", 32, "MD5")?;
    let sha1 = digest(sha1, "hashes.sha1", 40, "SHA-1")?;
    let sha256 = digest(sha256, "hashes.sha256", 64, "SHA-256")?;
    let pdq = digest(pdq, "hashes.pdq", 64, "PDQ")?;
    let vpdq = match vpdq {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => vpdq_entry(&s).map_err(|e| {
                    format!("hashes.vpdq[{i}]: not a vPDQ frame \"hex,quality,timestamp\": {e}")
                }),
                other => Err(format!(
                    "hashes.vpdq[{i}]: expected a string, found {}",
                    kind(&other)
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "hashes.vpdq: expected an array, found {}",
                kind(&other)
            ));
        }
    };
    Ok(ProvidedHashes {
        md5,
        sha1,
        sha256,
        pdq,
        vpdq,
        extra,
    })
}

/// An event line. `notes` receives the problems that do not reject it.
pub(crate) fn event(o: Obj, notes: &mut Vec<String>) -> Result<Event, Rejected> {
    let ([kind_v, at, account, from, to, media, ip, group], extra) = split(
        o,
        &[
            "type", "at", "account", "from", "to", "media", "ip", "group",
        ],
    );
    let kind = req_id_v(kind_v, "type").map_err(no_id)?;
    let rest = (|| {
        Ok(Event {
            kind: String::new(),
            at: time_v(at, "at")?,
            account: id_v(account, "account")?,
            from: id_v(from, "from")?,
            to: list_v(to, "to")?,
            media: id_v(media, "media")?,
            ip: ip_v(ip, "ip", notes)?,
            group: id_v(group, "group")?,
            extra: Obj::new(),
        })
    })()
    .map_err(no_id)?;
    Ok(Event {
        kind,
        extra,
        ..rest
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any JSON object: a record or a rejection, never a panic.
        #[test]
        fn never_panics(json in "\\{(\"(id|account|file|hashes|md5|logins|ip|at|type|to|vpdq)\": ?(\"[a-f0-9:., ]{0,70}\"|[0-9]{1,3}|null|true|\\[\\]|\\{\\}|\\[\"x\"\\]),? ?){0,6}\\}") {
            if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(&json) {
                let mut notes = Vec::new();
                let _ = account(o.clone(), &mut notes);
                let _ = media(o.clone(), &mut notes);
                let _ = event(o, &mut notes);
            }
        }
    }
}
