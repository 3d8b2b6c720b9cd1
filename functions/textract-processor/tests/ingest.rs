//! The function path on real Textract responses and real documents (../shared/testdata),
//! over the local backend in a temp dir, with recorded analyzers standing in for Textract.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use p2p_adapters::analyzer::{
    AnalysisRequest, AnalyzerError, ApiError, DocumentAnalyzer, JobKind, LocalAnalyzer, PollPolicy,
    RecordedAnalyzer, RetryPolicy, Sleeper, TextractAnalyzer, TextractApi,
};
use p2p_adapters::testing::FlakyObjectStore;
use p2p_adapters::{ChangeSet, Expect, ObjectMeta, Write};
use p2p_core::invoice::{InvoiceSource, InvoiceStatus};
use p2p_core::purchase_order::PurchaseOrderInput;
use p2p_core::vendor::VendorInput;
use p2p_function_support::testing::{event, test_now, TestEnv};
use serde_json::{json, Value};
use textract_processor::{handle, invoice_id_for_execution, processed_key, Config, Deps};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/");

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}{path}")).unwrap()
}

fn textract(name: &str) -> Value {
    serde_json::from_slice(&testdata(&format!("textract/{name}"))).unwrap()
}

/// The workflow's validation also runs at ingestion; the sample invoices are from 2021.
fn config() -> Config {
    let mut c = Config::default();
    c.rules.validation.require_future_due_date = false;
    c
}

fn s3_event(bucket: &str, key: &str, version: Option<&str>) -> Value {
    let encoded: String = key
        .chars()
        .map(|c| match c {
            ' ' => "+".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            c => c.to_string(),
        })
        .collect();
    let mut object = json!({"key": encoded, "size": 1});
    if let Some(v) = version {
        object["versionId"] = json!(v);
    }
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": object}}]})
}

struct Harness {
    env: TestEnv,
    deps: Deps,
}

impl Harness {
    fn new(analyzer: Arc<dyn DocumentAnalyzer>) -> Self {
        let env = TestEnv::empty();
        let deps = Deps {
            services: env.services.clone(),
            analyzer,
        };
        Harness { env, deps }
    }

    fn raw(&self) -> String {
        self.deps.services.buckets.raw.clone()
    }

    async fn upload(&self, key: &str, body: Vec<u8>) {
        self.deps
            .services
            .objects
            .put_object(&self.raw(), key, body, &ObjectMeta::default())
            .await
            .unwrap();
    }

    async fn ingest(&self, key: &str) -> Result<Value, p2p_function_support::FunctionError> {
        handle(&self.deps, &config(), s3_event(&self.raw(), key, None)).await
    }

    async fn tags(&self, key: &str) -> std::collections::BTreeMap<String, String> {
        self.deps
            .services
            .objects
            .get_object_tags(&self.raw(), key)
            .await
            .unwrap()
    }

    async fn processed_objects(&self) -> usize {
        let page = self
            .deps
            .services
            .objects
            .list_objects(
                &self.deps.services.buckets.processed,
                "processed/",
                &p2p_adapters::PageRequest::first(100),
            )
            .await
            .unwrap();
        page.items.len()
    }

    async fn extracted(&self, document_id: &str) -> Value {
        let o = self
            .deps
            .services
            .objects
            .get_object(
                &self.deps.services.buckets.processed,
                &processed_key(document_id, "extracted.json"),
            )
            .await
            .unwrap();
        serde_json::from_slice(&o.body).unwrap()
    }

    async fn executions(&self) -> usize {
        self.env
            .backend
            .workflows
            .list_executions()
            .await
            .unwrap()
            .len()
    }

