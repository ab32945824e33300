//! What every request shares: the context (data directory, clock), the
//! store, and the known lists joined with their index.

use std::sync::Arc;

use tiaki_core::Context;
use tiaki_core::known::Known;
use tiaki_core::store::Store;
use tokio::sync::RwLock;

/// The service's shared state (cheap to clone: everything is shared).
#[derive(Clone, Debug)]
pub struct AppState {
    pub ctx: Context,
    pub store: Store,
    /// The store's known lists and their in-memory index. Lookups take the
    /// read lock (many at once); a change to a list takes the write lock
    /// for the moment it extends the index in place.
    pub known: Arc<RwLock<Known<Store>>>,
    pub limits: Limits,
    /// Browser sessions and login rate limits.
    pub sessions: tiaki_core::users::SessionPolicy,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Bearer tokens lately found good.
    pub tokens: Arc<crate::auth::TokenCache>,
    /// The index of victim-identification media, opened at the first
    /// search and caught up with the store before each (searches share the
    /// read lock; catching up takes the write lock for the moment it adds).
    pub vid: Arc<RwLock<Option<tiaki_core::vid::VidIndex>>>,
    /// The issuer key pair, which signs the audit log's checkpoints; `None`:
    /// no checkpoints (a service without the issuer passphrase).
    pub issuer: crate::audit::Issuer,
    /// Seconds between audit checkpoints (and one at shutdown).
    pub checkpoint_seconds: u64,
    /// When the index last caught up with the store (`crate::hma`).
    pub index_clock: Arc<crate::hma::IndexClock>,
}

/// Request limits (configuration).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest request body, in bytes (uploads included).
    pub body_bytes: usize,
    /// The longest a request may take before it is answered 408/503.
    pub request_seconds: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: 64 * 1024 * 1024,
            request_seconds: 60,
        }
    }
}

impl AppState {
    /// Opens the store and the index of `ctx` (the index is rebuilt when
    /// stale, as for the command line).
    pub async fn open(ctx: Context, limits: Limits) -> Result<AppState, tiaki_core::CoreError> {
        let known = ctx.known().await?;
        let store = known.store().clone();
        let index_clock = crate::hma::IndexClock::new(ctx.now().unix());
        Ok(AppState {
            ctx,
            store,
            known: Arc::new(RwLock::new(known)),
            limits,
            sessions: tiaki_core::users::SessionPolicy::default(),
            metrics: Arc::default(),
            tokens: Arc::default(),
            vid: Arc::default(),
            issuer: None,
            checkpoint_seconds: 600,
            index_clock,
        })
    }
}
