//! `p2p demo`: the real invoice workflow, end to end, on one machine.
//!
//! On the store of `--data-dir` it creates a vendor (paid by IBAN), three approved purchase
//! orders with their goods receipts, then runs five invoices through
//! `statemachine/invoice-workflow.asl.json` with the real handlers:
//!
//! 1. matches its PO and is under the auto-approve limit: approved, payment files written;
//! 2. bills a higher unit price than ordered: rejected, with the match report;
//! 3. repeats invoice 1's number: `DuplicateInvoice`;
//! 4. is invalid (missing PO, negative quantity, wrong total): `ValidationFailed`;
//! 5. is above the auto-approve limit: the execution pauses on its approval task token and
//!    is resumed from here (the same code path as `p2p task-success`).
//!
//! Then the export monitor job delivers the approved payments to a local Workday stand-in
//! (127.0.0.1), which confirms them: payments `sent`, invoices `paid`, and the payment run
//! file (ISO 20022 pain.001) written.
//!
//! Idempotent: every id, number and execution name is fixed, existing records count as
//! "already there", and an execution that exists is reported, not run again. A second run
//! on the same data directory changes nothing and prints the same summary.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use p2p_adapters::local::{ExecutionStatus, WorkflowExecution};
use p2p_adapters::{ChangeSet, ConflictReason, Expect, PageRequest, Services, StoreError, Write};
use p2p_asl::StateMachine;
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::invoice::Invoice;
use p2p_core::payment::Payment;
use p2p_core::purchase_order::{
    GoodsReceiptInput, LineInput, PurchaseOrder, PurchaseOrderInput, ReceiptLineInput,
};
use p2p_core::vendor::{BankAccountInput, Vendor, VendorInput};
use p2p_function_support::ConfigSource;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::backend::Backend;
use crate::functions::{FunctionSet, EXPORT_MONITOR};
use crate::output::{self, Table};
use crate::workday::LocalWorkday;
use crate::workflow::{self, end_state, DefinitionSource, Started, WorkflowRunner};
use crate::GlobalOptions;

pub const VENDOR_ID: &str = "ven-demo-northwind";
const VENDOR_NAME: &str = "Northwind Consulting GmbH";
const VENDOR_IBAN: &str = "DE89370400440532013000";
const VENDOR_BIC: &str = "COBADEFFXXX";
const BUYER: &str = "buyer@demo-buyer.example";
const PO_APPROVER: &str = "purchasing-manager@demo-buyer.example";
const RECEIVER: &str = "warehouse@demo-buyer.example";
const SUBMITTER: &str = "ap-clerk@demo-buyer.example";
/// Who approves the invoice above the auto-approve limit.
pub const APPROVER: &str = "finance-controller@demo-buyer.example";
/// The paying company of the payment run file, unless DEBTOR_* are set.
const DEBTOR: [(&str, &str); 3] = [
    ("DEBTOR_NAME", "Demo Buyer AG"),
    ("DEBTOR_IBAN", "DE02120300000000202051"),
    ("DEBTOR_BIC", "BYLADEM1001"),
];

#[derive(clap::Args, Debug, Default)]
pub struct DemoArgs {
    /// The invoice workflow definition (default: the repository's
    /// statemachine/invoice-workflow.asl.json when found, else the copy embedded in the binary).
    #[arg(long)]
    pub workflow: Option<std::path::PathBuf>,
}

/// One line of the demo's reference data.
struct PoSpec {
    id: &'static str,
    number: &'static str,
    description: &'static str,
    lines: &'static [(&'static str, &'static str, &'static str)],
    receipt_id: &'static str,
}

const POS: [PoSpec; 3] = [
    PoSpec {
        id: "po-demo-0001",
        number: "PO-DEMO-0001",
        description: "Q3 consulting",
        lines: &[
            ("Consulting hours", "20", "150.00"),
            ("Travel expenses", "1", "250.00"),
        ],
        receipt_id: "gr-demo-0001",
    },
    PoSpec {
        id: "po-demo-0002",
        number: "PO-DEMO-0002",
        description: "Analytics licences",
        lines: &[("Analytics licence, 12 months", "10", "120.00")],
        receipt_id: "gr-demo-0002",
    },
    PoSpec {
        id: "po-demo-0003",
        number: "PO-DEMO-0003",
        description: "Platform migration",
        lines: &[("Platform migration project", "1", "7500.00")],
        receipt_id: "gr-demo-0003",
    },
];

