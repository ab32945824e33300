//! Linking and attribution over the whole store: `tiaki attribute`, and the
//! last step of every ingest that stored something.
//!
//! Every account of every intake is read (links across reports and intakes
//! count), with the uploads of the media table (upload IPs are evidence,
//! shared SHA-256 are weak links). `tiaki-attrib` normalises, links and
//! scores them in parallel (rayon); the result replaces the persons,
//! account attributions and links in one transaction.
//!
//! # Determinism
//!
//! The same data gives the same rows: accounts are taken in id order, and
//! persons and links get ids 1.. in the library's deterministic order. The
//! reference time for recency is the newest event in the data (a login or
//! an upload), capped at the clock's "now": an old report analysed today is
//! judged by its own time, not decayed to nothing, and a rerun does not
//! change a confidence because the wall clock moved. Evidence dated after
//! "now" is a finding.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use tiaki_attrib::{
    AccountInput, Attribution, AttributionConfig, Attributor, Finding, GeoDb, IpEvent, LinkConfig,
    PreparedAccount, UnixTime, UploadInput, add_upload, attribute_all, finish_uploads, link,
    prepare,
};
use tiaki_store::Timestamp;
use tiaki_store::intake::{IntakeState, IntakeStore};
use tiaki_types::model::Account;
use tiaki_store::persons::{
    AccountSource, AttributionRow, LinkCounts, LinkResult, LinkRow, LinkStore, PersonRow,
    UploadPage, Uploaders,
};

use crate::error::CoreError;
use crate::context::{Clock, Progress};
use crate::pages::read_ahead;
use crate::pipeline::Stage;

/// Accounts (and uploads) read per page.
const PAGE: u32 = 5000;

/// How linking and attribution run.
#[derive(Debug, Clone, Default)]
pub struct AttributeOptions {
    /// Geolocation sources (`.mmdb` or CIDR→country CSV, detected by content).
    pub geoip: Vec<PathBuf>,
    pub link: LinkConfig,
    pub attribution: AttributionConfig,
}

/// What a recompute produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AttributeReport {
    #[serde(flatten)]
    pub counts: LinkCounts,
    /// Shared values not allowed to link (too many accounts, proxies).
    pub skipped_identifiers: u64,
    /// The reference time recency was measured against (RFC 3339).
    pub reference_time: String,
    /// Problems of the geolocation files (bad CSV lines), not fatal.
    pub geo_warnings: Vec<String>,
}

/// Opens the geolocation sources.
pub fn open_geo(paths: &[PathBuf]) -> Result<GeoDb, CoreError> {
    Ok(GeoDb::open(paths)?)
}

/// Recomputes links, persons and attributions over the whole store.
pub async fn attribute<S: LinkStore + IntakeStore + Clone + 'static>(
    store: &S,
    opts: &AttributeOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<AttributeReport, CoreError> {
    let geo = open_geo(&opts.geoip)?;
    attribute_with(store, &geo, opts, clock, progress).await
}

