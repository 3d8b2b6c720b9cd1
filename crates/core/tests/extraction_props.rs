//! Arbitrary input never panics the response parsing, the normalisers or the pre-checks.

use p2p_core::extraction::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[0-9]{1,3}\\.[0-9]{1,20}".prop_map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("TOTAL"),
            Just("SUBTOTAL"),
            Just("TAX"),
            Just("INVOICE_RECEIPT_DATE"),
            Just("$1,000.00"),
            Just("12/07/2019"),
            Just("KEY_VALUE_SET"),
            Just("KEY"),
            Just("VALUE"),
            Just("TABLE"),
            Just("CELL"),
            Just("CHILD"),
            Just("WORD"),
            Just("IN_PROGRESS"),
            Just("FAILED"),
            Just("ITEM"),
            Just("PRICE"),
            Just("1"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    let keys = prop_oneof![
        Just("ExpenseDocuments"),
        Just("SummaryFields"),
        Just("LineItemGroups"),
        Just("LineItems"),
        Just("LineItemExpenseFields"),
        Just("Type"),
        Just("Text"),
        Just("Confidence"),
        Just("ValueDetection"),
        Just("LabelDetection"),
        Just("PageNumber"),
        Just("Currency"),
        Just("Code"),
        Just("JobStatus"),
        Just("Blocks"),
        Just("BlockType"),
        Just("Id"),
        Just("Ids"),
        Just("Relationships"),
        Just("EntityTypes"),
        Just("RowIndex"),
        Just("ColumnIndex"),
        Just("Page"),
        Just("DocumentMetadata"),
        Just("Pages"),
        Just("other"),
    ];
    leaf.prop_recursive(6, 200, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        if let Ok(r) = ExpenseResponse::from_slice(&bytes) {
            if let Ok(d) = draft_from_expense(&[r]) {
                let _ = review(&d, &ReviewPolicy::default());
                let _ = to_submission(&d, "ven-1", None);
            }
        }
        if let Ok(r) = DocumentResponse::from_slice(&bytes) {
            let d = draft_from_document(&[r]);
            let _ = review(&d, &ReviewPolicy::default());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ExpenseResponse::from_slice(&bytes);
        let _ = DocumentResponse::from_slice(&bytes);
        let _ = check_document("x.pdf", bytes.len() as u64, &bytes, &DocumentPolicy::default());
        let _ = estimate_pdf_pages(&bytes);
    }

}

proptest! {
    // Each case runs every label rule over every line: fewer cases keep debug runs short.
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_text_never_panics(text in "(\\PC|\n|\u{c}){0,400}") {
        let d = draft_from_text(&text);
        let _ = review(&d, &ReviewPolicy::default());
        let _ = to_submission(&d, "ven-1", None);
    }

    #[test]
    fn label_soup_never_panics(words in prop::collection::vec(prop_oneof![
        Just("Invoice Number:"), Just("Total"), Just("Sub Total"), Just("Tax"), Just("VAT ID"),
        Just("$1,234.50"), Just("12/31/2020"), Just("€"), Just("EUR"), Just("  "), Just("\n"),
        Just("Facture n°12 du"), Just("02 Juillet 2015"), Just("Due Date"), Just("PO #"),
        Just("(5.00)"), Just("−"), Just("Zahlungsziel"), Just("21.05.14"), Just("\u{c}"),
    ], 0..60)) {
        let text: String = words.join(" ");
        let d = draft_from_text(&text);
        let _ = review(&d, &ReviewPolicy::default());
    }
}
