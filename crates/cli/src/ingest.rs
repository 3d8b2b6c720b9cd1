//! `p2p ingest <file>`: the document ingestion flow on one machine. The file is put into
//! the raw bucket and the `textract-processor` handler runs on its S3 notification, exactly
//! as in Lambda; the workflow it starts is run by the caller (pending local executions).
//!
//! `p2p extract <file>`: prints the draft (fields, line items, confidences) and the review
//! decision with its reasons, storing nothing. `--textract-response <json>` normalises a
//! saved Textract response instead of analysing a file.
//!
//! Analysis offline: `<file>.textract.json` beside the file (a recorded Textract response)
//! when present, else the PDF's text layer, else a "needs Textract" error. `--textract`
//! calls Amazon Textract with the standard AWS configuration instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use p2p_adapters::analyzer::{
    AnalysisOutput, AnalysisRequest, DocumentAnalyzer, LocalAnalyzer, TextractAnalyzer,
};
use p2p_adapters::{ObjectMeta, Services};
use p2p_core::extraction::{check_document, estimate_pdf_pages, review, DocumentKind};
use serde_json::{json, Value};
use textract_processor::{Config, Deps};

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// The invoice document (pdf, png, jpg, jpeg, tif, tiff).
    pub file: PathBuf,
    /// Object key in the raw bucket (default `uploads/<file name>`).
    #[arg(long)]
    pub key: Option<String>,
    /// A recorded Textract response to use for this file (default `<file>.textract.json`
    /// when it exists).
    #[arg(long)]
    pub textract_response: Option<PathBuf>,
    /// Call Amazon Textract (standard AWS configuration) instead of analysing offline.
    #[arg(long, conflicts_with = "textract_response")]
    pub textract: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// The invoice document; optional with `--textract-response`.
    #[arg(required_unless_present = "textract_response")]
    pub file: Option<PathBuf>,
    /// Normalise this saved Textract response (AnalyzeExpense, GetExpenseAnalysis pages or
    /// AnalyzeDocument JSON) instead of analysing the file.
    #[arg(long)]
    pub textract_response: Option<PathBuf>,
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .with_context(|| format!("{} has no usable file name", path.display()))
}

/// The offline analyzer with the file's recorded response, if any.
fn local_analyzer(
    key: &str,
    file: &Path,
    response: Option<&Path>,
) -> anyhow::Result<LocalAnalyzer> {
    let analyzer = LocalAnalyzer::new();
    match response {
        Some(r) => analyzer.record(key, read_json(r)?),
        None => {
            analyzer.record_sidecar(key, file)?;
        }
    }
    Ok(analyzer)
}

async fn textract_analyzer(config: &Config) -> Arc<dyn DocumentAnalyzer> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Arc::new(TextractAnalyzer::from_sdk_config(&sdk).with_poll(
        p2p_adapters::analyzer::PollPolicy {
            max_wait: config.textract_max_wait,
            ..Default::default()
        },
    ))
}

/// Puts the file into the raw bucket and runs the textract-processor handler on it. Prints
/// the handler's output (`{"documents": [...]}`).
pub async fn ingest(args: IngestArgs, services: Services) -> anyhow::Result<()> {
    let config = Config::from_env().context("textract-processor configuration")?;
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let key = match &args.key {
        Some(k) => k.clone(),
        None => format!("uploads/{}", file_name(&args.file)?),
    };
    let analyzer: Arc<dyn DocumentAnalyzer> = if args.textract {
        textract_analyzer(&config).await
    } else {
        Arc::new(local_analyzer(
            &key,
            &args.file,
            args.textract_response.as_deref(),
        )?)
    };
    let size = body.len() as u64;
    let content_type = check_document(&key, size, &body, &config.document)
        .map(|k| k.content_type())
        .unwrap_or("application/octet-stream");
    let bucket = services.buckets.raw.clone();
    let receipt = services
        .objects
        .put_object(
            &bucket,
            &key,
            body,
            &ObjectMeta {
                content_type: content_type.to_string(),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("cannot upload to {bucket}/{key}"))?;
    let event =
        textract_processor::s3_event_for(&bucket, &key, receipt.version_id.as_deref(), size);
    let deps = Deps { services, analyzer };
    let out = textract_processor::handle(&deps, &config, event)
        .await
        .with_context(|| format!("ingesting {bucket}/{key}"))?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Prints the draft and the review decision for a file or a saved response; stores nothing.
pub async fn extract(args: ExtractArgs) -> anyhow::Result<()> {
    let config = Config::from_env().context("textract-processor configuration")?;
    let (source, draft) = match (&args.textract_response, &args.file) {
        (Some(response), _) => {
            let output = AnalysisOutput::from_saved(&read_json(response)?)
                .with_context(|| format!("{}", response.display()))?;
            let draft = textract_processor::draft_from_output(&output)
                .map_err(|e| anyhow::anyhow!("{}: {e}", response.display()))?;
            (response.display().to_string(), draft)
        }
        (None, Some(file)) => {
            let body =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file_name(file)?;
            let kind = check_document(&name, body.len() as u64, &body, &config.document)
                .map_err(|r| anyhow::anyhow!("{} ({})", r, r.code()))?;
            let analyzer = local_analyzer(&name, file, None)?;
            let request = AnalysisRequest {
                bucket: "local".to_string(),
                key: name,
                version_id: None,
                kind,
                pages: if kind == DocumentKind::Pdf {
                    estimate_pdf_pages(&body)
                } else {
                    Some(1)
                },
                document_id: "extract".to_string(),
                content: body,
            };
            let draft = textract_processor::extract_draft(&analyzer, &request)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            (file.display().to_string(), draft)
        }
        (None, None) => bail!("give a file or --textract-response <response.json>"),
    };
    let decision = review(&draft, &config.review);
    let mut report = textract_processor::extraction_report(&draft, &decision);
    if let Some(obj) = report.as_object_mut() {
        obj.insert("source".to_string(), json!(source));
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
