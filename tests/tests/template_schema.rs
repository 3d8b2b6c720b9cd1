//! `template.yaml` and `statemachine/*.asl.json` against the one resource definition,
//! `p2p_adapters::schema`: tables (keys, GSIs, billing, PITR, SSE), buckets (versioning,
//! encryption, public access block, TLS-only policy, lifecycle), topic, bus, the functions'
//! environment, and the workflow's `${...}` DefinitionSubstitutions. Each check returns the
//! problems it finds; the drift tests at the end show that a changed template is caught.

use std::collections::{BTreeMap, BTreeSet};

use p2p_adapters::schema::{self, NamedResource, TableSpec};
use p2p_core::payment::{payment_file_key, PaymentFileFormat};
use serde_json::{json, Map, Value as Json};
use serde_yaml_ng::Value as Yaml;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The functions the template deploys: package = binary = BuildProperties.Binary.
const FUNCTIONS: [&str; 8] = [
    "validate-invoice",
    "process-invoice",
    "reconcile",
    "approve-payment",
    "export-monitor",
    "send-notification",
    "textract-processor",
    "api",
];

// ------------------------------------------------------------------ loading

fn read(rel: &str) -> String {
    let path = format!("{ROOT}/{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn template() -> Json {
    parse_template(&read("template.yaml"))
}

/// Parses CloudFormation YAML into JSON, turning the short-form tags (`!Ref`, `!GetAtt`,
/// `!Sub`, `!If`, ...) into their long forms (`{"Ref": ..}`, `{"Fn::GetAtt": [..]}`, ...).
fn parse_template(text: &str) -> Json {
    let yaml: Yaml = serde_yaml_ng::from_str(text).expect("template.yaml is not valid YAML");
    to_json(yaml)
}

fn to_json(y: Yaml) -> Json {
    match y {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s,
                        other => serde_yaml_ng::to_string(&other)
                            .expect("scalar key")
                            .trim()
                            .to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = to_json(tagged.value);
            match tag {
                "Ref" => json!({ "Ref": value }),
                "Condition" => json!({ "Condition": value }),
                "GetAtt" => match value {
                    Json::String(s) => {
                        let (resource, attribute) = s.split_once('.').unwrap_or((&s, ""));
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                other => json!({ format!("Fn::{other}"): value }),
            }
        }
    }
}

// ------------------------------------------------------------------ navigation

fn resources(t: &Json) -> &Map<String, Json> {
    t["Resources"].as_object().expect("template has Resources")
}

fn resources_of_type<'a>(t: &'a Json, ty: &'a str) -> impl Iterator<Item = (&'a String, &'a Json)> {
    resources(t).iter().filter(move |(_, r)| r["Type"] == ty)
}

fn reference(logical: &str) -> Json {
    json!({ "Ref": logical })
}

/// Logical ids a fragment refers to: `Ref`, `Fn::GetAtt` and `${X}` / `${X.Attr}` in `Fn::Sub`.
fn referenced_ids(v: &Json, out: &mut BTreeSet<String>) {
    match v {
        Json::Object(m) => {
            for (k, inner) in m {
                match (k.as_str(), inner) {
                    ("Ref", Json::String(id)) => {
                        out.insert(id.clone());
                    }
                    ("Fn::GetAtt", Json::Array(parts)) => {
                        if let Some(Json::String(id)) = parts.first() {
                            out.insert(id.clone());
                        }
                    }
                    ("Fn::Sub", sub) => {
                        let text = match sub {
                            Json::Array(parts) => parts.first().and_then(Json::as_str),
                            other => other.as_str(),
                        };
                        for name in placeholders(text.unwrap_or_default()) {
                            let id = name.split('.').next().unwrap_or_default();
                            out.insert(id.to_string());
                        }
                        referenced_ids(sub, out);
                    }
                    _ => referenced_ids(inner, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| referenced_ids(i, out)),
        _ => {}
    }
}

/// `${Name}` placeholders of a string (`${!Literal}` escapes excluded).
fn placeholders(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\$\{([^}!][^}]*)\}").expect("placeholder pattern");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

// ------------------------------------------------------------------ checks

fn table_problems(t: &Json, spec: &TableSpec) -> Vec<String> {
    let id = format!("{}Table", spec.logical);
    let mut problems = Vec::new();
    let Some(table) = resources(t).get(&id) else {
        return vec![format!(
            "{id}: missing (schema table {})",
            spec.default_name
        )];
    };
    if table["Type"] != "AWS::DynamoDB::Table" {
        problems.push(format!("{id}: Type is {}", table["Type"]));
    }
    let p = &table["Properties"];
    if p["BillingMode"] != "PAY_PER_REQUEST" {
        problems.push(format!(
            "{id}: BillingMode is {}, not PAY_PER_REQUEST",
            p["BillingMode"]
        ));
    }
    if p["KeySchema"] != json!([{ "AttributeName": spec.key, "KeyType": "HASH" }]) {
        problems.push(format!(
            "{id}: KeySchema {} is not HASH {}",
            p["KeySchema"], spec.key
        ));
    }
    if p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] != true {
        problems.push(format!("{id}: point-in-time recovery is not enabled"));
    }
    if p["SSESpecification"]["SSEEnabled"] != true {
        problems.push(format!("{id}: SSE is not enabled"));
    }

    // Attribute definitions: exactly the key and the index keys, all strings.
    let mut expected_attrs = BTreeMap::from([(spec.key.to_string(), "S".to_string())]);
    for index in spec.indexes {
        expected_attrs.insert(index.partition_key.to_string(), "S".to_string());
        if let Some(sk) = index.sort_key {
            expected_attrs.insert(sk.to_string(), "S".to_string());
        }
    }
    let actual_attrs: BTreeMap<String, String> = p["AttributeDefinitions"]
        .as_array()
        .map(|defs| {
            defs.iter()
                .map(|d| {
                    (
                        d["AttributeName"].as_str().unwrap_or("?").to_string(),
                        d["AttributeType"].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if actual_attrs != expected_attrs {
        problems.push(format!(
            "{id}: AttributeDefinitions {actual_attrs:?}, schema wants {expected_attrs:?}"
        ));
    }

    // GSIs: same names, keys and projection ALL.
    let actual: BTreeMap<String, &Json> = p["GlobalSecondaryIndexes"]
        .as_array()
        .map(|gsis| {
            gsis.iter()
                .map(|g| (g["IndexName"].as_str().unwrap_or("?").to_string(), g))
                .collect()
        })
        .unwrap_or_default();
    let expected_names: BTreeSet<String> =
        spec.indexes.iter().map(|i| i.name.to_string()).collect();
    let actual_names: BTreeSet<String> = actual.keys().cloned().collect();
    for missing in expected_names.difference(&actual_names) {
        problems.push(format!("{id}: GSI {missing} is missing"));
    }
    for extra in actual_names.difference(&expected_names) {
        problems.push(format!("{id}: GSI {extra} is not in schema.rs"));
    }
    for index in spec.indexes {
        let Some(gsi) = actual.get(index.name) else {
            continue;
        };
        let mut keys = vec![json!({ "AttributeName": index.partition_key, "KeyType": "HASH" })];
        if let Some(sk) = index.sort_key {
            keys.push(json!({ "AttributeName": sk, "KeyType": "RANGE" }));
        }
        if gsi["KeySchema"] != Json::Array(keys.clone()) {
            problems.push(format!(
                "{id}: GSI {} keys {}, schema wants {}",
                index.name,
                gsi["KeySchema"],
                Json::Array(keys)
            ));
        }
        if gsi["Projection"]["ProjectionType"] != "ALL" {
            problems.push(format!("{id}: GSI {} projection is not ALL", index.name));
        }
    }
    problems
}

fn has_transition(rule: &Json, days: Option<u64>, class: &str) -> bool {
    rule["Transitions"].as_array().is_some_and(|ts| {
        ts.iter().any(|tr| {
            tr["StorageClass"] == class && days.is_none_or(|d| tr["TransitionInDays"] == d)
        })
    })
}

fn bucket_problems(t: &Json, bucket: &NamedResource) -> Vec<String> {
    let id = bucket.logical;
    let mut problems = Vec::new();
    let Some(b) = resources(t).get(id) else {
        return vec![format!(
            "{id}: missing (schema bucket {})",
            bucket.default_name
        )];
    };
    if b["Type"] != "AWS::S3::Bucket" {
        problems.push(format!("{id}: Type is {}", b["Type"]));
    }
    let p = &b["Properties"];
    if p["VersioningConfiguration"]["Status"] != "Enabled" {
        problems.push(format!("{id}: versioning is not enabled"));
    }
    let algorithm = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        ["ServerSideEncryptionByDefault"]["SSEAlgorithm"];
    if algorithm != "AES256" && algorithm != "aws:kms" {
        problems.push(format!("{id}: default encryption is {algorithm}"));
    }
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        if p["PublicAccessBlockConfiguration"][flag] != true {
            problems.push(format!(
                "{id}: PublicAccessBlockConfiguration.{flag} is not true"
            ));
        }
    }

    let tls_only = resources_of_type(t, "AWS::S3::BucketPolicy")
        .filter(|(_, pol)| pol["Properties"]["Bucket"] == reference(id))
        .flat_map(|(_, pol)| {
            pol["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .any(|s| {
            s["Effect"] == "Deny"
                && (s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                    || s["Condition"]["Bool"]["aws:SecureTransport"] == false)
        });
    if !tls_only {
        problems.push(format!(
            "{id}: no bucket policy denies requests without TLS"
        ));
    }

    // Seed lifecycle: Standard -> IA 30 d -> Glacier 90 d -> Deep Archive.
    let rules = p["LifecycleConfiguration"]["Rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let archived = rules.iter().any(|r| {
        r["Status"] == "Enabled"
            && has_transition(r, Some(30), "STANDARD_IA")
            && has_transition(r, Some(90), "GLACIER")
            && has_transition(r, None, "DEEP_ARCHIVE")
    });
    if !archived {
        problems.push(format!(
            "{id}: no enabled lifecycle rule IA 30 d -> Glacier 90 d -> Deep Archive"
        ));
    }
    if id == schema::PAYMENTS_BUCKET.logical {
        // The seed's 8-year expiry must cover the keys payment files are written under.
        let key = payment_file_key("pay-1", PaymentFileFormat::Xml);
        let covered = rules.iter().any(|r| {
            r["Status"] == "Enabled"
                && r["ExpirationInDays"] == 2920
                && key.starts_with(r["Prefix"].as_str().unwrap_or(""))
        });
        if !covered {
            problems.push(format!(
                "{id}: no enabled lifecycle rule expires payment files ({key}) after 2920 days"
            ));
        }
    }
    problems
}

fn named_resource_problems(t: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    for (res, ty) in [
        (schema::NOTIFICATION_TOPIC, "AWS::SNS::Topic"),
        (schema::EVENT_BUS, "AWS::Events::EventBus"),
        (schema::STATE_MACHINE, "AWS::Serverless::StateMachine"),
    ] {
        match resources(t).get(res.logical) {
            None => problems.push(format!("{}: missing", res.logical)),
            Some(r) if r["Type"] != ty => {
                problems.push(format!("{}: Type is {}, not {ty}", res.logical, r["Type"]))
            }
            Some(_) => {}
        }
    }
    // No table or bucket the code does not know about.
    let tables: BTreeSet<String> = schema::TABLES
        .iter()
        .map(|s| format!("{}Table", s.logical))
        .collect();
    for (id, _) in resources_of_type(t, "AWS::DynamoDB::Table") {
        if !tables.contains(id) {
            problems.push(format!("{id}: table not declared in schema.rs"));
        }
    }
    let buckets: BTreeSet<&str> = schema::BUCKETS.iter().map(|b| b.logical).collect();
    for (id, _) in resources_of_type(t, "AWS::S3::Bucket") {
        if !buckets.contains(id.as_str()) {
            problems.push(format!("{id}: bucket not declared in schema.rs"));
        }
    }
    problems
}

/// Every schema resource with the env var that names it, and the resource it must `Ref`.
fn env_resources() -> Vec<(String, &'static str)> {
    let mut all: Vec<(String, &'static str)> = schema::TABLES
        .iter()
        .map(|s| (format!("{}Table", s.logical), s.env_var))
        .collect();
    for r in schema::BUCKETS.iter().chain(
        [
            schema::NOTIFICATION_TOPIC,
            schema::EVENT_BUS,
            schema::STATE_MACHINE,
        ]
        .iter(),
    ) {
        all.push((r.logical.to_string(), r.env_var));
    }
    all
}

/// A function's effective property: its own, else the Globals.Function one.
fn effective<'a>(t: &'a Json, function: &'a Json, prop: &str) -> &'a Json {
    match &function["Properties"][prop] {
        Json::Null => &t["Globals"]["Function"][prop],
        own => own,
    }
}

fn function_problems(t: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    let functions: Vec<(&String, &Json)> =
        resources_of_type(t, "AWS::Serverless::Function").collect();

    let binaries: BTreeSet<&str> = functions
        .iter()
        .filter_map(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str())
        .collect();
    let expected: BTreeSet<&str> = FUNCTIONS.into_iter().collect();
    if binaries != expected {
        problems.push(format!(
            "function binaries {binaries:?}, expected {expected:?}"
        ));
    }

    let global_env = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (id, f) in &functions {
        if f["Metadata"]["BuildMethod"] != "rust-cargolambda" {
            problems.push(format!("{id}: BuildMethod is not rust-cargolambda"));
        }
        for (prop, want) in [
            ("Runtime", json!("provided.al2023")),
            ("Handler", json!("bootstrap")),
            ("Architectures", json!(["arm64"])),
            ("CodeUri", json!(".")),
            ("Tracing", json!("Active")),
        ] {
            let got = effective(t, f, prop);
            if *got != want {
                problems.push(format!("{id}: {prop} is {got}, expected {want}"));
            }
        }
        if effective(t, f, "LoggingConfig")["LogFormat"] != "JSON" {
            problems.push(format!("{id}: LogFormat is not JSON"));
        }

        let mut env = global_env.clone();
        if let Some(own) = f["Properties"]["Environment"]["Variables"].as_object() {
            env.extend(own.clone());
        }
        // Resources the function is granted access to (policies) or triggered by (events).
        let mut used = BTreeSet::new();
        referenced_ids(&f["Properties"]["Policies"], &mut used);
        referenced_ids(&f["Properties"]["Events"], &mut used);

        for (logical, var) in env_resources() {
            match env.get(var) {
                Some(value) if *value != reference(&logical) => problems.push(format!(
                    "{id}: {var} is {value}, expected {{\"Ref\": \"{logical}\"}}"
                )),
                None if used.contains(&logical) => problems.push(format!(
                    "{id}: uses {logical} but its environment has no {var}"
                )),
                _ => {}
            }
        }
    }
    problems
}

/// `${X}` in the ASL file against the state machine's DefinitionSubstitutions, both ways;
/// each substitution is a function ARN the state machine may invoke.
fn substitution_problems(t: &Json, asl: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(sm) = resources(t).get(schema::STATE_MACHINE.logical) else {
        return vec![format!("{}: missing", schema::STATE_MACHINE.logical)];
    };
    let p = &sm["Properties"];
    let used = placeholders(asl);
    let subs = p["DefinitionSubstitutions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let provided: BTreeSet<String> = subs.keys().cloned().collect();
    for missing in used.difference(&provided) {
        problems.push(format!(
            "ASL uses ${{{missing}}} but DefinitionSubstitutions lacks it"
        ));
    }
    for unused in provided.difference(&used) {
        problems.push(format!(
            "DefinitionSubstitutions.{unused} is not used by the ASL"
        ));
    }

    let mut invokable = BTreeSet::new();
    for policy in p["Policies"].as_array().into_iter().flatten() {
        if let Some(Json::String(f)) = policy["LambdaInvokePolicy"]["FunctionName"].get("Ref") {
            invokable.insert(f.clone());
        }
    }
    for (name, value) in &subs {
        let target = value["Fn::GetAtt"][0].as_str().unwrap_or_default();
        let is_function_arn = value["Fn::GetAtt"][1] == "Arn"
            && resources(t)
                .get(target)
                .is_some_and(|r| r["Type"] == "AWS::Serverless::Function");
        if !is_function_arn {
            problems.push(format!(
                "DefinitionSubstitutions.{name} is not a function's Arn: {value}"
            ));
        } else if !invokable.contains(target) {
            problems.push(format!(
                "DefinitionSubstitutions.{name}: no LambdaInvokePolicy for {target}"
            ));
        }
    }
    problems
}

fn workflow_asl(t: &Json) -> String {
    let uri = t["Resources"][schema::STATE_MACHINE.logical]["Properties"]["DefinitionUri"]
        .as_str()
        .expect("state machine DefinitionUri is a local path");
    read(uri)
}

fn assert_clean(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ------------------------------------------------------------------ the checks on the real files

#[test]
fn tables_match_schema() {
    let t = template();
    let problems = schema::TABLES
        .iter()
        .flat_map(|s| table_problems(&t, s))
        .collect();
    assert_clean("tables drift from crates/adapters/src/schema.rs", problems);
}

#[test]
fn buckets_match_schema_and_are_locked_down() {
    let t = template();
    let problems = schema::BUCKETS
        .iter()
        .flat_map(|b| bucket_problems(&t, b))
        .collect();
    assert_clean("buckets", problems);
}

#[test]
fn topic_bus_and_state_machine_exist_and_nothing_undeclared() {
    assert_clean("named resources", named_resource_problems(&template()));
}

#[test]
fn functions_name_the_resources_they_use() {
    assert_clean("functions", function_problems(&template()));
}

#[test]
fn asl_placeholders_and_substitutions_agree() {
    let t = template();
    let asl = workflow_asl(&t);
    serde_json::from_str::<Json>(&asl).expect("the workflow ASL is JSON");
    assert!(
        !placeholders(&asl).is_empty(),
        "the ASL names its ARNs by ${{...}}"
    );
    assert_clean("DefinitionSubstitutions", substitution_problems(&t, &asl));
}

// ------------------------------------------------------------------ drift is caught

fn remove_gsi(t: &mut Json, table: &str, index: &str) {
    let gsis = t["Resources"][table]["Properties"]["GlobalSecondaryIndexes"]
        .as_array_mut()
        .expect("GSIs");
    gsis.retain(|g| g["IndexName"] != index);
}

#[test]
fn short_form_tags_become_long_form() {
    let t = parse_template(
        "A: !Ref X\nB: !GetAtt Y.Arn\nC: !Sub \"${Z}-x\"\nD: !If [Cond, !Ref P, !Ref AWS::NoValue]\n",
    );
    assert_eq!(t["A"], json!({ "Ref": "X" }));
    assert_eq!(t["B"], json!({ "Fn::GetAtt": ["Y", "Arn"] }));
    assert_eq!(t["C"], json!({ "Fn::Sub": "${Z}-x" }));
    assert_eq!(
        t["D"],
        json!({ "Fn::If": ["Cond", { "Ref": "P" }, { "Ref": "AWS::NoValue" }] })
    );
}

#[test]
fn a_missing_or_changed_gsi_is_reported() {
    let mut t = template();
    remove_gsi(&mut t, "InvoicesTable", "po-index");
    let problems = table_problems(&t, &schema::INVOICES);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("GSI po-index is missing")),
        "{problems:?}"
    );

    let mut t = template();
    t["Resources"]["PaymentsTable"]["Properties"]["GlobalSecondaryIndexes"][1]["KeySchema"][1]
        ["AttributeName"] = json!("updated_sk");
    let problems = table_problems(&t, &schema::PAYMENTS);
    assert!(
        problems.iter().any(|p| p.contains("invoice-index keys")),
        "{problems:?}"
    );
}

#[test]
fn provisioned_billing_or_missing_pitr_is_reported() {
    let mut t = template();
    t["Resources"]["VendorsTable"]["Properties"]["BillingMode"] = json!("PROVISIONED");
    t["Resources"]["VendorsTable"]["Properties"]["PointInTimeRecoverySpecification"] = Json::Null;
    let problems = table_problems(&t, &schema::VENDORS);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn an_unversioned_or_public_bucket_is_reported() {
    let mut t = template();
    let raw = schema::RAW_BUCKET.logical;
    t["Resources"][raw]["Properties"]["VersioningConfiguration"]["Status"] = json!("Suspended");
    t["Resources"][raw]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] =
        json!(false);
    let problems = bucket_problems(&t, &schema::RAW_BUCKET);
    assert!(
        problems.iter().any(|p| p.contains("versioning")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("BlockPublicPolicy")),
        "{problems:?}"
    );
}

#[test]
fn payment_files_without_the_eight_year_expiry_are_reported() {
    let mut t = template();
    let id = schema::PAYMENTS_BUCKET.logical;
    t["Resources"][id]["Properties"]["LifecycleConfiguration"]["Rules"][0]["Prefix"] =
        json!("archive/");
    let problems = bucket_problems(&t, &schema::PAYMENTS_BUCKET);
    assert!(problems.iter().any(|p| p.contains("2920")), "{problems:?}");
}

#[test]
fn a_renamed_env_var_is_reported() {
    let mut t = template();
    let globals = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_object_mut()
        .expect("global env");
    let value = globals
        .remove("INVOICES_TABLE")
        .expect("INVOICES_TABLE in Globals");
    globals.insert("INVOICE_TABLE".into(), value);
    let problems = function_problems(&t);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("uses InvoicesTable but its environment has no INVOICES_TABLE")),
        "{problems:?}"
    );
}

#[test]
fn an_env_var_pointing_at_the_wrong_resource_is_reported() {
    let mut t = template();
    t["Globals"]["Function"]["Environment"]["Variables"]["RAW_BUCKET"] =
        reference("ProcessedDocumentsBucket");
    let problems = function_problems(&t);
    assert!(
        problems.iter().any(|p| p.contains("RAW_BUCKET is")),
        "{problems:?}"
    );
}

#[test]
fn placeholders_and_substitutions_must_match_both_ways() {
    let t = template();
    let asl = workflow_asl(&t);
    let extra = asl.replacen(
        "${ReconcileFunctionArn}",
        "${ReconcileInvoicesFunctionArn}",
        1,
    );
    let problems = substitution_problems(&t, &extra);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("lacks it") && p.contains("ReconcileInvoicesFunctionArn")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("ReconcileFunctionArn is not used")),
        "{problems:?}"
    );
}

#[test]
fn the_project_interpreter_accepts_the_workflow_with_its_substitutions() {
    let t = template();
    let asl = workflow_asl(&t);
    let subs: std::collections::HashMap<String, String> = placeholders(&asl)
        .into_iter()
        .map(|name| {
            let function = name.trim_end_matches("FunctionArn").to_string();
            let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
            (name, arn)
        })
        .collect();
    if let Err(e) = p2p_asl::StateMachine::from_json(&asl, &subs) {
        panic!("p2p-asl rejects statemachine/invoice-workflow.asl.json: {e}");
    }
}
