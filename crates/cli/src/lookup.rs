//! `tiaki lookup`: one hash a line on stdin, one JSON line per query.

use std::io::{BufRead, BufWriter, Write};

use std::process::ExitCode;

use tiaki_core::matching::{Hit, MatchOptions, parse_query};

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
        let mut bad = false;
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let query = line.trim();
            let value = match parse_query(query) {
                Ok(q) => Answer {
                    query,
                    matches: Some(known.find(&matcher, &q.probe()).await?),
                    error: None,
                },
                Err(e) => {
                    bad = true;
                    Answer {
                        query,
                        matches: None,
                        error: Some(e.to_string()),
                    }
                }
            };
            serde_json::to_writer(&mut out, &value)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(if bad {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
