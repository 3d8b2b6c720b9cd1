//! Money: an exact `Decimal` amount in an ISO 4217 currency. Never floats.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// ISO 4217 currencies this suite accepts, with their minor units.
/// Unknown codes are rejected rather than guessed.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown ISO 4217 currency code `{0}`")]
    UnknownCurrency(String),
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount {amount} has more than {minor_units} decimal places for {currency}")]
    TooManyDecimals {
        amount: Decimal,
        currency: Currency,
        minor_units: u32,
    },
    #[error("amount `{0}` is not a decimal number")]
    NotADecimal(String),
    #[error("amount overflow")]
    Overflow,
}

/// An ISO 4217 currency code known to this suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u32,
}

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_units: 2,
    };

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(c, minor)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *minor,
                }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &str {
        // The code bytes always come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// Checks that `amount` has no more decimals than this currency's minor units.
    pub fn check_scale(&self, amount: Decimal) -> Result<(), MoneyError> {
        if amount.normalize().scale() > self.minor_units {
            return Err(MoneyError::TooManyDecimals {
                amount,
                currency: *self,
                minor_units: self.minor_units,
            });
        }
        Ok(())
    }

    /// Formats an amount with exactly the currency's minor units (payment files).
    pub fn format_amount(&self, amount: Decimal) -> String {
        let mut rounded = amount.round_dp(self.minor_units);
        rounded.rescale(self.minor_units);
        rounded.to_string()
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::USD
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "decimal_str")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        currency.check_scale(amount)?;
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        Ok(())
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    /// Sums amounts of one currency; an empty iterator sums to zero in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        items: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// The amount with exactly the currency's minor units, e.g. `250.00`.
    pub fn formatted_amount(&self) -> String {
        self.currency.format_amount(self.amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.formatted_amount(), self.currency)
    }
}

/// Parses a decimal written as a plain string (`"1500.00"`), rejecting floats' exponents.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    Decimal::from_str_exact(text.trim()).map_err(|_| MoneyError::NotADecimal(text.to_string()))
}

/// Serde helper: a `Decimal` read from a JSON string or an exact JSON number (serde_json's
/// `arbitrary_precision`) and written as a string, so no amount ever passes through `f64`.
pub mod decimal_str {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(d, s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        <Decimal as Deserialize>::deserialize(d)
    }
}

/// [`decimal_str`] for optional fields.
pub mod decimal_str_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Option::<Decimal>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn unknown_currency_is_rejected() {
        assert_eq!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
        assert_eq!(
            Currency::parse("usd").map(|c| c.code().to_string()),
            Ok("USD".to_string())
        );
        assert_eq!(Currency::parse("JPY").map(|c| c.minor_units()), Ok(0));
    }

    #[test]
    fn mixed_currencies_refuse_to_add() {
        let a = Money::new(dec!(1.00), Currency::USD).unwrap();
        let b = Money::new(dec!(1.00), Currency::EUR).unwrap();
        assert!(matches!(
            a.checked_add(&b),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert_eq!(a.checked_add(&a).unwrap().amount, dec!(2.00));
    }

    #[test]
    fn too_many_decimals_is_rejected_but_trailing_zeros_are_fine() {
        assert!(Money::new(dec!(1.005), Currency::USD).is_err());
        assert!(Money::new(dec!(1.500), Currency::USD).is_ok());
        assert!(Money::new(dec!(1.5), Currency::parse("JPY").unwrap()).is_err());
    }

    #[test]
    fn formats_with_minor_units() {
        assert_eq!(Currency::USD.format_amount(dec!(250)), "250.00");
        assert_eq!(
            Currency::parse("BHD").unwrap().format_amount(dec!(1.5)),
            "1.500"
        );
    }

    #[test]
    fn json_numbers_are_exact() {
        let m: Money = serde_json::from_str(r#"{"amount": 0.1, "currency": "USD"}"#).unwrap();
        assert_eq!(m.amount, dec!(0.1));
        let m: Money = serde_json::from_str(r#"{"amount": "1500.00", "currency": "USD"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":"1500.00","currency":"USD"}"#
        );
    }
}