/// One invoice of the demo.
struct Case {
    execution: &'static str,
    label: &'static str,
    input: Value,
}

fn cases(today: NaiveDate) -> Vec<Case> {
    let invoice_date = today.to_string();
    let due_date = (today + Days::days(30)).to_string();
    let invoice = |number: &str, po: &str, lines: Value, total: &str, description: &str| {
        json!({
            "invoice_number": number,
            "vendor_id": VENDOR_ID,
            "po_id": po,
            "invoice_date": invoice_date,
            "due_date": due_date,
            "currency": "EUR",
            "lines": lines,
            "total_amount": total,
            "description": description,
            "submitted_by": SUBMITTER,
        })
    };
    vec![
        Case {
            execution: "demo-1-matched",
            label: "matches its PO, auto-approved",
            input: invoice(
                "NW-DEMO-0001",
                "po-demo-0001",
                json!([
                    {"description": "Consulting hours", "quantity": "20", "unit_price": "150.00"},
                    {"description": "Travel expenses", "quantity": "1", "unit_price": "250.00"}
                ]),
                "3250.00",
                "Q3 consulting and travel",
            ),
        },
        Case {
            execution: "demo-2-price-discrepancy",
            label: "unit price above the PO's",
            input: invoice(
                "NW-DEMO-0002",
                "po-demo-0002",
                json!([{"description": "Analytics licence, 12 months", "quantity": "10", "unit_price": "135.00"}]),
                "1350.00",
                "Analytics licences",
            ),
        },
        Case {
            execution: "demo-3-duplicate",
            label: "same number as invoice 1",
            input: invoice(
                "NW-DEMO-0001",
                "po-demo-0001",
                json!([
                    {"description": "Consulting hours", "quantity": "20", "unit_price": "150.00"},
                    {"description": "Travel expenses", "quantity": "1", "unit_price": "250.00"}
                ]),
                "3250.00",
                "Q3 consulting and travel (sent twice)",
            ),
        },
        Case {
            execution: "demo-4-invalid",
            label: "bad currency, negative quantity, past due date",
            input: json!({
                "invoice_number": "NW-DEMO-0004",
                "vendor_id": VENDOR_ID,
                "po_id": "po-demo-0001",
                "invoice_date": invoice_date,
                "due_date": (today - Days::days(10)).to_string(),
                "currency": "EURO",
                "lines": [{"description": "Consulting hours", "quantity": "-5", "unit_price": "150.00"}],
                "total_amount": "-750.00",
                "submitted_by": SUBMITTER,
            }),
        },
        Case {
            execution: "demo-5-approval",
            label: "above the auto-approve limit",
            input: invoice(
                "NW-DEMO-0005",
                "po-demo-0003",
                json!([{"description": "Platform migration project", "quantity": "1", "unit_price": "7500.00"}]),
                "7500.00",
                "Platform migration",
            ),
        },
    ]
}

/// Whether a write found its record already stored.
fn already_there(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }
    )
}

