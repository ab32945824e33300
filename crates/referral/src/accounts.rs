//! `accounts.ndjson`: one account a line.
//!
//! ```json
//! {"report_id":"R-1","id":"u-1029","username":"kiwi_77","identifiers":[{"kind":"email","value":"…"}],
//!  "person":"P-3","country":"NZ","confidence":0.9,"evidence":[{"kind":"ip_geolocation","value":"203.0.113.9","country":"NZ"}],
//!  "media":12}
//! ```
//!
//! `username` and `person` are `null` when unknown; `media` counts the
//! package's media items that name the account.

use std::io::{self, Write};

use serde::Serialize;

use crate::content::{Evidence, Identifier, PackageContent};

#[derive(Serialize)]
struct Line<'a> {
    report_id: &'a str,
    id: &'a str,
    username: Option<&'a str>,
    identifiers: &'a [Identifier],
    person: Option<&'a str>,
    country: &'a str,
    confidence: f64,
    evidence: &'a [Evidence],
    media: u64,
}

/// How many media items name each account, by account index.
pub fn media_counts(content: &PackageContent) -> Vec<u64> {
    let mut counts = vec![0u64; content.accounts.len()];
    for m in &content.media {
        for &i in &m.accounts {
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
    }
    counts
}

/// Writes every account, one JSON object and `\n` a line.
pub fn write_accounts<W: Write>(
    content: &PackageContent,
    media_counts: &[u64],
    mut out: W,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    for (i, a) in content.accounts.iter().enumerate() {
        buf.clear();
        let line = Line {
            report_id: &a.report_id,
            id: &a.id,
            username: a.username.as_deref(),
            identifiers: &a.identifiers,
            person: a.person.as_deref(),
            country: &a.country,
            confidence: a.confidence,
            evidence: &a.evidence,
            media: media_counts.get(i).copied().unwrap_or(0),
        };
        serde_json::to_writer(&mut buf, &line).map_err(io::Error::other)?;
        buf.push(b'\n');
        out.write_all(&buf)?;
    }
    out.flush()
}
