//! Creates the suite's resources from [`crate::schema`] on an AWS endpoint (a moto server
//! for tests and the CLI; production uses template.yaml): tables (PAY_PER_REQUEST, the GSIs
//! with ALL projection, SSE, PITR), buckets (versioning, SSE AES256, public access
//! blocked), the notification topic and the event bus. Idempotent: what exists is checked
//! and kept. An existing table missing indexes of the schema (a data directory of an
//! earlier version on a long-lived endpoint) gets them added, one `UpdateTable` each as
//! DynamoDB requires; when those are lookup indexes, the items stored before them get
//! their lookup keys ([`AwsBackend::backfill_lookup_keys`]).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
    SseSpecification, TableDescription, TableStatus,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use crate::aws::{AwsBackend, AwsClients, ResourceNames};
use crate::cursor::CursorCodec;
use crate::error::StoreError;
use crate::schema::{self, IndexSpec, NamedResource, TableSpec};

/// How long to wait for a new table to become ACTIVE (moto: at once; AWS: seconds).
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// What provisioning found and did. `names` carries the real topic ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub names: ResourceNames,
    pub created: Vec<String>,
    pub existing: Vec<String>,
    /// `table/index` added to an existing table.
    pub indexes_added: Vec<String>,
    /// Items given their lookup keys after a lookup index was added.
    pub lookup_keys_backfilled: u64,
}

/// Indexes whose key attributes only the lookup keys are: items written before them need a
/// backfill (every other index's attributes were always written).
const LOOKUP_INDEXES: [&str; 3] = [
    schema::VENDOR_TAX_ID_INDEX,
    schema::VENDOR_NAME_INDEX,
    schema::PO_NUMBER_INDEX,
];

fn failed(
    resource: &str,
    env_var: &'static str,
    what: &str,
    err: impl std::error::Error + 'static,
) -> StoreError {
    StoreError::Misconfigured {
        resource: resource.to_string(),
        env_var,
        message: format!("{what}: {}", crate::aws::describe_error(&err)),
    }
}

/// Creates (or checks) every table, bucket, the topic and the bus.
pub async fn provision(
    clients: &AwsClients,
    names: &ResourceNames,
) -> Result<Provisioned, StoreError> {
    let mut report = Provisioned {
        names: names.clone(),
        created: Vec::new(),
        existing: Vec::new(),
        indexes_added: Vec::new(),
        lookup_keys_backfilled: 0,
    };
    for spec in schema::TABLES {
        let name = names.table(&spec).to_string();
        let created = ensure_table(clients, &spec, &name, &mut report.indexes_added).await?;
        push(&mut report, created, format!("table {name}"));
    }
    if report.indexes_added.iter().any(|added| {
        LOOKUP_INDEXES
            .iter()
            .any(|i| added.ends_with(&format!("/{i}")))
    }) {
        let backend =
            AwsBackend::with_clients(clients.clone(), names.clone(), CursorCodec::new(""));
        report.lookup_keys_backfilled = backend.backfill_lookup_keys().await?.updated;
    }
    for (bucket, resource) in names.buckets() {
        let created = ensure_bucket(clients, bucket, resource).await?;
        push(&mut report, created, format!("bucket {bucket}"));
    }
    let topic_name = last_segment(&names.notification_topic_arn);
    let topic = clients
        .sns
        .create_topic()
        .name(topic_name)
        .send()
        .await
        .map_err(|e| {
            failed(
                topic_name,
                schema::NOTIFICATION_TOPIC.env_var,
                "CreateTopic",
                e,
            )
        })?;
    if let Some(arn) = topic.topic_arn {
        report.names.notification_topic_arn = arn;
    }
    report.existing.push(format!("topic {topic_name}"));
    let created = ensure_event_bus(clients, &names.event_bus_name).await?;
    push(
        &mut report,
        created,
        format!("event bus {}", names.event_bus_name),
    );
    Ok(report)
}

fn push(report: &mut Provisioned, created: bool, what: String) {
    if created {
        report.created.push(what);
    } else {
        report.existing.push(what);
    }
}

fn last_segment(arn_or_name: &str) -> &str {
    arn_or_name.rsplit(':').next().unwrap_or(arn_or_name)
}

fn key(attr: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(attr)
        .key_type(key_type)
        .build()
        .map_err(|e| StoreError::Invalid(format!("key schema: {e}")))
}

