//! Status enums with explicit transition tables. An invalid transition is a typed error.

use crate::error::DomainError;

/// A lifecycle: the set of statuses and the allowed moves between them.
pub trait Lifecycle: Copy + Eq + std::fmt::Debug + 'static {
    /// Entity name for error messages (`invoice`, `purchase order`, ...).
    const ENTITY: &'static str;
    /// Every allowed `(from, to)` pair.
    const TRANSITIONS: &'static [(Self, Self)];
    fn as_str(&self) -> &'static str;

    fn can_become(self, to: Self) -> bool {
        Self::TRANSITIONS
            .iter()
            .any(|(f, t)| *f == self && *t == to)
    }

    /// Checks the move and returns the new status, or `InvalidTransition`.
    fn transition(self, to: Self) -> Result<Self, DomainError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(DomainError::InvalidTransition {
                entity: Self::ENTITY,
                from: self.as_str().to_string(),
                to: to.as_str().to_string(),
            })
        }
    }
}

/// Defines a snake_case status enum with `as_str`, `FromStr`, `Display` and serde,
/// rejecting unknown values with an error that lists the allowed ones.
#[macro_export]
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::error::DomainError::field(
                        "status",
                        "unknown_status",
                        format!("unknown status `{}`; expected one of: {}", other, [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
