//! Test stand-in (hidden): `tiaki attribute-declared --from-declared`
//! attributes each account to its declared country, one person per account,
//! so the referral tests know each account's country exactly. The real
//! computation is `tiaki attribute`; moving the referral tests onto it
//! retires this file and `tiaki_core::declared`.

use std::process::ExitCode;

use anyhow::bail;

use crate::ctx::{Ctx, now, runtime};

#[derive(Debug, clap::Args)]
pub struct AttributeArgs {
    /// Attribute every account to its declared_country (stand-in).
    #[arg(long)]
    from_declared: bool,
}

pub fn run(ctx: &Ctx, args: AttributeArgs) -> anyhow::Result<ExitCode> {
    if !args.from_declared {
        bail!("give --from-declared (this hidden command only attributes declared countries; use `tiaki attribute`)");
    }
    runtime()?.block_on(async {
        let store = tiaki_store::Store::open(&ctx.data, ctx.database.as_deref()).await?;
        let n = tiaki_core::declared::attribute_from_declared(&store, &now()).await?;
        println!("{n} accounts attributed from their declared country (stand-in)");
        Ok(ExitCode::SUCCESS)
    })
}
