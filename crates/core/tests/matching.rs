//! Reconciliation rules: each seed rule and each beyond-seed rule, matched and not matched;
//! the report's JSON; the status change and audit entry.

mod matching_support;

use matching_support::*;
use p2p_core::audit::AuditType;
use p2p_core::clock::SequentialIds;
use p2p_core::invoice::Invoice;
use p2p_core::invoice::InvoiceStatus;
use p2p_core::matching::{
    match_invoice, reconcile, DiscrepancyCode as C, MatchOutcome, MatchPolicy, MatchReport,
    ReceiptMatching, ReconcileAction, Severity, RECONCILIATION_JOB_ACTOR,
};
use p2p_core::money::Currency;
use p2p_core::purchase_order::{GoodsReceipt, PoStatus, PurchaseOrder};
use rust_decimal_macros::dec;

fn seed() -> MatchPolicy {
    MatchPolicy::default()
}

fn run(inv: &Invoice, po: &PurchaseOrder) -> MatchReport {
    match_invoice(inv, po, &[], &[], &seed())
}

fn codes(r: &MatchReport) -> Vec<C> {
    let mut v: Vec<C> = r.discrepancies.iter().map(|d| d.code).collect();
    v.sort_by_key(|c| format!("{c:?}"));
    v
}

/// The seed's validation_summary example: PO 1250.00, invoice 1248.75.
fn seed_po() -> PurchaseOrder {
    po(&[(dec!(50), dec!(20.00)), (dec!(10), dec!(25.00))])
}

#[test]
fn identical_invoice_matches() {
    let p = seed_po();
    let r = run(&invoice_for(&p), &p);
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert!(r.discrepancies.is_empty());
    let s = &r.validation_summary;
    assert!(s.po_status_valid && s.total_amount_match && s.items_match);
    assert_eq!(s.po_total, dec!(1250.00));
    assert_eq!(s.amount_difference, dec!(0));
}

// ---- seed rule: PO status approved or sent ----

#[test]
fn po_status_approved_or_sent_matches_others_reject() {
    for (status, ok) in [
        (PoStatus::Approved, true),
        (PoStatus::Sent, true),
        (PoStatus::Draft, false),
        (PoStatus::Pending, false),
        (PoStatus::Rejected, false),
        (PoStatus::Closed, false),
    ] {
        let mut p = seed_po();
        p.status = status;
        let r = run(&invoice_for(&p), &p);
        assert_eq!(r.validation_summary.po_status_valid, ok, "{status}");
        if ok {
            assert_eq!(r.outcome, MatchOutcome::Matched, "{status}");
        } else {
            assert_eq!(r.outcome, MatchOutcome::Rejected, "{status}");
            assert_eq!(codes(&r), vec![C::PoStatusInvalid]);
            assert_eq!(r.discrepancies[0].actual.as_deref(), Some(status.as_str()));
        }
    }
}

// ---- seed rule: total within ±1 % ----

#[test]
fn seed_example_total_within_one_percent_matches() {
    let p = seed_po();
    let r = run(&with_subtotal(invoice_for(&p), dec!(1248.75)), &p);
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    let s = &r.validation_summary;
    assert_eq!(s.invoice_total, dec!(1248.75));
    assert_eq!(s.amount_difference, dec!(1.25));
    assert!(s.total_amount_match);
}

#[test]
fn total_at_exactly_one_percent_matches_beyond_rejects() {
    let p = seed_po();
    for (subtotal, ok) in [
        (dec!(1262.50), true),
        (dec!(1237.50), true),
        (dec!(1262.51), false),
        (dec!(1237.49), false),
    ] {
        let r = run(&with_subtotal(invoice_for(&p), subtotal), &p);
        if ok {
            assert_eq!(r.outcome, MatchOutcome::Matched, "{subtotal}");
        } else {
            assert_eq!(r.outcome, MatchOutcome::Rejected, "{subtotal}");
            assert_eq!(codes(&r), vec![C::TotalAmountMismatch], "{subtotal}");
            assert!(!r.validation_summary.total_amount_match);
            assert_eq!(
                r.discrepancies[0].difference,
                Some(subtotal - dec!(1250.00))
            );
        }
    }
}