/// [`attribute`] with sources already open (an ingest opens them before it
/// stores anything, so a bad `--geoip` fails first).
pub async fn attribute_with<S: LinkStore + IntakeStore + Clone + 'static>(
    store: &S,
    geo: &GeoDb,
    opts: &AttributeOptions,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<AttributeReport, CoreError> {
    progress.stage("linking", None);
    // The intakes complete now are the ones this recompute covers whole: an
    // intake still being read when it started is linked again when it
    // completes.
    let covered: Vec<i64> = store
        .intakes()
        .await?
        .into_iter()
        .filter(|i| i.state == IntakeState::Complete)
        .map(|i| i.id)
        .collect();
    let Prepared {
        ids,
        accounts: prepared,
        newest,
    } = read_prepared(store, progress).await?;
    let now = clock.now();
    let reference = newest.map_or(now.unix(), |t| t.min(now.unix()));

    let linking = link(&prepared, &opts.link);
    let attributor = Attributor::new(geo, opts.attribution.clone(), reference);
    let (per_account, per_person) = attribute_all(&attributor, prepared, &linking.persons);

    let account_id = |i: u32| ids.get(i as usize).copied().unwrap_or(0);
    // Each attribution is consumed as its row is made (into_par_iter), so
    // an operation's evidence is not held twice, as structs and as JSON.
    let persons: Vec<PersonRow> = linking
        .persons
        .par_iter()
        .zip(per_person.into_par_iter())
        .enumerate()
        .map(|(i, (p, a))| {
            let first = p.members.first().map_or(0, |&m| account_id(m));
            let (evidence, shares) = attribution_json(&a);
            PersonRow {
                id: i as i64 + 1,
                label: format!("P-{first}"),
                country: a.country.map(|c| c.alpha2().to_string()),
                confidence: a.confidence,
                runner_up: a.runner_up.map(|r| r.country.alpha2().to_string()),
                runner_up_share: a.runner_up.map(|r| r.share),
                evidence,
                shares,
                accounts: p.members.len() as u64,
            }
        })
        .collect();
    let attributions: Vec<AttributionRow> = per_account
        .into_par_iter()
        .enumerate()
        .map(|(i, a)| {
            let (evidence, shares) = attribution_json(&a);
            AttributionRow {
                account_id: account_id(i as u32),
                person_id: linking.person_of.get(i).map(|&p| i64::from(p) + 1),
                country: a.country.map(|c| c.alpha2().to_string()),
                confidence: a.confidence,
                runner_up: a.runner_up.map(|r| r.country.alpha2().to_string()),
                runner_up_share: a.runner_up.map(|r| r.share),
                evidence,
                shares,
                findings: to_json(&a.findings),
            }
        })
        .collect();
    let links: Vec<LinkRow> = linking
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| LinkRow {
            id: i as i64 + 1,
            a: account_id(l.a),
            b: account_id(l.b),
            kind: kind_name(l.kind),
            evidence: l.evidence.clone(),
            weight: l.weight,
            pair_weight: l.pair_weight,
        })
        .collect();
    progress.stage("storing", None);
    let result = LinkResult {
        persons,
        attributions,
        links,
    };
    let now = clock.now();
    store.replace_links(&result, &now).await?;
    crate::pipeline::record(store, &covered, &Stage::STORE_WIDE, &now).await?;
    Ok(AttributeReport {
        counts: store.link_counts().await?,
        skipped_identifiers: linking.skipped.len() as u64,
        reference_time: Timestamp::from_unix(reference).as_str().to_string(),
        geo_warnings: geo
            .warnings()
            .iter()
            .map(|w| format!("{} line {}: {}", w.file, w.line, w.reason))
            .collect(),
    })
}

/// Every account of the store, prepared for linking, in id order.
struct Prepared {
    ids: Vec<i64>,
    accounts: Vec<PreparedAccount>,
    /// The newest login or upload time seen.
    newest: Option<UnixTime>,
}

