//! Records: create, read, update, delete, lists by each index, pagination, cursors, audit.

use p2p_adapters::{
    ChangeSet, ConflictReason, Expect, InvoiceQuery, PageRequest, PaymentQuery, PurchaseOrderQuery,
    StoreError, VendorQuery, Write,
};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment::PaymentStatus;
use p2p_core::purchase_order::PoStatus;
use p2p_core::vendor::VendorStatus;

use super::fixtures::*;
use super::Backend;

fn is_version_mismatch(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict {
            reason: ConflictReason::VersionMismatch { .. },
            ..
        }
    )
}

fn is_already_exists(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }
    )
}

pub async fn vendor_crud(b: &Backend) {
    let s = &b.store;
    let v = vendor(VendorStatus::Active, at(0));
    assert_eq!(s.get_vendor(&v.id).await.unwrap(), None);
    s.commit(
        ChangeSet::new()
            .write(Write::PutVendor(v.clone(), Expect::Absent))
            .audit(audit(
                AuditType::VendorAction,
                action::CREATE,
                entity::VENDOR,
                &v.id,
                at(0),
            )),
    )
    .await
    .unwrap();
    assert_eq!(s.get_vendor(&v.id).await.unwrap().as_ref(), Some(&v));

    let mut v2 = v.clone();
    v2.name = "Renamed Vendor".into();
    v2.status = VendorStatus::Suspended;
    v2.updated_at = at(5);
    v2.version = 2;
    s.commit(ChangeSet::new().write(Write::PutVendor(v2.clone(), Expect::Version(1))))
        .await
        .unwrap();
    assert_eq!(s.get_vendor(&v.id).await.unwrap().as_ref(), Some(&v2));

    s.commit(ChangeSet::new().write(Write::DeleteVendor {
        id: v.id.clone(),
        version: 2,
    }))
    .await
    .unwrap();
    assert_eq!(s.get_vendor(&v.id).await.unwrap(), None);
    let trail = s.list_audit(&v.id, &PageRequest::first(10)).await.unwrap();
    assert_eq!(trail.items.len(), 1, "only the create was audited");
    assert_eq!(trail.items[0].action, action::CREATE);
}

