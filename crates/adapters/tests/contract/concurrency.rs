//! Races and atomicity: the database, not read-then-write, decides who wins.

use std::sync::Arc;

use p2p_adapters::{
    ChangeSet, ConflictReason, Expect, InvoiceQuery, PageRequest, PaymentQuery, StoreError, Write,
};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment::PaymentStatus;
use p2p_core::vendor::VendorStatus;

use super::fixtures::*;
use super::Backend;

const RACERS: usize = 50;

pub async fn concurrent_duplicate_submissions_store_one_invoice(b: &Backend) {
    let ven = unique("ven");
    let base = invoice_number();
    let digits = &base[4..];
    // The same number, spelled differently: every spelling folds to one guard.
    let spellings = [
        format!("INV-{digits}"),
        format!("inv-{digits}"),
        format!(" INV {digits} "),
        format!("Inv_{digits}"),
        format!("inv/{}", digits.to_uppercase()),
    ];
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let store = Arc::clone(&b.store);
        let number = spellings[i % spellings.len()].clone();
        let inv = invoice(
            &ven,
            &unique("po"),
            &number,
            InvoiceStatus::Received,
            at(800),
        );
        tasks.push(tokio::spawn(async move {
            let id = inv.id.clone();
            let r = store
                .commit(
                    ChangeSet::new()
                        .write(Write::PutInvoice(inv.clone(), Expect::Absent))
                        .audit(invoice_created(&inv)),
                )
                .await;
            (id, r)
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        let (id, r) = t.await.unwrap();
        match r {
            Ok(()) => winners.push(id),
            Err(StoreError::DuplicateInvoice { vendor_id, .. }) => {
                assert_eq!(vendor_id, ven);
                losers.push(id)
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one submission stored");
    assert_eq!(losers.len(), RACERS - 1);

    let s = &b.store;
    let stored = s
        .list_invoices(
            &InvoiceQuery {
                vendor_id: Some(ven.clone()),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(stored.items.len(), 1);
    assert_eq!(stored.items[0].id, winners[0]);
    let trail = s
        .list_audit(&winners[0], &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(trail.items.len(), 1);
    assert_eq!(trail.items[0].action, action::CREATE);
    for id in losers.iter().take(10) {
        assert_eq!(s.get_invoice(id).await.unwrap(), None);
        assert!(s
            .list_audit(id, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty());
    }
    for n in &spellings {
        let found = s.find_invoice_by_number(&ven, n).await.unwrap();
        assert_eq!(found.map(|i| i.id), Some(winners[0].clone()), "{n}");
    }
}

pub async fn concurrent_approvals_create_one_payment(b: &Backend) {
    let s = &b.store;
    let inv = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Matched,
        at(900),
    );
    s.commit(ChangeSet::new().write(Write::PutInvoice(inv.clone(), Expect::Absent)))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let store = Arc::clone(&b.store);
        let inv = inv.clone();
        tasks.push(tokio::spawn(async move {
            let mut approved = inv.with_status(InvoiceStatus::Approved, at(901)).unwrap();
            approved.approved_by = Some(format!("approver-{i}"));
            let mut pay = payment(&inv, PaymentStatus::Approved, at(901));
            pay.approved_by = format!("approver-{i}");
            store
                .commit(
                    ChangeSet::new()
                        .write(Write::PutPayment(pay.clone(), Expect::Absent))
                        .write(Write::PutInvoice(approved, Expect::Version(inv.version)))
                        .audit(audit(
                            AuditType::PaymentAction,
                            action::CREATE,
                            entity::PAYMENT,
                            &pay.id,
                            at(901),
                        ))
                        .audit(audit(
                            AuditType::InvoiceAction,
                            action::APPROVE,
                            entity::INVOICE,
                            &inv.id,
                            at(901),
                        )),
                )
                .await
                .map(|()| i)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(i) => winners.push(i),
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one approval committed");
    let winner = format!("approver-{}", winners[0]);

    let stored = s.get_invoice(&inv.id).await.unwrap().unwrap();
    assert_eq!(stored.status, InvoiceStatus::Approved);
    assert_eq!(stored.version, inv.version + 1);
    assert_eq!(stored.approved_by.as_deref(), Some(winner.as_str()));
    let pay = s.get_payment_for_invoice(&inv.id).await.unwrap().unwrap();
    assert_eq!(pay.approved_by, winner, "the payment is the winner's");
    let by_invoice = s
        .list_payments(
            &PaymentQuery {
                invoice_id: Some(inv.id.clone()),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(by_invoice.items.len(), 1);
    let inv_trail = s
        .list_audit(&inv.id, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(inv_trail.items.len(), 1, "one approval audit");
    let pay_trail = s
        .list_audit(&pay.id, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(pay_trail.items.len(), 1, "one payment audit");
}

pub async fn concurrent_updates_with_one_version_one_wins(b: &Backend) {
    let s = &b.store;
    let v = vendor(VendorStatus::Active, at(1000));
    s.commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
        .await
        .unwrap();
    let update = |name: &str| {
        let mut u = v.clone();
        u.name = name.to_string();
        u.version = v.version + 1;
        let store = Arc::clone(&b.store);
        let expected = v.version;
        tokio::spawn(async move {
            store
                .commit(ChangeSet::new().write(Write::PutVendor(u, Expect::Version(expected))))
                .await
        })
    };
    let (a, c) = (update("Alpha"), update("Charlie"));
    let results = [a.await.unwrap(), c.await.unwrap()];
    let oks = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(oks, 1, "{results:?}");
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(
            loser,
            StoreError::Conflict {
                reason: ConflictReason::VersionMismatch { expected: 1 },
                ..
            }
        ),
        "{loser:?}"
    );
    let stored = s.get_vendor(&v.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    let winner_name = if results[0].is_ok() {
        "Alpha"
    } else {
        "Charlie"
    };
    assert_eq!(stored.name, winner_name);
}

pub async fn failed_change_set_leaves_nothing(b: &Backend) {
    let s = &b.store;
    let existing = vendor(VendorStatus::Active, at(1100));
    s.commit(ChangeSet::new().write(Write::PutVendor(existing.clone(), Expect::Absent)))
        .await
        .unwrap();
    let fresh = vendor(VendorStatus::Active, at(1101));
    let mut stale = existing.clone();
    stale.name = "Stale write".into();
    stale.version = 9;
    let e = s
        .commit(
            ChangeSet::new()
                .write(Write::PutVendor(fresh.clone(), Expect::Absent))
                .write(Write::PutVendor(stale, Expect::Version(8)))
                .audit(audit(
                    AuditType::VendorAction,
                    action::CREATE,
                    entity::VENDOR,
                    &fresh.id,
                    at(1101),
                ))
                .audit(audit(
                    AuditType::VendorAction,
                    action::UPDATE,
                    entity::VENDOR,
                    &existing.id,
                    at(1101),
                )),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                reason: ConflictReason::VersionMismatch { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        s.get_vendor(&fresh.id).await.unwrap(),
        None,
        "first write rolled back"
    );
    assert_eq!(
        s.get_vendor(&existing.id).await.unwrap().as_ref(),
        Some(&existing)
    );
    for id in [&fresh.id, &existing.id] {
        assert!(
            s.list_audit(id, &PageRequest::first(10))
                .await
                .unwrap()
                .items
                .is_empty(),
            "no audit entry for {id}"
        );
    }
}

pub async fn failed_invoice_change_set_claims_no_number(b: &Backend) {
    let s = &b.store;
    let paid = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Approved,
        at(1200),
    );
    let pay = payment(&paid, PaymentStatus::Approved, at(1200));
    s.commit(ChangeSet::new().write(Write::PutPayment(pay.clone(), Expect::Absent)))
        .await
        .unwrap();

    let ven = unique("ven");
    let number = invoice_number();
    let inv = invoice(
        &ven,
        &unique("po"),
        &number,
        InvoiceStatus::Received,
        at(1201),
    );
    let e = s
        .commit(
            ChangeSet::new()
                .write(Write::PutInvoice(inv.clone(), Expect::Absent))
                .write(Write::PutPayment(pay.clone(), Expect::Absent))
                .audit(invoice_created(&inv)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                reason: ConflictReason::AlreadyExists,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(s.get_invoice(&inv.id).await.unwrap(), None);
    assert_eq!(s.find_invoice_by_number(&ven, &number).await.unwrap(), None);
    assert!(s
        .list_audit(&inv.id, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    // The number was never claimed: a retry without the bad write succeeds.
    s.commit(
        ChangeSet::new()
            .write(Write::PutInvoice(inv.clone(), Expect::Absent))
            .audit(invoice_created(&inv)),
    )
    .await
    .expect("retry succeeds");
    assert_eq!(s.get_invoice(&inv.id).await.unwrap().as_ref(), Some(&inv));
}
