//! Amount and date parsers on real-world formats, garbage, and arbitrary input.

use chrono::NaiveDate;
use p2p_core::extraction::*;
use p2p_core::money::Currency;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn cur(code: &str) -> Option<Currency> {
    Some(Currency::parse(code).unwrap())
}

#[test]
fn amounts_as_printed_on_invoices() {
    let cases: &[(&str, Decimal, Option<Currency>)] = &[
        ("$6,231.09", dec!(6231.09), cur("USD")),
        ("$6231.09", dec!(6231.09), cur("USD")),
        ("$5,715.00", dec!(5715.00), cur("USD")),
        ("1.234,56 €", dec!(1234.56), cur("EUR")),
        ("€1.234,56", dec!(1234.56), cur("EUR")),
        ("6 231,09", dec!(6231.09), None),
        ("6\u{a0}231,09 €", dec!(6231.09), cur("EUR")),
        ("6\u{202f}231,09", dec!(6231.09), None),
        ("1'234.50 CHF", dec!(1234.50), cur("CHF")),
        ("(12.00)", dec!(-12.00), None),
        ("($12.00)", dec!(-12.00), cur("USD")),
        ("-12.00", dec!(-12.00), None),
        ("12.00-", dec!(-12.00), None),
        ("−7,50 €", dec!(-7.50), cur("EUR")),
        ("USD 1,000", dec!(1000), cur("USD")),
        ("1,000 USD", dec!(1000), cur("USD")),
        ("EUR 34,73", dec!(34.73), cur("EUR")),
        ("GBP 99", dec!(99), cur("GBP")),
        ("£1,250.00", dec!(1250.00), cur("GBP")),
        ("¥12,000", dec!(12000), cur("JPY")),
        ("₹1,500.00", dec!(1500.00), cur("INR")),
        ("CA$ 15.00", dec!(15.00), cur("CAD")),
        ("US$15.00", dec!(15.00), cur("USD")),
        ("0.00", dec!(0.00), None),
        ("0.001", dec!(0.001), None),
        ("1,5", dec!(1.5), None),
        ("1.000.000,00", dec!(1000000.00), None),
        ("1,000,000.00", dec!(1000000.00), None),
        ("29.99", dec!(29.99), None),
        ("+3.00", dec!(3.00), None),
        ("  $ 12.5  ", dec!(12.5), cur("USD")),
    ];
    for (raw, value, currency) in cases {
        let parsed = parse_amount(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(parsed.value, *value, "{raw}");
        assert_eq!(parsed.currency, *currency, "{raw}");
    }
}

#[test]
fn garbage_amounts_are_typed_errors() {
    assert_eq!(parse_amount(""), Err(AmountError::Empty));
    assert_eq!(parse_amount("   "), Err(AmountError::Empty));
    assert!(matches!(
        parse_amount("N/A"),
        Err(AmountError::NoDigits { .. })
    ));
    assert!(matches!(
        parse_amount("$"),
        Err(AmountError::NoDigits { .. })
    ));
    for raw in [
        "/6.50",
        "12,34,56",
        "1.2.3",
        "12..5",
        "$12$",
        "12 34",
        "1,00,0",
        "abc12",
        "12abc",
        "--12",
        "P21.50/Unit",
        "$899.99 S",
        "1e10",
        "0x1F",
        "12:30",
        // Indian lakh grouping is not supported: a typed error rather than a wrong number.
        "₹1,50,000.00",
    ] {
        let r = parse_amount(raw);
        assert!(r.is_err(), "{raw} parsed as {r:?}");
    }
    assert!(matches!(
        parse_amount("12.00 XYZ"),
        Err(AmountError::UnknownCurrency { currency, .. }) if currency == "XYZ"
    ));
    assert!(matches!(
        parse_amount("99999999999999999999999999999999.99"),
        Err(AmountError::OutOfRange { .. })
    ));
    assert!(matches!(
        parse_amount(&"9".repeat(200)),
        Err(AmountError::TooLong { .. })
    ));
    // The error names the text.
    assert_eq!(
        parse_amount("1.2.3").unwrap_err().to_string(),
        "`1.2.3` is not an amount"
    );
}

#[test]
fn line_amounts_tolerate_receipt_flags_and_unit_suffixes() {
    assert_eq!(parse_line_amount("$899.99 S").unwrap().value, dec!(899.99));
    assert_eq!(parse_line_amount("659.00 Y").unwrap().value, dec!(659.00));
    assert_eq!(parse_line_amount("21.50/Unit").unwrap().value, dec!(21.50));
    assert_eq!(parse_line_amount("@ 3.00 ea").unwrap().value, dec!(3.00));
    assert!(parse_line_amount("/6.50").is_err());
    assert!(parse_line_amount("P21.50/Unit").is_err());
}

#[test]
fn quantities() {
    assert_eq!(parse_quantity("3").unwrap(), dec!(3));
    assert_eq!(parse_quantity("4.5").unwrap(), dec!(4.5));
    assert_eq!(parse_quantity("1,5").unwrap(), dec!(1.5));
    assert_eq!(parse_quantity("2 pcs").unwrap(), dec!(2));
    assert_eq!(parse_quantity("x2").unwrap(), dec!(2));
    assert!(parse_quantity("to").is_err());
    assert!(parse_quantity("$2").is_err());
    assert_eq!(parse_quantity(""), Err(AmountError::Empty));
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn dates_as_printed_on_invoices() {
    let cases: &[(&str, NaiveDate)] = &[
        ("01-Jan-2021", d(2021, 1, 1)),
        ("Thursday, 26 March 2020", d(2020, 3, 26)),
        ("12 March 2020", d(2020, 3, 12)),
        ("01/31/2021", d(2021, 1, 31)),
        ("12/07/2019", d(2019, 12, 7)),
        ("2021-01-31", d(2021, 1, 31)),
        ("2021/01/31", d(2021, 1, 31)),
        ("2021-01-31T10:00:00Z", d(2021, 1, 31)),
        ("January 25, 2016", d(2016, 1, 25)),
        ("Jan 25, 2016", d(2016, 1, 25)),
        ("Sept. 3, 2014", d(2014, 9, 3)),
        ("August 3 , 2014", d(2014, 8, 3)),
        ("3rd August 2014", d(2014, 8, 3)),
        ("the 3rd of August, 2014", d(2014, 8, 3)),
        ("26.03.2020", d(2020, 3, 26)),
        ("03.04.2020", d(2020, 4, 3)),
        ("21.05.14", d(2014, 5, 21)),
        ("31/01/2021", d(2021, 1, 31)),
        ("1/2/99", d(1999, 1, 2)),
        ("7. Mai 2014", d(2014, 5, 7)),
        ("Donnerstag, 26. März 2020", d(2020, 3, 26)),
        ("02 Juillet 2015", d(2015, 7, 2)),
        ("1er août 2015", d(2015, 8, 1)),
        ("lundi 5 janvier 2015", d(2015, 1, 5)),
        ("15 de marzo de 2021", d(2021, 3, 15)),
        ("3 dicembre 2019", d(2019, 12, 3)),
        ("12 mei 2020", d(2020, 5, 12)),
        ("05-JAN-21", d(2021, 1, 5)),
        ("29 Feb 2020", d(2020, 2, 29)),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            parse_date(raw).unwrap_or_else(|e| panic!("{raw}: {e}")),
            *expected,
            "{raw}"
        );
    }
}

#[test]
fn ambiguous_numeric_dates_follow_the_documented_rule() {
    // Both parts <= 12 with '/' or '-': US order by default, day first when told.
    assert_eq!(parse_date("03/04/2021").unwrap(), d(2021, 3, 4));
    assert_eq!(
        parse_date_with("03/04/2021", DateOrder::DayFirst).unwrap(),
        d(2021, 4, 3)
    );
    // A part > 12 decides regardless of the hint.
    assert_eq!(
        parse_date_with("01/31/2021", DateOrder::DayFirst).unwrap(),
        d(2021, 1, 31)
    );
    assert_eq!(parse_date("31/01/2021").unwrap(), d(2021, 1, 31));
    // '.' is the European separator: day first.
    assert_eq!(parse_date("03.04.2021").unwrap(), d(2021, 4, 3));
    // The currency picks the order.
    assert_eq!(
        DateOrder::for_currency(Some(Currency::USD)),
        DateOrder::MonthFirst
    );
    assert_eq!(
        DateOrder::for_currency(Some(Currency::EUR)),
        DateOrder::DayFirst
    );
    assert_eq!(DateOrder::for_currency(None), DateOrder::MonthFirst);
}

#[test]
fn garbage_dates_are_typed_errors() {
    assert_eq!(parse_date(""), Err(DateError::Empty));
    for raw in [
        "hello",
        "2021",
        "March 2020",
        "13/13/2021",
        "32.01.2020",
        "2021-13-01",
        "1/2",
        "1/2/3/4",
        "Thursday",
        "26 Smarch 2020",
        "26 March 2020 March",
        "$6,231.09",
        "12345678",
        "0/0/0",
    ] {
        assert!(
            parse_date(raw).is_err(),
            "{raw} parsed as {:?}",
            parse_date(raw)
        );
    }
    assert!(matches!(
        parse_date("31 February 2021"),
        Err(DateError::InvalidDate { .. })
    ));
    assert!(matches!(
        parse_date("soon"),
        Err(DateError::Unrecognized { .. })
    ));
    assert!(matches!(
        parse_date(&"1".repeat(100)),
        Err(DateError::TooLong { .. })
    ));
}

#[test]
fn currency_detection() {
    assert_eq!(detect_currency("Total EUR 34,73"), cur("EUR"));
    assert_eq!(detect_currency("29.99 € TTC"), cur("EUR"));
    assert_eq!(detect_currency("$4.11"), cur("USD"));
    assert_eq!(detect_currency("no money here"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsers_never_panic(s in "\\PC{0,80}") {
        let _ = parse_amount(&s);
        let _ = parse_line_amount(&s);
        let _ = parse_quantity(&s);
        let _ = parse_date(&s);
        let _ = parse_date_with(&s, DateOrder::DayFirst);
        let _ = detect_currency(&s);
    }

    #[test]
    fn parsers_never_panic_on_amount_and_date_alphabets(s in "[0-9.,/ ()$€£'\\-−A-Za-z]{0,40}") {
        let _ = parse_amount(&s);
        let _ = parse_line_amount(&s);
        let _ = parse_date(&s);
    }

    #[test]
    fn formatted_amounts_round_trip(cents in 0i64..10_000_000_000, neg in any::<bool>()) {
        let value = Decimal::new(if neg { -cents } else { cents }, 2);
        let plain = value.to_string();
        prop_assert_eq!(parse_amount(&plain).unwrap().value, value);
        // US grouping with a symbol.
        let abs = value.abs();
        let int = abs.trunc().to_string();
        let grouped: Vec<String> = int
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let frac = format!("{:02}", (abs.fract() * Decimal::from(100)).trunc());
        let us = format!("${}.{}", grouped.join(","), frac);
        let eu = format!("{},{} €", grouped.join("."), frac);
        let expected = abs;
        prop_assert_eq!(parse_amount(&us).unwrap().value, expected);
        prop_assert_eq!(parse_amount(&eu).unwrap().value, expected);
        prop_assert_eq!(parse_amount(&format!("({us})")).unwrap().value, -expected);
    }

    #[test]
    fn iso_and_textual_dates_round_trip(days in 0i64..60_000) {
        let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
        for fmt in ["%Y-%m-%d", "%d-%b-%Y", "%A, %d %B %Y", "%B %d, %Y", "%d.%m.%Y"] {
            let text = date.format(fmt).to_string();
            prop_assert_eq!(parse_date(&text).unwrap(), date, "{}", text);
        }
        let us = date.format("%m/%d/%Y").to_string();
        prop_assert_eq!(parse_date(&us).unwrap(), date);
        let eu = date.format("%d/%m/%Y").to_string();
        prop_assert_eq!(parse_date_with(&eu, DateOrder::DayFirst).unwrap(), date);
    }
}