    /// The vendor and PO the sample Amazon.com invoice names (tax id 12-3456789, PO 098ZYX7654).
    async fn seed_amazon(&self) {
        let now = test_now();
        let vendor: VendorInput = serde_json::from_value(json!({
            "name": "Amazon.com", "email": "ar@amazon.example", "tax_id": "12-3456789",
            "payment_terms": "Net 30", "status": "active",
            "bank_account": {"routing_number": "021000021", "account_number": "123456789"}
        }))
        .unwrap();
        let vendor = vendor.into_vendor("ven-amazon".into(), now).unwrap();
        let po: PurchaseOrderInput = serde_json::from_value(json!({
            "po_number": "098ZYX7654", "vendor_id": "ven-amazon", "description": "Sample",
            "currency": "USD", "requested_by": "buyer@company.example",
            "lines": [{"description": "Product 1", "quantity": "1", "unit_price": "1000"}]
        }))
        .unwrap();
        let mut po = po
            .into_purchase_order("po-amazon".into(), &vendor, now)
            .unwrap();
        po = po.approve("manager@company.example", now).unwrap();
        po.version = 1;
        let store = &self.deps.services.store;
        store
            .commit(ChangeSet::new().write(Write::PutVendor(vendor, Expect::Absent)))
            .await
            .unwrap();
        store
            .commit(ChangeSet::new().write(Write::PutPurchaseOrder(po, Expect::Absent)))
            .await
            .unwrap();
    }
}