pub async fn purchase_order_crud_and_goods_receipts(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let po = purchase_order(&ven, PoStatus::Approved, at(10));
    s.commit(ChangeSet::new().write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)))
        .await
        .unwrap();
    assert_eq!(
        s.get_purchase_order(&po.id).await.unwrap().as_ref(),
        Some(&po)
    );

    let later = goods_receipt(&po.id, at(30));
    let earlier = goods_receipt(&po.id, at(20));
    for r in [&later, &earlier] {
        s.commit(ChangeSet::new().write(Write::PutGoodsReceipt(r.clone())))
            .await
            .unwrap();
    }
    assert_eq!(
        s.list_goods_receipts(&po.id).await.unwrap(),
        vec![earlier.clone(), later.clone()],
        "receipts oldest first"
    );
    let again = s
        .commit(ChangeSet::new().write(Write::PutGoodsReceipt(earlier.clone())))
        .await
        .unwrap_err();
    assert!(is_already_exists(&again), "{again:?}");
    assert!(s
        .list_goods_receipts(&unique("po"))
        .await
        .unwrap()
        .is_empty());

    let sent = po.with_status(PoStatus::Sent, at(40)).unwrap();
    s.commit(ChangeSet::new().write(Write::PutPurchaseOrder(
        sent.clone(),
        Expect::Version(po.version),
    )))
    .await
    .unwrap();
    assert_eq!(
        s.get_purchase_order(&po.id).await.unwrap().as_ref(),
        Some(&sent)
    );
    // A receipt's PO keeps its receipts listed under the PO, not as POs.
    let pos = s
        .list_purchase_orders(
            &PurchaseOrderQuery {
                vendor_id: Some(ven.clone()),
                status: None,
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(pos.items, vec![sent.clone()]);

    s.commit(ChangeSet::new().write(Write::DeletePurchaseOrder {
        id: po.id.clone(),
        version: sent.version,
    }))
    .await
    .unwrap();
    assert_eq!(s.get_purchase_order(&po.id).await.unwrap(), None);
}

pub async fn invoice_crud_and_number_lookup(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let number = invoice_number();
    let inv = invoice(&ven, &unique("po"), &number, InvoiceStatus::Received, at(0));
    s.commit(
        ChangeSet::new()
            .write(Write::PutInvoice(inv.clone(), Expect::Absent))
            .audit(invoice_created(&inv)),
    )
    .await
    .unwrap();
    assert_eq!(s.get_invoice(&inv.id).await.unwrap().as_ref(), Some(&inv));

    // The number lookup folds case and separators like the guard does.
    let spaced = format!(" {} ", number.to_lowercase().replace('-', " "));
    for n in [number.as_str(), spaced.as_str()] {
        let found = s.find_invoice_by_number(&ven, n).await.unwrap();
        assert_eq!(
            found.as_ref().map(|i| i.id.as_str()),
            Some(inv.id.as_str()),
            "{n}"
        );
    }
    assert_eq!(
        s.find_invoice_by_number(&unique("ven"), &number)
            .await
            .unwrap(),
        None,
        "numbers are unique per vendor"
    );

    let matched = inv.with_status(InvoiceStatus::Matched, at(60)).unwrap();
    s.commit(ChangeSet::new().write(Write::PutInvoice(
        matched.clone(),
        Expect::Version(inv.version),
    )))
    .await
    .unwrap();
    assert_eq!(
        s.get_invoice(&inv.id).await.unwrap().as_ref(),
        Some(&matched)
    );
    assert_eq!(
        s.find_invoice_by_number(&ven, &number)
            .await
            .unwrap()
            .as_ref(),
        Some(&matched),
        "the update kept the number's guard"
    );
}

pub async fn deleting_an_invoice_releases_its_number(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let number = invoice_number();
    let first = invoice(&ven, &unique("po"), &number, InvoiceStatus::Received, at(0));
    s.commit(ChangeSet::new().write(Write::PutInvoice(first.clone(), Expect::Absent)))
        .await
        .unwrap();

    let stale = s
        .commit(ChangeSet::new().write(Write::DeleteInvoice {
            invoice: Box::new(first.clone()),
            version: first.version + 1,
        }))
        .await
        .unwrap_err();
    assert!(is_version_mismatch(&stale), "{stale:?}");
    assert!(s.get_invoice(&first.id).await.unwrap().is_some());

    s.commit(ChangeSet::new().write(Write::DeleteInvoice {
        invoice: Box::new(first.clone()),
        version: first.version,
    }))
    .await
    .unwrap();
    assert_eq!(s.get_invoice(&first.id).await.unwrap(), None);
    assert_eq!(s.find_invoice_by_number(&ven, &number).await.unwrap(), None);

    let second = invoice(&ven, &unique("po"), &number, InvoiceStatus::Received, at(5));
    s.commit(ChangeSet::new().write(Write::PutInvoice(second.clone(), Expect::Absent)))
        .await
        .expect("the number is free again");
    assert_eq!(
        s.find_invoice_by_number(&ven, &number)
            .await
            .unwrap()
            .map(|i| i.id),
        Some(second.id)
    );
}

pub async fn payment_crud(b: &Backend) {
    let s = &b.store;
    let inv = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Approved,
        at(0),
    );
    let pay = payment(&inv, PaymentStatus::Approved, at(10));
    assert_eq!(s.get_payment_for_invoice(&inv.id).await.unwrap(), None);
    s.commit(ChangeSet::new().write(Write::PutPayment(pay.clone(), Expect::Absent)))
        .await
        .unwrap();
    assert_eq!(s.get_payment(&pay.id).await.unwrap().as_ref(), Some(&pay));
    assert_eq!(
        s.get_payment_for_invoice(&inv.id).await.unwrap().as_ref(),
        Some(&pay)
    );

    let sent = pay.confirm_by_workday(at(20)).unwrap();
    s.commit(ChangeSet::new().write(Write::PutPayment(
        sent.clone(),
        Expect::Version(pay.version),
    )))
    .await
    .unwrap();
    assert_eq!(s.get_payment(&pay.id).await.unwrap().as_ref(), Some(&sent));
    assert_eq!(s.get_payment(&unique("pay")).await.unwrap(), None);
}