/// Commits `changes`; `Ok(false)` when the record was already there.
async fn create(services: &Services, changes: ChangeSet) -> Result<bool, StoreError> {
    match services.store.commit(changes).await {
        Ok(()) => Ok(true),
        Err(e) if already_there(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[allow(clippy::too_many_arguments)] // each audit field named at the call site
fn audit(
    services: &Services,
    audit_type: AuditType,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    user: &str,
    now: DateTime<Utc>,
    details: Value,
) -> AuditEntry {
    AuditEntry::new(
        services.ids.as_ref(),
        audit_type,
        action,
        entity_type,
        entity_id,
        user,
        now,
        details,
    )
}

fn created_word(created: bool) -> &'static str {
    if created {
        "created"
    } else {
        "already there"
    }
}

/// Creates the vendor, the POs and their receipts (those missing). Returns report lines.
pub async fn seed_reference_data(services: &Services) -> anyhow::Result<Vec<String>> {
    let now = services.clock.now();
    let mut report = Vec::new();
    let vendor = VendorInput {
        name: Some(VENDOR_NAME.into()),
        email: Some("billing@northwind-consulting.example".into()),
        payment_terms: Some("Net 30".into()),
        status: Some("active".into()),
        bank_account: Some(BankAccountInput {
            iban: Some(VENDOR_IBAN.into()),
            bic: Some(VENDOR_BIC.into()),
            ..BankAccountInput::default()
        }),
        ..VendorInput::default()
    }
    .into_vendor(VENDOR_ID.into(), now)
    .context("demo vendor")?;
    let created = create(
        services,
        ChangeSet::new()
            .write(Write::PutVendor(vendor.clone(), Expect::Absent))
            .audit(audit(
                services,
                AuditType::VendorAction,
                action::CREATE,
                entity::VENDOR,
                VENDOR_ID,
                BUYER,
                now,
                json!({"name": VENDOR_NAME}),
            )),
    )
    .await
    .context("cannot store the demo vendor")?;
    report.push(format!(
        "vendor {VENDOR_ID}  {VENDOR_NAME}, IBAN {VENDOR_IBAN} ({})",
        created_word(created)
    ));
    let vendor: Vendor = services
        .store
        .get_vendor(VENDOR_ID)
        .await?
        .context("demo vendor vanished")?;

    for spec in &POS {
        let po = purchase_order(&vendor, spec, now)?;
        let created = create(
            services,
            ChangeSet::new()
                .write(Write::PutPurchaseOrder(po.clone(), Expect::Absent))
                .audit(audit(
                    services,
                    AuditType::PoAction,
                    action::CREATE,
                    entity::PURCHASE_ORDER,
                    spec.id,
                    BUYER,
                    now,
                    json!({"po_number": spec.number}),
                ))
                .audit(audit(
                    services,
                    AuditType::PoAction,
                    action::APPROVE,
                    entity::PURCHASE_ORDER,
                    spec.id,
                    PO_APPROVER,
                    now,
                    json!({"po_number": spec.number}),
                )),
        )
        .await
        .with_context(|| format!("cannot store purchase order {}", spec.id))?;
        let stored = services
            .store
            .get_purchase_order(spec.id)
            .await?
            .with_context(|| format!("purchase order {} vanished", spec.id))?;
        let receipt = GoodsReceiptInput {
            lines: stored
                .lines
                .iter()
                .map(|l| ReceiptLineInput {
                    line_no: Some(l.line_no),
                    quantity_accepted: Some(l.quantity),
                    quantity_rejected: None,
                })
                .collect(),
            received_by: Some(RECEIVER.into()),
            received_at: Some(now),
            notes: None,
        }
        .into_receipt(spec.receipt_id.into(), &stored, now)
        .with_context(|| format!("goods receipt {}", spec.receipt_id))?;
        let receipt_created = create(
            services,
            ChangeSet::new()
                .write(Write::PutGoodsReceipt(receipt))
                .audit(audit(
                    services,
                    AuditType::PoAction,
                    action::RECEIVE,
                    entity::GOODS_RECEIPT,
                    spec.receipt_id,
                    RECEIVER,
                    now,
                    json!({"po_id": spec.id}),
                )),
        )
        .await
        .with_context(|| format!("cannot store goods receipt {}", spec.receipt_id))?;
        report.push(format!(
            "PO {}  {}  {} {} approved ({}), goods receipt {} ({})",
            spec.id,
            spec.number,
            stored.total_amount,
            stored.currency.code(),
            created_word(created),
            spec.receipt_id,
            created_word(receipt_created)
        ));
    }
    Ok(report)
}

fn purchase_order(
    vendor: &Vendor,
    spec: &PoSpec,
    now: DateTime<Utc>,
) -> anyhow::Result<PurchaseOrder> {
    let lines = spec
        .lines
        .iter()
        .map(|(description, quantity, price)| {
            Ok(LineInput {
                description: Some(description.to_string()),
                quantity: Some(quantity.parse::<Decimal>()?),
                unit_price: Some(price.parse::<Decimal>()?),
                ..LineInput::default()
            })
        })
        .collect::<Result<Vec<_>, rust_decimal::Error>>()
        .with_context(|| format!("demo PO {} lines", spec.id))?;
    let po = PurchaseOrderInput {
        po_number: Some(spec.number.into()),
        vendor_id: Some(vendor.id.clone()),
        description: Some(spec.description.into()),
        lines,
        currency: Some("EUR".into()),
        requested_by: Some(BUYER.into()),
        ..PurchaseOrderInput::default()
    }
    .into_purchase_order(spec.id.into(), vendor, now)
    .with_context(|| format!("demo purchase order {}", spec.id))?;
    let mut approved = po
        .approve(PO_APPROVER, now)
        .with_context(|| format!("approving demo purchase order {}", spec.id))?;
    // Created approved in one write.
    approved.version = 1;
    Ok(approved)
}

/// What happened to one demo invoice.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub execution: WorkflowExecution,
    pub label: &'static str,
    pub number: String,
    /// False when the execution existed already (a second run).
    pub ran_now: bool,
    /// Set when the demo approved it (task token resumed) in this run.
    pub approved_now: Option<String>,
}

/// Everything the demo did, for printing and for tests.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub definition: DefinitionSource,
    pub backend: String,
    pub reference_data: Vec<String>,
    pub cases: Vec<CaseResult>,
    pub export_stats: Option<Value>,
    pub workday_url: Option<String>,
}

