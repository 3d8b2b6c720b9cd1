//! Ports (narrow traits, [`ports`]) and their two implementations: `aws` (DynamoDB, S3,
//! SNS, EventBridge, Step Functions) and `local` (embedded SQLite + files + outbox).
//! One contract suite (`tests/contract`) runs against both.

pub mod analyzer;
pub mod aws;
pub mod cursor;
pub mod error;
pub mod local;
pub mod ports;
pub mod provision;
pub mod schema;
pub mod services;
pub mod testing;

pub use error::{ConflictReason, StoreError};
pub use ports::*;
pub use services::{Buckets, Services};
