use lambda_runtime::{service_fn, Error, LambdaEvent};
use p2p_function_support::{backend, telemetry};
use send_notification::{handle, Config};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init_tracing();
    let config = Config::from_env()?;
    let services = backend::services_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (services, config) = (&services, &config);
        async move { handle(services, config, event.payload).await }
    }))
    .await
}