/// Runs the demo on an opened backend.
pub async fn run_demo(
    backend: &Backend,
    machine: &StateMachine,
    definition: DefinitionSource,
    task_timeout: std::time::Duration,
) -> anyhow::Result<DemoReport> {
    let services = &backend.services;
    let reference_data = seed_reference_data(services).await?;

    let workday = LocalWorkday::start()
        .await
        .context("cannot start the local Workday receiver on 127.0.0.1")?;
    let env = DemoEnv;
    let functions = FunctionSet::from_env(services.clone())
        .context("function configuration")?
        .with_export_monitor(
            workday
                .export_monitor_config(&env)
                .context("export monitor configuration")?,
        )?;
    let functions = Arc::new(functions);
    let runner =
        WorkflowRunner::with_registry(functions.registry(task_timeout), backend.executions.clone());

    let today = services.clock.now().date_naive();
    let mut results = Vec::new();
    for case in cases(today) {
        let number = case
            .input
            .get("invoice_number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let started = runner
            .start(machine, case.execution, case.input)
            .await
            .with_context(|| format!("execution {}", case.execution))?;
        let ran_now = matches!(started, Started::Ran(_));
        let mut execution = started.into_execution();
        let mut approved_now = None;
        // The approval step: a person answers the task token (here: the demo, through the
        // same code path as `p2p task-success`).
        if execution.status == ExecutionStatus::Paused {
            if let Some(token) = execution.task_tokens.first().cloned() {
                execution = runner
                    .send_task_success(&token, json!({"approved_by": APPROVER}))
                    .await
                    .with_context(|| format!("approving execution {}", case.execution))?;
                approved_now = Some(token);
            }
        }
        results.push(CaseResult {
            execution,
            label: case.label,
            number,
            ran_now,
            approved_now,
        });
    }

    let export_stats = functions
        .invoke(EXPORT_MONITOR, json!({"dry_run": false}))
        .await
        .map_err(|e| anyhow::anyhow!("export monitor: {}: {}", e.error_type(), e.message()))?;
    Ok(DemoReport {
        definition,
        backend: backend.choice.describe(),
        reference_data,
        cases: results,
        export_stats: Some(export_stats),
        workday_url: Some(workday.url.clone()),
    })
}

/// The process environment with the demo's debtor when none is configured.
struct DemoEnv;

impl ConfigSource for DemoEnv {
    fn var(&self, name: &str) -> Option<String> {
        let configured = p2p_function_support::ProcessEnv;
        let any_debtor = DEBTOR.iter().any(|(k, _)| configured.var(k).is_some());
        match DEBTOR.iter().find(|(k, _)| *k == name) {
            Some((_, default)) if !any_debtor => Some(default.to_string()),
            _ => configured.var(name),
        }
    }
}

pub async fn demo(args: DemoArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let (machine, definition) = workflow::load_invoice_workflow(args.workflow.as_deref())?;
    let backend = global.open_backend().await?;
    let report = run_demo(&backend, &machine, definition, global.task_timeout()).await?;
    print_report(&backend, &report).await
}

/// The invoice an execution stored, if any.
async fn invoice_of(services: &Services, case: &CaseResult) -> anyhow::Result<Option<Invoice>> {
    let id = case
        .execution
        .output
        .as_ref()
        .and_then(|o| o.pointer("/invoice/invoice_id"))
        .and_then(Value::as_str);
    match id {
        Some(id) => Ok(services.store.get_invoice(id).await?),
        // Failed executions did not store one; a duplicate's number belongs to another invoice.
        None => Ok(None),
    }
}

async fn print_report(backend: &Backend, report: &DemoReport) -> anyhow::Result<()> {
    let services = &backend.services;
    println!("p2p demo: the invoice workflow, run in-process with the real handlers");
    println!("  workflow: {}", report.definition);
    println!("  store:    {}", report.backend);
    println!();
    println!("Reference data");
    for line in &report.reference_data {
        println!("  {line}");
    }
    println!();

    let mut table = Table::new(&[
        "#",
        "invoice",
        "case",
        "amount",
        "workflow result",
        "invoice status",
        "payment",
    ]);
    let mut paid: Vec<(Invoice, Payment)> = Vec::new();
    for (i, case) in report.cases.iter().enumerate() {
        let invoice = invoice_of(services, case).await?;
        let payment = match &invoice {
            Some(inv) => services.store.get_payment_for_invoice(&inv.id).await?,
            None => None,
        };
        let amount = case
            .execution
            .input
            .get("total_amount")
            .and_then(Value::as_str)
            .map(|a| {
                let currency = case
                    .execution
                    .input
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                format!("{a} {currency}")
            })
            .unwrap_or_default();
        let result = match case.execution.status {
            ExecutionStatus::Succeeded => end_state(&case.execution).unwrap_or_default(),
            ExecutionStatus::Failed => format!(
                "failed: {}",
                output::error_of(&case.execution)
                    .map(|(e, _)| e)
                    .unwrap_or_default()
            ),
            other => other.to_string(),
        };
        table.row(vec![
            (i + 1).to_string(),
            case.number.clone(),
            case.label.to_string(),
            amount,
            result,
            invoice
                .as_ref()
                .map(|inv| inv.status.to_string())
                .unwrap_or_else(|| "not stored".into()),
            payment
                .as_ref()
                .map(|p| format!("{} {}", p.id, p.status))
                .unwrap_or_else(|| "-".into()),
        ]);
        if let (Some(inv), Some(pay)) = (invoice, payment) {
            paid.push((inv, pay));
        }
    }
    println!("Invoices through the workflow");
    print!("{}", table.render());
    println!();

    println!("What happened");
    for (i, case) in report.cases.iter().enumerate() {
        let e = &case.execution;
        let rerun = if case.ran_now {
            ""
        } else {
            " [already run: stored result]"
        };
        println!("  {}. execution {}{rerun}", i + 1, e.name);
        for line in explain(case) {
            println!("     {line}");
        }
    }
    println!();

    if let Some(stats) = &report.export_stats {
        let n = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
        println!("Export monitor (payments to Workday)");
        println!(
            "  {} approved payment(s) waiting, {} callback(s) delivered to the local Workday stand-in{}, {} failed",
            n("approved_payments_found"),
            n("workday_callbacks_sent"),
            report
                .workday_url
                .as_deref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default(),
            n("workday_callbacks_failed")
        );
        if n("approved_payments_found") == 0 {
            println!("  (nothing to deliver: the payments were confirmed by an earlier run)");
        }
        if let Some(key) = stats.pointer("/payment_run/key").and_then(Value::as_str) {
            println!(
                "  payment run file (ISO 20022 pain.001): {}",
                backend.object_location(&services.buckets.payments, key)
            );
        }
        if let Some(Value::Array(errors)) = stats.get("errors") {
            for e in errors {
                println!("  error: {}", e.as_str().unwrap_or_default());
            }
        }
        println!();
    }

    println!("Payment files");
    for (inv, pay) in &paid {
        println!(
            "  {} ({}), payment {} {}:",
            inv.invoice_number, inv.id, pay.id, pay.status
        );
        for key in [&pay.xml_s3_key, &pay.json_s3_key].into_iter().flatten() {
            println!(
                "    {}",
                backend.object_location(&services.buckets.payments, key)
            );
        }
    }
    println!();

    if let Some((inv, pay)) = paid.first() {
        println!(
            "Audit trail of invoice {} ({}) and its payment {}",
            inv.invoice_number, inv.id, pay.id
        );
        let mut entries = audit_of(services, &inv.id).await?;
        entries.extend(audit_of(services, &pay.id).await?);
        entries.sort_by(|a, b| {
            a.timestamp
                .cmp(&b.timestamp)
                .then(a.created_at.cmp(&b.created_at))
        });
        let mut table = Table::new(&["time", "action", "entity", "by"]);
        for a in entries {
            table.row(vec![
                p2p_core::clock::rfc3339(a.timestamp),
                a.action,
                format!("{} {}", a.entity_type, a.entity_id),
                a.user_id,
            ]);
        }
        for line in table.render().lines() {
            println!("  {line}");
        }
    }
    Ok(())
}

async fn audit_of(services: &Services, entity_id: &str) -> anyhow::Result<Vec<AuditEntry>> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(100);
    loop {
        let p = services.store.list_audit(entity_id, &page).await?;
        all.extend(p.items);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(all),
        }
    }
}