pub async fn creating_an_existing_record_conflicts(b: &Backend) {
    let s = &b.store;
    let v = vendor(VendorStatus::Active, at(0));
    s.commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
        .await
        .unwrap();
    let mut other = v.clone();
    other.name = "Impostor".into();
    let e = s
        .commit(ChangeSet::new().write(Write::PutVendor(other, Expect::Absent)))
        .await
        .unwrap_err();
    assert!(is_already_exists(&e), "{e:?}");
    assert_eq!(s.get_vendor(&v.id).await.unwrap().as_ref(), Some(&v));

    let inv = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Matched,
        at(0),
    );
    let pay = payment(&inv, PaymentStatus::Approved, at(1));
    s.commit(ChangeSet::new().write(Write::PutPayment(pay.clone(), Expect::Absent)))
        .await
        .unwrap();
    let e = s
        .commit(ChangeSet::new().write(Write::PutPayment(pay.clone(), Expect::Absent)))
        .await
        .unwrap_err();
    assert!(is_already_exists(&e), "{e:?}");

    let po = purchase_order(&v.id, PoStatus::Draft, at(0));
    s.commit(ChangeSet::new().write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)))
        .await
        .unwrap();
    let e = s
        .commit(ChangeSet::new().write(Write::PutPurchaseOrder(po, Expect::Absent)))
        .await
        .unwrap_err();
    assert!(is_already_exists(&e), "{e:?}");
}

pub async fn stale_update_and_delete_conflict(b: &Backend) {
    let s = &b.store;
    let v = vendor(VendorStatus::Active, at(0));
    s.commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
        .await
        .unwrap();
    let mut v2 = v.clone();
    v2.version = 2;
    v2.name = "Second".into();
    let e = s
        .commit(ChangeSet::new().write(Write::PutVendor(v2.clone(), Expect::Version(7))))
        .await
        .unwrap_err();
    assert!(is_version_mismatch(&e), "{e:?}");
    // Updating something that does not exist is a mismatch too, not an upsert.
    let ghost = vendor(VendorStatus::Active, at(0));
    let e = s
        .commit(ChangeSet::new().write(Write::PutVendor(ghost.clone(), Expect::Version(1))))
        .await
        .unwrap_err();
    assert!(is_version_mismatch(&e), "{e:?}");
    assert_eq!(s.get_vendor(&ghost.id).await.unwrap(), None);

    let e = s
        .commit(ChangeSet::new().write(Write::DeleteVendor {
            id: v.id.clone(),
            version: 3,
        }))
        .await
        .unwrap_err();
    assert!(is_version_mismatch(&e), "{e:?}");
    let e = s
        .commit(ChangeSet::new().write(Write::DeletePurchaseOrder {
            id: unique("po"),
            version: 1,
        }))
        .await
        .unwrap_err();
    assert!(is_version_mismatch(&e), "{e:?}");
    assert_eq!(s.get_vendor(&v.id).await.unwrap().as_ref(), Some(&v));
}

