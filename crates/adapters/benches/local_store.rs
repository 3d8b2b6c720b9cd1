//! Invoice submissions on the local store: each one transaction holding the invoice, its
//! invoice-number guard and its CREATE audit entry. Budget: at least 5,000 per second.
//!
//! `cargo bench -p p2p-adapters --bench local_store -- --warm-up-time 1 --measurement-time 3`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p2p_adapters::local::LocalStore;
use p2p_adapters::{ChangeSet, Expect, UnitOfWork, Write};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::invoice::{Invoice, InvoiceLine, InvoiceSource, InvoiceStatus};
use p2p_core::Currency;
use rust_decimal_macros::dec;

const BUDGET_PER_SECOND: f64 = 5_000.0;

fn template() -> Invoice {
    let now = Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single().unwrap();
    Invoice {
        id: String::new(),
        invoice_number: String::new(),
        vendor_id: "ven-bench".into(),
        po_id: "po-bench".into(),
        invoice_date: now.date_naive(),
        due_date: now.date_naive(),
        currency: Currency::EUR,
        lines: (1..=3)
            .map(|n| InvoiceLine {
                line_no: n,
                description: format!("Line {n}"),
                quantity: dec!(10),
                unit_price: dec!(12.50),
                amount: dec!(125.00),
                po_line_no: Some(n),
            })
            .collect(),
        subtotal: dec!(375.00),
        tax_amount: dec!(71.25),
        total_amount: dec!(446.25),
        status: InvoiceStatus::Received,
        source: InvoiceSource::Api,
        description: Some("bench".into()),
        submitted_by: "clerk@corp.example".into(),
        submitted_at: now,
        approved_by: None,
        extraction: None,
        match_report: None,
        notes: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// The `n`-th submission's change set: a fresh invoice id and number.
fn submission(tpl: &Invoice, run: &str, n: u64) -> ChangeSet {
    let mut inv = tpl.clone();
    inv.id = format!("inv-{run}-{n}");
    // A letter between run and n: the uniqueness key drops separators.
    inv.invoice_number = format!("INV-{run}-N{n}");
    inv.created_at += chrono::Duration::milliseconds(n as i64);
    let audit = AuditEntry {
        id: format!("aud-{run}-{n}"),
        audit_type: AuditType::InvoiceAction,
        action: action::CREATE.into(),
        entity_type: entity::INVOICE.into(),
        entity_id: inv.id.clone(),
        user_id: inv.submitted_by.clone(),
        timestamp: inv.created_at,
        details: serde_json::json!({ "invoice_number": inv.invoice_number, "total_amount": "446.25" }),
        created_at: inv.created_at,
    };
    ChangeSet::new()
        .write(Write::PutInvoice(inv, Expect::Absent))
        .audit(audit)
}

fn submissions(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let tpl = template();

    // A plain timed run first: the number to compare with the budget.
    for (label, tasks) in [
        ("sequential", 1u64),
        ("8 concurrent tasks", 8),
        ("32 concurrent tasks", 32),
    ] {
        let total = 20_000u64;
        let run = format!("{}", tasks);
        let started = Instant::now();
        rt.block_on(async {
            let mut handles = Vec::new();
            for t in 0..tasks {
                let store = store.clone();
                let tpl = tpl.clone();
                let run = format!("r{run}t{t}");
                handles.push(tokio::spawn(async move {
                    for n in 0..total / tasks {
                        store.commit(submission(&tpl, &run, n)).await.unwrap();
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        let rate = total as f64 / started.elapsed().as_secs_f64();
        println!(
            "local store, {label}: {rate:.0} invoice submissions/s (budget {BUDGET_PER_SECOND:.0}/s: {})",
            if rate >= BUDGET_PER_SECOND { "met" } else { "MISSED" }
        );
    }

    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("local_store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("submit_invoice", |b| {
        b.iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            rt.block_on(store.commit(submission(&tpl, "criterion", n)))
                .unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, submissions);
criterion_main!(benches);
