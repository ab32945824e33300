//! `tiaki serve`: the HTTP API on the data directory's store.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;

use tiaki_server::AppState;
use tiaki_server::config::Config;

use crate::ctx::{self, Ctx};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML configuration file (docs/tiaki-serve.example.toml); flags and
    /// TIAKI_* variables win over it.
    #[arg(long, env = "TIAKI_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0: any free port, printed at start);
    /// default 127.0.0.1:8080.
    #[arg(long, env = "TIAKI_BIND")]
    bind: Option<String>,
    /// Largest request body in MiB (uploads included); default 64.
    #[arg(long, env = "TIAKI_BODY_LIMIT_MIB")]
    body_limit_mib: Option<usize>,
    /// Seconds a request may take before it is stopped; default 60.
    #[arg(long, env = "TIAKI_REQUEST_TIMEOUT")]
    request_timeout: Option<u64>,
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
    let mut config = match &args.config {
        Some(p) => Config::read(p)?,
        None => Config::default(),
    };
    // Flags and variables over the file.
    if args.bind.is_some() {
        config.bind = args.bind.clone();
    }
    if args.body_limit_mib.is_some() {
        config.limits.body_mib = args.body_limit_mib;
    }
    if args.request_timeout.is_some() {
        config.limits.request_seconds = args.request_timeout;
    }
    let log_json = args.log_json || config.log_json.unwrap_or(false);
    let bind = config.bind.clone().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIAKI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // One line per answer: written by a thread of its own, so that a request
    // never waits on the terminal or pipe (a blocking writer, not a lossy
    // one: when the queue is full, requests wait rather than lines vanish).
    let (writer, _log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    ctx::runtime()?.block_on(async {
        let mut state = AppState::open(ctx.clone(), config.limits())
            .await
            .with_context(|| format!("cannot open the data directory {}", ctx.data().display()))?;
        state.sessions = config.sessions();
        state.checkpoint_seconds = config.checkpoint_seconds();
        // The audit log's checkpoints are signed with the issuer key: the
        // service does not start without it.
        let (keys, created) =
            tiaki_core::refer::issuer_keys(ctx.data(), &mut crate::referrals::passphrase_source)
                .with_context(|| {
                    format!(
                        "tiaki serve signs the audit log's checkpoints with the issuer key in {}",
                        ctx.data().display()
                    )
                })?;
        crate::referrals::report_created(created.as_ref());
        state.issuer = Some(std::sync::Arc::new(keys));
        tiaki_server::serve(state, &bind, shutdown_signal(), |addr| {
            // The one line a script waits for (the tests read the port here).
            eprintln!("tiaki: listening on http://{addr}");
        })
        .await?;
        eprintln!("tiaki: stopped");
        Ok(ExitCode::SUCCESS)
    })
}
