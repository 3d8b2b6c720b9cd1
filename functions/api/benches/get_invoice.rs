//! In-process `GET /api/v1/invoices/{id}` on the embedded store: the router called with
//! tower's `oneshot`, dev-auth headers, a real SQLite data directory. Budget: p50 ≤ 200 µs.

use api::{router, AppState, AuthMode};
use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use p2p_function_support::testing::TestEnv;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    who: (&str, &str),
    body: Option<Value>,
) -> Value {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("x-dev-user", who.0)
        .header("x-dev-groups", who.1);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&b).unwrap())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    assert!(
        resp.status().is_success(),
        "{method} {path}: {}",
        resp.status()
    );
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let env = TestEnv::empty();
    let config = api::ApiConfig::from_source(&[][..]).unwrap();
    let app = router(AppState::new(
        env.services.clone(),
        config,
        AuthMode::DevHeaders,
    ));
    let clerk = ("clara@corp.example", "ap-clerk");
    let approver = ("abby@corp.example", "ap-approver");
    let invoice_id = rt.block_on(async {
        let v = call(&app, "POST", "/api/v1/vendors", clerk, Some(json!({"name": "Acme", "email": "ap@acme.example"}))).await;
        let lines: Vec<Value> = (1..=5)
            .map(|i| json!({"description": format!("item {i}"), "quantity": "2", "unit_price": "10.00"}))
            .collect();
        let po = call(&app, "POST", "/api/v1/purchase-orders", clerk, Some(json!({"vendor_id": v["id"], "lines": lines}))).await;
        let po_id = po["id"].as_str().unwrap().to_string();
        call(&app, "PUT", &format!("/api/v1/purchase-orders/{po_id}/approve"), approver, None).await;
        let inv = call(&app, "POST", "/api/v1/invoices", clerk, Some(json!({
            "invoice_number": "INV-1", "po_id": po_id, "invoice_date": "2024-11-10",
            "due_date": "2024-12-15", "lines": lines, "total_amount": "100.00"}))).await;
        inv["id"].as_str().unwrap().to_string()
    });
    let path = format!("/api/v1/invoices/{invoice_id}");
    c.bench_function(
        "GET /api/v1/invoices/{id} (in-process, embedded store)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let req = Request::builder()
                    .uri(path.as_str())
                    .header("x-dev-user", clerk.0)
                    .header("x-dev-groups", clerk.1)
                    .body(Body::empty())
                    .unwrap();
                let resp = app.clone().oneshot(req).await.unwrap();
                assert_eq!(resp.status().as_u16(), 200);
                axum::body::to_bytes(resp.into_body(), usize::MAX)
                    .await
                    .unwrap()
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