/// Reads and prepares every account a page at a time, then adds every
/// upload to its account as it is read: memory holds the prepared form
/// only, never every account's stored JSON or every upload row at once
/// (an operation has millions of uploads).
async fn read_prepared<S: LinkStore + Clone + 'static>(
    store: &S,
    progress: &dyn Progress,
) -> Result<Prepared, CoreError> {
    let mut ids = Vec::new();
    let mut accounts = Vec::new();
    let mut uploaders = Uploaders::default();
    let mut newest: Option<UnixTime> = None;
    let reader = store.clone();
    let mut pages = read_ahead(
        move |after| {
            let store = reader.clone();
            async move { store.account_sources_page(after, PAGE).await }
        },
        |page: &Vec<AccountSource>| page.last().map(|a| a.id),
    );
    while let Some(page) = pages.next().await? {
        progress.inc(page.len() as u64);
        let built: Vec<(PreparedAccount, Option<UnixTime>)> = page
            .par_iter()
            .map(|a| {
                let (input, extra, newest) = build_input(a);
                let mut p = prepare(&input);
                p.findings.extend(extra);
                (p, newest)
            })
            .collect();
        ids.extend(page.iter().map(|a| a.id));
        for a in page {
            uploaders.insert(a.intake_id, a.provider_id, a.id);
        }
        for (p, n) in built {
            newest = newest.max(n);
            accounts.push(p);
        }
    }
    let (reader, uploaders) = (store.clone(), Arc::new(uploaders));
    let mut pages = read_ahead(
        move |after| {
            let (store, uploaders) = (reader.clone(), Arc::clone(&uploaders));
            async move { store.upload_sources_page(after, PAGE, &uploaders).await }
        },
        |page: &UploadPage| page.last,
    );
    while let Some(page) = pages.next().await? {
        for u in page.uploads {
            // The store resolves uploads only to the accounts read above
            // (an account stored since, by a concurrent ingest, joins at
            // the next run), so the search finds it.
            let Ok(i) = ids.binary_search(&u.account_id) else {
                continue;
            };
            let Some(p) = accounts.get_mut(i) else {
                continue;
            };
            let media = u.media_id;
            let at = u.uploaded_at.as_deref().and_then(|s| {
                unix_of(
                    s,
                    || format!("uploads (media {media}).uploaded_at"),
                    &mut p.findings,
                )
            });
            if u.upload_ip.is_some() {
                newest = newest.max(at);
            }
            let upload = UploadInput {
                ip: u.upload_ip.map(|ip| IpEvent {
                    ip,
                    at,
                    possible_proxy: false,
                }),
                content_key: u.sha256,
            };
            add_upload(p, || format!("uploads (media {media}).upload_ip"), &upload);
        }
    }
    accounts.par_iter_mut().for_each(finish_uploads);
    Ok(Prepared {
        ids,
        accounts,
        newest,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn attribution_json(a: &Attribution) -> (String, String) {
    (to_json(&a.evidence), to_json(&a.shares))
}

fn kind_name(k: tiaki_attrib::LinkKind) -> String {
    // The serde name (`ip_time`), the form the JSON output uses too.
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

/// Seconds since the epoch of an RFC 3339 time, or a finding.
fn unix_of(
    s: &str,
    field: impl FnOnce() -> String,
    findings: &mut Vec<Finding>,
) -> Option<UnixTime> {
    match tiaki_types::time::unix_seconds(s) {
        Ok(t) => Some(t),
        Err(e) => {
            Finding::record(findings, field, s, &format!("not an RFC 3339 time ({e})"));
            None
        }
    }
}

/// One stored account as the library's input (its uploads are added after
/// [`prepare`], see [`read_prepared`]), the findings of what could not be
/// read, and its newest login time.
fn build_input(a: &AccountSource) -> (AccountInput, Vec<Finding>, Option<UnixTime>) {
    let mut findings = Vec::new();
    // `accounts.data` is the intake's `Account`, written and read through the
    // one type in `tiaki-types`.
    let data: Account = match serde_json::from_str(&a.data) {
        Ok(d) => d,
        Err(e) => {
            findings.push(Finding::new(
                "data",
                &a.data.chars().take(80).collect::<String>(),
                format!("the stored account is not readable JSON ({e})"),
            ));
            Account::default()
        }
    };
    let mut newest: Option<UnixTime> = None;
    let mut logins = Vec::with_capacity(data.logins.len());
    for (i, l) in data.logins.into_iter().enumerate() {
        let at =
            l.at.as_deref()
                .and_then(|s| unix_of(s, || format!("logins[{i}].at"), &mut findings));
        newest = newest.max(at);
        logins.push(IpEvent {
            ip: l.ip,
            at,
            possible_proxy: l.possible_proxy.unwrap_or(false),
        });
    }
    let input = AccountInput {
        declared_country: data.declared_country.or_else(|| a.declared_country.clone()),
        estimated_location: data.estimated_location.and_then(|l| l.country_code),
        emails: data.emails,
        phones: data.phones,
        device_ids: data.devices,
        logins,
        uploads: Vec::new(),
    };
    (input, findings, newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(data: &str) -> AccountSource {
        AccountSource {
            id: 7,
            intake_id: 1,
            provider_id: "a".into(),
            declared_country: Some("NZ".into()),
            data: data.into(),
        }
    }

    #[test]
    fn reads_the_intake_model() {
        let (input, findings, newest) = build_input(&source(
            r#"{"id":"a","emails":["x@example.test"],"phones":["+64211234567"],"devices":["d1"],
                "logins":[{"ip":"203.0.113.9","at":"2019-10-02T11:00:00Z","possible_proxy":true},
                          {"ip":"203.0.113.10","at":"2019-10-02T12:00:00+01:00"}],
                "estimated_location":{"country_code":"AU"},"extra":{"x":1}}"#,
        ));
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(input.declared_country.as_deref(), Some("NZ"));
        assert_eq!(input.estimated_location.as_deref(), Some("AU"));
        assert_eq!(input.logins.len(), 2);
        assert!(input.logins[0].possible_proxy);
        assert_eq!(input.logins[0].at, Some(1_570_014_000));
        assert_eq!(input.logins[1].at, Some(1_570_014_000));
        assert!(input.uploads.is_empty(), "uploads are added after prepare");
        assert_eq!(newest, Some(1_570_014_000));
    }

    #[test]
    fn unreadable_values_are_findings() {
        let (input, findings, _) = build_input(&source(
            r#"{"id":"a","logins":[{"ip":"203.0.113.9","at":"yesterday"}]}"#,
        ));
        assert_eq!(input.logins[0].at, None);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].field, "logins[0].at");
        let (_, findings, _) = build_input(&source("{broken"));
        assert_eq!(findings[0].field, "data");
    }
}
