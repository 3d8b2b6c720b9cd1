//! Serving the router over HTTP on this machine (`p2p serve`, tests, the load runs).

use std::future::Future;
use std::net::SocketAddr;

use p2p_adapters::Services;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{router, ApiConfig, AppState, AuthMode};

/// A server running in the background.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.local_addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task
            .await
            .map_err(|e| std::io::Error::other(format!("server task failed: {e}")))?
    }
}

/// The auth mode of local serving: dev headers with `--dev-auth`, else nobody.
pub fn local_auth(dev_auth: bool) -> AuthMode {
    if dev_auth {
        AuthMode::DevHeaders
    } else {
        AuthMode::Refuse
    }
}

/// Binds `addr` (port 0 picks a free one) and serves until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    services: Services,
    config: ApiConfig,
    auth: AuthMode,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    let app = router(AppState::new(services, config, auth));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts a server in the background (tests).
pub async fn spawn(
    addr: SocketAddr,
    services: Services,
    config: ApiConfig,
    auth: AuthMode,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(AppState::new(services, config, auth));
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        local_addr,
        shutdown: Some(tx),
        task,
    })
}
