//! Property tests: the submission parser and the validator never panic, whatever arrives.

use chrono::NaiveDate;
use p2p_core::validation::{validate, SubmissionDocument, ValidationPolicy};
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Numbers as raw text, exact (serde_json `arbitrary_precision`), including huge and tiny ones.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        "-?[0-9]{1,40}(\\.[0-9]{1,40})?([eE][-+]?[0-9]{1,4})?".prop_map(|t| {
            serde_json::from_str::<Number>(&t)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        ".{0,20}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        "-?[0-9]{1,6}\\.[0-9]{0,4}".prop_map(Value::String),
    ]
}

const KEYS: &[&str] = &[
    "invoice",
    "invoiceId",
    "customerId",
    "customerEmail",
    "amount",
    "dueDate",
    "items",
    "rate",
    "quantity",
    "description",
    "invoice_number",
    "vendor_id",
    "lines",
    "unit_price",
    "total_amount",
    "subtotal",
    "tax_amount",
    "currency",
    "due_date",
    "invoice_date",
    "po_line_no",
    "line_no",
    "poId",
    "x",
];

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

fn check(doc: &Value) {
    if let Ok(sub) = SubmissionDocument::from_json(doc) {
        for policy in [ValidationPolicy::default(), ValidationPolicy::structural()] {
            let r = validate(&sub, &policy, today(), None);
            assert_eq!(r.valid, r.errors.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics(doc in value()) {
        check(&doc);
        check(&json!({ "invoice": doc }));
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(doc) = serde_json::from_str::<Value>(&text) {
            check(&doc);
        }
    }

    #[test]
    fn arbitrary_field_values_in_the_seed_shape_never_panic(
        amount in leaf(), due in leaf(), qty in leaf(), rate in leaf(), email in leaf(),
        currency in prop_oneof![Just(json!("USD")), Just(json!("JPY")), Just(json!("BHD")), leaf()],
    ) {
        let doc = json!({"invoice": {
            "invoiceId": "INV-1", "customerId": "C-1", "customerEmail": email,
            "amount": amount, "dueDate": due, "currency": currency,
            "items": [{"description": "x", "quantity": qty, "rate": rate}]
        }});
        check(&doc);
    }

    /// Every error names a field path of the submitted shape.
    #[test]
    fn errors_always_name_a_field(amount in leaf(), due in leaf()) {
        let doc = json!({"invoice": {"invoiceId": "", "amount": amount, "dueDate": due}});
        let errors = match SubmissionDocument::from_json(&doc) {
            Ok(sub) => validate(&sub, &ValidationPolicy::default(), today(), None).errors,
            Err(e) => e.field_errors().to_vec(),
        };
        prop_assert!(!errors.is_empty());
        for e in errors {
            prop_assert!(e.field.starts_with("invoice.") || e.field == "$", "{}", e.field);
        }
    }
}
