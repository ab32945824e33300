//! What every command that touches the store shares: the data directory,
//! the database choice, the async runtime and the clock.

use std::path::PathBuf;

use anyhow::Context;
use tiaki_core::known::Known;
use tiaki_store::{Store, Timestamp};

/// The global options.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub data: PathBuf,
    pub database: Option<String>,
}

impl Ctx {
    /// The store and its index.
    pub async fn open(&self) -> anyhow::Result<Known<Store>> {
        Known::open_in(&self.data, self.database.as_deref())
            .await
            .with_context(|| match &self.database {
                Some(_) => format!(
                    "cannot open the database (data directory {})",
                    self.data.display()
                ),
                None => format!("cannot open the data directory {}", self.data.display()),
            })
    }
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

/// The wall clock, read at the edge only.
// The binary's one read of the wall clock (clippy.toml bans it elsewhere):
// everything below takes the time as a parameter.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}
