//! `p2p`: run the suite on one machine. The real state machine file runs in-process through
//! the `asl` interpreter with the real Lambda handlers, on the embedded store (or on any AWS
//! endpoint with `--endpoint-url`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use p2p_cli::{demo, executions, invoke, jobs, run, tasks, GlobalOptions};

mod ingest;
mod serve;

/// Workflows run handlers, the interpreter and store threads side by side; mimalloc's
/// per-thread heaps measured ~10% more invoices/s than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "p2p",
    version,
    about = "Procure-to-pay invoice automation, on one machine",
    long_about = "Procure-to-pay invoice automation, on one machine: the real invoice workflow \
                  (statemachine/invoice-workflow.asl.json) and the real Lambda handlers, run \
                  in-process on an embedded store. Start with `p2p demo`."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The invoice workflow end to end on the embedded store: five invoices, one paid.
    Demo(demo::DemoArgs),
    /// Run any state machine definition and print its output.
    Run(run::RunArgs),
    /// Run one Lambda handler on one event and print its result.
    Invoke(invoke::InvokeArgs),
    /// Run a scheduled job now.
    Jobs(jobs::JobsArgs),
    /// Resume an execution waiting on a task token with the task's output (SendTaskSuccess).
    TaskSuccess(tasks::TaskSuccessArgs),
    /// Fail the task an execution waits on (SendTaskFailure).
    TaskFailure(tasks::TaskFailureArgs),
    /// Ingest an invoice document (PDF/image): upload, extract, store, and run its workflow.
    Ingest(ingest::IngestArgs),
    /// Show what would be extracted from a document (or a saved Textract response); stores nothing.
    Extract(ingest::ExtractArgs),
    /// Serve the HTTP API (the `api` Lambda's router) on this machine.
    Serve(serve::ServeArgs),
    /// The workflow executions of the data directory.
    #[command(subcommand)]
    Executions(executions::ExecutionsCommand),
}

/// `p2p ingest`: the textract-processor handler stores the invoice and queues its workflow
/// execution (deterministic name) through the WorkflowStarter port; then the queued
/// executions run here, in-process, like every other execution of this data directory.
async fn ingest_and_run(args: ingest::IngestArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    // Bad input never touches the store.
    if !args.file.is_file() {
        anyhow::bail!("cannot read {}: no such file", args.file.display());
    }
    let (machine, _) = p2p_cli::workflow::load_invoice_workflow(None)?;
    let (backend, runner) = tasks::runner(global).await?;
    ingest::ingest(args, backend.services.clone()).await?;
    for execution in runner.run_pending(&machine).await? {
        println!("{}", p2p_cli::output::execution_line(&execution));
    }
    Ok(())
}

/// `p2p serve`: the API over the same store every other command uses.
async fn serve_api(args: serve::ServeArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let backend = global.open_backend().await?;
    serve::serve(args, backend.services.clone()).await
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    p2p_cli::init_process_output();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let global = cli.global;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo::demo(args, &global).await,
            Command::Run(args) => run::run(args, &global).await,
            Command::Invoke(args) => invoke::invoke(args, &global).await,
            Command::Jobs(args) => jobs::jobs(args, &global).await,
            Command::TaskSuccess(args) => tasks::task_success(args, &global).await,
            Command::TaskFailure(args) => tasks::task_failure(args, &global).await,
            Command::Executions(command) => executions::executions(command, &global).await,
            Command::Ingest(args) => ingest_and_run(args, &global).await,
            Command::Extract(args) => ingest::extract(args).await,
            Command::Serve(args) => serve_api(args, &global).await,
        }
    });
    // Handlers may still hold blocking work (SQLite); do not wait for stragglers.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line naming the thing that failed, with its causes.
            eprintln!("error: {}", p2p_cli::run::one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
