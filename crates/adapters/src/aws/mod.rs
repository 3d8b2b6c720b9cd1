//! The aws adapters: DynamoDB (the [`Store`](crate::ports::Store): unit of work and every
//! repository, one struct), S3 ([`S3ObjectStore`]), SNS ([`SnsNotifier`]), EventBridge
//! ([`EventBridgePublisher`]) and Step Functions ([`SfnWorkflowStarter`]).
//!
//! Clients are built once per process from the standard AWS configuration
//! ([`load_sdk_config`]); `AWS_ENDPOINT_URL` points every client at a local endpoint (a moto
//! server), and S3 then uses path-style addressing. Every client carries one
//! [`RequestCounter`], so a test can say how many calls an operation made.
//!
//! Item layout (DynamoDB): the key `id`, the index attributes as top-level String
//! attributes (`kind`, `status`, `vendor_id`, `po_id`, `invoice_id`, `entity_id`,
//! `created_sk`, `timestamp_sk`, and the sparse lookup keys `tax_id_key`, `name_key`,
//! `po_number_key`), `version` as a Number, and the record itself as JSON in a
//! String attribute `doc`. JSON rather than native attributes because the records' own
//! serde form is the one contract (amounts are decimal strings, exact by construction) and
//! free-form fields (`match_report`, audit `details`) hold arbitrary-precision JSON numbers
//! that a DynamoDB-native mapping would not carry exactly. Guard items
//! (`guard#<vendor>#<NUMBER>` in the Invoices table) carry only `invoice_id` and
//! `invoice_number`, no index attributes, so they never show in a list.

mod backfill;
mod counter;
mod dynamo;
mod errors;
mod eventbridge;
mod item;
mod s3;
mod sfn;
mod sns;

use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
pub use aws_types::SdkConfig;

pub use backfill::BackfillReport;
pub use counter::{CallCounts, CallKey, RequestCounter};
pub use eventbridge::EventBridgePublisher;
pub use s3::S3ObjectStore;
pub use sfn::SfnWorkflowStarter;
pub use sns::SnsNotifier;

use crate::cursor::CursorCodec;
use crate::schema::{self, NamedResource, TableSpec};

/// The account moto (and the local defaults) use when no ARN is configured.
pub const LOCAL_ACCOUNT_ID: &str = "123456789012";

/// Loads the standard AWS configuration (environment, profile, instance role, ...).
/// `AWS_ENDPOINT_URL` is honoured by the loader itself.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Whether a call failed with this service error code.
pub(crate) fn is_error_code<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    code: &str,
) -> bool {
    errors::error_code(err) == Some(code)
}

/// An error with its sources (the SDK's own Display says only "service error").
pub(crate) fn describe_error(err: &(dyn std::error::Error + 'static)) -> String {
    errors::describe(err)
}

/// Physical names of every resource, from the environment variables of [`schema`] with the
/// schema's default names as fallback (local endpoints, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    pub vendors_table: String,
    pub purchase_orders_table: String,
    pub invoices_table: String,
    pub payments_table: String,
    pub audit_table: String,
    pub raw_bucket: String,
    pub processed_bucket: String,
    pub payments_bucket: String,
    pub notification_topic_arn: String,
    pub event_bus_name: String,
    pub state_machine_arn: String,
}

