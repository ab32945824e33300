//! `tiaki triage`: new material first, in near-duplicate clusters.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use tiaki_core::triage::{ClusterState, TriageOptions, clusters, with_matches};

use crate::ctx::{Ctx, runtime};

#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// Only the media of this intake.
    #[arg(long)]
    intake: Option<i64>,
    /// PDQ distance within which two media are near-duplicates.
    #[arg(long, default_value_t = tiaki_core::hash::pdq::MATCH_DISTANCE)]
    radius: u32,
    /// Print at most this many clusters.
    #[arg(long)]
    limit: Option<usize>,
    /// Only new material.
    #[arg(long)]
    new_only: bool,
    /// One JSON object a line (members cut to the first 100).
    #[arg(long)]
    json: bool,
}

/// Members printed per cluster in JSON.
const MEMBERS_SHOWN: usize = 100;

pub fn run(ctx: &Ctx, args: TriageArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let opts = TriageOptions {
            radius: args.radius,
            intake: args.intake,
        };
        let mut all = clusters(known.store(), &opts).await?;
        if args.new_only {
            all.retain(|c| c.state == ClusterState::New);
        }
        let shown = args.limit.unwrap_or(all.len()).min(all.len());
        let out = &mut all[..shown];
        with_matches(known.store(), out).await?;
        let stdout = std::io::stdout();
        let mut w = BufWriter::new(stdout.lock());
        for c in out.iter_mut() {
            if args.json {
                c.members.truncate(MEMBERS_SHOWN);
                writeln!(w, "{}", serde_json::to_string(c)?)?;
            } else {
                let state = match c.state {
                    ClusterState::New => "new",
                    ClusterState::NearKnown => "near-known",
                    ClusterState::Known => "known",
                };
                writeln!(
                    w,
                    "{state:10}\t{} media\t{} accounts\t{} reports\tmedia {}\tpdq {}\tsha256 {}{}",
                    c.media,
                    c.accounts,
                    c.reports,
                    c.representative,
                    c.pdq.as_deref().unwrap_or("-"),
                    c.sha256.as_deref().unwrap_or("-"),
                    c.matches
                        .first()
                        .map(|m| format!(
                            "\tentry {} ({:?}, distance {})",
                            m.entry_id, m.kind, m.distance
                        ))
                        .unwrap_or_default()
                )?;
            }
        }
        w.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
