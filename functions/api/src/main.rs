use api::{router, ApiConfig, AppState, AuthMode};
use p2p_function_support::{backend, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init_tracing();
    let config = ApiConfig::from_env()?;
    let services = backend::services_from_env().await?;
    lambda_http::run(router(AppState::new(services, config, AuthMode::Jwt))).await
}
