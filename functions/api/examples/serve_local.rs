//! Serves the API on a local data directory, optionally seeded with a full flow (vendor,
//! approved PO, receipt, matched invoice, approved payment with files), for
//! `scripts/schemathesis.sh` and load runs:
//!
//! `cargo run --release -p api --example serve_local -- --data-dir DIR --seed --dev-auth`
//!
//! Prints `listening on http://ADDR` and, with `--seed`, `seeded invoice=... payment=...`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use api::{router, ApiConfig, AppState, AuthMode};
use axum::body::Body;
use axum::http::Request;
use clap::Parser;
use p2p_adapters::local::LocalBackend;
use p2p_adapters::{Buckets, Services};
use serde_json::{json, Value};
use tower::ServiceExt;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long)]
    dev_auth: bool,
    /// Seed one complete flow through the API itself.
    #[arg(long)]
    seed: bool,
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    who: (&str, &str),
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("x-dev-user", who.0)
        .header("x-dev-groups", who.1);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&b)?)
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body)?).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    if !status.is_success() {
        bail!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn seed(services: Services, config: ApiConfig) -> anyhow::Result<()> {
    let app = router(AppState::new(
        services.clone(),
        config,
        AuthMode::DevHeaders,
    ));
    let clerk = ("clara@corp.example", "ap-clerk");
    let approver = ("abby@corp.example", "ap-approver");
    let today = services.clock.today();
    let v = call(
        &app,
        "POST",
        "/api/v1/vendors",
        clerk,
        Some(json!({"name": "Acme Supplies", "email": "ap@acme.example"})),
    )
    .await?;
    let po = call(&app, "POST", "/api/v1/purchase-orders", clerk, Some(json!({
        "vendor_id": v["id"], "lines": [{"description": "A4 paper", "quantity": "10", "unit_price": "12.50"}]}))).await?;
    let po_id = po["id"].as_str().context("po id")?;
    call(
        &app,
        "PUT",
        &format!("/api/v1/purchase-orders/{po_id}/approve"),
        approver,
        None,
    )
    .await?;
    call(
        &app,
        "POST",
        &format!("/api/v1/purchase-orders/{po_id}/receipts"),
        clerk,
        Some(json!({"lines": [{"line_no": 1, "quantity_accepted": "10"}]})),
    )
    .await?;
    let inv = call(&app, "POST", "/api/v1/invoices", clerk, Some(json!({
        "invoice_number": format!("INV-{}", today.format("%Y%m%d")), "po_id": po_id,
        "invoice_date": today.to_string(), "due_date": (today + chrono::Duration::days(30)).to_string(),
        "lines": [{"description": "A4 paper", "quantity": "10", "unit_price": "12.50"}],
        "total_amount": "125.00"}))).await?;
    let inv_id = inv["id"].as_str().context("invoice id")?;
    call(
        &app,
        "PUT",
        &format!("/api/v1/invoices/{inv_id}/reconcile"),
        clerk,
        None,
    )
    .await?;
    let pay = call(
        &app,
        "POST",
        &format!("/api/v1/payments/{inv_id}/approve"),
        approver,
        None,
    )
    .await?;
    println!(
        "seeded vendor={} po={po_id} invoice={inv_id} payment={}",
        v["id"].as_str().unwrap_or(""),
        pay["id"].as_str().unwrap_or("")
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backend = LocalBackend::open(&args.data_dir).context("opening the data directory")?;
    let services = backend.services(Buckets::default());
    let config = ApiConfig::from_env()?;
    if args.seed {
        seed(services.clone(), config.clone()).await?;
    }
    let auth = api::local::local_auth(args.dev_auth);
    api::local::serve(
        args.addr,
        services,
        config,
        auth,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
        |bound| println!("listening on http://{bound}"),
    )
    .await?;
    Ok(())
}
