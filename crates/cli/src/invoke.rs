//! `p2p invoke <function> --event <file>`: runs one handler on one event in-process, like
//! `cargo lambda invoke` / `sam local invoke -e` but without a container, and prints the
//! result JSON. A handler error prints its `errorType` and message and exits non-zero.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::functions::{self, FunctionSet, EXPORT_MONITOR, FUNCTIONS};
use crate::workday::LocalWorkday;
use crate::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct InvokeArgs {
    /// The function (package) name, e.g. `validate-invoice`.
    pub function: String,
    /// The event (JSON file), e.g. one of `events/<function>/*.json`.
    #[arg(long)]
    pub event: PathBuf,
    /// export-monitor: deliver to a local Workday stand-in on 127.0.0.1 instead of
    /// WORKDAY_CALLBACK_URL.
    #[arg(long)]
    pub local_workday: bool,
}

pub async fn invoke(args: InvokeArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    if !functions::is_known(&args.function) {
        bail!(
            "unknown function `{}` (known: {})",
            args.function,
            FUNCTIONS.join(", ")
        );
    }
    let event = crate::run::read_json(&args.event, "event")?;
    let backend = global.open_backend().await?;
    let mut set = FunctionSet::from_env(backend.services.clone())
        .with_context(|| format!("configuration of {}", args.function))?;
    let _workday = if args.local_workday && args.function == EXPORT_MONITOR {
        let workday = LocalWorkday::start()
            .await
            .context("cannot start the local Workday receiver")?;
        let config = workday.export_monitor_config(&p2p_function_support::ProcessEnv)?;
        set = set.with_export_monitor(config)?;
        Some(workday)
    } else {
        None
    };
    let set = Arc::new(set);
    let call = set.invoke(&args.function, event);
    match tokio::time::timeout(global.task_timeout(), call).await {
        Ok(Ok(result)) => {
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(())
        }
        Ok(Err(e)) => bail!(
            "{} failed: {}: {}",
            args.function,
            e.error_type(),
            crate::run::one_line(&e.message())
        ),
        Err(_) => bail!(
            "{} did not answer within {} s (--task-timeout)",
            args.function,
            global.task_timeout
        ),
    }
}