#[test]
fn total_tolerance_is_configurable() {
    let p = seed_po();
    let inv = with_subtotal(invoice_for(&p), dec!(1275.00)); // +2 %
    assert_eq!(run(&inv, &p).outcome, MatchOutcome::Rejected);
    let loose = MatchPolicy {
        total_tolerance_percent: dec!(2),
        ..seed()
    };
    // +2 % also exceeds the PO in total, but within the same tolerance.
    let r = match_invoice(&inv, &p, &[], &[], &loose);
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
}

#[test]
fn tax_is_not_compared_with_the_net_po() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    inv.tax_amount = dec!(237.50);
    inv.total_amount = inv.subtotal + inv.tax_amount;
    assert_eq!(run(&inv, &p).outcome, MatchOutcome::Matched);
}

// ---- seed rule: same number of lines ----

#[test]
fn line_count_must_match() {
    let p = seed_po();
    let inv = invoice("inv-1", &[(1, dec!(50), dec!(20.00))]);
    let r = run(&inv, &p);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert!(r.has(C::LineCountMismatch));
    assert!(!r.validation_summary.items_match);
    let d = r
        .discrepancies
        .iter()
        .find(|d| d.code == C::LineCountMismatch)
        .unwrap();
    assert_eq!(d.expected.as_deref(), Some("2"));
    assert_eq!(d.actual.as_deref(), Some("1"));
}

// ---- seed rule: item-by-item quantity and unit price ----

#[test]
fn quantity_must_match_each_po_line() {
    let p = seed_po();
    let inv = invoice(
        "inv-1",
        &[(1, dec!(49), dec!(20.00)), (2, dec!(10), dec!(25.00))],
    );
    let r = run(&inv, &p);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert!(r.has(C::QuantityMismatch));
    let d = r
        .discrepancies
        .iter()
        .find(|d| d.code == C::QuantityMismatch)
        .unwrap();
    assert_eq!(d.po_line_no, Some(1));
    assert_eq!(d.difference, Some(dec!(-1)));
    assert!(!r.validation_summary.items_match);
}

#[test]
fn unit_price_must_match_each_po_line() {
    let p = seed_po();
    let inv = invoice(
        "inv-1",
        &[(1, dec!(50), dec!(20.00)), (2, dec!(10), dec!(25.01))],
    );
    let r = run(&inv, &p);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::PriceMismatch]);
    let d = &r.discrepancies[0];
    assert_eq!((d.line_no, d.po_line_no), (Some(2), Some(2)));
    assert_eq!(d.expected.as_deref(), Some("25.00"));
    assert_eq!(d.actual.as_deref(), Some("25.01"));
    assert_eq!(d.difference, Some(dec!(0.01)));
    assert_eq!(d.severity, Severity::Reject);
}

#[test]
fn lines_without_po_line_no_match_by_position() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    for l in &mut inv.lines {
        l.po_line_no = None;
    }
    assert_eq!(run(&inv, &p).outcome, MatchOutcome::Matched);
    inv.lines.swap(0, 1);
    inv.lines[0].line_no = 1;
    inv.lines[1].line_no = 2;
    assert_eq!(run(&inv, &p).outcome, MatchOutcome::Rejected);
}

// ---- beyond the seed: price tolerance ----

#[test]
fn price_tolerance_is_configurable() {
    let p = po(&[(dec!(100), dec!(10.00)), (dec!(1), dec!(10.00))]);
    let policy = MatchPolicy {
        price_tolerance_percent: dec!(2),
        ..seed()
    };
    let within = invoice(
        "inv-1",
        &[(1, dec!(100), dec!(10.00)), (2, dec!(1), dec!(10.15))],
    );
    let r = match_invoice(&within, &p, &[], &[], &policy);
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert_eq!(run(&within, &p).outcome, MatchOutcome::Rejected);
    let beyond = invoice(
        "inv-1",
        &[(1, dec!(100), dec!(10.00)), (2, dec!(1), dec!(10.21))],
    );
    let r = match_invoice(&beyond, &p, &[], &[], &policy);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::PriceMismatch]);
}

// ---- beyond the seed: review band ----

