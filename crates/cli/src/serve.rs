//! `p2p serve`: the HTTP API (the same router as the `api` Lambda) on this machine.
//!
//! Identity: with `--dev-auth` from the `X-Dev-User` / `X-Dev-Groups` headers; without it
//! every protected request is refused as unauthenticated. Stops on Ctrl-C (or SIGTERM),
//! letting requests in flight finish.

use std::net::SocketAddr;

use anyhow::Context;

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Take the caller from the X-Dev-User / X-Dev-Groups headers (local development only).
    #[arg(long)]
    pub dev_auth: bool,
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
        _ = ctrl_c => {},
        _ = term => {},
    }
}

pub async fn serve(args: ServeArgs, services: p2p_adapters::Services) -> anyhow::Result<()> {
    let config = api::ApiConfig::from_env().context("API configuration")?;
    let auth = api::local::local_auth(args.dev_auth);
    if !args.dev_auth {
        eprintln!("note: without --dev-auth every protected request is refused (401)");
    }
    api::local::serve(
        args.addr,
        services,
        config,
        auth,
        shutdown_signal(),
        |bound| {
            println!("listening on http://{bound} (OpenAPI: http://{bound}/openapi.json)");
        },
    )
    .await
    .with_context(|| format!("serving on {}", args.addr))
}
