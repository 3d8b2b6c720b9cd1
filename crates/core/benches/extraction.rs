//! Parse + normalise the 456 KB multi-page GetExpenseAnalysis response (budget: ≤ 5 ms,
//! i.e. ≥ 100 MB/s), plus the AnalyzeDocument fallback and a text layer for comparison.

use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use p2p_core::extraction::{
    draft_from_document, draft_from_expense, draft_from_text, review, DocumentResponse,
    ExpenseResponse, ReviewPolicy,
};

const TEXTRACT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/textract/"
);
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extraction/");

fn read(path: String) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn expense(bytes: &[u8]) -> usize {
    let resp = ExpenseResponse::from_slice(bytes).unwrap();
    let draft = draft_from_expense(&[resp]).unwrap();
    let decision = review(&draft, &ReviewPolicy::default());
    draft.line_items.len() + decision.reasons.len()
}

fn benches(c: &mut Criterion) {
    let multipage = read(format!(
        "{TEXTRACT}trp_analyzeExpenseResponse-multipage.json"
    ));
    let document = read(format!(
        "{TEXTRACT}textractor_analyzedocument_sample-invoice.json"
    ));
    let text = String::from_utf8(read(format!("{FIXTURES}QualityHosting.txt"))).unwrap();

    // One plain measurement, printed against the budget (criterion's report follows).
    let runs = 200;
    let start = Instant::now();
    for _ in 0..runs {
        black_box(expense(black_box(&multipage)));
    }
    let per_run = start.elapsed() / runs;
    let mb_s = multipage.len() as f64 / per_run.as_secs_f64() / 1e6;
    println!(
        "multipage AnalyzeExpense ({} bytes): {:?} per parse+normalise+review, {:.0} MB/s (budget 5 ms, 100 MB/s)",
        multipage.len(),
        per_run,
        mb_s
    );

    let mut g = c.benchmark_group("extraction");
    g.throughput(Throughput::Bytes(multipage.len() as u64));
    g.bench_function("expense_multipage_parse_normalise_review", |b| {
        b.iter(|| expense(black_box(&multipage)))
    });
    g.bench_function("expense_multipage_parse_only", |b| {
        b.iter(|| ExpenseResponse::from_slice(black_box(&multipage)).unwrap())
    });
    g.throughput(Throughput::Bytes(document.len() as u64));
    g.bench_function("analyze_document_sample_invoice", |b| {
        b.iter(|| {
            let resp = DocumentResponse::from_slice(black_box(&document)).unwrap();
            draft_from_document(&[resp])
        })
    });
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("text_layer_quality_hosting", |b| {
        b.iter(|| draft_from_text(black_box(&text)))
    });
    g.finish();
}

criterion_group!(extraction, benches);
criterion_main!(extraction);