#[test]
fn variance_within_tolerance_but_above_review_threshold_needs_review() {
    let p = seed_po();
    let policy = MatchPolicy {
        review_above_percent: Some(dec!(0.5)),
        ..seed()
    };
    let close = with_subtotal(invoice_for(&p), dec!(1258.00)); // +0.64 %
    let r = match_invoice(&close, &p, &[], &[], &policy);
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::TotalAmountVariance]);
    assert!(r.validation_summary.total_amount_match);
    let small = with_subtotal(invoice_for(&p), dec!(1255.00)); // +0.4 %
    let r = match_invoice(&small, &p, &[], &[], &policy);
    assert_eq!(r.outcome, MatchOutcome::Matched);
    let price_policy = MatchPolicy {
        price_tolerance_percent: dec!(5),
        review_above_percent: Some(dec!(1)),
        total_tolerance_percent: dec!(5),
        ..seed()
    };
    let pricey = invoice(
        "inv-1",
        &[(1, dec!(50), dec!(20.00)), (2, dec!(10), dec!(25.50))],
    );
    let r = match_invoice(&pricey, &p, &[], &[], &price_policy);
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::PriceVariance]);
}

// ---- beyond the seed: vendor, currency, PO ----

#[test]
fn vendor_must_be_the_pos() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    inv.vendor_id = "ven-2".into();
    let r = run(&inv, &p);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::VendorMismatch]);
    assert!(!r.validation_summary.vendor_match);
}

#[test]
fn currency_must_be_the_pos() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    inv.currency = Currency::EUR;
    let r = run(&inv, &p);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::CurrencyMismatch]);
    assert!(!r.validation_summary.currency_match);
    assert!(!r.validation_summary.total_amount_match);
}

#[test]
fn invoice_must_name_this_po() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    inv.po_id = "po-2".into();
    let r = run(&inv, &p);
    assert_eq!(codes(&r), vec![C::PoMismatch]);
    assert_eq!(r.outcome, MatchOutcome::Rejected);
}

// ---- beyond the seed: cumulative invoicing ----

#[test]
fn a_second_full_invoice_on_the_po_is_rejected() {
    let p = seed_po();
    let first = with_status(invoice_for(&p), InvoiceStatus::Matched);
    let mut second = invoice_for(&p);
    second.id = "inv-2".into();
    let r = match_invoice(&second, &p, &[], std::slice::from_ref(&first), &seed());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::CumulativeExceedsPoTotal]);
    assert_eq!(r.validation_summary.previously_invoiced, dec!(1250.00));
    assert!(!r.validation_summary.cumulative_within_po_total);
    let d = &r.discrepancies[0];
    assert_eq!(d.actual.as_deref(), Some("2500.00"));
}

#[test]
fn only_billed_invoices_on_this_po_count_as_prior() {
    let p = seed_po();
    let inv = invoice_for(&p);
    let mut other_po = with_status(invoice_for(&p), InvoiceStatus::Paid);
    other_po.id = "inv-8".into();
    other_po.po_id = "po-9".into();
    let mut rejected = with_status(invoice_for(&p), InvoiceStatus::Rejected);
    rejected.id = "inv-7".into();
    let mut pending = invoice_for(&p);
    pending.id = "inv-6".into();
    // The invoice itself, already matched once (a re-run), is not its own prior.
    let itself = with_status(invoice_for(&p), InvoiceStatus::Matched);
    let r = match_invoice(
        &inv,
        &p,
        &[],
        &[other_po, rejected, pending, itself],
        &seed(),
    );
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert_eq!(r.validation_summary.previously_invoiced, dec!(0));
    for status in [InvoiceStatus::Approved, InvoiceStatus::Paid] {
        let mut prior = with_status(invoice_for(&p), status);
        prior.id = "inv-0".into();
        let r = match_invoice(&inv, &p, &[], &[prior], &seed());
        assert!(r.has(C::CumulativeExceedsPoTotal), "{status}");
    }
}

// ---- beyond the seed: partial invoicing ----

fn partial() -> MatchPolicy {
    MatchPolicy {
        allow_partial: true,
        ..seed()
    }
}

