//! `p2p task-success <token> [--output <json>]` and `p2p task-failure <token> --error <E>
//! --cause <C>`: Step Functions' SendTaskSuccess / SendTaskFailure for the executions paused
//! in the data directory.

use std::sync::Arc;

use anyhow::Context;
use p2p_adapters::local::WorkflowExecution;
use serde_json::Value;

use crate::functions::FunctionSet;
use crate::output;
use crate::workflow::WorkflowRunner;
use crate::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct TaskSuccessArgs {
    /// The task token the execution waits on (`p2p executions list` shows it).
    pub token: String,
    /// The task's output: JSON text, or `@file` to read it from a file. For the invoice
    /// workflow's approval: `{"approved_by": "<approver>"}`.
    #[arg(long, default_value = "{}")]
    pub output: String,
}

#[derive(clap::Args, Debug)]
pub struct TaskFailureArgs {
    /// The task token the execution waits on.
    pub token: String,
    /// Error name (the workflow's Catch matches it, e.g. `ApprovalRejected`).
    #[arg(long)]
    pub error: String,
    /// Cause text.
    #[arg(long, default_value = "")]
    pub cause: String,
}

/// Parses `--output`: JSON text or `@path`.
pub fn parse_output(text: &str) -> anyhow::Result<Value> {
    match text.strip_prefix('@') {
        Some(path) => crate::run::read_json(std::path::Path::new(path), "task output"),
        None => serde_json::from_str(text)
            .with_context(|| format!("--output `{text}` is not valid JSON")),
    }
}

/// A runner with the real handlers over the command's backend.
pub async fn runner(global: &GlobalOptions) -> anyhow::Result<(crate::Backend, WorkflowRunner)> {
    let backend = global.open_backend().await?;
    let functions = Arc::new(
        FunctionSet::from_env(backend.services.clone()).context("function configuration")?,
    );
    let runner = WorkflowRunner::with_registry(
        functions.registry(global.task_timeout()),
        backend.executions.clone(),
    );
    Ok((backend, runner))
}

pub async fn task_success(args: TaskSuccessArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let output = parse_output(&args.output)?;
    require_store(global, &args.token)?;
    let (_, runner) = runner(global).await?;
    let execution = runner.send_task_success(&args.token, output).await?;
    print_resumed(&execution)
}

pub async fn task_failure(args: TaskFailureArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    require_store(global, &args.token)?;
    let (_, runner) = runner(global).await?;
    let execution = runner
        .send_task_failure(&args.token, &args.error, &args.cause)
        .await?;
    print_resumed(&execution)
}

/// A token can only be waiting in an existing data directory: do not create one.
fn require_store(global: &GlobalOptions, token: &str) -> anyhow::Result<()> {
    let db = global.data_dir.join(p2p_adapters::local::DATABASE_FILE);
    if db.is_file() {
        Ok(())
    } else {
        anyhow::bail!(
            "no execution waits for task token `{token}`: no workflow executions in {} (no {} there)",
            global.data_dir.display(),
            p2p_adapters::local::DATABASE_FILE
        )
    }
}

fn print_resumed(execution: &WorkflowExecution) -> anyhow::Result<()> {
    println!("{}", output::execution_line(execution));
    if let Some(out) = &execution.output {
        println!("{}", serde_json::to_string_pretty(out)?);
    }
    if let Some(err) = &execution.error {
        println!("{}", serde_json::to_string_pretty(err)?);
    }
    Ok(())
}
