//! `tiaki serve`: the HTTP API on the data directory's store.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use tiaki_server::{AppState, Limits};

use crate::ctx::{self, Ctx};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "TIAKI_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Largest request body in MiB (uploads included).
    #[arg(long, env = "TIAKI_BODY_LIMIT_MIB", default_value_t = 64)]
    body_limit_mib: usize,
    /// Seconds a request may take before it is stopped.
    #[arg(long, env = "TIAKI_REQUEST_TIMEOUT", default_value_t = 60)]
    request_timeout: u64,
    /// Log lines as JSON (one object a line) instead of text.
    #[arg(long, env = "TIAKI_LOG_JSON")]
    log_json: bool,
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

pub fn run(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIAKI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    ctx::runtime()?.block_on(async {
        let limits = Limits {
            body_bytes: args.body_limit_mib.saturating_mul(1024 * 1024),
            request_seconds: args.request_timeout,
        };
        let state = AppState::open(ctx.clone(), limits)
            .await
            .with_context(|| format!("cannot open the data directory {}", ctx.data().display()))?;
        tiaki_server::serve(state, &args.bind, shutdown_signal(), |addr| {
            // The one line a script waits for (the tests read the port here).
            eprintln!("tiaki: listening on http://{addr}");
        })
        .await?;
        eprintln!("tiaki: stopped");
        Ok(ExitCode::SUCCESS)
    })
}