#[test]
fn partial_invoices_add_up_to_the_po() {
    let p = po(&[(dec!(10), dec!(5.00)), (dec!(4), dec!(20.00))]); // 130.00
    let first = invoice("inv-1", &[(1, dec!(6), dec!(5.00))]);
    let r = match_invoice(&first, &p, &[], &[], &partial());
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert_eq!(r.validation_summary.expected_total, dec!(30.00));
    // Without partial invoicing the seed's rules reject it.
    let r = match_invoice(&first, &p, &[], &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert!(r.has(C::LineCountMismatch) && r.has(C::QuantityMismatch));

    let first = with_status(first, InvoiceStatus::Matched);
    let second = invoice(
        "inv-2",
        &[(1, dec!(4), dec!(5.00)), (2, dec!(4), dec!(20.00))],
    );
    let r = match_invoice(&second, &p, &[], std::slice::from_ref(&first), &partial());
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert_eq!(r.validation_summary.previously_invoiced, dec!(30.00));

    let second = with_status(second, InvoiceStatus::Approved);
    let third = invoice("inv-3", &[(2, dec!(1), dec!(20.00))]);
    let r = match_invoice(&third, &p, &[], &[first, second], &partial());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(
        codes(&r),
        vec![C::CumulativeExceedsPoTotal, C::QuantityExceedsOrdered]
    );
}

#[test]
fn partial_invoice_lines_must_map_to_po_lines() {
    let p = po(&[(dec!(10), dec!(5.00)), (dec!(4), dec!(20.00))]);
    let inv = invoice(
        "inv-1",
        &[(1, dec!(2), dec!(5.00)), (9, dec!(1), dec!(1.00))],
    );
    let r = match_invoice(&inv, &p, &[], &[], &partial());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert!(r.has(C::UnmatchedLine));
    let d = r
        .discrepancies
        .iter()
        .find(|d| d.code == C::UnmatchedLine)
        .unwrap();
    assert_eq!((d.line_no, d.po_line_no), (Some(2), Some(9)));
}

#[test]
fn partial_invoice_total_is_compared_with_po_prices_of_billed_quantities() {
    let p = po(&[(dec!(10), dec!(5.00)), (dec!(4), dec!(20.00))]);
    let inv = with_subtotal(invoice("inv-1", &[(2, dec!(2), dec!(20.00))]), dec!(45.00));
    let r = match_invoice(&inv, &p, &[], &[], &partial());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert_eq!(codes(&r), vec![C::TotalAmountMismatch]);
    assert_eq!(r.discrepancies[0].expected.as_deref(), Some("40.00"));
}

#[test]
fn partial_invoice_without_lines_needs_review() {
    let p = po(&[(dec!(10), dec!(5.00))]);
    let inv = with_subtotal(invoice("inv-1", &[]), dec!(20.00));
    let r = match_invoice(&inv, &p, &[], &[], &partial());
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::LinesMissing]);
}

// ---- beyond the seed: three-way matching ----

#[test]
fn three_way_billed_quantity_covered_by_receipts_matches() {
    let p = seed_po();
    let receipts = [
        receipt("gr-1", &[(1, dec!(30))]),
        receipt("gr-2", &[(1, dec!(20)), (2, dec!(10))]),
    ];
    let r = match_invoice(&invoice_for(&p), &p, &receipts, &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    assert!(r.validation_summary.three_way && r.validation_summary.receipts_match);
}

#[test]
fn three_way_billing_more_than_received_needs_review() {
    let p = seed_po();
    let receipts = [receipt("gr-1", &[(1, dec!(45)), (2, dec!(10))])];
    let r = match_invoice(&invoice_for(&p), &p, &receipts, &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::QuantityExceedsReceived]);
    let d = &r.discrepancies[0];
    assert_eq!(d.po_line_no, Some(1));
    assert_eq!(d.expected.as_deref(), Some("45"));
    assert_eq!(d.actual.as_deref(), Some("50"));
    assert!(!r.validation_summary.receipts_match);
    // Two-way only: the receipts are ignored.
    let two_way = MatchPolicy {
        receipts: ReceiptMatching::Never,
        ..seed()
    };
    let r = match_invoice(&invoice_for(&p), &p, &receipts, &[], &two_way);
    assert_eq!(r.outcome, MatchOutcome::Matched);
    assert!(!r.validation_summary.three_way);
}

