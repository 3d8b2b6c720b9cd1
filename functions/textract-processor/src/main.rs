use std::sync::Arc;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use p2p_adapters::analyzer::{DocumentAnalyzer, LocalAnalyzer, PollPolicy, TextractAnalyzer};
use p2p_adapters::aws::load_sdk_config;
use p2p_function_support::backend::{self, BackendKind};
use p2p_function_support::{telemetry, ProcessEnv};
use serde_json::Value;
use textract_processor::{handle, Config, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_tracing();
    let config = Config::from_env()?;
    let (services, analyzer): (_, Arc<dyn DocumentAnalyzer>) =
        match BackendKind::from_source(&ProcessEnv) {
            BackendKind::Aws => {
                // One SDK configuration (credentials, region, endpoint) for the store's
                // clients and Textract's: loading it is most of a cold start.
                let sdk = load_sdk_config().await;
                let textract = TextractAnalyzer::from_sdk_config(&sdk).with_poll(PollPolicy {
                    max_wait: config.textract_max_wait,
                    ..PollPolicy::default()
                });
                (backend::aws_services_from(&sdk), Arc::new(textract))
            }
            BackendKind::Local { data_dir } => (
                backend::local_services(data_dir)?,
                Arc::new(LocalAnalyzer::new()),
            ),
        };
    let deps = Deps { services, analyzer };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (deps, config) = (&deps, &config);
        async move { handle(deps, config, event.payload).await }
    }))
    .await
}