impl ResourceNames {
    /// The schema's default names; ARNs in `region` and the local account.
    pub fn defaults(region: &str) -> Self {
        ResourceNames {
            vendors_table: schema::VENDORS.default_name.to_string(),
            purchase_orders_table: schema::PURCHASE_ORDERS.default_name.to_string(),
            invoices_table: schema::INVOICES.default_name.to_string(),
            payments_table: schema::PAYMENTS.default_name.to_string(),
            audit_table: schema::AUDIT_LOG.default_name.to_string(),
            raw_bucket: schema::RAW_BUCKET.default_name.to_string(),
            processed_bucket: schema::PROCESSED_BUCKET.default_name.to_string(),
            payments_bucket: schema::PAYMENTS_BUCKET.default_name.to_string(),
            notification_topic_arn: format!(
                "arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{}",
                schema::NOTIFICATION_TOPIC.default_name
            ),
            event_bus_name: schema::EVENT_BUS.default_name.to_string(),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{LOCAL_ACCOUNT_ID}:stateMachine:{}",
                schema::STATE_MACHINE.default_name
            ),
        }
    }

    /// Each name from its environment variable when set (and not empty), else the default.
    pub fn from_env(region: &str) -> Self {
        Self::from_lookup(region, |var| std::env::var(var).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup (tests).
    pub fn from_lookup(region: &str, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::defaults(region);
        let pick = |var: &str, default: String| {
            lookup(var)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or(default)
        };
        ResourceNames {
            vendors_table: pick(schema::VENDORS.env_var, d.vendors_table),
            purchase_orders_table: pick(schema::PURCHASE_ORDERS.env_var, d.purchase_orders_table),
            invoices_table: pick(schema::INVOICES.env_var, d.invoices_table),
            payments_table: pick(schema::PAYMENTS.env_var, d.payments_table),
            audit_table: pick(schema::AUDIT_LOG.env_var, d.audit_table),
            raw_bucket: pick(schema::RAW_BUCKET.env_var, d.raw_bucket),
            processed_bucket: pick(schema::PROCESSED_BUCKET.env_var, d.processed_bucket),
            payments_bucket: pick(schema::PAYMENTS_BUCKET.env_var, d.payments_bucket),
            notification_topic_arn: pick(
                schema::NOTIFICATION_TOPIC.env_var,
                d.notification_topic_arn,
            ),
            event_bus_name: pick(schema::EVENT_BUS.env_var, d.event_bus_name),
            state_machine_arn: pick(schema::STATE_MACHINE.env_var, d.state_machine_arn),
        }
    }

    /// Every name (and the last segment of every ARN) prefixed: independent resource sets
    /// on one endpoint, e.g. one per test. Keep it lowercase for bucket names.
    pub fn with_prefix(&self, prefix: &str) -> Self {
        let arn = |a: &str| match a.rsplit_once(':') {
            Some((head, name)) => format!("{head}:{prefix}{name}"),
            None => format!("{prefix}{a}"),
        };
        ResourceNames {
            vendors_table: format!("{prefix}{}", self.vendors_table),
            purchase_orders_table: format!("{prefix}{}", self.purchase_orders_table),
            invoices_table: format!("{prefix}{}", self.invoices_table),
            payments_table: format!("{prefix}{}", self.payments_table),
            audit_table: format!("{prefix}{}", self.audit_table),
            raw_bucket: format!("{prefix}{}", self.raw_bucket),
            processed_bucket: format!("{prefix}{}", self.processed_bucket),
            payments_bucket: format!("{prefix}{}", self.payments_bucket),
            notification_topic_arn: arn(&self.notification_topic_arn),
            event_bus_name: format!("{prefix}{}", self.event_bus_name),
            state_machine_arn: arn(&self.state_machine_arn),
        }
    }

    /// The physical name of a table of [`schema::TABLES`].
    pub fn table(&self, spec: &TableSpec) -> &str {
        match spec.logical {
            "Vendors" => &self.vendors_table,
            "PurchaseOrders" => &self.purchase_orders_table,
            "Invoices" => &self.invoices_table,
            "Payments" => &self.payments_table,
            _ => &self.audit_table,
        }
    }

    /// The buckets with their schema entries.
    pub fn buckets(&self) -> [(&str, NamedResource); 3] {
        [
            (&self.raw_bucket, schema::RAW_BUCKET),
            (&self.processed_bucket, schema::PROCESSED_BUCKET),
            (&self.payments_bucket, schema::PAYMENTS_BUCKET),
        ]
    }

    /// The environment variable that names `bucket`, for error messages.
    pub(crate) fn bucket_env_var(&self, bucket: &str) -> &'static str {
        self.buckets()
            .iter()
            .find(|(name, _)| *name == bucket)
            .map(|(_, r)| r.env_var)
            .unwrap_or("RAW_BUCKET / PROCESSED_BUCKET / PAYMENTS_BUCKET")
    }
}

/// The SDK clients, built once per process and cheap to clone, all sharing one
/// [`RequestCounter`].
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub counter: RequestCounter,
    /// The region the clients talk to (ARNs built locally use it).
    pub region: String,
}

impl AwsClients {
    pub fn new(config: &SdkConfig) -> Self {
        Self::with_interceptors(config, Vec::new())
    }

