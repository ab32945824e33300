//! What the service records in the audit log (`tiaki_core::audit`): every
//! route added with [`crate::api::Api::audited`] records its action after
//! the handler ran, with who (user, role, country), what (the request's
//! path), the answer's status and the client address; logins record
//! themselves (there is no caller yet). A checkpoint of the chain's head is
//! signed with the issuer key every `checkpoint_seconds` and at shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tiaki_core::types::audit::{AuditAction, AuditEvent};

use crate::auth::Caller;
use crate::state::AppState;

/// Records `event` now; a failure to record is logged as an error (the
/// request itself is already answered or about to be).
pub async fn record(state: &AppState, event: AuditEvent) {
    let now = state.ctx.now();
    if let Err(e) = tiaki_core::audit::record(&state.store, &event, &now).await {
        tracing::error!(error = %e, action = event.action.name(), "cannot record an audit event");
    }
}

/// An event of an authenticated caller.
pub fn event_of(
    caller: &Caller,
    action: AuditAction,
    target: String,
    detail: serde_json::Value,
    remote: Option<SocketAddr>,
) -> AuditEvent {
    AuditEvent {
        actor: caller.0.name.clone(),
        actor_role: caller.0.role.name().to_owned(),
        country: Some(caller.0.country.clone()),
        action,
        target,
        detail,
        remote_addr: remote.map(|a| a.ip().to_string()),
    }
}

/// The middleware of an audited route (inside `authorize`, so the caller is
/// known): runs the handler, then records the action with the status.
pub async fn audited(
    State((state, action)): State<(AppState, AuditAction)>,
    req: Request,
    next: Next,
) -> Response {
    let caller = req.extensions().get::<Caller>().cloned();
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let method = req.method().as_str().to_owned();
    let target = req.uri().path().to_owned();
    let r = next.run(req).await;
    if let Some(caller) = caller {
        let detail = serde_json::json!({ "method": method, "status": r.status().as_u16() });
        record(&state, event_of(&caller, action, target, detail, remote)).await;
    }
    r
}

/// Signs a checkpoint of the chain's head now (when the service has the
/// issuer key).
pub async fn checkpoint(state: &AppState) {
    let Some(keys) = &state.issuer else { return };
    let now = state.ctx.now();
    match tiaki_core::audit::checkpoint(&state.store, keys, state.ctx.data(), &now).await {
        Ok(cp) => tracing::info!(seq = cp.seq, "audit checkpoint written"),
        Err(e) => tracing::error!(error = %e, "cannot write an audit checkpoint"),
    }
}

/// Writes a checkpoint every `every`, for ever.
pub async fn checkpoint_forever(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        checkpoint(&state).await;
    }
}

/// The issuer keys, shared.
pub type Issuer = Option<Arc<tiaki_core::referral::IssuerKeys>>;
