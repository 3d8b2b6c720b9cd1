//! `p2p executions ...`: the workflow executions of the data directory: list them, show one
//! (output, error, history), run those queued by others (e.g. `p2p ingest`), and expire
//! waits whose timeout has passed.

use anyhow::Context;
use chrono::{DateTime, Utc};
use p2p_adapters::local::WorkflowExecution;

use crate::output::{self, Table};
use crate::workflow::{self, end_state};
use crate::GlobalOptions;

#[derive(clap::Subcommand, Debug)]
pub enum ExecutionsCommand {
    /// Every execution, oldest first.
    List,
    /// One execution: status, output or error, and with --history its event history.
    Show {
        name: String,
        #[arg(long)]
        history: bool,
    },
    /// Runs the executions queued through the WorkflowStarter port and not yet run.
    RunPending {
        /// The invoice workflow definition (default: the repository's file, else the embedded copy).
        #[arg(long)]
        workflow: Option<std::path::PathBuf>,
    },
    /// Fails the waits whose TimeoutSeconds has passed (`States.Timeout`).
    Expire {
        /// Judge deadlines at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
}

pub async fn executions(command: ExecutionsCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        ExecutionsCommand::List => {
            let backend = global.open_backend().await?;
            let all = backend.executions.list_executions().await?;
            print!("{}", list_table(&all).render());
            Ok(())
        }
        ExecutionsCommand::Show { name, history } => {
            let backend = global.open_backend().await?;
            let execution = backend
                .executions
                .get_execution(&name)
                .await?
                .with_context(|| format!("no execution named `{name}`"))?;
            println!("{}", output::execution_line(&execution));
            println!("input: {}", serde_json::to_string_pretty(&execution.input)?);
            if let Some(out) = &execution.output {
                println!("output: {}", serde_json::to_string_pretty(out)?);
            }
            if history {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"events": execution.history})
                    )?
                );
            }
            Ok(())
        }
        ExecutionsCommand::RunPending { workflow } => {
            let (machine, source) = workflow::load_invoice_workflow(workflow.as_deref())?;
            let (_, runner) = crate::tasks::runner(global).await?;
            let ran = runner.run_pending(&machine).await?;
            println!("workflow: {source}");
            println!("{} queued execution(s) run", ran.len());
            for e in &ran {
                println!("{}", output::execution_line(e));
            }
            Ok(())
        }
        ExecutionsCommand::Expire { at } => {
            let (_, runner) = crate::tasks::runner(global).await?;
            let expired = runner.expire_waiting(at.unwrap_or_else(Utc::now)).await?;
            println!("{} expired wait(s)", expired.len());
            for e in &expired {
                println!("{}", output::execution_line(e));
            }
            Ok(())
        }
    }
}

fn list_table(all: &[WorkflowExecution]) -> Table {
    let mut table = Table::new(&["execution", "status", "state", "started", "task token"]);
    for e in all {
        table.row(vec![
            e.name.clone(),
            e.status.to_string(),
            end_state(e).unwrap_or_default(),
            p2p_core::clock::rfc3339(e.started_at),
            e.task_tokens.join(", "),
        ]);
    }
    table
}
