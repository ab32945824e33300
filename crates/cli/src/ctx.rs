//! What every command that touches the store shares: the context (data
//! directory, database choice, clock) and the async runtime.

use anyhow::Context as _;
use tiaki_core::known::Known;
use tiaki_core::store::{Store, Timestamp};
use tiaki_core::types::audit::{AuditAction, AuditEvent};

/// What every command gets: the data directory, the database and the clock
/// (`main` builds it with the wall clock, `tiaki_core::SystemClock`).
pub use tiaki_core::Context as Ctx;

/// The store and its index, with the data directory named on failure.
pub async fn open(ctx: &Ctx) -> anyhow::Result<Known<Store>> {
    ctx.known().await.with_context(|| match ctx.database() {
        Some(_) => format!(
            "cannot open the database (data directory {})",
            ctx.data().display()
        ),
        None => format!("cannot open the data directory {}", ctx.data().display()),
    })
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // Two workers: a command's own future runs on the calling thread
    // (`block_on`), and tasks it spawns (the ingest's writer stage) run
    // beside it instead of waiting for it to yield. CPU-heavy work goes to
    // rayon, so more workers would only idle.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tiaki-async")
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Who makes a change on the command line: `cli:` and the operating-system
/// user who ran the command (whoever can run it can open the store).
pub fn actor() -> String {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{os_user}")
}

/// Records a change made on the command line in the audit log, as the
/// service records its own: the actor is `cli:` and the operating-system
/// user who ran the command (whoever can run it can open the store).
pub async fn audit(
    store: &Store,
    now: &Timestamp,
    action: AuditAction,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let event = AuditEvent {
        actor: actor(),
        actor_role: "system".to_owned(),
        country: None,
        action,
        target: target.to_owned(),
        detail,
        remote_addr: None,
    };
    tiaki_core::audit::record(store, &event, now)
        .await
        .context("the change was made but could not be recorded in the audit log")?;
    Ok(())
}

