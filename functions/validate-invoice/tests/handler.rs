//! validate-invoice driven by `events/validate-invoice/*.json`.

use p2p_function_support::testing::{event, TestEnv};
use serde_json::{json, Value};
use validate_invoice::{handle, Config};

fn config() -> Config {
    let empty: [(&str, &str); 0] = [];
    Config::from_source(&empty[..]).unwrap()
}

fn error_fields(out: &Value) -> Vec<String> {
    out["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_seeds_valid_sample_is_valid_and_comes_back_canonical() {
    let env = TestEnv::empty();
    let out = handle(
        &env.services,
        &config(),
        event("validate-invoice/seed-valid.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], true, "{out}");
    assert_eq!(out["errors"], json!([]));
    let inv = &out["invoice"];
    assert_eq!(inv["invoice_number"], "INV-001");
    assert_eq!(inv["vendor_id"], "CUST-123");
    assert_eq!(inv["due_date"], "2024-12-31");
    assert_eq!(inv["currency"], "USD");
    assert_eq!(inv["total_amount"], "1500.00");
    assert_eq!(inv["lines"][0]["unit_price"], "30.00");
    assert!(inv.get("invoiceId").is_none(), "output is canonical: {inv}");
}

#[tokio::test]
async fn the_seeds_invalid_sample_reports_every_missing_field_by_its_seed_path() {
    let env = TestEnv::empty();
    let out = handle(
        &env.services,
        &config(),
        event("validate-invoice/seed-invalid.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], false);
    let fields = error_fields(&out);
    assert!(fields.contains(&"invoice.amount".to_string()), "{fields:?}");
    assert!(
        fields.contains(&"invoice.dueDate".to_string()),
        "{fields:?}"
    );
    for e in out["errors"].as_array().unwrap() {
        assert!(!e["code"].as_str().unwrap().is_empty());
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn canonical_errors_are_all_reported_with_their_paths() {
    let env = TestEnv::seeded().await;
    let out = handle(
        &env.services,
        &config(),
        event("validate-invoice/canonical-invalid.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], false);
    let fields = error_fields(&out);
    for expected in [
        "invoice_number",
        "vendor_id",
        "invoice_date",
        "currency",
        "lines[0].quantity",
        "lines[1].description",
        "lines[1].unit_price",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} missing from {fields:?}"
        );
    }
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_all_reported() {
    let env = TestEnv::empty();
    let out = handle(
        &env.services,
        &config(),
        event("validate-invoice/wrong-types.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], false);
    let fields = error_fields(&out);
    for expected in [
        "invoice.invoiceId",
        "invoice.amount",
        "invoice.items[0].rate",
        "invoice.discount",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} missing from {fields:?}"
        );
    }
}

#[tokio::test]
async fn workflow_inputs_with_envelope_keys_validate() {
    let env = TestEnv::seeded().await;
    let mut input = event("validate-invoice/seed-with-po.json");
    input["execution_name"] = json!("exec-1");
    let out = handle(&env.services, &config(), input).await.unwrap();
    assert_eq!(out["valid"], true, "{out}");
    assert_eq!(out["invoice"]["po_id"], "po-acme-0001");
    assert_eq!(out["invoice"]["submitted_by"], "ap-clerk@company.example");
    let out = handle(
        &env.services,
        &config(),
        event("validate-invoice/canonical-valid.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], true, "{out}");
}

/// The workflow's `source` envelope key (the ASL's `HasSource` state; process-invoice
/// stores it): accepted beside either shape, not read as an invoice field, and checked.
#[tokio::test]
async fn the_workflows_source_key_is_accepted_and_checked() {
    let env = TestEnv::seeded().await;
    for source in ["api", "textract"] {
        let mut seed = event("validate-invoice/seed-with-po.json");
        seed["source"] = json!(source);
        seed["submitted_by"] = json!("ap-clerk@company.example");
        let out = handle(&env.services, &config(), seed).await.unwrap();
        assert_eq!(out["valid"], true, "seed shape, source {source}: {out}");
        assert!(out["invoice"].get("source").is_none(), "{out}");

        let mut canonical = event("validate-invoice/canonical-valid.json");
        canonical["source"] = json!(source);
        canonical["execution_name"] = json!("exec-src");
        let out = handle(&env.services, &config(), canonical).await.unwrap();
        assert_eq!(
            out["valid"], true,
            "canonical shape, source {source}: {out}"
        );
    }
    // Absent or null: the workflow defaults it.
    let mut canonical = event("validate-invoice/canonical-valid.json");
    canonical["source"] = Value::Null;
    let out = handle(&env.services, &config(), canonical).await.unwrap();
    assert_eq!(out["valid"], true, "{out}");

    for bad in [
        json!("email"),
        json!("API "),
        json!(1),
        json!({"bucket": "b"}),
    ] {
        let mut canonical = event("validate-invoice/canonical-valid.json");
        canonical["source"] = bad.clone();
        let e = handle(&env.services, &config(), canonical)
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
        assert!(e.to_string().contains("api, textract"), "{e}");
    }
}

#[tokio::test]
async fn an_absent_due_date_comes_from_the_vendors_terms() {
    let env = TestEnv::seeded().await;
    let mut input = event("validate-invoice/canonical-valid.json");
    input.as_object_mut().unwrap().remove("due_date");
    let out = handle(&env.services, &config(), input).await.unwrap();
    assert_eq!(out["valid"], true, "{out}");
    // ven-acme pays Net 30 from the invoice date 2024-11-10.
    assert_eq!(out["invoice"]["due_date"], "2024-12-10");
}

#[tokio::test]
async fn configured_limits_apply() {
    let env = TestEnv::seeded().await;
    let config = Config::from_source(&[("MAX_INVOICE_AMOUNT", "1000")][..]).unwrap();
    let out = handle(
        &env.services,
        &config,
        event("validate-invoice/canonical-valid.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["valid"], false);
    assert_eq!(out["errors"][0]["code"], "exceeds_max_amount");
}

#[tokio::test]
async fn wrongly_shaped_events_fail_with_invalid_event() {
    let env = TestEnv::empty();
    let e = handle(
        &env.services,
        &config(),
        event("validate-invoice/not-an-object.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    let e = handle(
        &env.services,
        &config(),
        json!({"invoice": {}, "execution_name": 7}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    // A seed document that is not an object is a validation result, not a crash.
    let out = handle(&env.services, &config(), json!({"invoice": "INV-1"}))
        .await
        .unwrap();
    assert_eq!(out["valid"], false);
    assert_eq!(out["errors"][0]["field"], "invoice");
}

#[test]
fn bad_configuration_is_misconfigured() {
    let e = Config::from_source(&[("REQUIRE_FUTURE_DUE_DATE", "maybe")][..]).unwrap_err();
    let e = p2p_function_support::FunctionError::from(e);
    assert_eq!(e.error_type(), "Misconfigured");
    assert!(e.to_string().contains("REQUIRE_FUTURE_DUE_DATE"));
}
