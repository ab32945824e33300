//! STAND-IN for issue 6's `tiaki attribute`, used by the referral tests
//! until the real attribution lands; delete this file (and
//! `tiaki_store::DeclaredStandIn`, the hidden `attribute --from-declared`
//! command) then.
//!
//! Attributes every account with a `declared_country` to that country with
//! confidence 1, evidence `declared_country`, one person per account.

use tiaki_store::{DeclaredStandIn, StoreError, Timestamp};

/// Returns how many accounts were attributed (already attributed ones are
/// left alone).
pub async fn attribute_from_declared<S: DeclaredStandIn>(
    store: &S,
    now: &Timestamp,
) -> Result<u64, StoreError> {
    store.attribute_declared(now).await
}
