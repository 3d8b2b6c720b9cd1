//! Shared by the aws test binaries: a moto endpoint is required (tests fail, never skip,
//! without one), resources are provisioned once per test binary under a fresh prefix, and
//! every test gets its own clients (and so its own request counter).
#![allow(dead_code)] // each test binary uses part of it

use std::sync::Arc;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use p2p_adapters::aws::{load_sdk_config, AwsBackend, AwsClients, ResourceNames};
use p2p_adapters::cursor::CursorCodec;
use p2p_adapters::provision::{ensure_state_machine, provision};
use tokio::sync::OnceCell;

/// A definition moto accepts; the tests only start executions, they do not run them.
const TEST_STATE_MACHINE: &str =
    r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}"#;
const TEST_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/p2p-test-workflow";

static NAMES: OnceCell<ResourceNames> = OnceCell::const_new();

/// The endpoint, or a failing test that says how to get one.
pub fn require_endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: the aws adapter tests need a moto server. Run them \
             as `scripts/with-moto.sh cargo test -p p2p-adapters --test <name>`"
        ),
    }
}

/// A prefix unique to this test binary run: tables, buckets, topic and bus of several runs
/// (and binaries) on one moto server never meet.
fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("t{:x}{:x}-", std::process::id(), nanos % 0xffff_ffff)
}

/// Provisions (once per binary) and returns the resource names.
pub async fn names() -> ResourceNames {
    require_endpoint();
    NAMES
        .get_or_init(|| async {
            let config = load_sdk_config().await;
            let region = config
                .region()
                .map(|r| r.as_ref().to_string())
                .unwrap_or_else(|| "us-east-1".into());
            let clients = AwsClients::new(&config);
            let names = ResourceNames::defaults(&region).with_prefix(&run_prefix());
            let mut provisioned = provision(&clients, &names)
                .await
                .expect("provision on moto");
            provisioned.names.state_machine_arn = ensure_state_machine(
                &clients,
                &provisioned.names,
                TEST_STATE_MACHINE,
                TEST_ROLE_ARN,
            )
            .await
            .expect("state machine on moto");
            provisioned.names
        })
        .await
        .clone()
}

/// A backend with its own clients (and counter) over the binary's resources.
pub async fn backend() -> AwsBackend {
    backend_with(Vec::new()).await
}

/// The same, with extra interceptors (fault injection).
pub async fn backend_with(extra: Vec<SharedInterceptor>) -> AwsBackend {
    let names = names().await;
    let config = load_sdk_config().await;
    AwsBackend::with_clients(
        AwsClients::with_interceptors(&config, extra),
        names,
        CursorCodec::new(b"aws-contract-tests".to_vec()),
    )
}

pub fn shared<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
