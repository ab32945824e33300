//! What every operation on a data directory shares: where the data lives,
//! which database holds it, the clock, and how progress is shown.
//!
//! The clock is injected (Kanidm: "time is a function parameter so that we
//! can control it during testing"): [`SystemClock`] is the one place in the
//! workspace that reads the wall clock (`clippy.toml` forbids it anywhere
//! else), and tests and reproducible runs hand in a [`FixedClock`]. The
//! command line and the service build one `Context` each and call the
//! pipeline through it, so they cannot drift apart.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tiaki_store::{Store, Timestamp};

use crate::error::CoreError;

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one reading of the wall clock.
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_unix(secs)
    }
}

/// A clock that always says the same time (tests, reproducible runs).
#[derive(Debug, Clone)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0.clone()
    }
}

/// Progress of a long stage; the CLI draws it, tests ignore it.
pub trait Progress: Send + Sync {
    fn stage(&self, name: &'static str, total: Option<u64>);
    fn inc(&self, n: u64);
}

/// No progress shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &'static str, _: Option<u64>) {}
    fn inc(&self, _: u64) {}
}

/// A data directory, its database and a clock.
#[derive(Debug, Clone)]
pub struct Context {
    data: PathBuf,
    database: Option<String>,
    clock: Arc<dyn Clock>,
}

impl Context {
    /// `database`: `None` for SQLite in `data/tiaki.db`, else a
    /// `postgres://` URL.
    pub fn new(data: PathBuf, database: Option<String>, clock: Arc<dyn Clock>) -> Context {
        Context {
            data,
            database,
            clock,
        }
    }

    /// The data directory (index, blobs, keys; the SQLite database).
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The PostgreSQL URL, when the store is not the embedded SQLite.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The store alone (no index): commands that never look hashes up.
    pub async fn store(&self) -> Result<Store, CoreError> {
        Ok(Store::open(&self.data, self.database.as_deref()).await?)
    }

    /// The store joined with its index of known hashes (rebuilt when stale).
    pub async fn known(&self) -> Result<crate::known::Known<Store>, CoreError> {
        Ok(crate::known::Known::open_in(&self.data, self.database.as_deref()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_is_fixed_and_system_clock_is_after_2026() {
        let t = Timestamp::from_unix(1_614_556_800);
        let ctx = Context::new(PathBuf::from("d"), None, Arc::new(FixedClock(t.clone())));
        assert_eq!(ctx.now(), t);
        assert_eq!(ctx.now(), t);
        assert!(SystemClock.now().unix() > 1_767_225_600);
    }
}
