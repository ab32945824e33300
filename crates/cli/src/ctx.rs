//! What every command that touches the store shares: the data directory,
//! the database choice, the async runtime and the clock.

use std::path::PathBuf;

use anyhow::Context;
use tiaki_core::known::Known;
use tiaki_core::store::{Store, Timestamp};

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

/// Now, from the one clock of the workspace that reads the wall clock
/// (`tiaki_core::SystemClock`; clippy.toml bans reading it anywhere else).
pub fn now() -> Timestamp {
    use tiaki_core::Clock as _;
    tiaki_core::SystemClock.now()
}
