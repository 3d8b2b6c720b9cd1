//! The full invoice workflow on the embedded store, end to end: the real ASL file, the real
//! handlers (validate -> process -> reconcile -> auto-approve -> approve-payment with both
//! payment files written -> notify), each execution persisted like `p2p` does.
//! Budget (issue 5): >= 1,000 invoices per second.
//!
//! Each invoice bills its own PO (created, with its goods receipt, outside the timed part),
//! so the cumulative-invoicing check never grows with the run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p2p_adapters::local::{ExecutionStatus, LocalBackend};
use p2p_adapters::{Buckets, ChangeSet, Expect, Services, Write};
use p2p_asl::StateMachine;
use p2p_cli::functions::FunctionSet;
use p2p_cli::workflow::{self, WorkflowRunner};
use p2p_core::purchase_order::{
    GoodsReceiptInput, LineInput, PurchaseOrderInput, ReceiptLineInput,
};
use rust_decimal::Decimal;
use serde_json::json;

/// The allocator the `p2p` binary runs with (see its main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Bench {
    /// Removed at the end unless `P2P_BENCH_DATA_DIR` named a folder to keep it in.
    _dir: Option<tempfile::TempDir>,
    services: Services,
    runner: Arc<WorkflowRunner>,
    machine: Arc<StateMachine>,
    next: AtomicU64,
}