    /// With extra interceptors on every client (tests inject faults this way).
    pub fn with_interceptors(config: &SdkConfig, extra: Vec<SharedInterceptor>) -> Self {
        let counter = RequestCounter::new();
        let local_endpoint = config.endpoint_url().is_some();

        let mut dynamodb =
            aws_sdk_dynamodb::config::Builder::from(config).interceptor(counter.clone());
        let mut s3 = aws_sdk_s3::config::Builder::from(config)
            .interceptor(counter.clone())
            // Local endpoints (moto) have no per-bucket DNS names.
            .force_path_style(local_endpoint);
        let mut sns = aws_sdk_sns::config::Builder::from(config).interceptor(counter.clone());
        let mut eventbridge =
            aws_sdk_eventbridge::config::Builder::from(config).interceptor(counter.clone());
        let mut sfn = aws_sdk_sfn::config::Builder::from(config).interceptor(counter.clone());
        for i in extra {
            dynamodb.push_interceptor(i.clone());
            s3.push_interceptor(i.clone());
            sns.push_interceptor(i.clone());
            eventbridge.push_interceptor(i.clone());
            sfn.push_interceptor(i);
        }
        AwsClients {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            sns: aws_sdk_sns::Client::from_conf(sns.build()),
            eventbridge: aws_sdk_eventbridge::Client::from_conf(eventbridge.build()),
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            counter,
            region: config
                .region()
                .map(|r| r.as_ref().to_string())
                .unwrap_or_else(|| "us-east-1".to_string()),
        }
    }
}

/// The DynamoDB store (unit of work + every repository) plus accessors for the other
/// adapters, all over one set of clients.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    clients: AwsClients,
    names: ResourceNames,
    cursors: CursorCodec,
}

impl AwsBackend {
    /// Standard AWS configuration, names from the environment, cursor key from
    /// `P2P_CURSOR_KEY`.
    pub async fn from_env() -> Self {
        AwsBackend::from_config_and_env(&load_sdk_config().await)
    }

    /// Like [`AwsBackend::from_env`] over an already loaded configuration (a process that
    /// also builds other clients, e.g. Textract, loads it once).
    pub fn from_config_and_env(config: &SdkConfig) -> Self {
        let region = config
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        AwsBackend::new(config, ResourceNames::from_env(&region))
    }

    pub fn new(config: &SdkConfig, names: ResourceNames) -> Self {
        AwsBackend::with_clients(AwsClients::new(config), names, CursorCodec::from_env())
    }

    pub fn with_clients(clients: AwsClients, names: ResourceNames, cursors: CursorCodec) -> Self {
        AwsBackend {
            clients,
            names,
            cursors,
        }
    }

    pub fn clients(&self) -> &AwsClients {
        &self.clients
    }

    pub fn names(&self) -> &ResourceNames {
        &self.names
    }

    /// The request counter shared by every client of this backend.
    pub fn counter(&self) -> &RequestCounter {
        &self.clients.counter
    }

    pub fn object_store(&self) -> S3ObjectStore {
        S3ObjectStore::new(
            self.clients.s3.clone(),
            self.names.clone(),
            self.cursors.clone(),
        )
    }

    pub fn notifier(&self) -> SnsNotifier {
        SnsNotifier::new(
            self.clients.sns.clone(),
            self.names.notification_topic_arn.clone(),
        )
    }

    pub fn event_publisher(&self) -> EventBridgePublisher {
        EventBridgePublisher::new(
            self.clients.eventbridge.clone(),
            self.names.event_bus_name.clone(),
        )
    }

    pub fn workflow_starter(&self) -> SfnWorkflowStarter {
        SfnWorkflowStarter::new(
            self.clients.sfn.clone(),
            self.names.state_machine_arn.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_env_fall_back_to_schema_defaults() {
        let names = ResourceNames::from_lookup("eu-west-1", |var| match var {
            "INVOICES_TABLE" => Some("prod-invoices".to_string()),
            "RAW_BUCKET" => Some("  ".to_string()),
            _ => None,
        });
        assert_eq!(names.invoices_table, "prod-invoices");
        assert_eq!(names.raw_bucket, schema::RAW_BUCKET.default_name);
        assert_eq!(
            names.notification_topic_arn,
            "arn:aws:sns:eu-west-1:123456789012:p2p-notifications"
        );
        assert_eq!(names.table(&schema::INVOICES), "prod-invoices");
        assert_eq!(
            names.table(&schema::AUDIT_LOG),
            schema::AUDIT_LOG.default_name
        );
    }

    #[test]
    fn prefix_applies_to_names_and_arn_tails() {
        let names = ResourceNames::defaults("us-east-1").with_prefix("t1-");
        assert_eq!(names.vendors_table, "t1-p2p-vendors");
        assert_eq!(names.payments_bucket, "t1-p2p-payment-files");
        assert!(names
            .state_machine_arn
            .ends_with(":stateMachine:t1-p2p-invoice-workflow"));
        assert!(names
            .notification_topic_arn
            .ends_with(":t1-p2p-notifications"));
        assert_eq!(names.bucket_env_var("t1-p2p-raw-documents"), "RAW_BUCKET");
    }
}
