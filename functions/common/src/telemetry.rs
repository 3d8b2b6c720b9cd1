//! JSON logs through `tracing`. Every handler runs inside an [`invocation_span`] whose
//! `invoice_id` and `execution_name` fields the JSON formatter writes on every line
//! (under `span`), so one grep finds everything about an invoice or an execution.

use tracing::field::Empty;
use tracing::Span;

/// Installs the JSON subscriber once (later calls are no-ops). Level from `RUST_LOG`,
/// default `info`. Lambda adds its own timestamp, but ours is kept for local runs.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}

/// The span of one invocation. Unknown ids stay empty until [`record_invoice`] /
/// [`record_execution`] fill them in.
pub fn invocation_span(function: &'static str) -> Span {
    tracing::info_span!(
        "invocation",
        function = function,
        invoice_id = Empty,
        execution_name = Empty
    )
}

/// The span of one item of a batch job (one invoice or payment).
pub fn item_span(invoice_id: &str) -> Span {
    tracing::info_span!("item", invoice_id = invoice_id, execution_name = Empty)
}

pub fn record_invoice(span: &Span, invoice_id: &str) {
    span.record("invoice_id", invoice_id);
}

pub fn record_execution(span: &Span, execution_name: Option<&str>) {
    if let Some(name) = execution_name {
        span.record("execution_name", name);
    }
}
