//! Typed configuration, read once at start-up. Every function's `Config::from_source` reads
//! through [`ConfigSource`] so tests pass a map instead of mutating the process environment.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use p2p_core::matching::MatchPolicy;
use p2p_core::payment::ApprovalPolicy;
use p2p_core::validation::ValidationPolicy;
use rust_decimal::Decimal;

/// Where configuration values come from.
pub trait ConfigSource {
    /// The value of `name`; empty values count as absent.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl ConfigSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl ConfigSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

impl ConfigSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

impl ConfigSource for [(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, v)| *k == name && !v.trim().is_empty())
            .map(|(_, v)| v.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {var} is required ({purpose})")]
    Missing { var: String, purpose: &'static str },
    #[error("environment variable {var} = `{value}` is invalid: {reason}")]
    Invalid {
        var: String,
        value: String,
        reason: String,
    },
}

/// Typed reads with defaults.
pub struct Reader<'a, S: ConfigSource + ?Sized>(pub &'a S);

impl<S: ConfigSource + ?Sized> Reader<'_, S> {
    pub fn required(&self, var: &str, purpose: &'static str) -> Result<String, ConfigError> {
        self.0.var(var).ok_or_else(|| ConfigError::Missing {
            var: var.to_string(),
            purpose,
        })
    }

    pub fn optional(&self, var: &str) -> Option<String> {
        self.0.var(var)
    }

    pub fn parsed<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.0.var(var) {
            None => Ok(default),
            Some(v) => v.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
                var: var.to_string(),
                value: v,
                reason: e.to_string(),
            }),
        }
    }

    /// A non-negative decimal (limits, percentages).
    pub fn decimal(&self, var: &str, default: Decimal) -> Result<Decimal, ConfigError> {
        let d: Decimal = self.parsed(var, default)?;
        if d.is_sign_negative() {
            return Err(ConfigError::Invalid {
                var: var.to_string(),
                value: d.to_string(),
                reason: "may not be negative".into(),
            });
        }
        Ok(d)
    }

    /// `true/false/1/0/yes/no` (any case).
    pub fn bool(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        match self.0.var(var) {
            None => Ok(default),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    var: var.to_string(),
                    value: v,
                    reason: "expected true or false".into(),
                }),
            },
        }
    }

    /// A positive whole number (concurrency, page sizes).
    pub fn positive(&self, var: &str, default: usize) -> Result<usize, ConfigError> {
        let n: usize = self.parsed(var, default)?;
        if n == 0 {
            return Err(ConfigError::Invalid {
                var: var.to_string(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(n)
    }

    /// Whole seconds, at least 1.
    pub fn seconds(&self, var: &str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(
            self.positive(var, default as usize)? as u64
        ))
    }
}

pub mod var {
    pub const MATCH_TOLERANCE_PERCENT: &str = "MATCH_TOLERANCE_PERCENT";
    pub const LINE_PRICE_TOLERANCE_PERCENT: &str = "LINE_PRICE_TOLERANCE_PERCENT";
    pub const MAX_INVOICE_AMOUNT: &str = "MAX_INVOICE_AMOUNT";
    pub const REQUIRE_FUTURE_DUE_DATE: &str = "REQUIRE_FUTURE_DUE_DATE";
    pub const AUTO_APPROVE_LIMIT: &str = "AUTO_APPROVE_LIMIT";
    pub const APPROVER_ROLE_REQUIRED_ABOVE: &str = "APPROVER_ROLE_REQUIRED_ABOVE";
    pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
}

/// The business rules' settings, shared by the functions that apply them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleConfig {
    pub validation: ValidationPolicy,
    pub matching: MatchPolicy,
    pub approval: ApprovalPolicy,
}

impl RuleConfig {
    /// `MAX_INVOICE_AMOUNT` (default 10000; `none` for no limit), `REQUIRE_FUTURE_DUE_DATE`
    /// (default true), `MATCH_TOLERANCE_PERCENT` (default 1), `LINE_PRICE_TOLERANCE_PERCENT`
    /// (default 0), `AUTO_APPROVE_LIMIT` and `APPROVER_ROLE_REQUIRED_ABOVE` (default 5000).
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        let r = Reader(source);
        let defaults = RuleConfig::default();
        let max_amount = match r.optional(var::MAX_INVOICE_AMOUNT) {
            Some(v) if v.trim().eq_ignore_ascii_case("none") => None,
            _ => Some(
                r.decimal(
                    var::MAX_INVOICE_AMOUNT,
                    defaults
                        .validation
                        .max_amount
                        .unwrap_or(p2p_core::validation::SEED_MAX_AMOUNT),
                )?,
            ),
        };
        Ok(RuleConfig {
            validation: ValidationPolicy {
                require_future_due_date: r.bool(
                    var::REQUIRE_FUTURE_DUE_DATE,
                    defaults.validation.require_future_due_date,
                )?,
                max_amount,
                ..defaults.validation
            },
            matching: MatchPolicy {
                total_tolerance_percent: r.decimal(
                    var::MATCH_TOLERANCE_PERCENT,
                    defaults.matching.total_tolerance_percent,
                )?,
                price_tolerance_percent: r.decimal(
                    var::LINE_PRICE_TOLERANCE_PERCENT,
                    defaults.matching.price_tolerance_percent,
                )?,
                ..defaults.matching
            },
            approval: ApprovalPolicy {
                auto_approve_limit: r.decimal(
                    var::AUTO_APPROVE_LIMIT,
                    defaults.approval.auto_approve_limit,
                )?,
                approver_role_required_above: r.decimal(
                    var::APPROVER_ROLE_REQUIRED_ABOVE,
                    defaults.approval.approver_role_required_above,
                )?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn defaults_are_the_contract_defaults() {
        let empty: [(&str, &str); 0] = [];
        let c = RuleConfig::from_source(&empty[..]).unwrap();
        assert_eq!(c.validation.max_amount, Some(dec!(10000)));
        assert!(c.validation.require_future_due_date);
        assert_eq!(c.matching.total_tolerance_percent, dec!(1));
        assert_eq!(c.approval.auto_approve_limit, dec!(5000));
    }

    #[test]
    fn values_are_typed_and_bad_ones_name_the_variable() {
        let env = [
            ("MAX_INVOICE_AMOUNT", "none"),
            ("REQUIRE_FUTURE_DUE_DATE", "false"),
            ("AUTO_APPROVE_LIMIT", "250.50"),
        ];
        let c = RuleConfig::from_source(&env[..]).unwrap();
        assert_eq!(c.validation.max_amount, None);
        assert!(!c.validation.require_future_due_date);
        assert_eq!(c.approval.auto_approve_limit, dec!(250.50));
        let bad = [("MATCH_TOLERANCE_PERCENT", "one")];
        let e = RuleConfig::from_source(&bad[..]).unwrap_err();
        assert!(e.to_string().contains("MATCH_TOLERANCE_PERCENT"), "{e}");
        let neg = [("AUTO_APPROVE_LIMIT", "-1")];
        assert!(RuleConfig::from_source(&neg[..]).is_err());
        let r = Reader(&[("N", "0")][..]);
        assert!(r.positive("N", 4).is_err());
        assert_eq!(r.positive("M", 4).unwrap(), 4);
        assert!(matches!(
            r.required("X", "test"),
            Err(ConfigError::Missing { .. })
        ));
    }
}