pub async fn vendors_listed_by_status_oldest_first(b: &Backend) {
    let s = &b.store;
    // Created newest first, so insertion order cannot pass for time order.
    let mine: Vec<_> = (0..3)
        .rev()
        .map(|i| vendor(VendorStatus::Inactive, at(100 + i)))
        .collect();
    for v in &mine {
        s.commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    let active = vendor(VendorStatus::Active, at(100));
    s.commit(ChangeSet::new().write(Write::PutVendor(active.clone(), Expect::Absent)))
        .await
        .unwrap();

    let q = &VendorQuery {
        status: Some(VendorStatus::Inactive),
    };
    let all = collect_pages(2, |p| async move { s.list_vendors(q, &p).await }).await;
    assert!(all.iter().all(|v| v.status == VendorStatus::Inactive));
    let keys: Vec<_> = all
        .iter()
        .map(|v| created_sk(v.created_at, &v.id))
        .collect();
    assert_oldest_first(&keys, "vendors by status");
    let ids: Vec<String> = mine.iter().rev().map(|v| v.id.clone()).collect();
    assert_eq!(only_ours(all, &ids, |v| &v.id), ids);

    let everything = collect_pages(50, |p| async move {
        s.list_vendors(&VendorQuery::default(), &p).await
    })
    .await;
    let keys: Vec<_> = everything
        .iter()
        .map(|v| created_sk(v.created_at, &v.id))
        .collect();
    assert_oldest_first(&keys, "all vendors");
    // at(100) ties with mine[2] (also at(100)): order falls back to the id.
    let mut expected: Vec<_> = mine.iter().chain([&active]).collect();
    expected.sort_by_key(|v| created_sk(v.created_at, &v.id));
    let expected: Vec<String> = expected.iter().map(|v| v.id.clone()).collect();
    assert_eq!(only_ours(everything, &expected, |v| &v.id), expected);
}

pub async fn purchase_orders_listed_by_each_filter(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let other_ven = unique("ven");
    let statuses = [
        PoStatus::Approved,
        PoStatus::Draft,
        PoStatus::Approved,
        PoStatus::Sent,
    ];
    let mut mine = Vec::new();
    for (i, st) in statuses.iter().enumerate().rev() {
        mine.push(purchase_order(&ven, *st, at(200 + i as i64)));
    }
    mine.push(purchase_order(&other_ven, PoStatus::Approved, at(201)));
    for po in &mine {
        s.commit(ChangeSet::new().write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    // A receipt lives beside POs on some backends; it must never show up as a PO.
    s.commit(ChangeSet::new().write(Write::PutGoodsReceipt(goods_receipt(&mine[0].id, at(205)))))
        .await
        .unwrap();
    let sorted = |pred: &dyn Fn(&p2p_core::purchase_order::PurchaseOrder) -> bool| {
        let mut v: Vec<_> = mine.iter().filter(|p| pred(p)).collect();
        v.sort_by_key(|p| created_sk(p.created_at, &p.id));
        v.iter().map(|p| p.id.clone()).collect::<Vec<_>>()
    };

    let by_vendor = PurchaseOrderQuery {
        vendor_id: Some(ven.clone()),
        status: None,
    };
    let got = collect_pages(3, |p| {
        let q = by_vendor.clone();
        async move { s.list_purchase_orders(&q, &p).await }
    })
    .await;
    let ids: Vec<String> = got.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, sorted(&|p| p.vendor_id == ven), "by vendor");

    let by_both = PurchaseOrderQuery {
        vendor_id: Some(ven.clone()),
        status: Some(PoStatus::Approved),
    };
    let got = collect_pages(1, |p| {
        let q = by_both.clone();
        async move { s.list_purchase_orders(&q, &p).await }
    })
    .await;
    let ids: Vec<String> = got.iter().map(|p| p.id.clone()).collect();
    assert_eq!(
        ids,
        sorted(&|p| p.vendor_id == ven && p.status == PoStatus::Approved),
        "by vendor and status"
    );

    let by_status = PurchaseOrderQuery {
        vendor_id: None,
        status: Some(PoStatus::Approved),
    };
    let got = collect_pages(50, |p| {
        let q = by_status.clone();
        async move { s.list_purchase_orders(&q, &p).await }
    })
    .await;
    assert!(got.iter().all(|p| p.status == PoStatus::Approved));
    let keys: Vec<_> = got
        .iter()
        .map(|p| created_sk(p.created_at, &p.id))
        .collect();
    assert_oldest_first(&keys, "purchase orders by status");
    let expected = sorted(&|p| p.status == PoStatus::Approved);
    assert_eq!(only_ours(got, &expected, |p| &p.id), expected, "by status");

    let got = collect_pages(50, |p| async move {
        s.list_purchase_orders(&PurchaseOrderQuery::default(), &p)
            .await
    })
    .await;
    let keys: Vec<_> = got
        .iter()
        .map(|p| created_sk(p.created_at, &p.id))
        .collect();
    assert_oldest_first(&keys, "all purchase orders");
    let expected = sorted(&|_| true);
    assert_eq!(only_ours(got, &expected, |p| &p.id), expected, "all");
}

pub async fn invoices_listed_by_each_filter(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let po_a = unique("po");
    let po_b = unique("po");
    let specs = [
        (&po_a, InvoiceStatus::Received),
        (&po_b, InvoiceStatus::NeedsReview),
        (&po_a, InvoiceStatus::NeedsReview),
        (&po_a, InvoiceStatus::Matched),
        (&po_b, InvoiceStatus::NeedsReview),
    ];
    let mut mine = Vec::new();
    for (i, (po, st)) in specs.iter().enumerate().rev() {
        mine.push(invoice(
            &ven,
            po,
            &invoice_number(),
            *st,
            at(300 + i as i64),
        ));
    }
    mine.push(invoice(
        &unique("ven"),
        &po_a,
        &invoice_number(),
        InvoiceStatus::NeedsReview,
        at(302),
    ));
    for inv in &mine {
        s.commit(ChangeSet::new().write(Write::PutInvoice(inv.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    let sorted = |pred: &dyn Fn(&p2p_core::invoice::Invoice) -> bool| {
        let mut v: Vec<_> = mine.iter().filter(|i| pred(i)).collect();
        v.sort_by_key(|i| created_sk(i.created_at, &i.id));
        v.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    };
    let list = |q: InvoiceQuery, limit: u32| async move {
        collect_pages(limit, |p| {
            let q = q.clone();
            async move { s.list_invoices(&q, &p).await }
        })
        .await
    };
    let ids = |v: Vec<p2p_core::invoice::Invoice>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();

    let q = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    assert_eq!(
        ids(list(q, 2).await),
        sorted(&|i| i.vendor_id == ven),
        "by vendor"
    );
    let q = InvoiceQuery {
        po_id: Some(po_a.clone()),
        ..Default::default()
    };
    assert_eq!(ids(list(q, 2).await), sorted(&|i| i.po_id == po_a), "by po");
    let q = InvoiceQuery {
        po_id: Some(po_b.clone()),
        vendor_id: Some(ven.clone()),
        status: Some(InvoiceStatus::NeedsReview),
    };
    assert_eq!(
        ids(list(q, 1).await),
        sorted(&|i| i.po_id == po_b
            && i.vendor_id == ven
            && i.status == InvoiceStatus::NeedsReview),
        "by po, vendor and status"
    );
    let q = InvoiceQuery {
        po_id: Some(po_a.clone()),
        status: Some(InvoiceStatus::NeedsReview),
        ..Default::default()
    };
    assert_eq!(
        ids(list(q, 5).await),
        sorted(&|i| i.po_id == po_a && i.status == InvoiceStatus::NeedsReview),
        "by po and status"
    );

    let q = InvoiceQuery {
        status: Some(InvoiceStatus::NeedsReview),
        ..Default::default()
    };
    let got = list(q, 50).await;
    assert!(got.iter().all(|i| i.status == InvoiceStatus::NeedsReview));
    let keys: Vec<_> = got
        .iter()
        .map(|i| created_sk(i.created_at, &i.id))
        .collect();
    assert_oldest_first(&keys, "invoices by status");
    let expected = sorted(&|i| i.status == InvoiceStatus::NeedsReview);
    assert_eq!(only_ours(got, &expected, |i| &i.id), expected, "by status");

    let got = list(InvoiceQuery::default(), 50).await;
    let keys: Vec<_> = got
        .iter()
        .map(|i| created_sk(i.created_at, &i.id))
        .collect();
    assert_oldest_first(&keys, "all invoices");
    let expected = sorted(&|_| true);
    assert_eq!(only_ours(got, &expected, |i| &i.id), expected, "all");
}

/// An update moves an invoice between the lists its changed keys select (PO, status) and
/// leaves it in the one whose key it kept (vendor), in the same place.
pub async fn updated_keys_move_an_invoice_between_lists(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let (po_a, po_b) = (unique("po"), unique("po"));
    let inv = invoice(
        &ven,
        &po_a,
        &invoice_number(),
        InvoiceStatus::Received,
        at(400),
    );
    let other = invoice(
        &ven,
        &po_a,
        &invoice_number(),
        InvoiceStatus::Received,
        at(401),
    );
    for i in [&inv, &other] {
        s.commit(ChangeSet::new().write(Write::PutInvoice(i.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    let mut moved = inv.clone();
    moved.po_id = po_b.clone();
    moved.status = InvoiceStatus::NeedsReview;
    moved.version = 2;
    s.commit(ChangeSet::new().write(Write::PutInvoice(moved.clone(), Expect::Version(1))))
        .await
        .unwrap();
    let ids = |q: InvoiceQuery| async move {
        collect_pages(10, |p| {
            let q = q.clone();
            async move { s.list_invoices(&q, &p).await }
        })
        .await
        .into_iter()
        .map(|i| (i.id, i.version))
        .collect::<Vec<_>>()
    };
    let by_po = |po: &str| InvoiceQuery {
        po_id: Some(po.to_string()),
        ..Default::default()
    };
    assert_eq!(ids(by_po(&po_a)).await, vec![(other.id.clone(), 1)]);
    assert_eq!(ids(by_po(&po_b)).await, vec![(inv.id.clone(), 2)]);
    let by_vendor = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    assert_eq!(
        ids(by_vendor).await,
        vec![(inv.id.clone(), 2), (other.id.clone(), 1)],
        "still listed by its vendor, oldest first"
    );
    let review = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        status: Some(InvoiceStatus::NeedsReview),
        ..Default::default()
    };
    assert_eq!(ids(review).await, vec![(inv.id.clone(), 2)]);
    let received = InvoiceQuery {
        vendor_id: Some(ven),
        status: Some(InvoiceStatus::Received),
        ..Default::default()
    };
    assert_eq!(ids(received).await, vec![(other.id.clone(), 1)]);
    assert_eq!(s.get_invoice(&inv.id).await.unwrap(), Some(moved));
}

pub async fn payments_listed_by_each_filter(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    let statuses = [
        PaymentStatus::Approved,
        PaymentStatus::Sent,
        PaymentStatus::Approved,
    ];
    let mut mine = Vec::new();
    for (i, st) in statuses.iter().enumerate().rev() {
        let inv = invoice(
            &ven,
            &unique("po"),
            &invoice_number(),
            InvoiceStatus::Approved,
            at(400),
        );
        mine.push(payment(&inv, *st, at(400 + i as i64)));
    }
    for p in &mine {
        s.commit(ChangeSet::new().write(Write::PutPayment(p.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    let sorted = |pred: &dyn Fn(&p2p_core::payment::Payment) -> bool| {
        let mut v: Vec<_> = mine.iter().filter(|p| pred(p)).collect();
        v.sort_by_key(|p| created_sk(p.created_at, &p.id));
        v.iter().map(|p| p.id.clone()).collect::<Vec<_>>()
    };
    let list = |q: PaymentQuery, limit: u32| async move {
        collect_pages(limit, |p| {
            let q = q.clone();
            async move { s.list_payments(&q, &p).await }
        })
        .await
    };
    let ids = |v: Vec<p2p_core::payment::Payment>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();

    let q = PaymentQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    assert_eq!(ids(list(q, 2).await), sorted(&|_| true), "by vendor");
    let q = PaymentQuery {
        vendor_id: Some(ven.clone()),
        status: Some(PaymentStatus::Approved),
        ..Default::default()
    };
    assert_eq!(
        ids(list(q, 1).await),
        sorted(&|p| p.status == PaymentStatus::Approved),
        "by vendor and status"
    );
    let q = PaymentQuery {
        invoice_id: Some(mine[1].invoice_id.clone()),
        ..Default::default()
    };
    assert_eq!(
        ids(list(q, 5).await),
        vec![mine[1].id.clone()],
        "by invoice"
    );

    let q = PaymentQuery {
        status: Some(PaymentStatus::Sent),
        ..Default::default()
    };
    let got = list(q, 50).await;
    assert!(got.iter().all(|p| p.status == PaymentStatus::Sent));
    let keys: Vec<_> = got
        .iter()
        .map(|p| created_sk(p.created_at, &p.id))
        .collect();
    assert_oldest_first(&keys, "payments by status");
    let expected = sorted(&|p| p.status == PaymentStatus::Sent);
    assert_eq!(only_ours(got, &expected, |p| &p.id), expected, "by status");
}

pub async fn pagination_has_no_duplicates_or_gaps(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    // Seven invoices in scrambled time order, two sharing a timestamp (order by id then).
    let offsets = [4, 0, 6, 2, 2, 5, 1];
    let mut mine: Vec<_> = offsets
        .iter()
        .map(|o| {
            invoice(
                &ven,
                &unique("po"),
                &invoice_number(),
                InvoiceStatus::Received,
                at(500 + o),
            )
        })
        .collect();
    for inv in &mine {
        s.commit(ChangeSet::new().write(Write::PutInvoice(inv.clone(), Expect::Absent)))
            .await
            .unwrap();
    }
    mine.sort_by_key(|i| created_sk(i.created_at, &i.id));
    let expected: Vec<String> = mine.iter().map(|i| i.id.clone()).collect();
    let q = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    for limit in [1, 3, 7, 100] {
        let got = collect_pages(limit, |p| {
            let q = q.clone();
            async move { s.list_invoices(&q, &p).await }
        })
        .await;
        let ids: Vec<String> = got.into_iter().map(|i| i.id).collect();
        assert_eq!(ids, expected, "page size {limit}");
    }
    // The first page of three says there is more.
    let first = s.list_invoices(&q, &PageRequest::first(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert!(first.next_cursor.is_some());
    // An oversized request is clamped, not refused.
    let big = s
        .list_invoices(&q, &PageRequest::first(10_000))
        .await
        .unwrap();
    assert_eq!(big.items.len(), 7);
}

pub async fn tampered_or_foreign_cursor_is_invalid(b: &Backend) {
    let s = &b.store;
    let ven = unique("ven");
    for i in 0..3 {
        let inv = invoice(
            &ven,
            &unique("po"),
            &invoice_number(),
            InvoiceStatus::Received,
            at(600 + i),
        );
        s.commit(ChangeSet::new().write(Write::PutInvoice(inv, Expect::Absent)))
            .await
            .unwrap();
    }
    let q = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    let first = s.list_invoices(&q, &PageRequest::first(1)).await.unwrap();
    let cursor = first.next_cursor.expect("a second page");
    let with = |c: &str| PageRequest {
        limit: Some(1),
        cursor: Some(c.to_string()),
    };
    // The genuine cursor works.
    let second = s.list_invoices(&q, &with(&cursor)).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_ne!(second.items[0].id, first.items[0].id);

    let mut tampered: Vec<char> = cursor.chars().collect();
    let mid = tampered.len() / 3;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let truncated = &cursor[..cursor.len() - 2];
    for bad in [tampered.as_str(), truncated, "garbage", "", "a.b"] {
        let e = s.list_invoices(&q, &with(bad)).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "cursor `{bad}`: {e:?}");
    }
    // A cursor of the invoice list is refused by the other lists.
    let e = s
        .list_payments(&PaymentQuery::default(), &with(&cursor))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    let e = s
        .list_vendors(&VendorQuery::default(), &with(&cursor))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    let e = s.list_audit(&ven, &with(&cursor)).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
}

pub async fn audit_listed_by_entity_oldest_first(b: &Backend) {
    let s = &b.store;
    let v = vendor(VendorStatus::Active, at(700));
    let other = vendor(VendorStatus::Active, at(700));
    let entries: Vec<_> = [3, 1, 2]
        .iter()
        .map(|o| {
            audit(
                AuditType::VendorAction,
                action::UPDATE,
                entity::VENDOR,
                &v.id,
                at(700 + o),
            )
        })
        .collect();
    s.commit(
        ChangeSet::new()
            .write(Write::PutVendor(v.clone(), Expect::Absent))
            .write(Write::PutVendor(other.clone(), Expect::Absent))
            .audit(entries[0].clone())
            .audit(audit(
                AuditType::VendorAction,
                action::CREATE,
                entity::VENDOR,
                &other.id,
                at(700),
            )),
    )
    .await
    .unwrap();
    let mut next = v.clone();
    for e in &entries[1..] {
        let mut updated = next.clone();
        updated.version += 1;
        s.commit(
            ChangeSet::new()
                .write(Write::PutVendor(
                    updated.clone(),
                    Expect::Version(next.version),
                ))
                .audit(e.clone()),
        )
        .await
        .unwrap();
        next = updated;
    }
    let got = collect_pages(2, |p| {
        let id = v.id.clone();
        async move { s.list_audit(&id, &p).await }
    })
    .await;
    let mut expected = entries.clone();
    expected.sort_by_key(|e| created_sk(e.timestamp, &e.id));
    assert_eq!(
        got, expected,
        "the entity's trail, oldest first, as written"
    );
    let theirs = s
        .list_audit(&other.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.next_cursor, None);
    assert!(s
        .list_audit(&unique("ven"), &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
}
