//! The generic contract suite (`tests/contract`) against the aws adapters on a moto server:
//! `scripts/with-moto.sh cargo test -p p2p-adapters --test aws_contract`.

#[macro_use]
mod contract;
mod aws_support;

use std::sync::Arc;

use contract::Backend;

async fn make_backend() -> Backend {
    let aws = aws_support::backend().await;
    Backend {
        store: Arc::new(aws.clone()),
        objects: Arc::new(aws.object_store()),
        notifier: Arc::new(aws.notifier()),
        events: Arc::new(aws.event_publisher()),
        workflows: Arc::new(aws.workflow_starter()),
        bucket: aws.names().raw_bucket.clone(),
        published: None,
        keep_alive: Vec::new(),
    }
}

contract_tests!(make_backend);