#[test]
fn three_way_line_without_receipt_needs_review() {
    let p = seed_po();
    let receipts = [receipt("gr-1", &[(1, dec!(50))])];
    let r = match_invoice(&invoice_for(&p), &p, &receipts, &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::QuantityExceedsReceived]);
    assert_eq!(r.discrepancies[0].po_line_no, Some(2));
}

#[test]
fn three_way_subtracts_quantities_already_billed() {
    let p = po(&[(dec!(10), dec!(5.00))]);
    let receipts = [receipt("gr-1", &[(1, dec!(8))])];
    let first = with_status(
        invoice("inv-1", &[(1, dec!(6), dec!(5.00))]),
        InvoiceStatus::Matched,
    );
    let ok = invoice("inv-2", &[(1, dec!(2), dec!(5.00))]);
    let r = match_invoice(&ok, &p, &receipts, std::slice::from_ref(&first), &partial());
    assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
    let over = invoice("inv-2", &[(1, dec!(3), dec!(5.00))]);
    let r = match_invoice(&over, &p, &receipts, &[first], &partial());
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::QuantityExceedsReceived]);
    assert_eq!(r.discrepancies[0].expected.as_deref(), Some("2"));
}

#[test]
fn receipts_of_other_pos_are_ignored() {
    let p = seed_po();
    let mut foreign = receipt("gr-9", &[(1, dec!(1))]);
    foreign.po_id = "po-9".into();
    let r = match_invoice(&invoice_for(&p), &p, &[foreign], &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::Matched);
    assert!(!r.validation_summary.three_way);
}

#[test]
fn required_three_way_without_receipts_needs_review() {
    let p = seed_po();
    let required = MatchPolicy {
        receipts: ReceiptMatching::Required,
        ..seed()
    };
    let r = match_invoice(&invoice_for(&p), &p, &[], &[], &required);
    assert_eq!(r.outcome, MatchOutcome::NeedsReview);
    assert_eq!(codes(&r), vec![C::ReceiptMissing]);
    let receipts: Vec<GoodsReceipt> = vec![receipt("gr-1", &[(1, dec!(50)), (2, dec!(10))])];
    let r = match_invoice(&invoice_for(&p), &p, &receipts, &[], &required);
    assert_eq!(r.outcome, MatchOutcome::Matched);
}

#[test]
fn rejection_wins_over_review() {
    let p = seed_po();
    let mut inv = invoice_for(&p);
    inv.vendor_id = "ven-2".into();
    let receipts = [receipt("gr-1", &[(1, dec!(1))])];
    let r = match_invoice(&inv, &p, &receipts, &[], &seed());
    assert_eq!(r.outcome, MatchOutcome::Rejected);
    assert!(r.has(C::QuantityExceedsReceived) && r.has(C::VendorMismatch));
}

// ---- report JSON ----

#[test]
fn report_json_has_the_seed_summary_with_string_amounts() {
    let p = seed_po();
    let r = run(&with_subtotal(invoice_for(&p), dec!(1248.75)), &p);
    let v = serde_json::to_value(&r).unwrap();
    let s = &v["validation_summary"];
    assert_eq!(s["po_status_valid"], true);
    assert_eq!(s["total_amount_match"], true);
    assert_eq!(s["items_match"], true);
    assert_eq!(s["po_total"], "1250.00");
    assert_eq!(s["invoice_total"], "1248.75");
    assert_eq!(s["amount_difference"], "1.25");
    assert_eq!(v["outcome"], "matched");
    assert_eq!(v["discrepancies"], serde_json::json!([]));
    let back: MatchReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);

    let mut inv = invoice_for(&p);
    inv.lines[1].unit_price = dec!(26.00);
    let v = serde_json::to_value(run(&inv, &p)).unwrap();
    assert_eq!(v["outcome"], "rejected");
    let d = &v["discrepancies"][0];
    assert_eq!(d["code"], "price_mismatch");
    assert_eq!(d["severity"], "reject");
    assert_eq!(d["difference"], "1.00");
    assert_eq!(d["line_no"], 2);
}

// ---- reconcile: state change and audit entry ----

