//! Payment file rendering. Budgets (issue): Workday XML + JSON of one payment <= 10 µs;
//! a pain.001.001.09 file of 1,000 payments <= 5 ms.

use std::collections::HashMap;
use std::hint::black_box;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p2p_core::money::Currency;
use p2p_core::payment::{payment_id_for, Payment, PaymentStatus};
use p2p_core::payment_files::{
    render_pain001, render_workday_json, render_workday_xml, Creditor, Debtor, Pain001Batch,
    TransferOrder,
};
use p2p_core::vendor::{BankAccount, Bic, Iban};
use rust_decimal::Decimal;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn payment(n: usize) -> Payment {
    let invoice_id = format!("inv-{n:08}");
    let t = at("2025-07-21T18:33:00Z");
    Payment {
        id: payment_id_for(&invoice_id),
        invoice_id,
        vendor_id: format!("ven-{}", n % 50),
        invoice_number: format!("INV-2025-{n:06}"),
        amount: Decimal::new(10_000 + (n as i64) * 137, 2),
        currency: if n.is_multiple_of(5) {
            Currency::parse("CHF").unwrap_or(Currency::EUR)
        } else {
            Currency::EUR
        },
        status: PaymentStatus::Approved,
        approved_by: "approver@example.com".into(),
        approved_at: t,
        xml_s3_key: None,
        json_s3_key: None,
        workday_confirmed_at: None,
        workday_callback_received: false,
        notes: None,
        created_at: t,
        updated_at: t,
        version: 1,
    }
}

fn workday(c: &mut Criterion) {
    let p = payment(1);
    c.bench_function("workday_xml_and_json_one_payment", |b| {
        b.iter(|| {
            let xml = render_workday_xml(black_box(&p));
            let json = render_workday_json(black_box(&p));
            (xml, json)
        })
    });
}

fn pain001(c: &mut Criterion) {
    let accounts = [
        ("GB82WEST12345698765432", "NWBKGB2L"),
        ("FR1420041010050500013M02606", "BNPAFRPPXXX"),
        ("NL91ABNA0417164300", "ABNANL2A"),
        ("BE68539007547034", "GEBABEBB"),
        ("CH9300762011623852957", "UBSWCHZH80A"),
    ];
    let vendors: HashMap<String, (String, BankAccount)> = (0..50)
        .filter_map(|i| {
            let (iban, bic) = accounts[i % accounts.len()];
            let account = BankAccount::Iban {
                iban: Iban::parse(iban).ok()?,
                bic: Bic::parse(bic).ok()?,
            };
            Some((
                format!("ven-{i}"),
                (format!("Vendor {i} & Söhne GmbH"), account),
            ))
        })
        .collect();
    let debtor = Debtor {
        name: "Example Buyer GmbH".into(),
        iban: Iban::parse("DE89370400440532013000").expect("valid IBAN"),
        bic: Bic::parse("COBADEFFXXX").expect("valid BIC"),
    };
    let payments: Vec<Payment> = (0..1_000).map(payment).collect();
    let dates = [
        NaiveDate::from_ymd_opt(2025, 7, 23).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2025, 7, 24).unwrap_or_default(),
    ];
    let orders: Vec<TransferOrder<'_>> = payments
        .iter()
        .enumerate()
        .map(|(i, payment)| TransferOrder {
            payment,
            requested_execution_date: dates[i % 2],
        })
        .collect();
    let batch = Pain001Batch {
        message_id: "MSG-2025-07-22-0001",
        created_at: at("2025-07-22T08:00:00Z"),
        debtor: &debtor,
    };
    let mut group = c.benchmark_group("pain001");
    group.throughput(Throughput::Elements(orders.len() as u64));
    group.bench_function("1000_payments", |b| {
        b.iter(|| {
            render_pain001(black_box(&batch), black_box(&orders), |id| {
                vendors.get(id).map(|(name, account)| Creditor {
                    name,
                    account: Some(account),
                })
            })
        })
    });
    group.finish();
}

criterion_group!(benches, workday, pain001);
criterion_main!(benches);