/// A few lines on one case: the reason for its outcome.
fn explain(case: &CaseResult) -> Vec<String> {
    let e = &case.execution;
    let mut lines = Vec::new();
    let output = e.output.as_ref();
    match e.status {
        ExecutionStatus::Succeeded => {
            let outcome = output
                .and_then(|o| o.pointer("/reconciliation/outcome"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            lines.push(format!(
                "reconciliation: {outcome}; ended in {}",
                end_state(e).unwrap_or_default()
            ));
            if let Some(Value::Array(ds)) =
                output.and_then(|o| o.pointer("/reconciliation/report/discrepancies"))
            {
                for d in ds {
                    lines.push(format!(
                        "discrepancy {}: {}",
                        d.get("code").and_then(Value::as_str).unwrap_or("?"),
                        d.get("message").and_then(Value::as_str).unwrap_or("")
                    ));
                }
            }
            let approved_by = output
                .and_then(|o| o.pointer("/approval/approved_by"))
                .and_then(Value::as_str);
            // From the history, so a second run (stored result) says the same.
            match (approval_token(e), approved_by) {
                (Some(token), Some(by)) => lines.push(format!(
                    "waited for approval on task token {token}; approved from the CLI (task-success) by {by}"
                )),
                (None, Some(by)) => lines.push(format!("approved by {by}")),
                _ => {}
            }
            if let Some(pay) = output.and_then(|o| o.get("payment")) {
                lines.push(format!(
                    "payment {} approved, files {} and {}",
                    pay.get("payment_id").and_then(Value::as_str).unwrap_or("?"),
                    pay.get("xml_s3_key").and_then(Value::as_str).unwrap_or("?"),
                    pay.get("json_s3_key")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                ));
            }
        }
        ExecutionStatus::Failed => {
            if let Some((error, cause)) = output::error_of(e) {
                lines.push(format!("failed with {error}: {cause}"));
            }
            for err in validation_errors(e) {
                lines.push(format!("invalid: {err}"));
            }
        }
        other => lines.push(format!("status {other}")),
    }
    lines
}

/// The task token the execution waited on for its approval (the `approval_needed` payload of
/// the scheduled `WaitForApproval` task), if it waited.
fn approval_token(e: &WorkflowExecution) -> Option<String> {
    e.history.iter().find_map(|event| {
        let parameters = event.pointer("/taskScheduledEventDetails/parameters")?;
        let parameters: Value = match parameters {
            Value::String(s) => serde_json::from_str(s).ok()?,
            other => other.clone(),
        };
        let payload = parameters.get("Payload")?;
        (payload.get("event_type")? == "approval_needed")
            .then(|| payload.get("task_token")?.as_str().map(str::to_string))
            .flatten()
    })
}

/// The field errors the validation step reported (from the history: the failing state's input).
fn validation_errors(e: &WorkflowExecution) -> Vec<String> {
    for event in e.history.iter().rev() {
        let Some(input) = event
            .get("stateEnteredEventDetails")
            .and_then(|d| d.get("input"))
        else {
            continue;
        };
        let input: Value = match input {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        if let Some(Value::Array(errors)) = input.pointer("/validation/errors") {
            if input.pointer("/validation/valid") == Some(&Value::Bool(false)) {
                return errors
                    .iter()
                    .map(|err| {
                        format!(
                            "{}: {}",
                            err.get("field").and_then(Value::as_str).unwrap_or("?"),
                            err.get("message").and_then(Value::as_str).unwrap_or("")
                        )
                    })
                    .collect();
            }
        }
    }
    Vec::new()
}