#[test]
fn reconcile_matched_stores_report_and_audits_in_the_seed_job_shape() {
    let p = seed_po();
    let inv = invoice_for(&p);
    let report = run(&with_subtotal(inv.clone(), dec!(1248.75)), &p);
    let ids = SequentialIds::default();
    let (updated, audit) = reconcile(
        &inv,
        &report,
        RECONCILIATION_JOB_ACTOR,
        ReconcileAction::Batch,
        &ids,
        now(),
    )
    .unwrap();
    assert_eq!(updated.status, InvoiceStatus::Matched);
    assert_eq!(updated.version, inv.version + 1);
    assert_eq!(updated.updated_at, now());
    let stored: MatchReport =
        serde_json::from_value(updated.match_report.clone().unwrap()).unwrap();
    assert_eq!(stored, report);

    assert_eq!(audit.id, "aud-000001");
    assert_eq!(audit.audit_type, AuditType::InvoiceAction);
    assert_eq!(audit.action, "BATCH_RECONCILE");
    assert_eq!(audit.entity_type, "Invoice");
    assert_eq!(audit.entity_id, "inv-1");
    assert_eq!(audit.user_id, "reconciliation_job");
    let d = &audit.details;
    assert_eq!(d["po_id"], "po-1");
    assert_eq!(d["invoice_number"], "N-inv-1");
    assert_eq!(d["reconciliation_status"], "matched");
    assert_eq!(d["processed_by"], "reconciliation_job");
    assert_eq!(d["discrepancies"], serde_json::json!([]));
    assert_eq!(d["validation_summary"]["amount_difference"], "1.25");
    let json = serde_json::to_value(&audit).unwrap();
    assert_eq!(json["type"], "INVOICE_ACTION");
}

#[test]
fn reconcile_rejected_and_needs_review() {
    let p = seed_po();
    let ids = SequentialIds::default();
    let mut bad = invoice_for(&p);
    bad.vendor_id = "ven-2".into();
    let report = run(&bad, &p);
    let (updated, audit) =
        reconcile(&bad, &report, "alice", ReconcileAction::Manual, &ids, now()).unwrap();
    assert_eq!(updated.status, InvoiceStatus::Rejected);
    assert_eq!(audit.action, "RECONCILE");
    assert_eq!(audit.user_id, "alice");
    assert_eq!(audit.details["reconciliation_status"], "rejected");
    assert_eq!(audit.details["discrepancies"][0]["code"], "vendor_mismatch");

    let receipts = [receipt("gr-1", &[(1, dec!(1))])];
    let inv = invoice_for(&p);
    let report = match_invoice(&inv, &p, &receipts, &[], &seed());
    let (held, _) =
        reconcile(&inv, &report, "alice", ReconcileAction::Manual, &ids, now()).unwrap();
    assert_eq!(held.status, InvoiceStatus::NeedsReview);
    // Re-running on a held invoice that is still short refreshes it in place.
    let (again, _) = reconcile(
        &held,
        &report,
        "alice",
        ReconcileAction::Manual,
        &ids,
        now(),
    )
    .unwrap();
    assert_eq!(again.status, InvoiceStatus::NeedsReview);
    assert_eq!(again.version, held.version + 1);
    // Once the goods arrive it matches.
    let receipts = [receipt("gr-1", &[(1, dec!(50)), (2, dec!(10))])];
    let report = match_invoice(&held, &p, &receipts, &[], &seed());
    let (done, _) = reconcile(
        &held,
        &report,
        "alice",
        ReconcileAction::Manual,
        &ids,
        now(),
    )
    .unwrap();
    assert_eq!(done.status, InvoiceStatus::Matched);
}

#[test]
fn reconcile_refuses_foreign_reports_blank_actors_and_closed_invoices() {
    let p = seed_po();
    let inv = invoice_for(&p);
    let report = run(&inv, &p);
    let ids = SequentialIds::default();
    let mut other = inv.clone();
    other.id = "inv-2".into();
    assert!(reconcile(
        &other,
        &report,
        "alice",
        ReconcileAction::Manual,
        &ids,
        now()
    )
    .is_err());
    let err = reconcile(&inv, &report, " ", ReconcileAction::Manual, &ids, now()).unwrap_err();
    assert_eq!(err.field_errors()[0].field, "actor");
    let paid = with_status(inv.clone(), InvoiceStatus::Paid);
    assert!(reconcile(
        &paid,
        &report,
        "alice",
        ReconcileAction::Manual,
        &ids,
        now()
    )
    .is_err());
}
