//! A local stand-in for Workday's payment callback endpoint, on 127.0.0.1 (random port):
//! it checks each callback's HMAC signature like the real receiver and answers 200, so the
//! export monitor can deliver, mark payments `sent` and invoices `paid` on one machine.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use p2p_function_support::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The callback path.
pub const CALLBACK_PATH: &str = "/workday/callback";

#[derive(Clone)]
struct Receiver {
    secret: Arc<String>,
    received: Arc<Mutex<Vec<Value>>>,
}

/// A running receiver; stops when dropped.
pub struct LocalWorkday {
    pub url: String,
    pub secret: String,
    received: Arc<Mutex<Vec<Value>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for LocalWorkday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWorkday")
            .field("url", &self.url)
            .finish()
    }
}

impl LocalWorkday {
    /// Binds 127.0.0.1 on a free port and serves until dropped. The secret is random per run.
    pub async fn start() -> std::io::Result<Self> {
        let secret = format!("local-workday-{}", uuid::Uuid::new_v4().simple());
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = Receiver {
            secret: Arc::new(secret.clone()),
            received: Arc::clone(&received),
        };
        let app = Router::new()
            .route(CALLBACK_PATH, post(callback))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(LocalWorkday {
            url: format!("http://{addr}{CALLBACK_PATH}"),
            secret,
            received,
            stop: Some(stop),
        })
    }

    /// The callbacks accepted so far (their JSON bodies).
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The export monitor's configuration pointing at this receiver, other settings from `source`.
    pub fn export_monitor_config<S: p2p_function_support::ConfigSource + ?Sized>(
        &self,
        source: &S,
    ) -> Result<export_monitor::Config, p2p_function_support::ConfigError> {
        let overlay = Overlay {
            base: source,
            url: &self.url,
            secret: &self.secret,
        };
        export_monitor::Config::from_source(&overlay)
    }
}

impl Drop for LocalWorkday {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `source` with the Workday URL and secret replaced.
struct Overlay<'a, S: ?Sized> {
    base: &'a S,
    url: &'a str,
    secret: &'a str,
}

impl<S: p2p_function_support::ConfigSource + ?Sized> p2p_function_support::ConfigSource
    for Overlay<'_, S>
{
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "WORKDAY_CALLBACK_URL" => Some(self.url.to_string()),
            "WORKDAY_CALLBACK_SECRET" => Some(self.secret.to_string()),
            _ => self.base.var(name),
        }
    }
}

async fn callback(
    State(state): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = signature::verify(
        state.secret.as_bytes(),
        &header(TIMESTAMP_HEADER),
        &header(SIGNATURE_HEADER),
        &body,
        now,
        signature::DEFAULT_TOLERANCE_SECONDS,
    ) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": e.to_string()})),
        );
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "body is not JSON"})),
        );
    };
    if let Ok(mut received) = state.received.lock() {
        received.push(payload);
    }
    (StatusCode::OK, Json(json!({"received": true})))
}
