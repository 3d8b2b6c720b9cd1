//! Property tests of the matcher: total (never panics), symmetric tolerance, identity matches,
//! prices beyond tolerance never match.

mod matching_support;

use matching_support::*;
use p2p_core::invoice::InvoiceStatus;
use p2p_core::matching::{match_invoice, MatchOutcome, MatchPolicy, ReceiptMatching};
use p2p_core::purchase_order::PoStatus;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A positive amount with 2 decimals.
fn price() -> impl Strategy<Value = Decimal> {
    (1i64..10_000_000).prop_map(|c| Decimal::new(c, 2))
}

fn quantity() -> impl Strategy<Value = Decimal> {
    (1i64..10_000).prop_map(Decimal::from)
}

/// Any decimal at all, including zero, negative and extreme ones.
fn wild() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        any::<i64>().prop_map(Decimal::from),
        (any::<i64>(), 0u32..28).prop_map(|(m, s)| Decimal::new(m, s)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
    ]
}

fn lines() -> impl Strategy<Value = Vec<(Decimal, Decimal)>> {
    prop::collection::vec((quantity(), price()), 1..20)
}

fn policy() -> impl Strategy<Value = MatchPolicy> {
    (
        0i64..500,
        0i64..500,
        prop::option::of(0i64..300),
        any::<bool>(),
        prop::sample::select(vec![
            ReceiptMatching::Never,
            ReceiptMatching::WhenReceiptsExist,
            ReceiptMatching::Required,
        ]),
    )
        .prop_map(|(t, p, r, partial, receipts)| MatchPolicy {
            total_tolerance_percent: Decimal::new(t, 2),
            price_tolerance_percent: Decimal::new(p, 2),
            review_above_percent: r.map(|r| Decimal::new(r, 2)),
            allow_partial: partial,
            receipts,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_any_numbers(
        po_lines in prop::collection::vec((wild(), wild()), 0..8),
        inv_lines in prop::collection::vec((0u32..10, wild(), wild()), 0..8),
        subtotal in wild(),
        receipt_lines in prop::collection::vec((0u32..10, wild()), 0..6),
        prior_lines in prop::collection::vec((0u32..10, wild(), wild()), 0..4),
        prior_subtotal in wild(),
        status in prop::sample::select(PoStatus::ALL.to_vec()),
        policy in policy(),
        wild_policy in (wild(), wild()),
    ) {
        let mut p = po(&po_lines);
        p.status = status;
        let mut inv = invoice("inv-1", &inv_lines);
        inv.subtotal = subtotal;
        let mut prior = with_status(invoice("inv-0", &prior_lines), InvoiceStatus::Paid);
        prior.subtotal = prior_subtotal;
        let receipts = [receipt("gr-1", &receipt_lines)];
        let r = match_invoice(&inv, &p, &receipts, &[prior.clone()], &policy);
        prop_assert_eq!(r.outcome == MatchOutcome::Matched, r.discrepancies.is_empty());
        let extreme = MatchPolicy {
            total_tolerance_percent: wild_policy.0,
            price_tolerance_percent: wild_policy.1,
            ..policy
        };
        let _ = match_invoice(&inv, &p, &receipts, &[prior], &extreme);
    }

    #[test]
    fn an_invoice_identical_to_its_po_always_matches(
        po_lines in lines(),
        status in prop::sample::select(vec![PoStatus::Approved, PoStatus::Sent]),
        policy in policy(),
    ) {
        let mut p = po(&po_lines);
        p.status = status;
        let inv = invoice_for(&p);
        let full_receipt: Vec<(u32, Decimal)> = p.lines.iter().map(|l| (l.line_no, l.quantity)).collect();
        let receipts = [receipt("gr-1", &full_receipt)];
        let r = match_invoice(&inv, &p, &receipts, &[], &policy);
        prop_assert_eq!(r.outcome, MatchOutcome::Matched, "{:?}", r.discrepancies);
        prop_assert_eq!(r.validation_summary.amount_difference, Decimal::ZERO);
    }

    /// Over- and under-billing the total by the same amount give the same outcome.
    #[test]
    fn total_tolerance_is_symmetric(
        po_lines in lines(),
        delta_cents in 0i64..100_000,
        policy in policy(),
    ) {
        let p = po(&po_lines);
        let delta = Decimal::new(delta_cents, 2);
        prop_assume!(p.total_amount > delta);
        let over = with_subtotal(invoice_for(&p), p.total_amount + delta);
        let under = with_subtotal(invoice_for(&p), p.total_amount - delta);
        let policy = MatchPolicy { allow_partial: false, ..policy };
        let ro = match_invoice(&over, &p, &[], &[], &policy);
        let ru = match_invoice(&under, &p, &[], &[], &policy);
        prop_assert_eq!(ro.validation_summary.total_amount_match, ru.validation_summary.total_amount_match);
        prop_assert_eq!(ro.validation_summary.amount_difference, ru.validation_summary.amount_difference);
        let total_codes = |r: &p2p_core::matching::MatchReport| r.discrepancies.iter()
            .filter(|d| matches!(d.code,
                p2p_core::matching::DiscrepancyCode::TotalAmountMismatch
                | p2p_core::matching::DiscrepancyCode::TotalAmountVariance))
            .map(|d| d.code)
            .collect::<Vec<_>>();
        prop_assert_eq!(total_codes(&ro), total_codes(&ru));
    }

    /// Moving one line's unit price past the price tolerance, up or down, never matches.
    #[test]
    fn a_price_beyond_tolerance_never_matches(
        po_lines in lines(),
        which in any::<prop::sample::Index>(),
        up in any::<bool>(),
        policy in policy(),
    ) {
        let p = po(&po_lines);
        let mut inv = invoice_for(&p);
        let i = which.index(inv.lines.len());
        let old = inv.lines[i].unit_price;
        let limit = old * policy.price_tolerance_percent / Decimal::ONE_HUNDRED;
        let step = limit.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero)
            + Decimal::new(1, 2);
        let new = if up { old + step } else { old - step };
        prop_assume!(new > Decimal::ZERO);
        inv.lines[i].unit_price = new;
        inv.lines[i].amount = (new * inv.lines[i].quantity).round_dp(2);
        let r = match_invoice(&inv, &p, &[], &[], &policy);
        prop_assert_ne!(r.outcome, MatchOutcome::Matched);
        prop_assert!(r.has(p2p_core::matching::DiscrepancyCode::PriceMismatch));
    }
}
