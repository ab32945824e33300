//! `tiaki referrals build|ls|show|mark|verify|open`, `tiaki keys issuer`,
//! `tiaki agencies import|ls`, `tiaki outcomes import`, `tiaki stats`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use tiaki_core::blobs::BlobStore;
use tiaki_core::refer::{self, BuildRequest};
use tiaki_core::referral::IssuerPublicKey;
use tiaki_core::store::referrals::ReferralState;
use tiaki_core::store::{ReferralStore, Store};

use crate::Progress;
use crate::ctx::{Ctx, runtime};

/// Where the issuer passphrase comes from when there is no terminal.
const PASSPHRASE_ENV: &str = "TIAKI_ISSUER_PASSPHRASE";

#[derive(Debug, clap::Args)]
pub struct ReferralsArgs {
    #[command(subcommand)]
    command: ReferralsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReferralsCommand {
    /// Write one package per country that has attributed accounts and an
    /// agency; list the countries that have accounts but no agency.
    Build {
        /// Output directory: DIR/XX/referral-<ID>.tar.age(.minisig) and
        /// DIR/no-recipient.json.
        #[arg(long)]
        out: PathBuf,
        /// Only this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// Copy the media files into the packages.
        #[arg(long)]
        include_media: bool,
        /// With --include-media: only for these countries (XX,YY).
        #[arg(long, value_delimiter = ',', requires = "include_media")]
        media_countries: Option<Vec<String>>,
        /// Refer again accounts that earlier referrals carried.
        #[arg(long)]
        again: bool,
        /// The packages' creation time (RFC 3339); default: now. A fixed time
        /// makes a rebuild give the same archive.
        #[arg(long)]
        created_at: Option<String>,
        /// Who issues the referrals (shown in every package).
        #[arg(long, env = "TIAKI_ISSUER", default_value = "Tiaki")]
        issuer: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value_t)]
        progress: Progress,
    },
    /// The referral ledger.
    Ls {
        /// Only this country.
        #[arg(long)]
        country: Option<String>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// One referral and its events, as JSON.
    Show { id: String },
    /// Move a referral forward: built → sent → acknowledged → investigating → closed.
    Mark {
        id: String,
        #[arg(long)]
        state: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Check a package's signature; exit 0 only when valid.
    Verify {
        /// The .tar.age file (its .minisig beside it).
        file: PathBuf,
        /// The issuer's public key file (default: the data directory's).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Check, decrypt and unpack a package, checking every file against the manifest.
    Open {
        file: PathBuf,
        /// The agency's age identity file (age-keygen output, or an ssh key).
        #[arg(long)]
        identity: PathBuf,
        /// Directory to unpack into (must not hold the package's files yet).
        #[arg(long)]
        out: PathBuf,
        /// The issuer's public key file (default: the data directory's).
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Print the issuer's minisign public key (creating the key pair on first use).
    Issuer,
}

#[derive(Debug, clap::Args)]
pub struct AgenciesArgs {
    #[command(subcommand)]
    command: AgenciesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AgenciesCommand {
    /// Load agencies from a TOML file (upsert by country).
    Import { file: PathBuf },
    /// Show the agencies.
    Ls {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct OutcomesArgs {
    #[command(subcommand)]
    command: OutcomesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OutcomesCommand {
    /// Record outcome events (NDJSON). All lines are checked first; nothing
    /// is imported unless all are valid. Re-importing adds nothing.
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        progress: Progress,
    },
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

async fn open_store(ctx: &Ctx) -> anyhow::Result<Store> {
    Store::open(ctx.data(), ctx.database())
        .await
        .with_context(|| format!("cannot open the data directory {}", ctx.data().display()))
}

/// The issuer passphrase: the environment, else a terminal prompt.
fn passphrase(creating: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the issuer key needs its passphrase: set {PASSPHRASE_ENV}, or run on a terminal to be asked"
        );
    }
    let p = rpassword::prompt_password("Issuer key passphrase: ")
        .context("cannot read the passphrase")?;
    if creating {
        let again = rpassword::prompt_password("The same passphrase again: ")
            .context("cannot read the passphrase")?;
        if again != p {
            bail!("the two passphrases differ; no key was made");
        }
    }
    Ok(p)
}

/// The issuer passphrase for core's key handling.
pub(crate) fn passphrase_source(creating: bool) -> Result<String, String> {
    passphrase(creating).map_err(|e| format!("{e:#}"))
}

/// Says on stderr that a key pair was made now.
pub(crate) fn report_created(created: Option<&refer::CreatedKeys>) {
    if let Some(c) = created {
        eprintln!(
            "tiaki: created the issuer key pair {} and {}",
            c.public.display(),
            c.secret.display()
        );
    }
}

fn public_key(ctx: &Ctx, key: Option<&Path>) -> anyhow::Result<IssuerPublicKey> {
    refer::issuer_public_key_for(ctx.data(), key).with_context(|| match key {
        Some(path) => format!("cannot read the issuer key {}", path.display()),
        None => format!(
            "no issuer key in {}: give the issuer's public key with --key",
            ctx.data().display()
        ),
    })
}

pub fn keys(ctx: &Ctx, args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Issuer => {
            let public = refer::ensure_issuer_public(ctx.data(), &mut passphrase_source)
                .with_context(|| format!("issuer key in {}", ctx.data().display()))?;
            report_created(public.created.as_ref());
            let text = public.text;
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn agencies(ctx: &Ctx, args: AgenciesArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(ctx).await?;
        match args.command {
            AgenciesCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let changes = refer::import_agencies(&store, &text, &ctx.now())
                    .await
                    .with_context(|| format!("{}", file.display()))?;
                for (country, change) in changes {
                    println!(
                        "{country}\t{}",
                        serde_json::to_value(change)?.as_str().unwrap_or("")
                    );
                }
            }
            AgenciesCommand::Ls { json } => {
                for a in store.agencies().await? {
                    if json {
                        println!("{}", serde_json::to_string(&a)?);
                    } else {
                        println!(
                            "{}\t{}\t{}\t{}",
                            a.country, a.name, a.contact, a.age_recipient
                        );
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn outcomes(ctx: &Ctx, args: OutcomesArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(ctx).await?;
        match args.command {
            OutcomesCommand::Import { file, progress } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let bar = progress.reporter();
                let done = refer::import_outcomes(&store, &text, &ctx.now(), &bar)
                    .await
                    .with_context(|| format!("{}", file.display()))?;
                bar.finish();
                println!("{}", serde_json::to_string(&done)?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn stats(ctx: &Ctx, args: StatsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(ctx).await?;
        let s = tiaki_core::stats::stats(&store).await?;
        if args.json {
            println!("{}", serde_json::to_string(&s)?);
        } else if let serde_json::Value::Object(m) = serde_json::to_value(s)? {
            for (k, v) in m {
                println!("{k:<22} {v}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run(ctx: &Ctx, args: ReferralsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ReferralsCommand::Verify { file, key } => {
            let key = public_key(ctx, key.as_deref())?;
            let answer = refer::verify_package(&file, &key)
                .with_context(|| format!("{} is not validly signed", file.display()))?;
            println!("{}", serde_json::to_string(&answer)?);
            Ok(ExitCode::SUCCESS)
        }
        ReferralsCommand::Open {
            file,
            identity,
            out,
            key,
        } => {
            let key = public_key(ctx, key.as_deref())?;
            let answer = refer::open_package(&file, &key, &identity, &out)
                .with_context(|| format!("cannot open {}", file.display()))?;
            println!("{}", serde_json::to_string(&answer)?);
            Ok(ExitCode::SUCCESS)
        }
        command => runtime()?.block_on(ledger(ctx, command)),
    }
}

async fn ledger(ctx: &Ctx, command: ReferralsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ReferralsCommand::Build {
            out,
            country,
            include_media,
            media_countries,
            again,
            created_at,
            issuer,
            json,
            progress,
        } => {
            let created_at = created_at.unwrap_or_else(|| ctx.now().as_str().to_owned());
            if !tiaki_core::types::time::is_rfc3339(&created_at) {
                bail!(
                    "--created-at {created_at:?} is not an RFC 3339 time (e.g. 2021-03-01T00:00:00Z)"
                );
            }
            let (keys, created) = refer::issuer_keys(ctx.data(), &mut passphrase_source)
                .with_context(|| format!("issuer key in {}", ctx.data().display()))?;
            report_created(created.as_ref());
            let keys = std::sync::Arc::new(keys);
            let store = open_store(ctx).await?;
            let blobs = std::sync::Arc::new(BlobStore::open(ctx.data())?);
            let req = BuildRequest {
                out,
                country,
                include_media,
                media_countries,
                again,
                created_at,
                issuer,
            };
            let bar = progress.reporter();
            let report =
                refer::build_referrals(&store, &blobs, &keys, &req, &ctx.now(), &bar).await?;
            bar.finish();
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for r in &report.built {
                    println!(
                        "built {} for {} ({}): {} accounts, {} persons, {} media → {}",
                        r.id, r.country, r.agency, r.accounts, r.persons, r.media, r.package
                    );
                }
                for s in &report.skipped {
                    println!("skipped {}: {}", s.country, s.reason);
                }
                for n in &report.no_recipient {
                    println!(
                        "no recipient for {}: {} attributed accounts ({} not yet referred) and no agency",
                        n.country, n.accounts, n.unreferred
                    );
                }
                println!(
                    "no-recipient report: {}",
                    report.no_recipient_file.display()
                );
            }
        }
        ReferralsCommand::Ls { country, json } => {
            let store = open_store(ctx).await?;
            for r in store.referrals(country.as_deref()).await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{} accounts\t{} media\t{}",
                        r.id,
                        r.country,
                        r.state.name(),
                        r.accounts,
                        r.media,
                        r.created_at
                    );
                }
            }
        }
        ReferralsCommand::Show { id } => {
            let store = open_store(ctx).await?;
            let detail = refer::referral_detail(&store, &id).await?;
            println!("{}", serde_json::to_string(&detail)?);
        }
        ReferralsCommand::Mark { id, state, note } => {
            let Some(state) = ReferralState::parse(&state) else {
                let names: Vec<&str> = ReferralState::ALL.iter().map(|s| s.name()).collect();
                bail!(
                    "unknown state {state:?} (expected one of {})",
                    names.join(", ")
                );
            };
            let store = open_store(ctx).await?;
            let r = refer::mark_referral(&store, &id, state, note.as_deref(), &ctx.now()).await?;
            println!("{}", serde_json::to_string(&r)?);
        }
        ReferralsCommand::Verify { .. } | ReferralsCommand::Open { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}
