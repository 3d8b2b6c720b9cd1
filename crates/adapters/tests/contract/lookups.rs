//! Lookups by normalised key: vendors by tax id and by name, purchase orders by number.
//! Keys are shared by every test on one backend only through their fresh uuid part.

use p2p_adapters::{ChangeSet, Expect, Write, MAX_LOOKUP_MATCHES};
use p2p_core::purchase_order::{PoStatus, PurchaseOrder};
use p2p_core::vendor::{Vendor, VendorStatus};

use super::fixtures::*;
use super::Backend;

/// A fresh token of upper-case letters and digits (so its keys are predictable).
fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_uppercase()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_string()).collect()
}

fn vendor_ids(vs: &[Vendor]) -> Vec<String> {
    ids(vs, |v| &v.id)
}

fn po_ids(pos: &[PurchaseOrder]) -> Vec<String> {
    ids(pos, |p| &p.id)
}

async fn put_vendors(b: &Backend, vendors: &[Vendor]) {
    let mut changes = ChangeSet::new();
    for v in vendors {
        changes = changes.write(Write::PutVendor(v.clone(), Expect::Absent));
    }
    b.store.commit(changes).await.unwrap();
}

pub async fn vendors_found_by_tax_id_whatever_the_spacing_and_case(b: &Backend) {
    let s = &b.store;
    let t = token();
    let mut with_tax = vendor(VendorStatus::Active, at(0));
    with_tax.tax_id = Some(format!("DE {} {}", &t[..5], &t[5..]));
    let mut other = vendor(VendorStatus::Active, at(1));
    other.tax_id = Some(format!("DE{t}9"));
    let without = vendor(VendorStatus::Active, at(2));
    put_vendors(b, &[with_tax.clone(), other.clone(), without]).await;

    for asked in [
        format!("de{}", t.to_lowercase()),
        format!("DE-{}.{}", &t[..3], &t[3..]),
        format!(" DE {t} "),
    ] {
        let found = s.find_vendors_by_tax_id(&asked).await.unwrap();
        assert_eq!(found, vec![with_tax.clone()], "tax id `{asked}`");
    }

    // Updates move the key; a delete removes it.
    let mut moved = with_tax.clone();
    moved.tax_id = Some(format!("FR {t}"));
    moved.version = 2;
    s.commit(ChangeSet::new().write(Write::PutVendor(moved.clone(), Expect::Version(1))))
        .await
        .unwrap();
    assert!(s
        .find_vendors_by_tax_id(&format!("DE{t}"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.find_vendors_by_tax_id(&format!("fr{t}")).await.unwrap(),
        vec![moved.clone()]
    );
    moved.tax_id = None;
    moved.version = 3;
    s.commit(ChangeSet::new().write(Write::PutVendor(moved.clone(), Expect::Version(2))))
        .await
        .unwrap();
    assert!(s
        .find_vendors_by_tax_id(&format!("FR{t}"))
        .await
        .unwrap()
        .is_empty());
    s.commit(ChangeSet::new().write(Write::DeleteVendor {
        id: other.id.clone(),
        version: 1,
    }))
    .await
    .unwrap();
    assert!(s
        .find_vendors_by_tax_id(&format!("DE{t}9"))
        .await
        .unwrap()
        .is_empty());
}

pub async fn vendors_found_by_name_whatever_the_legal_form(b: &Backend) {
    let s = &b.store;
    let t = token();
    let named = |name: String, n: i64| {
        let mut v = vendor(VendorStatus::Active, at(n));
        v.name = name;
        v
    };
    // Names are not unique: both are returned, oldest first.
    let gmbh = named(format!("Acme {t} GmbH"), 5);
    let inc = named(format!("ACME {t}, Inc."), 3);
    let trading = named(format!("Acme {t} Trading"), 4);
    put_vendors(b, &[gmbh.clone(), inc.clone(), trading.clone()]).await;

    for asked in [
        format!("acme {}", t.to_lowercase()),
        format!("Acme {t} Ltd"),
        format!("ACME  {t} Co. Ltd."),
    ] {
        let found = s.find_vendors_by_name(&asked).await.unwrap();
        assert_eq!(
            vendor_ids(&found),
            vec![inc.id.clone(), gmbh.id.clone()],
            "name `{asked}`"
        );
    }
    assert_eq!(
        s.find_vendors_by_name(&format!("acme-{t}-trading"))
            .await
            .unwrap(),
        vec![trading.clone()]
    );

    // A rename moves the vendor to its new key.
    let mut renamed = trading.clone();
    renamed.name = format!("Zeta {t} AG");
    renamed.version = 2;
    s.commit(ChangeSet::new().write(Write::PutVendor(renamed.clone(), Expect::Version(1))))
        .await
        .unwrap();
    assert!(s
        .find_vendors_by_name(&format!("Acme {t} Trading"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.find_vendors_by_name(&format!("zeta {t}")).await.unwrap(),
        vec![renamed]
    );
}

pub async fn vendor_lookups_are_bounded_oldest_first(b: &Backend) {
    let t = token();
    let many: Vec<Vendor> = (0..i64::from(MAX_LOOKUP_MATCHES) + 5)
        .map(|i| {
            // Created out of order: the lookup sorts, not the insertion.
            let mut v = vendor(VendorStatus::Active, at(100 - i));
            v.name = format!("Common {t} Ltd");
            v.tax_id = Some(format!("X{t}"));
            v
        })
        .collect();
    put_vendors(b, &many).await;
    let mut expected: Vec<&Vendor> = many.iter().collect();
    expected.sort_by_key(|v| created_sk(v.created_at, &v.id));
    let expected: Vec<String> = expected
        .iter()
        .take(MAX_LOOKUP_MATCHES as usize)
        .map(|v| v.id.clone())
        .collect();
    let by_name = b
        .store
        .find_vendors_by_name(&format!("common {t}"))
        .await
        .unwrap();
    assert_eq!(vendor_ids(&by_name), expected);
    let by_tax = b
        .store
        .find_vendors_by_tax_id(&format!("x{t}"))
        .await
        .unwrap();
    assert_eq!(vendor_ids(&by_tax), expected);
}

pub async fn purchase_orders_found_by_number(b: &Backend) {
    let s = &b.store;
    let t = token();
    let mut first = purchase_order(&unique("ven"), PoStatus::Approved, at(20));
    first.po_number = format!("PO-{t}");
    // Another vendor's PO with the same number (numbers are not unique across vendors).
    let mut second = purchase_order(&unique("ven"), PoStatus::Sent, at(30));
    second.po_number = format!("po {t}");
    let unrelated = purchase_order(&first.vendor_id, PoStatus::Approved, at(25));
    let mut changes = ChangeSet::new();
    for po in [&second, &first, &unrelated] {
        changes = changes.write(Write::PutPurchaseOrder(po.clone(), Expect::Absent));
    }
    s.commit(
        changes
            .write(Write::PutGoodsReceipt(goods_receipt(&first.id, at(40))))
            .write(Write::PutGoodsReceipt(goods_receipt(&second.id, at(41)))),
    )
    .await
    .unwrap();

    for asked in [format!("PO{t}"), format!("po-{}", t.to_lowercase())] {
        let found = s.find_purchase_orders_by_number(&asked).await.unwrap();
        assert_eq!(
            found,
            vec![first.clone(), second.clone()],
            "number `{asked}` (receipts never appear)"
        );
    }

    // A renumbered PO is found by its new number only.
    let mut renumbered = second.clone();
    renumbered.po_number = format!("PO-{t}-B");
    renumbered.version = 2;
    s.commit(ChangeSet::new().write(Write::PutPurchaseOrder(
        renumbered.clone(),
        Expect::Version(1),
    )))
    .await
    .unwrap();
    assert!(
        po_ids(&s.find_purchase_orders_by_number(&t).await.unwrap()).is_empty(),
        "the bare token is not the number"
    );
    assert_eq!(
        s.find_purchase_orders_by_number(&format!("PO {t}"))
            .await
            .unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        s.find_purchase_orders_by_number(&format!("po{t}b"))
            .await
            .unwrap(),
        vec![renumbered]
    );
}

pub async fn lookups_of_unknown_or_empty_keys_find_nothing(b: &Backend) {
    let s = &b.store;
    let t = token();
    assert!(s
        .find_vendors_by_tax_id(&format!("ZZ{t}"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .find_vendors_by_name(&format!("Nobody {t} GmbH"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .find_purchase_orders_by_number(&format!("PO-NONE-{t}"))
        .await
        .unwrap()
        .is_empty());
    // Keys with nothing left after normalising match nothing (and are not an error).
    for empty in ["", "  ", " - / . "] {
        assert!(s.find_vendors_by_tax_id(empty).await.unwrap().is_empty());
        assert!(s.find_vendors_by_name(empty).await.unwrap().is_empty());
        assert!(s
            .find_purchase_orders_by_number(empty)
            .await
            .unwrap()
            .is_empty());
    }
}
