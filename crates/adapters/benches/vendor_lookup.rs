//! Resolving an extracted invoice's vendor on the local store with 10,000 vendors: the
//! key lookups (one index search each) against what the resolver did before them (paging
//! through every vendor and comparing normalised tax ids).
//!
//! `cargo bench -p p2p-adapters --bench vendor_lookup -- --warm-up-time 1 --measurement-time 3`

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use p2p_adapters::local::LocalStore;
use p2p_adapters::{
    ChangeSet, Expect, PageRequest, UnitOfWork, VendorQuery, VendorRepository, Write,
};
use p2p_core::vendor::{tax_id_key, Email, PaymentTerms, Vendor, VendorStatus};

const VENDORS: u64 = 10_000;

fn vendor(n: u64) -> Vendor {
    let at = Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).single().unwrap()
        + Duration::milliseconds(n as i64);
    Vendor {
        id: format!("ven-{n:05}"),
        name: format!("Supplier {n} GmbH"),
        email: Email::parse("ap@vendor.example").unwrap(),
        phone: None,
        address: None,
        tax_id: Some(format!("DE {:09}", 100_000_000 + n)),
        payment_terms: PaymentTerms::default(),
        status: VendorStatus::Active,
        bank_account: None,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// The resolver before the lookups: every vendor, a page at a time.
async fn by_paging(store: &LocalStore, tax_id: &str) -> Option<Vendor> {
    let wanted = tax_id_key(tax_id);
    let mut page = PageRequest::first(100);
    loop {
        let p = store
            .list_vendors(&VendorQuery::default(), &page)
            .await
            .unwrap();
        if let Some(v) = p
            .items
            .into_iter()
            .find(|v| v.tax_id.as_deref().map(tax_id_key).as_deref() == Some(&wanted))
        {
            return Some(v);
        }
        page.cursor = Some(p.next_cursor?);
    }
}

fn lookups(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    rt.block_on(async {
        for chunk in (0..VENDORS).collect::<Vec<_>>().chunks(50) {
            let mut changes = ChangeSet::new();
            for n in chunk {
                changes = changes.write(Write::PutVendor(vendor(*n), Expect::Absent));
            }
            store.commit(changes).await.unwrap();
        }
    });
    // The last vendor: the worst case for paging, any case for the index.
    let tax_id = format!("de{}", 100_000_000 + VENDORS - 1);
    let name = format!("SUPPLIER {} gmbh", VENDORS - 1);
    let expected = vendor(VENDORS - 1).id;
    rt.block_on(async {
        assert_eq!(
            by_paging(&store, &tax_id).await.map(|v| v.id),
            Some(expected.clone())
        );
        let found = store.find_vendors_by_tax_id(&tax_id).await.unwrap();
        assert_eq!(found.first().map(|v| v.id.clone()), Some(expected.clone()));
        let found = store.find_vendors_by_name(&name).await.unwrap();
        assert_eq!(found.first().map(|v| v.id.clone()), Some(expected));
    });

    let mut group = c.benchmark_group("vendor_lookup_10k");
    group.bench_function("find_vendors_by_tax_id", |b| {
        b.iter(|| rt.block_on(store.find_vendors_by_tax_id(&tax_id)).unwrap())
    });
    group.bench_function("find_vendors_by_name", |b| {
        b.iter(|| rt.block_on(store.find_vendors_by_name(&name)).unwrap())
    });
    group.sample_size(10);
    group.bench_function("page_through_all_vendors", |b| {
        b.iter(|| rt.block_on(by_paging(&store, &tax_id)))
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
