//! The procure-to-pay domain: typed values and pure rules. No I/O, no async, no AWS.
//!
//! Every constructor parses rather than trusts; every rule that changes state returns the
//! new state together with its audit entry; time and ids come in through [`clock`].

pub mod audit;
pub mod clock;
pub mod error;
pub mod events;
pub mod extraction;
pub mod invoice;
pub mod matching;
pub mod money;
pub mod payment;
pub mod payment_files;
pub mod purchase_order;
pub mod status;
pub mod validation;
pub mod vendor;

pub use error::{DomainError, FieldError};
pub use money::{Currency, Money};
pub use status::Lifecycle;
