//! `p2p`: run the suite on one machine. The real state machine file runs in-process through
//! the `asl` interpreter with the real Lambda handlers, on the embedded store (or on any AWS
//! endpoint with `--endpoint-url`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod run;

#[derive(Parser, Debug)]
#[command(name = "p2p", version, about = "Procure-to-pay invoice automation, on one machine")]
struct Cli {
    /// Data directory of the embedded store.
    #[arg(long, global = true, env = "P2P_DATA_DIR", default_value = ".p2p")]
    data_dir: PathBuf,
    /// Use the aws adapters against this endpoint (e.g. a moto server) instead of the embedded store.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run any state machine definition and print its output.
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line naming the thing that failed, with its causes.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