fn only_document(out: &Value) -> &Value {
    let docs = out["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1, "{out}");
    &docs[0]
}

fn reason_codes(doc: &Value) -> Vec<String> {
    doc["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- real responses

#[tokio::test]
async fn sample_invoice_is_stored_and_starts_one_workflow() {
    let key = "uploads/My Invoice(1).png";
    let analyzer =
        RecordedAnalyzer::new().with_expense(key, textract("trp_invoice-expense-response.json"));
    let h = Harness::new(Arc::new(analyzer));
    h.seed_amazon().await;
    h.upload(key, testdata("textract/trp_default_invoice_1.png"))
        .await;

    let out = h.ingest(key).await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "submitted", "{out}");
    assert_eq!(doc["workflow_started"], true);
    let name = doc["execution_name"].as_str().unwrap();
    assert_eq!(doc["invoice_id"], invoice_id_for_execution(name));

    let invoice = h
        .deps
        .services
        .store
        .get_invoice(doc["invoice_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invoice.invoice_number, "123PQR456");
    assert_eq!(invoice.po_id, "po-amazon");
    assert_eq!(invoice.vendor_id, "ven-amazon");
    assert_eq!(invoice.total_amount.to_string(), "6231.09");
    assert_eq!(invoice.lines.len(), 4);
    assert_eq!(invoice.status, InvoiceStatus::Received);
    assert_eq!(invoice.source, InvoiceSource::Textract);
    let meta = invoice.extraction.unwrap();
    assert_eq!(meta.key, key);
    assert!(meta.review_reasons.is_empty());
    assert!(meta.field_confidence.contains_key("total"));

    // The workflow input is the canonical submission the workflow validates.
    let exec = h
        .env
        .backend
        .workflows
        .get_execution(name)
        .await
        .unwrap()
        .unwrap();
    let input = exec.input.clone();
    assert_eq!(input["invoice_number"], "123PQR456");
    assert_eq!(input["total_amount"], "6231.09");
    assert_eq!(input["submitted_by"], "system:textract-processor");
    assert_eq!(input["source"], "textract");
    // What validate-invoice checks once it has taken the `source` envelope key off.
    let mut document = input.clone();
    document.as_object_mut().unwrap().remove("source");
    assert!(p2p_core::validation::SubmissionDocument::from_json(&document).is_ok());

    // Raw Textract JSON and the draft in the processed bucket.
    let extracted = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(extracted["draft"]["invoice_number"]["value"], "123PQR456");
    assert_eq!(extracted["draft"]["po_number"]["value"], "098ZYX7654");
    assert_eq!(
        extracted["draft"]["line_items"].as_array().unwrap().len(),
        4
    );
    assert_eq!(h.processed_objects().await, 2);
    assert_eq!(h.tags(key).await["p2p-status"], "submitted");
    assert_eq!(
        h.env.audit_actions(&invoice.id).await,
        vec!["DOCUMENT_EXTRACTED".to_string()]
    );
}

#[tokio::test]
async fn duplicate_delivery_starts_one_workflow_in_both_event_shapes() {
    let key = "uploads/My Invoice(1).png";
    let analyzer =
        RecordedAnalyzer::new().with_expense(key, textract("trp_invoice-expense-response.json"));
    let h = Harness::new(Arc::new(analyzer));
    h.seed_amazon().await;
    h.upload(key, testdata("textract/trp_default_invoice_1.png"))
        .await;

    let first = handle(&h.deps, &config(), event("s3-upload.json"))
        .await
        .unwrap();
    let again = handle(&h.deps, &config(), event("s3-upload.json"))
        .await
        .unwrap();
    let bridge = handle(
        &h.deps,
        &config(),
        event("eventbridge-s3-object-created.json"),
    )
    .await
    .unwrap();
    let (a, b, c) = (
        only_document(&first),
        only_document(&again),
        only_document(&bridge),
    );
    assert_eq!(a["key"], key, "keys are URL-decoded");
    assert_eq!(a["workflow_started"], true);
    assert_eq!(b["workflow_started"], false);
    assert_eq!(c["workflow_started"], false);
    assert_eq!(a["execution_name"], b["execution_name"]);
    assert_eq!(a["execution_name"], c["execution_name"]);
    assert_eq!(a["invoice_id"], c["invoice_id"]);
    assert_eq!(h.executions().await, 1);
    let invoices = h
        .deps
        .services
        .store
        .list_invoices(&Default::default(), &p2p_adapters::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(invoices.items.len(), 1);
    assert_eq!(
        h.env
            .audit_actions(a["invoice_id"].as_str().unwrap())
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn multipage_response_goes_to_review_for_its_vendor_name() {
    let key = "multi.pdf";
    let analyzer = RecordedAnalyzer::new()
        .with_expense(key, textract("trp_analyzeExpenseResponse-multipage.json"));
    let h = Harness::new(Arc::new(analyzer));
    h.upload(key, testdata("invoices/QualityHosting.pdf")).await;
    let out = h.ingest(key).await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review", "{out}");
    let codes = reason_codes(doc);
    assert!(
        codes.contains(&"low_field_confidence".to_string()),
        "{codes:?}"
    );
    let extracted = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(extracted["draft"]["invoice_number"]["value"], "00000135");
    assert_eq!(extracted["draft"]["po_number"]["value"], "F0016");
    assert_eq!(extracted["draft"]["total"]["value"], "5715.00");
    assert_eq!(extracted["status"], "needs_review");
    assert_eq!(h.executions().await, 0);
    assert_eq!(h.tags(key).await["p2p-status"], "needs_review");
    let notes = h.env.notifications().await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].attributes["event_type"], "document_needs_review");
    assert!(
        notes[0].message.contains("vendor_name"),
        "{}",
        notes[0].message
    );
    assert_eq!(
        h.env
            .audit_actions(doc["document_id"].as_str().unwrap())
            .await,
        vec!["DOCUMENT_EXTRACTED".to_string()]
    );
}

#[tokio::test]
async fn needs_review_invoice_is_stored_with_its_reasons_when_complete() {
    // The vendor and PO exist, but the due date is past under the default rules.
    let key = "late.png";
    let analyzer =
        RecordedAnalyzer::new().with_expense(key, textract("trp_invoice-expense-response.json"));
    let h = Harness::new(Arc::new(analyzer));
    h.seed_amazon().await;
    h.upload(key, testdata("textract/trp_default_invoice_1.png"))
        .await;
    let out = handle(&h.deps, &Config::default(), s3_event(&h.raw(), key, None))
        .await
        .unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review", "{out}");
    assert_eq!(reason_codes(doc), vec!["invalid_invoice".to_string()]);
    let invoice = h
        .deps
        .services
        .store
        .get_invoice(doc["invoice_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invoice.status, InvoiceStatus::NeedsReview);
    let reasons = invoice.extraction.unwrap().review_reasons;
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].contains("due_date"), "{reasons:?}");
    assert_eq!(h.executions().await, 0);
}

#[tokio::test]
async fn receipt_and_no_summary_responses_keep_their_line_items() {
    let analyzer = RecordedAnalyzer::new()
        .with_expense(
            "receipt.jpg",
            textract("textractor_analyze_expense_receipt.json"),
        )
        .with_expense(
            "nosummary.png",
            textract("textractor_analyze_expense_no_summary_fields.json"),
        );
    let h = Harness::new(Arc::new(analyzer));
    h.upload("receipt.jpg", testdata("textract/textractor_receipt.jpg"))
        .await;
    h.upload(
        "nosummary.png",
        testdata("textract/trp_default_invoice_1.png"),
    )
    .await;

    let out = h.ingest("receipt.jpg").await.unwrap();
    let doc = only_document(&out);
    // Extraction is fine; nobody registered MEGA MARKET PLUS or a PO.
    assert_eq!(doc["outcome"], "needs_review");
    assert_eq!(
        reason_codes(doc),
        vec![
            "vendor_not_found".to_string(),
            "purchase_order_not_found".to_string()
        ]
    );
    let x = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(x["draft"]["total"]["value"], "1810.46");
    assert_eq!(x["draft"]["line_items"].as_array().unwrap().len(), 4);

    let out = h.ingest("nosummary.png").await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review");
    assert!(reason_codes(doc).contains(&"missing_field".to_string()));
    let x = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert!(!x["draft"]["line_items"].as_array().unwrap().is_empty());
    assert_eq!(h.executions().await, 0);
}

#[tokio::test]
async fn analyze_document_is_the_fallback_when_expense_finds_nothing() {
    let key = "sample-invoice.pdf";
    let analyzer = RecordedAnalyzer::new()
        .with_expense(
            key,
            json!({"DocumentMetadata": {"Pages": 1}, "ExpenseDocuments": []}),
        )
        .with_document(
            key,
            textract("textractor_analyzedocument_sample-invoice.json"),
        );
    let h = Harness::new(Arc::new(analyzer.clone()));
    h.upload(key, testdata("textract/textractor_sample-invoice.pdf"))
        .await;
    let out = h.ingest(key).await.unwrap();
    let doc = only_document(&out);
    assert_eq!(analyzer.calls(), (1, 1));
    let x = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(x["draft"]["source"], "analyze_document");
    assert_eq!(x["draft"]["invoice_number"]["value"], "INV-3337");
    assert_eq!(x["draft"]["total"]["value"], "93.50");
    // No PO 12345 in an empty store.
    assert_eq!(doc["outcome"], "needs_review");
    let raw: Value = serde_json::from_slice(
        &h.deps
            .services
            .objects
            .get_object(
                &h.deps.services.buckets.processed,
                &processed_key(doc["document_id"].as_str().unwrap(), "textract.json"),
            )
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    let ops: Vec<&str> = raw["analyses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["AnalyzeExpense", "AnalyzeDocument"]);
}

#[tokio::test]
async fn in_progress_and_failed_job_pages() {
    let analyzer = RecordedAnalyzer::new()
        .with_expense("pending.pdf", textract("trp_test-inprogress-response.json"))
        .with_expense("failed.pdf", textract("trp_test-failed-response.json"));
    let h = Harness::new(Arc::new(analyzer));
    let pdf = testdata("invoices/free_fiber.pdf");
    h.upload("pending.pdf", pdf.clone()).await;
    h.upload("failed.pdf", pdf).await;

    // Still running: retry later, nothing written.
    let err = h.ingest("pending.pdf").await.unwrap_err();
    assert_eq!(err.error_type(), "Transient");
    assert!(h.tags("pending.pdf").await.is_empty());

    let out = h.ingest("failed.pdf").await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "rejected");
    assert_eq!(reason_codes(doc), vec!["textract_job_failed".to_string()]);
    assert_eq!(
        h.tags("failed.pdf").await["p2p-reason"],
        "textract_job_failed"
    );
    assert_eq!(h.processed_objects().await, 0);
    assert_eq!(h.executions().await, 0);
    let notes = h.env.notifications().await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].attributes["reason"], "textract_job_failed");
}

// ---------------------------------------------------------------- the async Textract path

/// A Textract API answering from queues of recorded responses.
#[derive(Default)]
struct FakeApi {
    sync: Mutex<VecDeque<Result<Value, ApiError>>>,
    starts: Mutex<Vec<String>>,
    gets: Mutex<VecDeque<Result<Value, ApiError>>>,
    next_tokens: Mutex<Vec<Option<String>>>,
}

#[async_trait]
impl TextractApi for FakeApi {
    async fn analyze_expense(&self, _r: &AnalysisRequest) -> Result<Value, ApiError> {
        self.sync
            .lock()
            .unwrap()
            .pop_front()
            .expect("unexpected AnalyzeExpense")
    }
    async fn analyze_document(&self, _r: &AnalysisRequest) -> Result<Value, ApiError> {
        Ok(json!({"Blocks": []}))
    }
    async fn start_job(
        &self,
        _k: JobKind,
        _r: &AnalysisRequest,
        token: &str,
    ) -> Result<String, ApiError> {
        self.starts.lock().unwrap().push(token.to_string());
        Ok("job-1".into())
    }
    async fn get_job(
        &self,
        _k: JobKind,
        _job: &str,
        next: Option<&str>,
    ) -> Result<Value, ApiError> {
        self.next_tokens
            .lock()
            .unwrap()
            .push(next.map(str::to_string));
        self.gets
            .lock()
            .unwrap()
            .pop_front()
            .expect("unexpected Get")
    }
}

#[derive(Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, d: Duration) {
        self.0.lock().unwrap().push(d);
    }
}

fn throttled() -> ApiError {
    ApiError::from_code(Some("ProvisionedThroughputExceededException"), "slow down")
}

fn textract_analyzer(api: Arc<FakeApi>, sleeper: Arc<RecordingSleeper>) -> TextractAnalyzer {
    TextractAnalyzer::new(api)
        .with_sleeper(sleeper)
        .with_retry(RetryPolicy {
            max_attempts: 3,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        })
        .with_poll(PollPolicy {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(4),
            max_wait: Duration::from_secs(20),
        })
}

#[tokio::test]
async fn multipage_pdf_polls_in_progress_then_reads_every_result_page() {
    // The recorded multi-page result split into two result pages joined by NextToken.
    let full = textract("trp_analyzeExpenseResponse-multipage.json");
    let docs = full["ExpenseDocuments"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 2);
    let mut page1 = full.clone();
    page1["ExpenseDocuments"] = json!([docs[0]]);
    page1["NextToken"] = json!("page-2");
    let mut page2 = full.clone();
    page2["ExpenseDocuments"] = json!([docs[1]]);
    let api = Arc::new(FakeApi::default());
    api.gets.lock().unwrap().extend([
        Ok(textract("trp_test-inprogress-response.json")),
        Err(throttled()),
        Ok(textract("trp_test-inprogress-response.json")),
        Ok(page1),
        Ok(page2),
    ]);
    let sleeper = Arc::new(RecordingSleeper::default());
    let h = Harness::new(Arc::new(textract_analyzer(api.clone(), sleeper.clone())));
    // A real 2-page PDF, so the asynchronous path is taken.
    h.upload("two-pages.pdf", testdata("invoices/QualityHosting.pdf"))
        .await;

    let out = h.ingest("two-pages.pdf").await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review", "{out}");
    let x = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(x["draft"]["invoice_number"]["value"], "00000135");
    assert_eq!(x["draft"]["total"]["value"], "5715.00");
    assert_eq!(api.starts.lock().unwrap().len(), 1);
    assert!(api.starts.lock().unwrap()[0].starts_with("exp-doc-"));
    assert_eq!(
        *api.next_tokens.lock().unwrap(),
        vec![None, None, None, None, Some("page-2".to_string())]
    );
    // Poll back-off 1 s, throttle back-off 100 ms, poll back-off 2 s.
    assert_eq!(
        *sleeper.0.lock().unwrap(),
        vec![
            Duration::from_secs(1),
            Duration::from_millis(100),
            Duration::from_secs(2)
        ]
    );
}

#[tokio::test]
async fn failed_job_is_a_typed_rejection_and_throttling_exhaustion_is_transient() {
    let api = Arc::new(FakeApi::default());
    api.gets
        .lock()
        .unwrap()
        .push_back(Ok(textract("trp_test-failed-response.json")));
    let h = Harness::new(Arc::new(textract_analyzer(api.clone(), Arc::default())));
    h.upload("two-pages.pdf", testdata("invoices/QualityHosting.pdf"))
        .await;
    let out = h.ingest("two-pages.pdf").await.unwrap();
    assert_eq!(
        reason_codes(only_document(&out)),
        vec!["textract_job_failed".to_string()]
    );

    // A single-page image: synchronous AnalyzeExpense, throttled on every attempt.
    let api = Arc::new(FakeApi::default());
    api.sync
        .lock()
        .unwrap()
        .extend([Err(throttled()), Err(throttled()), Err(throttled())]);
    let sleeper = Arc::new(RecordingSleeper::default());
    let h = Harness::new(Arc::new(textract_analyzer(api.clone(), sleeper.clone())));
    h.upload("scan.png", testdata("textract/trp_default_invoice_1.png"))
        .await;
    let err = h.ingest("scan.png").await.unwrap_err();
    assert_eq!(err.error_type(), "Transient");
    assert_eq!(sleeper.0.lock().unwrap().len(), 2);
    assert!(h.tags("scan.png").await.is_empty());
    assert!(h.env.notifications().await.is_empty());

    // Throttled once, then answered.
    let api = Arc::new(FakeApi::default());
    api.sync.lock().unwrap().extend([
        Err(throttled()),
        Ok(textract("trp_invoice-expense-response.json")),
    ]);
    let h = Harness::new(Arc::new(textract_analyzer(api, Arc::default())));
    h.upload("scan.png", testdata("textract/trp_default_invoice_1.png"))
        .await;
    let out = h.ingest("scan.png").await.unwrap();
    assert_eq!(only_document(&out)["outcome"], "needs_review");
}

// ---------------------------------------------------------------- bad input

async fn assert_rejected(h: &Harness, key: &str, code: &str) {
    let out = h.ingest(key).await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "rejected", "{key}: {out}");
    assert_eq!(reason_codes(doc), vec![code.to_string()], "{key}");
    let tags = h.tags(key).await;
    assert_eq!(tags["p2p-status"], "rejected", "{key}");
    assert_eq!(tags["p2p-reason"], code, "{key}");
    let notes = h.env.notifications().await;
    let note = notes
        .iter()
        .find(|n| n.attributes["document_id"] == doc["document_id"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{key}: no notification"));
    assert_eq!(note.attributes["reason"], code);
    assert_eq!(
        h.env
            .audit_actions(doc["document_id"].as_str().unwrap())
            .await,
        vec!["DOCUMENT_REJECTED".to_string()],
        "{key}"
    );
    assert_eq!(h.processed_objects().await, 0, "{key}: nothing half-stored");
    assert_eq!(h.executions().await, 0, "{key}: no workflow");
}

#[tokio::test]
async fn bad_files_are_rejected_before_analysis() {
    let analyzer = RecordedAnalyzer::new();
    let h = Harness::new(Arc::new(analyzer.clone()));
    h.upload("empty.pdf", Vec::new()).await;
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 64));
    h.upload("invoice.pdf", elf).await;
    h.upload(
        "locked.pdf",
        b"%PDF-1.6\n1 0 obj <<>> endobj\ntrailer << /Root 1 0 R /Encrypt 5 0 R >>\n%%EOF\n"
            .to_vec(),
    )
    .await;
    let mut truncated = testdata("invoices/free_fiber.pdf");
    truncated.truncate(truncated.len() / 2);
    h.upload("truncated.pdf", truncated).await;
    h.upload("notes.txt", b"hello".to_vec()).await;
    h.upload("photo.png", testdata("textract/textractor_receipt.jpg"))
        .await;

    assert_rejected(&h, "empty.pdf", "empty_file").await;
    assert_rejected(&h, "invoice.pdf", "executable").await;
    assert_rejected(&h, "locked.pdf", "encrypted_pdf").await;
    assert_rejected(&h, "truncated.pdf", "corrupt_pdf").await;
    assert_rejected(&h, "notes.txt", "unsupported_type").await;
    assert_rejected(&h, "photo.png", "type_mismatch").await;
    assert_eq!(analyzer.calls(), (0, 0), "nothing was sent for analysis");
}

#[tokio::test]
async fn oversize_file_is_rejected_without_download() {
    let h = Harness::new(Arc::new(RecordedAnalyzer::new()));
    let flaky = FlakyObjectStore::new(h.deps.services.objects.clone());
    let objects = Arc::new(flaky);
    let mut h = h;
    h.deps.services.objects = objects.clone();
    h.upload("big.pdf", testdata("invoices/AmazonWebServices.pdf"))
        .await;
    let mut small = config();
    small.document.max_bytes = 1000;
    let out = handle(&h.deps, &small, s3_event(&h.raw(), "big.pdf", None))
        .await
        .unwrap();
    let doc = only_document(&out);
    assert_eq!(reason_codes(doc), vec!["too_large".to_string()]);
    assert_eq!(objects.calls(p2p_adapters::testing::op::GET_OBJECT), 0);
    assert_eq!(h.tags("big.pdf").await["p2p-reason"], "too_large");
}

#[tokio::test]
async fn image_with_no_text_and_textract_refusals_are_rejected() {
    let empty_expense = json!({"DocumentMetadata": {"Pages": 1}, "ExpenseDocuments": [{"ExpenseIndex": 1, "SummaryFields": [], "LineItemGroups": []}]});
    let analyzer = RecordedAnalyzer::new()
        .with_expense("blank.png", empty_expense)
        .with_document("blank.png", json!({"DocumentMetadata": {"Pages": 1}, "Blocks": [{"BlockType": "PAGE", "Id": "p1"}]}))
        .with_expense_error(
            "refused.png",
            AnalyzerError::BadDocument {
                operation: "AnalyzeExpense",
                message: "UnsupportedDocumentException: unsupported document format".into(),
            },
        );
    let h = Harness::new(Arc::new(analyzer));
    h.upload("blank.png", testdata("textract/trp_default_invoice_1.png"))
        .await;
    h.upload(
        "refused.png",
        testdata("textract/trp_default_invoice_1.png"),
    )
    .await;
    assert_rejected(&h, "blank.png", "no_invoice_content").await;
    assert_rejected(&h, "refused.png", "textract_bad_document").await;

    // Offline, an image cannot be read without Textract: a clear reason.
    let h = Harness::new(Arc::new(LocalAnalyzer::new()));
    h.upload("scan.png", testdata("textract/trp_default_invoice_1.png"))
        .await;
    assert_rejected(&h, "scan.png", "needs_textract").await;
}

#[tokio::test]
async fn unparseable_amounts_and_dates_are_review_reasons() {
    let field = |kind: &str, label: &str, value: &str| {
        json!({"Type": {"Text": kind, "Confidence": 99}, "LabelDetection": {"Text": label, "Confidence": 99},
               "ValueDetection": {"Text": value, "Confidence": 99}, "PageNumber": 1})
    };
    let response = json!({"DocumentMetadata": {"Pages": 1}, "ExpenseDocuments": [{"ExpenseIndex": 1,
        "SummaryFields": [
            field("INVOICE_RECEIPT_ID", "Invoice #", "A-1"),
            field("TOTAL", "Total", "see attached"),
            field("INVOICE_RECEIPT_DATE", "Date", "31/31/2021"),
            field("VENDOR_NAME", "", "Nobody Ltd")
        ], "LineItemGroups": []}]});
    let analyzer = RecordedAnalyzer::new().with_expense("odd.png", response);
    let h = Harness::new(Arc::new(analyzer));
    h.upload("odd.png", testdata("textract/trp_default_invoice_1.png"))
        .await;
    let out = h.ingest("odd.png").await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review", "{out}");
    let codes = reason_codes(doc);
    assert!(codes.contains(&"unreadable_value".to_string()), "{codes:?}");
    let messages: Vec<&str> = doc["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("see attached")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("31/31/2021")),
        "{messages:?}"
    );
    let notes = h.env.notifications().await;
    assert!(notes[0].message.contains("unreadable_value"));
    assert_eq!(h.executions().await, 0);
}

#[tokio::test]
async fn a_failed_write_leaves_nothing_half_done_and_the_retry_finishes() {
    let key = "uploads/My Invoice(1).png";
    let analyzer =
        RecordedAnalyzer::new().with_expense(key, textract("trp_invoice-expense-response.json"));
    let mut h = Harness::new(Arc::new(analyzer));
    h.seed_amazon().await;
    h.upload(key, testdata("textract/trp_default_invoice_1.png"))
        .await;
    // The second put (extracted.json) fails once.
    let objects = Arc::new(FlakyObjectStore::new(h.deps.services.objects.clone()).fail_put_on(2));
    h.deps.services.objects = objects;
    let err = h.ingest(key).await.unwrap_err();
    assert_eq!(err.error_type(), "Transient");
    assert_eq!(h.executions().await, 0);
    let invoices = h
        .deps
        .services
        .store
        .list_invoices(&Default::default(), &p2p_adapters::PageRequest::first(10))
        .await
        .unwrap();
    assert!(
        invoices.items.is_empty(),
        "no invoice before its extraction is stored"
    );

    let out = h.ingest(key).await.unwrap();
    assert_eq!(only_document(&out)["outcome"], "submitted");
    assert_eq!(h.executions().await, 1);
}

// ---------------------------------------------------------------- offline analysis of real PDFs

#[tokio::test]
async fn local_analyzer_reads_the_invoice_pdfs_like_their_expected_json() {
    for name in ["AmazonWebServices", "QualityHosting", "free_fiber"] {
        let pdf = testdata(&format!("invoices/{name}.pdf"));
        let expected: Value =
            serde_json::from_slice(&testdata(&format!("invoices/{name}.json"))).unwrap();
        let expected = &expected[0];
        let request = AnalysisRequest {
            bucket: "b".into(),
            key: format!("{name}.pdf"),
            version_id: None,
            kind: p2p_core::extraction::DocumentKind::Pdf,
            pages: None,
            document_id: "doc-1".into(),
            content: pdf,
        };
        let output = LocalAnalyzer::new()
            .analyze_expense(&request)
            .await
            .unwrap();
        let draft = textract_processor::draft_from_output(&output).unwrap();
        assert_eq!(
            draft.invoice_number.as_ref().map(|f| f.value.as_str()),
            expected["invoice_number"].as_str(),
            "{name}: number"
        );
        assert_eq!(
            draft.invoice_date.as_ref().map(|f| f.value.to_string()),
            expected["date"].as_str().map(str::to_string),
            "{name}: date"
        );
        let amount: rust_decimal::Decimal =
            serde_json::from_value(expected["amount"].clone()).unwrap();
        assert_eq!(
            draft.total.as_ref().map(|f| f.value),
            Some(amount),
            "{name}: total"
        );
    }
}

#[tokio::test]
async fn local_ingest_of_a_text_layer_pdf_goes_to_review() {
    let h = Harness::new(Arc::new(LocalAnalyzer::new()));
    h.upload(
        "sample-invoice.pdf",
        testdata("textract/textractor_sample-invoice.pdf"),
    )
    .await;
    let out = h.ingest("sample-invoice.pdf").await.unwrap();
    let doc = only_document(&out);
    assert_eq!(doc["outcome"], "needs_review");
    let x = h.extracted(doc["document_id"].as_str().unwrap()).await;
    assert_eq!(x["draft"]["source"], "text_layer");
    assert_eq!(x["draft"]["invoice_number"]["value"], "INV-3337");
    assert_eq!(x["draft"]["total"]["value"], "93.50");
}

#[test]
fn cli_events_round_trip_their_keys() {
    for key in ["uploads/My Invoice(1).pdf", "a+b/ç & d=e.png", "plain.pdf"] {
        let ev = textract_processor::s3_event_for("raw", key, Some("v1"), 10);
        let objects = textract_processor::parse_event(&ev).unwrap();
        assert_eq!(objects[0].key, key);
        assert_eq!(objects[0].version_id.as_deref(), Some("v1"));
    }
    let ev = textract_processor::s3_event_for("raw", "My Invoice(1).pdf", None, 1);
    assert_eq!(
        ev["Records"][0]["s3"]["object"]["key"],
        "My+Invoice%281%29.pdf"
    );
}

#[test]
fn sample_events_parse() {
    let objects = textract_processor::parse_event(&event("s3-upload.json")).unwrap();
    assert_eq!(objects[0].key, "uploads/My Invoice(1).png");
    let bridge =
        textract_processor::parse_event(&event("eventbridge-s3-object-created.json")).unwrap();
    assert_eq!(bridge, objects);
    let real: Value =
        serde_json::from_slice(&testdata("events/lambda-rust_example-s3-event.json")).unwrap();
    let objects = textract_processor::parse_event(&real).unwrap();
    assert_eq!(objects[0].key, "Happy Face.jpg");
}