fn attribute(attr: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(attr)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::Invalid(format!("attribute definition: {e}")))
}

fn projection_all() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
}

/// The `CreateTable` of a table spec: the key and every index attribute as String. An
/// existing table gets the indexes it lacks (their names pushed to `added`).
async fn ensure_table(
    clients: &AwsClients,
    spec: &TableSpec,
    name: &str,
    added: &mut Vec<String>,
) -> Result<bool, StoreError> {
    let ddb = &clients.dynamodb;
    match ddb.describe_table().table_name(name).send().await {
        Ok(out) => {
            let missing = missing_indexes(spec, out.table.as_ref());
            if missing.is_empty() {
                return Ok(false);
            }
            for index in missing {
                add_index(clients, spec, name, index).await?;
                added.push(format!("{name}/{}", index.name));
            }
            let table = wait_active(clients, spec, name).await?;
            check_indexes(spec, name, table.as_ref())?;
            return Ok(false);
        }
        Err(e) if crate::aws::is_error_code(&e, "ResourceNotFoundException") => {}
        Err(e) => return Err(failed(name, spec.env_var, "DescribeTable", e)),
    }
    let mut attrs: Vec<&str> = vec![spec.key];
    for index in spec.indexes {
        attrs.push(index.partition_key);
        attrs.extend(index.sort_key);
    }
    attrs.sort_unstable();
    attrs.dedup();
    let mut create = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.key, KeyType::Hash)?)
        .sse_specification(SseSpecification::builder().enabled(true).build());
    for attr in attrs {
        create = create.attribute_definitions(attribute(attr)?);
    }
    for index in spec.indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key(index.partition_key, KeyType::Hash)?)
            .projection(projection_all());
        if let Some(sort) = index.sort_key {
            gsi = gsi.key_schema(key(sort, KeyType::Range)?);
        }
        create = create.global_secondary_indexes(
            gsi.build()
                .map_err(|e| StoreError::Invalid(format!("index {}: {e}", index.name)))?,
        );
    }
    match create.send().await {
        Ok(_) => {}
        // Created concurrently by another test or process: fine, check it below.
        Err(e) if crate::aws::is_error_code(&e, "ResourceInUseException") => {}
        Err(e) => return Err(failed(name, spec.env_var, "CreateTable", e)),
    }
    let table = wait_active(clients, spec, name).await?;
    check_indexes(spec, name, table.as_ref())?;
    ddb.update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .map_err(|e| StoreError::Invalid(format!("PITR: {e}")))?,
        )
        .send()
        .await
        .map_err(|e| failed(name, spec.env_var, "UpdateContinuousBackups", e))?;
    Ok(true)
}

/// Adds one index to an existing table (DynamoDB creates one per `UpdateTable`) and waits
/// until the table and its indexes are ACTIVE again (the next one may only start then).
async fn add_index(
    clients: &AwsClients,
    spec: &TableSpec,
    name: &str,
    index: &IndexSpec,
) -> Result<(), StoreError> {
    let mut create = CreateGlobalSecondaryIndexAction::builder()
        .index_name(index.name)
        .key_schema(key(index.partition_key, KeyType::Hash)?)
        .projection(projection_all());
    let mut update = clients
        .dynamodb
        .update_table()
        .table_name(name)
        .attribute_definitions(attribute(index.partition_key)?);
    if let Some(sort) = index.sort_key {
        create = create.key_schema(key(sort, KeyType::Range)?);
        update = update.attribute_definitions(attribute(sort)?);
    }
    let create = create
        .build()
        .map_err(|e| StoreError::Invalid(format!("index {}: {e}", index.name)))?;
    update
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder().create(create).build(),
        )
        .send()
        .await
        .map_err(|e| {
            failed(
                name,
                spec.env_var,
                &format!("UpdateTable (add {})", index.name),
                e,
            )
        })?;
    wait_active(clients, spec, name).await.map(|_| ())
}

/// The table is ACTIVE, and so is every index it has.
fn all_active(table: Option<&TableDescription>) -> bool {
    table.is_some_and(|t| {
        t.table_status() == Some(&TableStatus::Active)
            && t.global_secondary_indexes()
                .iter()
                .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active))
    })
}

