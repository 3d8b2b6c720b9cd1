//! `p2p run <definition> --input <file>`: any state machine, with the real handlers for the
//! functions it names, optionally with a Step Functions Local mock configuration test case.
//!
//! Everything given is checked before anything runs (definition, input, mock config,
//! resources), so bad input never touches the store. The store opens only when a real
//! handler is called or the execution pauses; then the execution is recorded in the
//! executions table (a paused one can be resumed with `p2p task-success`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use p2p_asl::{Execution, Executor, MockConfig, Outcome, Registry, StateMachine, TaskError};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::backend::{Backend, BackendChoice};
use crate::functions::{self, FunctionSet, FUNCTIONS};
use crate::workflow::{self, WorkflowRunner};
use crate::GlobalOptions;

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
    /// Print the execution history (GetExecutionHistory JSON) before the output.
    #[arg(long)]
    pub history: bool,
    /// Execution name (default: generated).
    #[arg(long)]
    pub name: Option<String>,
    /// `Name=value` substitutions for `${Name}` in the definition (repeatable). The invoice
    /// workflow's function ARNs are substituted by default.
    #[arg(long = "sub", value_parser = parse_substitution)]
    pub substitutions: Vec<(String, String)>,
}

fn parse_substitution(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

/// Reads a JSON file, naming it in every error.
pub fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} {} is not valid JSON", path.display()))
}

pub fn load_machine(
    path: &Path,
    substitutions: &HashMap<String, String>,
) -> anyhow::Result<StateMachine> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read definition {}", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("state-machine")
        .trim_end_matches(".asl");
    let machine = StateMachine::from_json(&text, substitutions)
        .with_context(|| format!("invalid definition {}", path.display()))?;
    Ok(machine.with_name(name))
}

/// The real handlers, over a backend opened on first use.
struct LazyFunctions {
    choice: BackendChoice,
    opened: OnceCell<(Backend, Arc<FunctionSet>)>,
}

impl LazyFunctions {
    async fn get(&self) -> Result<&(Backend, Arc<FunctionSet>), TaskError> {
        self.opened
            .get_or_try_init(|| async {
                let backend = Backend::open(self.choice.clone())
                    .await
                    .map_err(|e| TaskError::new("Misconfigured", format!("{e:#}")))?;
                let set = FunctionSet::from_env(backend.services.clone())
                    .map_err(|e| TaskError::new(e.error_type(), e.to_string()))?;
                Ok((backend, Arc::new(set)))
            })
            .await
    }
}

fn lazy_registry(lazy: &Arc<LazyFunctions>, timeout: Duration) -> Registry {
    let mut registry = Registry::new();
    for name in FUNCTIONS {
        let lazy = Arc::clone(lazy);
        registry = registry.register_fn(name, move |input: Value| {
            let lazy = Arc::clone(&lazy);
            async move {
                let (_, set) = lazy.get().await?;
                functions::call(set, name, input, timeout).await
            }
        });
    }
    if functions::test_tasks_enabled() {
        registry = functions::with_test_tasks(registry, timeout);
    }
    registry
}

pub async fn run(args: RunArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let subs = workflow::substitutions_with_defaults(args.substitutions.into_iter().collect());
    let machine = load_machine(&args.definition, &subs)?;
    let input = match &args.input {
        Some(p) => read_json(p, "input")?,
        None => Value::Object(Default::default()),
    };
    let mocks = match (&args.mock_config, &args.test_case) {
        (Some(config), Some(case)) => {
            let text = std::fs::read_to_string(config)
                .with_context(|| format!("cannot read mock config {}", config.display()))?;
            let mocks = MockConfig::from_json(&text)
                .with_context(|| format!("invalid mock config {}", config.display()))?;
            let sm_name = args
                .state_machine_name
                .clone()
                .unwrap_or_else(|| machine.name().to_string());
            Some((mocks, sm_name, case.clone()))
        }
        _ => None,
    };
    let with_mocks = |executor: Executor| -> anyhow::Result<Executor> {
        match &mocks {
            Some((mocks, sm_name, case)) => executor
                .with_mock_test_case(mocks, sm_name, case)
                .with_context(|| format!("test case `{case}` of state machine `{sm_name}`")),
            None => Ok(executor),
        }
    };
    // Every Task resource must name a known function (or be mocked) before anything runs.
    let probe = with_mocks(Executor::new(functions::probe_registry()))?;
    let unknown = probe.unresolved_resources(&machine);
    if !unknown.is_empty() {
        bail!(
            "unknown function or resource: {} (known functions: {})",
            unknown.join(", "),
            FUNCTIONS.join(", ")
        );
    }

    let lazy = Arc::new(LazyFunctions {
        choice: global.backend_choice(),
        opened: OnceCell::new(),
    });
    let executor = with_mocks(
        Executor::new(lazy_registry(&lazy, global.task_timeout()))
            .with_options(workflow::executor_options()),
    )?;
    let name = args
        .name
        .unwrap_or_else(|| format!("run-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%3f")));
    let execution = executor.start(&machine, &name, input.clone()).await;

    // Record it when the store is in play: a handler used it, or the execution must be resumable.
    let paused = matches!(execution.outcome, Outcome::Paused { .. });
    if lazy.opened.initialized() || paused {
        let (backend, _) = lazy
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot record execution {name}: {e}"))?;
        // Resumes need the real handlers; the mocks of this run are not kept.
        let runner = WorkflowRunner::with_executor(
            Executor::new(Registry::new()),
            backend.executions.clone(),
        );
        runner
            .record(&execution, &input)
            .await
            .with_context(|| format!("cannot record execution {name}"))?;
    }
    report(&execution, args.history)
}

fn report(execution: &Execution, history: bool) -> anyhow::Result<()> {
    if history {
        println!(
            "{}",
            serde_json::to_string_pretty(&execution.history_json())?
        );
    }
    let name = &execution.name;
    match &execution.outcome {
        Outcome::Succeeded(output) => {
            println!("{}", serde_json::to_string_pretty(output)?);
            Ok(())
        }
        Outcome::Failed { error, cause } => {
            bail!("execution {name} failed: {error}: {}", one_line(cause))
        }
        Outcome::Paused { task_tokens, .. } => {
            println!(
                "execution {name} is waiting for task token(s): {}",
                task_tokens.join(", ")
            );
            if let Some(token) = task_tokens.first() {
                println!(
                    "resume it with: p2p task-success {token} --output '{{\"approved_by\": \"you@example.com\"}}'"
                );
            }
            Ok(())
        }
    }
}

/// Causes can be multi-line (e.g. a panic message); errors are one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
