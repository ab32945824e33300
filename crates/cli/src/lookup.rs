//! `tiaki lookup`: one hash a line on stdin, one JSON line per query.
//!
//! Lines are read in batches of those already there
//! ([`read_ready_lines`]) and each batch goes to the index in one call
//! ([`Known::find_many`](tiaki_core::known::Known)), answered in input order
//! and flushed before waiting for more input: piped queries are batched, a
//! line typed on a terminal is answered at once.

use std::io::{BufReader, BufWriter, Write};

use std::process::ExitCode;

use tiaki_core::matching::{Hit, LOOKUP_BATCH, MatchOptions, parse_query, read_ready_lines};

/// One output line; field order is the fixed interface.
#[derive(serde::Serialize)]
struct Answer<'a> {
    query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    matches: Option<Vec<Hit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// PDQ match distance for every list (default: each list's own, else 31).
    #[arg(long)]
    radius: Option<u32>,
    /// Only these lists (repeatable; default: every enabled list).
    #[arg(long = "list")]
    lists: Vec<String>,
}

pub fn run(ctx: &crate::ctx::Ctx, args: LookupArgs) -> anyhow::Result<ExitCode> {
    crate::ctx::runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let matcher = known
            .matcher(&MatchOptions {
                radius: args.radius,
                lists: args.lists,
            })
            .await?;
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let mut input = BufReader::with_capacity(1 << 16, std::io::stdin().lock());
        let mut bad = false;
        let mut line_no = 0;
        loop {
            let lines = read_ready_lines(&mut input, LOOKUP_BATCH, &mut line_no)?;
            if lines.is_empty() {
                break;
            }
            // A line over the cap is answered as an error (its text is not
            // kept, so the query shown is empty).
            let queries: Vec<(&str, Result<_, String>)> = lines
                .iter()
                .filter_map(|l| match l {
                    Ok(l) => {
                        let q = l.trim();
                        (!q.is_empty()).then(|| (q, parse_query(q).map_err(|e| e.to_string())))
                    }
                    Err(too_long) => Some(("", Err(too_long.to_string()))),
                })
                .collect();
            let probes: Vec<_> = queries
                .iter()
                .filter_map(|(_, q)| q.as_ref().ok().map(|q| q.probe()))
                .collect();
            let mut found = known.find_many(&matcher, &probes).await?.into_iter();
            for (query, parsed) in queries {
                let value = match parsed {
                    Ok(_) => Answer {
                        query,
                        matches: Some(found.next().unwrap_or_default()),
                        error: None,
                    },
                    Err(e) => {
                        bad = true;
                        Answer {
                            query,
                            matches: None,
                            error: Some(e),
                        }
                    }
                };
                serde_json::to_writer(&mut out, &value)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        out.flush()?;
        Ok(if bad {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
