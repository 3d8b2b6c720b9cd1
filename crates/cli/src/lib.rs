//! The `p2p` command's library: the in-process workflow runner ([`workflow`]), the
//! handlers as ASL tasks ([`functions`]), the adapters a command uses ([`backend`]), and
//! one module per command. `src/main.rs` only parses arguments and dispatches.

use std::path::PathBuf;
use std::time::Duration;

pub mod backend;
pub mod demo;
pub mod executions;
pub mod functions;
pub mod invoke;
pub mod jobs;
pub mod output;
pub mod run;
pub mod tasks;
pub mod workday;
pub mod workflow;

pub use backend::{Backend, BackendChoice};
pub use workflow::{WorkflowError, WorkflowRunner};

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOptions {
    /// Data directory of the embedded store (and of the workflow executions).
    #[arg(long, global = true, env = "P2P_DATA_DIR", default_value = ".p2p")]
    pub data_dir: PathBuf,
    /// Use the aws adapters against this endpoint (e.g. a moto server) instead of the embedded store.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Longest a handler may take before its task fails with `Sandbox.Timedout` (seconds).
    #[arg(long, global = true, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub task_timeout: u64,
}

impl GlobalOptions {
    pub fn backend_choice(&self) -> BackendChoice {
        BackendChoice::new(&self.data_dir, self.endpoint_url.as_deref())
    }

    /// Opens the store (creating the data directory) or connects to the endpoint.
    pub async fn open_backend(&self) -> anyhow::Result<Backend> {
        Backend::open(self.backend_choice()).await
    }

    pub fn task_timeout(&self) -> Duration {
        Duration::from_secs(self.task_timeout)
    }
}

/// Quiets what the handlers write for CloudWatch (EMF metric lines on stdout): the CLI's
/// stdout is its own output. Logs go to stderr, errors only unless `RUST_LOG` says otherwise
/// (the handlers' warnings are business outcomes the command reports itself).
pub fn init_process_output() {
    p2p_function_support::metrics::set_stdout_enabled(false);
    // A panicking handler fails its task (`States.TaskFailed`, the message as cause); the
    // default hook's multi-line report would only repeat it.
    std::panic::set_hook(Box::new(|info| {
        tracing::debug!(panic = %info, "handler panicked");
    }));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
