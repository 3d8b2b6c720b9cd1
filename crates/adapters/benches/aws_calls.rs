//! Calls per operation and latency per call of the aws adapters against a moto server:
//! `scripts/with-moto.sh cargo bench -p p2p-adapters --bench aws_calls`.
//!
//! For each operation: the SDK calls it makes (from the request counter, per service and
//! operation) and the median / p90 wall time per operation and per call. moto is a Python
//! emulator on the same machine, so the times say how chatty an operation is, not what
//! DynamoDB or S3 would take.

#[allow(dead_code)]
#[path = "../tests/contract/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fixtures::{at, audit, invoice, invoice_created, invoice_number, unique};
use p2p_adapters::aws::{load_sdk_config, AwsBackend, AwsClients, CallCounts, ResourceNames};
use p2p_adapters::cursor::CursorCodec;
use p2p_adapters::provision::provision;
use p2p_adapters::{
    ChangeSet, Expect, InvoiceQuery, InvoiceRepository, ObjectMeta, ObjectStore, PageRequest,
    UnitOfWork, Write,
};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::invoice::{Invoice, InvoiceStatus};

/// Iterations per operation (after 5 warm-up runs); `P2P_BENCH_ITERATIONS` overrides.
const DEFAULT_ITERATIONS: usize = 60;

struct Row {
    operation: &'static str,
    calls: CallCounts,
    iterations: usize,
    times: Vec<Duration>,
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn measure<F, Fut>(
    backend: &AwsBackend,
    operation: &'static str,
    iterations: usize,
    mut run: F,
) -> Row
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..5 {
        run(iterations + i).await;
    }
    let before = backend.counter().snapshot();
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let start = Instant::now();
        run(i).await;
        times.push(start.elapsed());
    }
    times.sort();
    Row {
        operation,
        calls: backend.counter().snapshot().since(&before),
        iterations,
        times,
    }
}

fn received(vendor: &str, n: usize) -> Invoice {
    invoice(
        vendor,
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Received,
        at(n as i64),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.trim().is_empty()) {
        eprintln!(
            "aws_calls: AWS_ENDPOINT_URL is not set; run it on moto: \
             scripts/with-moto.sh cargo bench -p p2p-adapters --bench aws_calls"
        );
        std::process::exit(1);
    }
    let iterations = std::env::var("P2P_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ITERATIONS);
    let config = load_sdk_config().await;
    let clients = AwsClients::new(&config);
    let prefix = format!("bench{}-", std::process::id());
    let names = ResourceNames::defaults("us-east-1").with_prefix(&prefix);
    let names = match provision(&clients, &names).await {
        Ok(p) => p.names,
        Err(e) => {
            eprintln!("aws_calls: provisioning failed: {e}");
            std::process::exit(1);
        }
    };
    let b = AwsBackend::with_clients(clients, names, CursorCodec::new(b"bench".to_vec()));
    let ven = unique("ven");
    let mut rows = Vec::new();

    // Submit: invoice + number guard + audit entry. Warm-up runs use indexes past
    // `iterations`, so every invoice is submitted (and later changed) exactly once.
    let invoices: Vec<Invoice> = (0..iterations + 5).map(|i| received(&ven, i)).collect();
    rows.push(
        measure(&b, "submit invoice (+guard +audit)", iterations, |i| {
            let (b, inv) = (&b, invoices[i].clone());
            async move {
                b.commit(
                    ChangeSet::new()
                        .write(Write::PutInvoice(inv.clone(), Expect::Absent))
                        .audit(invoice_created(&inv)),
                )
                .await
                .expect("submit");
            }
        })
        .await,
    );
    rows.push(
        measure(&b, "status change + audit", iterations, |i| {
            let (b, inv) = (&b, invoices[i].clone());
            async move {
                let matched = inv
                    .with_status(InvoiceStatus::Matched, at(10))
                    .expect("received -> matched");
                b.commit(
                    ChangeSet::new()
                        .write(Write::PutInvoice(matched, Expect::Version(inv.version)))
                        .audit(audit(
                            AuditType::InvoiceAction,
                            action::RECONCILE,
                            entity::INVOICE,
                            &inv.id,
                            at(10),
                        )),
                )
                .await
                .expect("status change");
            }
        })
        .await,
    );

    let first = invoices[0].clone();
    rows.push(
        measure(&b, "get invoice", iterations, |_| {
            let (b, id) = (&b, first.id.clone());
            async move {
                b.get_invoice(&id).await.expect("get");
            }
        })
        .await,
    );
    rows.push(
        measure(&b, "find invoice by number", iterations, |_| {
            let (b, v, n) = (&b, first.vendor_id.clone(), first.invoice_number.clone());
            async move {
                b.find_invoice_by_number(&v, &n).await.expect("find");
            }
        })
        .await,
    );
    rows.push(
        measure(&b, "list page (vendor, 20)", iterations, |_| {
            let (b, v) = (&b, ven.clone());
            async move {
                let q = InvoiceQuery {
                    vendor_id: Some(v),
                    ..Default::default()
                };
                b.list_invoices(&q, &PageRequest::first(20))
                    .await
                    .expect("list");
            }
        })
        .await,
    );
    rows.push(
        measure(&b, "work queue page (status, 20)", iterations, |_| {
            let b = &b;
            async move {
                let q = InvoiceQuery {
                    status: Some(InvoiceStatus::Matched),
                    ..Default::default()
                };
                b.list_invoices(&q, &PageRequest::first(20))
                    .await
                    .expect("list");
            }
        })
        .await,
    );

    let objects = b.object_store();
    let bucket = b.names().payments_bucket.clone();
    let meta = ObjectMeta {
        content_type: "application/xml".into(),
        metadata: BTreeMap::new(),
        tags: BTreeMap::from([
            ("invoice_id".to_string(), first.id.clone()),
            ("amount".to_string(), "148.75".to_string()),
        ]),
    };
    let body = vec![b'x'; 4096];
    rows.push(
        measure(&b, "S3 put (4 KiB, SSE, tags)", iterations, |i| {
            let (o, bucket, meta, body) = (&objects, &bucket, &meta, body.clone());
            async move {
                o.put_object(bucket, &format!("bench/{i}.xml"), body, meta)
                    .await
                    .expect("put");
            }
        })
        .await,
    );
    rows.push(
        measure(&b, "S3 head", iterations, |i| {
            let (o, bucket) = (&objects, &bucket);
            async move {
                o.head_object(bucket, &format!("bench/{}.xml", i % iterations))
                    .await
                    .expect("head");
            }
        })
        .await,
    );

    println!();
    println!("aws adapters on moto ({iterations} iterations per operation)");
    println!(
        "{:<32} {:>10} {:>12} {:>12} {:>14}  calls",
        "operation", "calls/op", "median ms", "p90 ms", "median ms/call"
    );
    for r in &rows {
        let per_op = r.calls.total() as f64 / r.iterations as f64;
        let median = quantile(&r.times, 0.5);
        println!(
            "{:<32} {:>10.2} {:>12.2} {:>12.2} {:>14.2}  {}",
            r.operation,
            per_op,
            ms(median),
            ms(quantile(&r.times, 0.9)),
            if per_op > 0.0 {
                ms(median) / per_op
            } else {
                0.0
            },
            r.calls
        );
    }
    let scans = b.counter().snapshot().get("DynamoDB", "Scan");
    println!("DynamoDB Scan calls in the whole run: {scans}");
}
