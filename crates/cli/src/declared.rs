//! STAND-IN for issue 6's `tiaki attribute` (hidden): `attribute
//! --from-declared` attributes each account to its declared country so the
//! referral side can be tested. Delete with `tiaki_core::declared`.

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
        bail!("only the stand-in `attribute --from-declared` exists on this branch");
    }
    runtime()?.block_on(async {
        let store = tiaki_store::Store::open(&ctx.data, ctx.database.as_deref()).await?;
        let n = tiaki_core::declared::attribute_from_declared(&store, &now()).await?;
        println!("{n} accounts attributed from their declared country (stand-in)");
        Ok(ExitCode::SUCCESS)
    })
}
