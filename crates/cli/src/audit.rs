//! `tiaki audit verify|ls|checkpoint`: the hash-chained audit log
//! (`tiaki_core::audit`). The command line records no events of its own;
//! the service does.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tiaki_core::audit::{self, AuditAction, AuditFilter};
use tiaki_core::refer;
use tiaki_core::referral::IssuerPublicKey;
use tiaki_core::types::codes::Code;
use tiaki_core::types::time::Timestamp;

use crate::ctx::{Ctx, runtime};
use crate::referrals::{passphrase_source, report_created};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain and every signed checkpoint (the store's and
    /// DIR/audit-checkpoints.ndjson); exit 0 only when intact, 3 when not,
    /// naming the first bad row.
    Verify {
        /// The issuer's public key (minisign .pub); default: the data
        /// directory's.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List audit events, oldest first.
    Ls {
        /// Only events of this user.
        #[arg(long)]
        user: Option<String>,
        /// Only events at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only this action (login.succeeded, media.viewed, ...).
        #[arg(long)]
        action: Option<String>,
        /// Only events after this seq (the last seq of the previous page).
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many events.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Sign the chain's current head with the issuer key (needs its
    /// passphrase: TIAKI_ISSUER_PASSPHRASE or a terminal) and keep the
    /// checkpoint in the store and in DIR/audit-checkpoints.ndjson.
    Checkpoint {
        /// Print the checkpoint as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify { key, json } => verify(ctx, key, json),
        AuditCommand::Ls {
            user,
            since,
            action,
            after,
            limit,
            json,
        } => {
            let since = since
                .map(|s| {
                    Timestamp::parse(&s).with_context(|| {
                        format!("--since {s:?} is not an RFC 3339 time (e.g. 2026-03-01T00:00:00Z)")
                    })
                })
                .transpose()?;
            if let Some(a) = &action
                && AuditAction::from_name(a).is_none()
            {
                let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.name()).collect();
                bail!(
                    "--action {a:?} is not an audit action; one of: {}",
                    names.join(", ")
                );
            }
            let filter = AuditFilter {
                actor: user,
                since: since.map(|t| t.as_str().to_owned()),
                action,
                after,
                limit,
            };
            let rows = runtime()?.block_on(async {
                let store = ctx.store().await?;
                anyhow::Ok(audit::list(&store, &filter).await?)
            })?;
            for r in rows {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        r.seq,
                        r.at,
                        r.actor,
                        r.actor_role,
                        r.country.as_deref().unwrap_or("-"),
                        r.action,
                        r.target,
                        r.detail,
                        r.remote_addr.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { json } => {
            let (keys, created) = refer::issuer_keys(ctx.data(), &mut passphrase_source)
                .with_context(|| format!("issuer key in {}", ctx.data().display()))?;
            report_created(created.as_ref());
            let cp = runtime()?.block_on(async {
                let store = ctx.store().await?;
                anyhow::Ok(audit::checkpoint(&store, &keys, ctx.data(), &ctx.now()).await?)
            })?;
            if json {
                println!("{}", serde_json::to_string(&cp)?);
            } else {
                println!(
                    "checkpoint: seq {} head {} at {}",
                    cp.seq, cp.head_hash, cp.at
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(ctx: &Ctx, key: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let key: Option<IssuerPublicKey> = match &key {
        Some(path) => Some(
            refer::issuer_public_key_for(ctx.data(), Some(path))
                .with_context(|| format!("cannot read the issuer key {}", path.display()))?,
        ),
        None => refer::issuer_public_key(ctx.data())?
            .map(|text| IssuerPublicKey::from_text(&text))
            .transpose()
            .with_context(|| format!("issuer key in {}", ctx.data().display()))?,
    };
    let report = runtime()?.block_on(async {
        let store = ctx.store().await?;
        anyhow::Ok(audit::verify(&store, key.as_ref(), ctx.data()).await?)
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else if report.intact() {
        println!(
            "audit log intact: {} rows, head seq {}, {} checkpoints in the store and {} in the file; rows after seq {} rest on the chain alone",
            report.rows,
            report.head_seq,
            report.store_checkpoints,
            report.file_checkpoints,
            report.checkpointed_seq
        );
    } else {
        println!(
            "audit log NOT intact: {} problems in {} rows",
            report.problem_count, report.rows
        );
        for p in &report.problems {
            println!("{p}");
        }
    }
    match report.first() {
        None => Ok(ExitCode::SUCCESS),
        Some(first) => {
            eprintln!("tiaki: the audit log is not intact: {first}");
            Ok(ExitCode::from(Code::AuditTampered.exit_status()))
        }
    }
}
