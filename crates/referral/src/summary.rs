//! `summary.html`: one self-contained page a liaison officer can read.
//!
//! Inline CSS only, no scripts, no images, no links, and a
//! Content-Security-Policy that forbids loading anything, so opening it
//! makes no network request. Every value from the records goes through
//! askama's HTML escaping. The media table is cut at
//! [`crate::BuildOptions::summary_media_rows`] rows (a country with a
//! million media items would otherwise get a page no browser opens); the
//! figures above it always count everything.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use askama::Template;

use crate::content::{Figure, MediaStatus, PackageAccount, PackageContent, PackageMedia};

#[derive(Debug, Default)]
struct Stats {
    accounts: usize,
    persons: usize,
    unlinked: usize,
    reports: usize,
    media: usize,
    known: usize,
    new: usize,
    unmatched: usize,
    in_series: usize,
    viewed_yes: usize,
    viewed_no: usize,
    viewed_unknown: usize,
    files: usize,
}

struct CategoryRow {
    scheme: &'static str,
    code: String,
    label: &'static str,
    count: usize,
}

struct PersonRow<'a> {
    id: &'a str,
    accounts: Vec<String>,
}

struct AccountRow<'a> {
    n: usize,
    report_id: &'a str,
    id: &'a str,
    username: &'a str,
    person: &'a str,
    identifiers: Vec<String>,
    country: &'a str,
    confidence: String,
    evidence: Vec<String>,
    media: u64,
}

struct MediaRow {
    n: usize,
    hash: String,
    category: String,
    /// The provider's own class, as it wrote it.
    provider_class: String,
    status: &'static str,
    series: String,
    viewed: &'static str,
    accounts: Vec<String>,
    file: String,
}

#[derive(Template)]
#[template(path = "summary.html")]
struct SummaryPage<'a> {
    referral_id: &'a str,
    country: &'a str,
    agency: &'a str,
    issuer: &'a str,
    created_at: &'a str,
    stats: Stats,
    figures: &'a [Figure],
    series: Vec<(&'a str, usize)>,
    categories: Vec<CategoryRow>,
    persons: Vec<PersonRow<'a>>,
    accounts: Vec<AccountRow<'a>>,
    media: Vec<MediaRow>,
    media_shown: usize,
}

/// How an account is named in lists: username, else its id, with the report.
fn account_label(a: &PackageAccount) -> String {
    match &a.username {
        Some(u) => format!("{u} ({} / {})", a.report_id, a.id),
        None => format!("{} / {}", a.report_id, a.id),
    }
}

fn media_hash(m: &PackageMedia) -> String {
    if let Some(h) = m.sha256 {
        format!("SHA-256 {}", h.to_hex())
    } else if let Some(h) = m.sha1 {
        format!("SHA-1 {}", h.to_hex())
    } else if let Some(h) = m.md5 {
        format!("MD5 {}", h.to_hex())
    } else if let Some(h) = m.pdq {
        format!("PDQ {}", h.to_hex())
    } else {
        String::new()
    }
}

fn viewed(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not stated",
    }
}