/// Waits until the table and its indexes are ACTIVE; returns its description.
async fn wait_active(
    clients: &AwsClients,
    spec: &TableSpec,
    name: &str,
) -> Result<Option<TableDescription>, StoreError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| failed(name, spec.env_var, "DescribeTable", e))?;
        let table = out.table;
        if all_active(table.as_ref()) {
            return Ok(table);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(StoreError::Misconfigured {
                resource: format!("DynamoDB table `{name}`"),
                env_var: spec.env_var,
                message: format!("not ACTIVE after {}s", TABLE_ACTIVE_TIMEOUT.as_secs()),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The schema's indexes a table lacks.
fn missing_indexes<'a>(
    spec: &'a TableSpec,
    table: Option<&TableDescription>,
) -> Vec<&'a IndexSpec> {
    let present: Vec<&str> = table
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    spec.indexes
        .iter()
        .filter(|i| !present.contains(&i.name))
        .collect()
}

/// A table must have every index of the schema (the code queries them).
fn check_indexes(
    spec: &TableSpec,
    name: &str,
    table: Option<&TableDescription>,
) -> Result<(), StoreError> {
    let missing: Vec<&str> = missing_indexes(spec, table)
        .iter()
        .map(|i| i.name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Misconfigured {
            resource: format!("DynamoDB table `{name}`"),
            env_var: spec.env_var,
            message: format!("exists without the indexes {}", missing.join(", ")),
        })
    }
}

async fn ensure_bucket(
    clients: &AwsClients,
    bucket: &str,
    resource: NamedResource,
) -> Result<bool, StoreError> {
    let s3 = &clients.s3;
    // Asked first: in us-east-1 (AWS and moto) creating a bucket you own answers 200.
    let exists = match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => true,
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => false,
        Err(e) => return Err(failed(bucket, resource.env_var, "HeadBucket", e)),
    };
    let mut create = s3.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if clients.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(clients.region.as_str()))
                .build(),
        );
    }
    let sent = if exists {
        None
    } else {
        Some(create.send().await)
    };
    let created = match sent {
        None => false,
        Some(Ok(_)) => true,
        // Created meanwhile by a concurrent run. (`BucketAlreadyExists`: another account
        // owns the name, an error.)
        Some(Err(e)) if crate::aws::is_error_code(&e, "BucketAlreadyOwnedByYou") => false,
        Some(Err(e)) => return Err(failed(bucket, resource.env_var, "CreateBucket", e)),
    };
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| failed(bucket, resource.env_var, "PutBucketVersioning", e))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| StoreError::Invalid(format!("bucket encryption: {e}")))?,
        )
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| StoreError::Invalid(format!("bucket encryption: {e}")))?,
        )
        .send()
        .await
        .map_err(|e| failed(bucket, resource.env_var, "PutBucketEncryption", e))?;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| failed(bucket, resource.env_var, "PutPublicAccessBlock", e))?;
    Ok(created)
}

async fn ensure_event_bus(clients: &AwsClients, bus: &str) -> Result<bool, StoreError> {
    // The account's default bus always exists.
    if bus == "default" {
        return Ok(false);
    }
    match clients
        .eventbridge
        .create_event_bus()
        .name(bus)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if crate::aws::is_error_code(&e, "ResourceAlreadyExistsException") => Ok(false),
        Err(e) => Err(failed(bus, schema::EVENT_BUS.env_var, "CreateEventBus", e)),
    }
}

/// Creates the state machine named by the last segment of `names.state_machine_arn`
/// (or updates its definition when it exists) and returns its ARN. For local endpoints:
/// on AWS the template deploys it.
pub async fn ensure_state_machine(
    clients: &AwsClients,
    names: &ResourceNames,
    definition: &str,
    role_arn: &str,
) -> Result<String, StoreError> {
    let name = last_segment(&names.state_machine_arn);
    let env_var = schema::STATE_MACHINE.env_var;
    match clients
        .sfn
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(role_arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.state_machine_arn),
        Err(e) if crate::aws::is_error_code(&e, "StateMachineAlreadyExists") => {
            clients
                .sfn
                .update_state_machine()
                .state_machine_arn(&names.state_machine_arn)
                .definition(definition)
                .role_arn(role_arn)
                .send()
                .await
                .map_err(|e| failed(name, env_var, "UpdateStateMachine", e))?;
            Ok(names.state_machine_arn.clone())
        }
        Err(e) => Err(failed(name, env_var, "CreateStateMachine", e)),
    }
}
