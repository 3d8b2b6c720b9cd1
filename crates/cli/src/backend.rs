//! Which adapters a command works with: the embedded store in the data directory (default),
//! or the aws adapters against `--endpoint-url` / `AWS_ENDPOINT_URL` (resources provisioned
//! idempotently first). Workflow executions always live in the data directory's
//! `workflow_executions` table: the interpreter runs here, so its state is local too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use p2p_adapters::aws::{AwsBackend, AwsClients, ResourceNames};
use p2p_adapters::local::{LocalBackend, LocalObjectStore, LocalOutbox, LocalWorkflows};
use p2p_adapters::{Buckets, Services};

/// Where a command's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The embedded store (SQLite + files) in this directory.
    Local { data_dir: PathBuf },
    /// The aws adapters against this endpoint; executions still in `data_dir`.
    Aws {
        endpoint_url: String,
        data_dir: PathBuf,
    },
}

impl BackendChoice {
    pub fn new(data_dir: &Path, endpoint_url: Option<&str>) -> Self {
        match endpoint_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => BackendChoice::Aws {
                endpoint_url: url.to_string(),
                data_dir: data_dir.to_path_buf(),
            },
            None => BackendChoice::Local {
                data_dir: data_dir.to_path_buf(),
            },
        }
    }

    pub fn data_dir(&self) -> &Path {
        match self {
            BackendChoice::Local { data_dir } | BackendChoice::Aws { data_dir, .. } => data_dir,
        }
    }

    /// One line saying where the data is, for command output.
    pub fn describe(&self) -> String {
        match self {
            BackendChoice::Local { data_dir } => {
                format!("embedded store in {}", data_dir.display())
            }
            BackendChoice::Aws {
                endpoint_url,
                data_dir,
            } => format!(
                "aws adapters at {endpoint_url} (workflow executions in {})",
                data_dir.display()
            ),
        }
    }
}

/// The adapters of one command, built once.
#[derive(Clone)]
pub struct Backend {
    pub choice: BackendChoice,
    pub services: Services,
    /// The executions table the interpreter persists to.
    pub executions: Arc<LocalWorkflows>,
    /// The local adapters when the store is local (object paths, outbox).
    pub local: Option<LocalBackend>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("choice", &self.choice)
            .finish()
    }
}

impl Backend {
    /// Opens (creating) the data directory or connects to the endpoint.
    pub async fn open(choice: BackendChoice) -> anyhow::Result<Self> {
        match &choice {
            BackendChoice::Local { data_dir } => {
                let local = LocalBackend::open(data_dir).with_context(|| {
                    format!("cannot open the data directory {}", data_dir.display())
                })?;
                let services = local.services(Buckets::from_env());
                Ok(Backend {
                    executions: local.workflows.clone(),
                    services,
                    local: Some(local),
                    choice,
                })
            }
            BackendChoice::Aws {
                endpoint_url,
                data_dir,
            } => {
                let executions = Arc::new(LocalWorkflows::open(data_dir).with_context(|| {
                    format!(
                        "cannot open the workflow executions in {}",
                        data_dir.display()
                    )
                })?);
                let services = aws_services(endpoint_url, executions.clone()).await?;
                Ok(Backend {
                    services,
                    executions,
                    local: None,
                    choice,
                })
            }
        }
    }

    /// Where an object is on disk (local store only).
    pub fn object_path(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        let local = self.local.as_ref()?;
        local_object_path(&local.objects, bucket, key)
    }

    /// How an object is named for the user: its file path locally, `s3://bucket/key` on aws.
    pub fn object_location(&self, bucket: &str, key: &str) -> String {
        match self.object_path(bucket, key) {
            Some(p) => p.display().to_string(),
            None => format!("s3://{bucket}/{key}"),
        }
    }

    /// The local outbox (notifications and events), when the store is local.
    pub fn outbox(&self) -> Option<&Arc<LocalOutbox>> {
        self.local.as_ref().map(|l| &l.outbox)
    }
}

fn local_object_path(objects: &LocalObjectStore, bucket: &str, key: &str) -> Option<PathBuf> {
    objects.path_of(bucket, key).ok()
}

/// The aws adapters for a local endpoint: standard configuration with the endpoint set,
/// test credentials when none are configured (emulators accept any), resources provisioned.
async fn aws_services(
    endpoint_url: &str,
    executions: Arc<LocalWorkflows>,
) -> anyhow::Result<Services> {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint_url);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && std::env::var_os("AWS_PROFILE").is_none()
    {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "p2p-cli",
        ));
    }
    let config = loader.load().await;
    let clients = AwsClients::new(&config);
    let names = ResourceNames::from_env(&clients.region);
    let provisioned = p2p_adapters::provision::provision(&clients, &names)
        .await
        .with_context(|| format!("cannot provision the tables and buckets at {endpoint_url}"))?;
    let buckets = Buckets {
        raw: provisioned.names.raw_bucket.clone(),
        processed: provisioned.names.processed_bucket.clone(),
        payments: provisioned.names.payments_bucket.clone(),
    };
    let backend = AwsBackend::with_clients(
        clients,
        provisioned.names,
        p2p_adapters::cursor::CursorCodec::from_env(),
    );
    let (clock, ids) = Services::system_clock_and_ids();
    Ok(Services {
        objects: Arc::new(backend.object_store()),
        notifier: Arc::new(backend.notifier()),
        events: Arc::new(backend.event_publisher()),
        // Executions are run by this process's interpreter, so they are queued locally.
        workflows: executions,
        store: Arc::new(backend),
        buckets,
        clock,
        ids,
    })
}