/// Renders the page into `out`.
pub fn write_summary<W: Write>(
    content: &PackageContent,
    media_counts: &[u64],
    media_rows: usize,
    included_files: usize,
    include_media: bool,
    out: W,
) -> io::Result<()> {
    let mut stats = Stats {
        accounts: content.accounts.len(),
        media: content.media.len(),
        files: included_files,
        ..Stats::default()
    };
    // Persons, with their accounts, in first-seen order.
    let mut person_index: HashMap<&str, usize> = HashMap::new();
    let mut persons: Vec<PersonRow<'_>> = Vec::new();
    let mut reports = HashSet::new();
    for a in &content.accounts {
        reports.insert(a.report_id.as_str());
        match a.person.as_deref() {
            Some(p) => {
                let i = *person_index.entry(p).or_insert_with(|| {
                    persons.push(PersonRow {
                        id: p,
                        accounts: Vec::new(),
                    });
                    persons.len() - 1
                });
                if let Some(row) = persons.get_mut(i) {
                    row.accounts.push(account_label(a));
                }
            }
            None => stats.unlinked += 1,
        }
    }
    stats.persons = persons.len();
    stats.reports = reports.len();

    let mut series: BTreeMap<&str, usize> = BTreeMap::new();
    let mut categories: BTreeMap<(&'static str, &str), (&'static str, usize)> = BTreeMap::new();
    for m in &content.media {
        match m.status {
            MediaStatus::Known => stats.known += 1,
            MediaStatus::New => stats.new += 1,
            MediaStatus::Unmatched => stats.unmatched += 1,
        }
        match m.viewed_by_provider {
            Some(true) => stats.viewed_yes += 1,
            Some(false) => stats.viewed_no += 1,
            None => stats.viewed_unknown += 1,
        }
        if let Some(s) = &m.series {
            stats.in_series += 1;
            *series.entry(s.as_str()).or_default() += 1;
        }
        if let Some(c) = &m.category {
            let label = c.scheme.label(&c.raw_code).unwrap_or("");
            categories
                .entry((c.scheme.name(), c.raw_code.as_str()))
                .or_insert((label, 0))
                .1 += 1;
        }
    }

    let accounts = content
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| AccountRow {
            n: i + 1,
            report_id: &a.report_id,
            id: &a.id,
            username: a.username.as_deref().unwrap_or(""),
            person: a.person.as_deref().unwrap_or(""),
            identifiers: a
                .identifiers
                .iter()
                .map(|x| format!("{}: {}", x.kind, x.value))
                .collect(),
            country: &a.country,
            confidence: format!("{:.2}", a.confidence),
            evidence: a
                .evidence
                .iter()
                .map(|e| {
                    let mut s = format!("{}: {}", e.kind, e.value);
                    if let Some(c) = &e.country {
                        s.push_str(&format!(" → {c}"));
                    }
                    if let Some(w) = e.weight {
                        s.push_str(&format!(" (weight {w:.2})"));
                    }
                    if let Some(d) = &e.detail {
                        s.push_str(&format!("; {d}"));
                    }
                    s
                })
                .collect(),
            media: media_counts.get(i).copied().unwrap_or(0),
        })
        .collect();

    let media: Vec<MediaRow> = content
        .media
        .iter()
        .take(media_rows)
        .enumerate()
        .map(|(i, m)| MediaRow {
            n: i + 1,
            hash: media_hash(m),
            category: m
                .category
                .as_ref()
                .map(|c| match c.scheme.label(&c.raw_code) {
                    Some(l) => format!("{} {} ({l})", c.scheme.name(), c.raw_code),
                    None => format!("{} {}", c.scheme.name(), c.raw_code),
                })
                .unwrap_or_default(),
            provider_class: m.industry_classification.clone().unwrap_or_default(),
            status: m.status.as_str(),
            series: m.series.clone().unwrap_or_default(),
            viewed: viewed(m.viewed_by_provider),
            accounts: m
                .accounts
                .iter()
                .filter_map(|&a| content.accounts.get(a))
                .map(account_label)
                .collect(),
            file: if include_media && m.file.is_some() {
                crate::vics::media_path(m).unwrap_or_default()
            } else {
                String::new()
            },
        })
        .collect();

    let page = SummaryPage {
        referral_id: &content.referral_id,
        country: &content.country,
        agency: &content.agency_name,
        issuer: &content.issuer,
        created_at: &content.created_at,
        stats,
        figures: &content.figures,
        series: series.into_iter().collect(),
        categories: categories
            .into_iter()
            .map(|((scheme, code), (label, count))| CategoryRow {
                scheme,
                code: code.to_owned(),
                label,
                count,
            })
            .collect(),
        persons,
        accounts,
        media_shown: media.len(),
        media,
    };
    let mut out = io::BufWriter::new(out);
    page.write_into(&mut out)?;
    out.flush()
}