async fn setup() -> Bench {
    p2p_function_support::metrics::set_stdout_enabled(false);
    // P2P_BENCH_DATA_DIR keeps the store for a look afterwards, and spares the next run
    // the deletion of this one's files (on an ext4 without journal, creating files right
    // after thousands were deleted is several times slower: the inode allocator skips
    // recently deleted inodes one by one).
    let (dir, path) = match std::env::var_os("P2P_BENCH_DATA_DIR") {
        Some(keep) => {
            // One store per setup: the two groups' invoice numbers start at 0 each.
            static SETUPS: AtomicU64 = AtomicU64::new(0);
            let n = SETUPS.fetch_add(1, Ordering::Relaxed);
            let path =
                std::path::PathBuf::from(keep).join(format!("run-{}-{n}", std::process::id()));
            (None, path)
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    let backend = LocalBackend::open(&path).unwrap();
    let services = backend.services(Buckets::default());
    p2p_cli::demo::seed_reference_data(&services).await.unwrap();
    let (machine, _) = workflow::load_invoice_workflow(None).unwrap();
    let functions = Arc::new(
        FunctionSet::from_source(services.clone(), &[("AUTO_APPROVE_LIMIT", "5000")][..]).unwrap(),
    );
    let runner = WorkflowRunner::new(functions, backend.workflows.clone());
    Bench {
        _dir: dir,
        services,
        runner: Arc::new(runner),
        machine: Arc::new(machine),
        next: AtomicU64::new(0),
    }
}

/// A PO with its receipt for invoice `n`; returns the invoice submission.
async fn prepare(b: &Bench, n: u64) -> (String, serde_json::Value) {
    let now = Utc::now();
    let vendor = b
        .services
        .store
        .get_vendor(p2p_cli::demo::VENDOR_ID)
        .await
        .unwrap()
        .unwrap();
    let po_id = format!("po-bench-{n}");
    let mut po = PurchaseOrderInput {
        po_number: Some(format!("PO-BENCH-{n}")),
        vendor_id: Some(vendor.id.clone()),
        lines: vec![LineInput {
            description: Some("Service".into()),
            quantity: Some(Decimal::ONE),
            unit_price: Some(Decimal::new(10000, 2)),
            ..LineInput::default()
        }],
        currency: Some("EUR".into()),
        requested_by: Some("buyer@example.com".into()),
        ..PurchaseOrderInput::default()
    }
    .into_purchase_order(po_id.clone(), &vendor, now)
    .unwrap()
    .approve("manager@example.com", now)
    .unwrap();
    po.version = 1;
    let receipt = GoodsReceiptInput {
        lines: vec![ReceiptLineInput {
            line_no: Some(1),
            quantity_accepted: Some(Decimal::ONE),
            quantity_rejected: None,
        }],
        received_by: Some("warehouse@example.com".into()),
        ..GoodsReceiptInput::default()
    }
    .into_receipt(format!("gr-bench-{n}"), &po, now)
    .unwrap();
    b.services
        .store
        .commit(
            ChangeSet::new()
                .write(Write::PutPurchaseOrder(po, Expect::Absent))
                .write(Write::PutGoodsReceipt(receipt)),
        )
        .await
        .unwrap();
    let today = now.date_naive();
    let input = json!({
        "invoice_number": format!("BENCH-{n}"),
        "vendor_id": vendor.id,
        "po_id": po_id,
        "invoice_date": today.to_string(),
        "due_date": (today + chrono::Duration::days(30)).to_string(),
        "currency": "EUR",
        "lines": [{"description": "Service", "quantity": "1", "unit_price": "100.00"}],
        "total_amount": "100.00",
        "submitted_by": "ap-clerk@example.com",
    });
    (format!("bench-{n}"), input)
}

/// Runs `iters` invoices, `concurrency` at a time; returns the time the executions took.
async fn run_batch(b: &Bench, iters: u64, concurrency: usize) -> Duration {
    let mut work = Vec::with_capacity(iters as usize);
    for _ in 0..iters {
        let n = b.next.fetch_add(1, Ordering::Relaxed);
        work.push(prepare(b, n).await);
    }
    let start = Instant::now();
    // `concurrency` executions in flight at all times (a new one starts as soon as one
    // ends), like a steady stream of arriving invoices; not waves that wait for their
    // slowest member.
    let mut set = tokio::task::JoinSet::new();
    let mut work = work.into_iter();
    loop {
        while set.len() < concurrency.max(1) {
            let Some((name, input)) = work.next() else {
                break;
            };
            let runner = Arc::clone(&b.runner);
            let machine = Arc::clone(&b.machine);
            set.spawn(async move { runner.start(&machine, &name, input).await });
        }
        let Some(r) = set.join_next().await else {
            break;
        };
        let e = r.unwrap().unwrap().into_execution();
        assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.error);
    }
    start.elapsed()
}

fn invoice_workflow(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bench = rt.block_on(setup());
    let mut group = c.benchmark_group("invoice_workflow");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    for concurrency in [1usize, 4, 16, 64] {
        group.bench_function(format!("end_to_end_concurrency_{concurrency}"), |bch| {
            bch.iter_custom(|iters| rt.block_on(run_batch(&bench, iters, concurrency)))
        });
    }
    group.finish();
}

/// The workflow's handler calls, one at a time, without the interpreter or the executions
/// table: where the end-to-end time goes.
const STEPS: [&str; 5] = ["validate", "process", "reconcile", "approve", "notify"];

async fn step_batch(b: &Bench, functions: &FunctionSet, iters: u64, step: usize) -> Duration {
    use p2p_cli::functions as f;
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let n = b.next.fetch_add(1, Ordering::Relaxed);
        let (_, input) = prepare(b, n).await;
        let mut invoice_id = String::new();
        for (i, _) in STEPS.iter().enumerate().take(step + 1) {
            let start = Instant::now();
            match i {
                0 => {
                    functions
                        .invoke(f::VALIDATE_INVOICE, input.clone())
                        .await
                        .unwrap();
                }
                1 => {
                    let out = functions
                        .invoke(f::PROCESS_INVOICE, json!({"invoice": input.clone(), "submitted_by": "ap-clerk@example.com"}))
                        .await
                        .unwrap();
                    invoice_id = out["invoice_id"].as_str().unwrap().to_string();
                }
                2 => {
                    functions
                        .invoke(f::RECONCILE, json!({"invoice_id": invoice_id}))
                        .await
                        .unwrap();
                }
                3 => {
                    functions
                        .invoke(f::APPROVE_PAYMENT, json!({"invoice_id": invoice_id, "approved_by": "system:auto-approval"}))
                        .await
                        .unwrap();
                }
                _ => {
                    functions
                        .invoke(
                            f::SEND_NOTIFICATION,
                            json!({"event_type": "payment_approved", "invoice_id": invoice_id}),
                        )
                        .await
                        .unwrap();
                }
            }
            if i == step {
                total += start.elapsed();
            }
        }
    }
    total
}

fn handler_steps(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bench = rt.block_on(setup());
    let functions = FunctionSet::from_source(
        bench.services.clone(),
        &[("AUTO_APPROVE_LIMIT", "5000")][..],
    )
    .unwrap();
    let mut group = c.benchmark_group("invoice_workflow_steps");
    group.sample_size(10);
    for (step, name) in STEPS.iter().enumerate() {
        group.bench_function(*name, |bch| {
            bch.iter_custom(|iters| rt.block_on(step_batch(&bench, &functions, iters, step)))
        });
    }
    group.finish();
}

criterion_group!(benches, invoice_workflow, handler_steps);
criterion_main!(benches);
