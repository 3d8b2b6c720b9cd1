//! Building the adapters once per process: the AWS adapters inside Lambda (or when
//! `AWS_ENDPOINT_URL` points at an emulator), otherwise the local embedded store.

use std::path::PathBuf;
use std::sync::Arc;

use p2p_adapters::aws::AwsBackend;
use p2p_adapters::local::{LocalBackend, DEFAULT_DATA_DIR};
use p2p_adapters::{Buckets, Services};

use crate::config::ConfigSource;
use crate::error::FunctionError;

/// Which adapters a process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendKind {
    Aws,
    Local { data_dir: PathBuf },
}

impl BackendKind {
    /// The contract's rule: AWS when `AWS_LAMBDA_FUNCTION_NAME` or `AWS_ENDPOINT_URL` is set,
    /// else local in `P2P_DATA_DIR` (default `.p2p`).
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Self {
        if source.var("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || source.var("AWS_ENDPOINT_URL").is_some()
        {
            BackendKind::Aws
        } else {
            BackendKind::Local {
                data_dir: PathBuf::from(
                    source
                        .var("P2P_DATA_DIR")
                        .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string()),
                ),
            }
        }
    }
}

/// The adapters for this process, with the system clock and random ids.
pub async fn services_from_env() -> Result<Services, FunctionError> {
    match BackendKind::from_source(&crate::config::ProcessEnv) {
        BackendKind::Local { data_dir } => local_services(data_dir),
        BackendKind::Aws => aws_services().await,
    }
}

pub fn local_services(data_dir: PathBuf) -> Result<Services, FunctionError> {
    let backend = LocalBackend::open(&data_dir).map_err(|e| {
        FunctionError::Misconfigured(format!(
            "cannot open the local data directory {} (P2P_DATA_DIR): {e}",
            data_dir.display()
        ))
    })?;
    Ok(backend.services(Buckets::from_env()))
}

/// DynamoDB, S3, SNS, EventBridge and Step Functions over one SDK configuration; resource
/// names from the environment (see `p2p_adapters::schema`).
pub async fn aws_services() -> Result<Services, FunctionError> {
    Ok(aws_services_from(
        &p2p_adapters::aws::load_sdk_config().await,
    ))
}

/// [`aws_services`] over an SDK configuration the caller already loaded.
pub fn aws_services_from(config: &p2p_adapters::aws::SdkConfig) -> Services {
    let backend = AwsBackend::from_config_and_env(config);
    let names = backend.names().clone();
    let (clock, ids) = Services::system_clock_and_ids();
    Services {
        objects: Arc::new(backend.object_store()),
        notifier: Arc::new(backend.notifier()),
        events: Arc::new(backend.event_publisher()),
        workflows: Arc::new(backend.workflow_starter()),
        store: Arc::new(backend),
        buckets: Buckets {
            raw: names.raw_bucket,
            processed: names.processed_bucket,
            payments: names.payments_bucket,
        },
        clock,
        ids,
    }
}
