//! `p2p run <definition> --input <file>`: any state machine, optionally with a Step Functions
//! Local mock configuration test case.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use p2p_asl::{Executor, MockConfig, Outcome, Registry, StateMachine};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The state machine definition (Amazon States Language JSON).
    pub definition: PathBuf,
    /// The execution input (JSON file); `{}` when absent.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// A Step Functions Local mock configuration file.
    #[arg(long, requires = "test_case")]
    pub mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to run.
    #[arg(long, requires = "mock_config")]
    pub test_case: Option<String>,
    /// The state machine's name in the mock configuration (default: the file stem).
    #[arg(long)]
    pub state_machine_name: Option<String>,
    /// Print the execution history too.
    #[arg(long)]
    pub history: bool,
    /// Execution name (default: generated).
    #[arg(long)]
    pub name: Option<String>,
    /// `${Name}=value` substitutions for the definition (repeatable).
    #[arg(long = "sub", value_parser = parse_substitution)]
    pub substitutions: Vec<(String, String)>,
}

fn parse_substitution(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

pub fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{what} {} is not valid JSON", path.display()))
}

pub fn load_machine(path: &Path, substitutions: &HashMap<String, String>) -> anyhow::Result<StateMachine> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read definition {}", path.display()))?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("state-machine").trim_end_matches(".asl");
    let machine = StateMachine::from_json(&text, substitutions).with_context(|| format!("invalid definition {}", path.display()))?;
    Ok(machine.with_name(name))
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let subs: HashMap<String, String> = args.substitutions.into_iter().collect();
    let machine = load_machine(&args.definition, &subs)?;
    let input = match &args.input {
        Some(p) => read_json(p, "input")?,
        None => Value::Object(Default::default()),
    };
    let mut executor = Executor::new(Registry::new());
    if let (Some(config), Some(case)) = (&args.mock_config, &args.test_case) {
        let text = std::fs::read_to_string(config).with_context(|| format!("cannot read mock config {}", config.display()))?;
        let mocks = MockConfig::from_json(&text).with_context(|| format!("invalid mock config {}", config.display()))?;
        let sm_name = args.state_machine_name.clone().unwrap_or_else(|| machine.name().to_string());
        executor = executor
            .with_mock_test_case(&mocks, &sm_name, case)
            .with_context(|| format!("test case `{case}` of state machine `{sm_name}`"))?;
    } else {
        let missing = executor.unresolved_resources(&machine);
        if !missing.is_empty() {
            bail!("no handler for task resource(s): {} (use a mock config, or `p2p demo` for the invoice workflow)", missing.join(", "));
        }
    }
    let name = args.name.unwrap_or_else(|| format!("run-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%3f")));
    let execution = executor.start(&machine, &name, input).await;
    if args.history {
        println!("{}", serde_json::to_string_pretty(&execution.history_json())?);
    }
    match &execution.outcome {
        Outcome::Succeeded(output) => {
            println!("{}", serde_json::to_string_pretty(output)?);
            Ok(())
        }
        Outcome::Failed { error, cause } => bail!("execution {name} failed: {error}: {cause}"),
        Outcome::Paused { task_tokens, .. } => {
            println!("execution {name} is waiting for task token(s): {}", task_tokens.join(", "));
            Ok(())
        }
    }
}
