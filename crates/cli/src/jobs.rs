//! `p2p jobs reconcile|export-monitor [--dry-run]`: the scheduled jobs, run once now, with
//! a progress bar on a terminal (none when stdout is not one) and the run's statistics.
//!
//! The jobs are the Lambda handlers themselves (the same code EventBridge triggers); the
//! bar follows their work queue (received invoices, approved payments not yet confirmed),
//! which shrinks as they go.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use p2p_adapters::{InvoiceQuery, PageRequest, PaymentQuery, Services, StoreError};
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment::PaymentStatus;
use serde_json::{json, Value};

use crate::functions::{FunctionSet, EXPORT_MONITOR, RECONCILE};
use crate::output::Table;
use crate::workday::LocalWorkday;
use crate::GlobalOptions;

#[derive(clap::Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Batch reconciliation of every `received` invoice (schedule: every 30 min, 9-17, Mon-Fri).
    Reconcile,
    /// Delivers approved payments to Workday and writes the payment run file (hourly, Mon-Fri).
    ExportMonitor,
}

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub job: Job,
    /// Report what would be done without changing anything.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// export-monitor: deliver to a local Workday stand-in on 127.0.0.1 instead of
    /// WORKDAY_CALLBACK_URL (a dry run without Workday settings uses it too: it sends nothing).
    #[arg(long, global = true)]
    pub local_workday: bool,
    /// Print the statistics as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Job {
    pub fn function(self) -> &'static str {
        match self {
            Job::Reconcile => RECONCILE,
            Job::ExportMonitor => EXPORT_MONITOR,
        }
    }
}

pub async fn jobs(args: JobsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let backend = global.open_backend().await?;
    let mut set = FunctionSet::from_env(backend.services.clone())
        .with_context(|| format!("configuration of {}", args.job.function()))?;
    let mut workday = None;
    if args.job == Job::ExportMonitor
        && (args.local_workday || (args.dry_run && set.export_monitor().is_err()))
    {
        let local = LocalWorkday::start()
            .await
            .context("cannot start the local Workday receiver")?;
        set = set
            .with_export_monitor(local.export_monitor_config(&p2p_function_support::ProcessEnv)?)?;
        workday = Some(local);
    }
    if args.job == Job::ExportMonitor {
        if let Err(e) = set.export_monitor() {
            anyhow::bail!(
                "export-monitor: {e} (or pass --local-workday to deliver to a local stand-in)"
            );
        }
    }
    let stats = run_with_progress(Arc::new(set), args.job, args.dry_run).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!(
            "{}",
            stats_table(args.job, &stats, workday.as_ref()).render()
        );
        for key in ["failures", "errors"] {
            if let Some(Value::Array(items)) = stats.get(key) {
                for item in items {
                    println!("  {key}: {}", item.as_str().unwrap_or_default());
                }
            }
        }
    }
    Ok(())
}

/// Runs a job with a progress bar following its queue; returns its statistics JSON.
pub async fn run_with_progress(
    set: Arc<FunctionSet>,
    job: Job,
    dry_run: bool,
) -> anyhow::Result<Value> {
    let services = set.services.clone();
    let total = queue_len(&services, job).await?;
    let bar = progress_bar(job, total, dry_run);
    let run = set.invoke(job.function(), json!({ "dry_run": dry_run }));
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = tokio::time::sleep(Duration::from_millis(200)), if !bar.is_hidden() => {
                if let Ok(left) = queue_len(&services, job).await {
                    bar.set_position(total.saturating_sub(left));
                }
            }
        }
    };
    match result {
        Ok(stats) => {
            bar.set_position(done_count(job, &stats).min(total));
            bar.finish_and_clear();
            Ok(stats)
        }
        Err(e) => {
            bar.abandon();
            anyhow::bail!(
                "{} failed: {}: {}",
                job.function(),
                e.error_type(),
                e.message()
            )
        }
    }
}

fn progress_bar(job: Job, total: u64, dry_run: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    let what = match job {
        Job::Reconcile => "reconciling received invoices",
        Job::ExportMonitor => "delivering approved payments",
    };
    bar.set_message(if dry_run {
        format!("{what} (dry run)")
    } else {
        what.to_string()
    });
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// What the job's queue holds now.
pub async fn queue_len(services: &Services, job: Job) -> Result<u64, StoreError> {
    let mut count = 0u64;
    let mut page = PageRequest::first(100);
    loop {
        let next = match job {
            Job::Reconcile => {
                let query = InvoiceQuery {
                    status: Some(InvoiceStatus::Received),
                    ..InvoiceQuery::default()
                };
                let p = services.store.list_invoices(&query, &page).await?;
                count += p.items.len() as u64;
                p.next_cursor
            }
            Job::ExportMonitor => {
                let query = PaymentQuery {
                    status: Some(PaymentStatus::Approved),
                    ..PaymentQuery::default()
                };
                let p = services.store.list_payments(&query, &page).await?;
                count += p
                    .items
                    .iter()
                    .filter(|p| !p.workday_callback_received)
                    .count() as u64;
                p.next_cursor
            }
        };
        match next {
            Some(c) => page.cursor = Some(c),
            None => return Ok(count),
        }
    }
}

fn done_count(job: Job, stats: &Value) -> u64 {
    let key = match job {
        Job::Reconcile => "processed",
        Job::ExportMonitor => "files_validated",
    };
    stats.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The statistics as a two-column table (scalars only; lists are printed after it).
pub fn stats_table(job: Job, stats: &Value, workday: Option<&LocalWorkday>) -> Table {
    let mut table = Table::new(&[&format!("{} statistics", job.function()), "value"]);
    if let Value::Object(map) = stats {
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "-".into(),
                Value::Array(items) => items.len().to_string(),
                Value::Object(o) => match o.get("key").and_then(Value::as_str) {
                    Some(key) => key.to_string(),
                    None => "-".into(),
                },
            };
            table.row(vec![k.clone(), text]);
        }
    }
    if let Some(w) = workday {
        table.row(vec!["workday (local stand-in)".into(), w.url.clone()]);
    }
    table
}
