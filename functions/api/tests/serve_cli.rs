//! `crates/cli/src/serve.rs` (the `p2p serve` subcommand) compiled and exercised here, so
//! the API package proves the file it hands to the CLI.

#[path = "../../../crates/cli/src/serve.rs"]
mod serve;

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: serve::ServeArgs,
}

#[test]
fn defaults_are_loopback_8080_without_dev_auth() {
    let cli = Cli::parse_from(["p2p"]);
    assert_eq!(cli.serve.addr.to_string(), "127.0.0.1:8080");
    assert!(!cli.serve.dev_auth);
    let cli = Cli::parse_from(["p2p", "--addr", "127.0.0.1:0", "--dev-auth"]);
    assert!(cli.serve.dev_auth);
    assert_eq!(cli.serve.addr.port(), 0);
}

#[tokio::test]
async fn serve_binds_and_runs_until_stopped() {
    let env = p2p_function_support::testing::TestEnv::empty();
    let args = Cli::parse_from(["p2p", "--addr", "127.0.0.1:0", "--dev-auth"]).serve;
    let task = tokio::spawn(serve::serve(args, env.services.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Still serving (no early error such as a bad configuration).
    assert!(!task.is_finished());
    task.abort();
}
