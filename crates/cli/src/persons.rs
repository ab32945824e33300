//! `tiaki attribute`, `tiaki persons ls`, `tiaki persons show`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tiaki_core::NoProgress;
use tiaki_core::attribute::{AttributeOptions, AttributeReport, attribute};
use tiaki_core::store::LinkStore;
use tiaki_core::store::persons::{AccountRef, PersonDetail, PersonInfo, StoredAttribution};
use tiaki_core::types::attribution::Evidence;

use crate::ctx::{Ctx, runtime};

#[derive(Debug, clap::Args)]
pub struct AttributeArgs {
    /// A geolocation source: a MaxMind-format .mmdb (GeoIP2/GeoLite2
    /// Country, IPinfo Lite) or a CIDR→country CSV. Repeatable; files are
    /// told apart by content.
    #[arg(long, value_name = "FILE")]
    geoip: Vec<PathBuf>,
    /// Print the counts as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PersonsArgs {
    #[command(subcommand)]
    command: PersonsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PersonsCommand {
    /// Every person: label, country, confidence, runner-up, accounts.
    Ls {
        /// Only persons attributed to this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// One JSON object a line, with members and their attributions.
        #[arg(long)]
        json: bool,
    },
    /// One person (id or label, e.g. `P-17`): each link with its evidence
    /// and weight, each member, and the attribution with its evidence.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Prints the counts of a recompute (also after an ingest).
pub fn print_report(r: &AttributeReport) {
    let c = &r.counts;
    println!(
        "attributed {} accounts: {} persons, {} links, {} countries, {} accounts without a country, {} accounts with findings (recency as of {})",
        c.accounts,
        c.persons,
        c.links,
        c.countries,
        c.accounts_without_country,
        c.accounts_with_findings,
        r.reference_time
    );
    for w in &r.geo_warnings {
        eprintln!("tiaki: geolocation source: {w}");
    }
}

pub fn run_attribute(ctx: &Ctx, args: AttributeArgs) -> anyhow::Result<ExitCode> {
    let opts = AttributeOptions {
        geoip: args.geoip,
        ..AttributeOptions::default()
    };
    runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let report = attribute(known.store(), &opts, ctx.clock(), &NoProgress)
            .await
            .context("cannot link and attribute")?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_report(&report);
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn country_text(a: &StoredAttribution) -> String {
    let mut s = format!(
        "{} (confidence {:.2})",
        a.country.as_deref().unwrap_or("-"),
        a.confidence
    );
    if let (Some(r), Some(share)) = (&a.runner_up, a.runner_up_share) {
        s.push_str(&format!(
            ", runner-up {r} ({:.0} % of votes)",
            share * 100.0
        ));
    }
    s
}

fn account_text(a: &AccountRef) -> String {
    format!(
        "account {} ({} {:?} report {:?})",
        a.account_id, a.provider, a.provider_id, a.report_id
    )
}

fn print_person_line(w: &mut impl Write, p: &PersonInfo) -> std::io::Result<()> {
    let a = &p.attribution;
    writeln!(
        w,
        "{}\t{}\t{:.2}\t{}\t{}\t{} accounts",
        p.label,
        a.country.as_deref().unwrap_or("-"),
        a.confidence,
        a.runner_up.as_deref().unwrap_or("-"),
        a.runner_up_share.map_or("-".into(), |s| format!("{s:.2}")),
        p.accounts
    )
}

fn print_evidence(w: &mut impl Write, evidence: &[Evidence], indent: &str) -> std::io::Result<()> {
    for e in evidence {
        writeln!(
            w,
            "{indent}{:18} {:40} → {:2}  weight {:.3}  ×{}  ({}){}",
            e.kind.as_str(),
            e.value,
            e.country.map_or("-", |c| c.alpha2()),
            e.weight,
            e.count,
            e.source,
            if e.proxy { "  proxy" } else { "" }
        )?;
    }
    Ok(())
}

fn print_detail(w: &mut impl Write, d: &PersonDetail) -> std::io::Result<()> {
    let p = &d.person;
    writeln!(
        w,
        "person {} (id {}), {} accounts",
        p.label, p.id, p.accounts
    )?;
    writeln!(w, "country: {}", country_text(&p.attribution))?;
    writeln!(w, "evidence:")?;
    print_evidence(w, &p.attribution.evidence, "  ")?;
    writeln!(w, "accounts:")?;
    for m in &p.members {
        writeln!(
            w,
            "  {}: {}",
            account_text(&m.account),
            country_text(&m.attribution)
        )?;
        for f in &m.findings {
            writeln!(w, "    finding: {} {:?}: {}", f.field, f.value, f.reason)?;
        }
    }
    writeln!(w, "links:")?;
    if d.links.is_empty() {
        writeln!(w, "  none: nothing links this account to another")?;
    }
    for l in &d.links {
        writeln!(
            w,
            "  {} {:?} weight {:.2} (pair {:.2}{}): {} — {}",
            l.kind,
            l.evidence,
            l.weight,
            l.pair_weight,
            match &l.other_person {
                Some(o) => format!(", too weak to join: other end is {o}"),
                None => String::new(),
            },
            account_text(&l.a),
            account_text(&l.b)
        )?;
    }
    Ok(())
}

pub fn run_persons(ctx: &Ctx, args: PersonsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let store = known.store();
        let stdout = std::io::stdout();
        let mut w = BufWriter::new(stdout.lock());
        match args.command {
            PersonsCommand::Ls { country, json } => {
                let country = country.map(|c| c.trim().to_ascii_uppercase());
                for p in store.persons(country.as_deref()).await? {
                    if json {
                        writeln!(w, "{}", serde_json::to_string(&p)?)?;
                    } else {
                        print_person_line(&mut w, &p)?;
                    }
                }
            }
            PersonsCommand::Show { id, json } => {
                let Some(d) = store.person(&id).await? else {
                    anyhow::bail!("no person {id:?} (run `tiaki attribute` after an ingest, or see `tiaki persons ls`)");
                };
                if json {
                    writeln!(w, "{}", serde_json::to_string(&d)?)?;
                } else {
                    print_detail(&mut w, &d)?;
                }
            }
        }
        w.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
