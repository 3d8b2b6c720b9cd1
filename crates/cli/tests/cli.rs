//! The built `p2p` binary on temporary data directories: the demo (twice), runs with a mock
//! configuration in AWS's format, invoke, jobs, task tokens, and every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// `p2p <args>` with `--data-dir <dir>`, no AWS endpoint, the test tasks on.
fn p2p(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("WORKDAY_CALLBACK_URL")
        .env_remove("WORKDAY_CALLBACK_SECRET")
        .env("P2P_CLI_TEST_TASKS", "1")
        .output()
        .expect("run p2p")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "p2p failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// Fails with one `error: ...` line on stderr that mentions `needle`.
fn assert_one_line_error(o: &Output, needle: &str) {
    assert!(
        !o.status.success(),
        "expected a failure, got success:\n{}",
        stdout(o)
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "`{needle}` not in: {err}");
}

fn store_exists(dir: &Path) -> bool {
    dir.join("p2p.sqlite3").exists()
}

/// The rows of the demo's summary table: `#`, then the cells split on 2+ spaces.
fn summary_rows(out: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in out.lines() {
        if line.starts_with("Invoices through the workflow") {
            in_table = true;
            continue;
        }
        if in_table {
            if line.trim().is_empty() {
                break;
            }
            if line.starts_with('#') || line.starts_with('-') {
                continue;
            }
            let cells: Vec<String> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            rows.push(cells);
        }
    }
    rows
}

#[test]
fn demo_runs_end_to_end_and_a_second_run_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let first = p2p(&dir, &["demo"]);
    assert_ok(&first);
    let out = stdout(&first);
    let rows = summary_rows(&out);
    assert_eq!(rows.len(), 5, "{out}");
    let row = |i: usize| rows[i].join(" | ");
    assert!(
        row(0).contains("NW-DEMO-0001")
            && row(0).contains("PaymentApproved")
            && row(0).contains("paid"),
        "{}",
        row(0)
    );
    assert!(
        row(0).contains("sent"),
        "payment of invoice 1 is sent: {}",
        row(0)
    );
    assert!(
        row(1).contains("InvoiceRejected") && row(1).contains("rejected"),
        "{}",
        row(1)
    );
    assert!(row(2).contains("failed: DuplicateInvoice"), "{}", row(2));
    assert!(
        row(3).contains("failed: InvoiceInvalid") && row(3).contains("not stored"),
        "{}",
        row(3)
    );
    assert!(
        row(4).contains("NW-DEMO-0005")
            && row(4).contains("PaymentApproved")
            && row(4).contains("paid"),
        "{}",
        row(4)
    );
    assert!(
        out.contains("approved from the CLI (task-success)"),
        "{out}"
    );
    assert!(
        out.contains("discrepancy "),
        "the rejected invoice's report is shown:\n{out}"
    );
    assert!(
        out.contains("invalid: "),
        "the invalid invoice's errors are shown:\n{out}"
    );
    assert!(out.contains("2 callback(s) delivered"), "{out}");
    assert!(out.contains("Audit trail of invoice NW-DEMO-0001"), "{out}");
    assert!(
        out.contains("APPROVE_WITH_FILES") || out.contains("APPROVE"),
        "{out}"
    );

    // Every payment file printed exists on disk, under the data directory.
    let files: Vec<PathBuf> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(dir.to_str().unwrap()))
        .filter(|l| l.ends_with("payment.xml") || l.ends_with("payment.json"))
        .map(PathBuf::from)
        .collect();
    assert_eq!(files.len(), 4, "two payments, two files each:\n{out}");
    for f in &files {
        assert!(f.is_file(), "{} missing", f.display());
        assert!(f.starts_with(&dir), "{} outside the data dir", f.display());
    }
    let xml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(xml.contains("<Amount>3250.00</Amount>"), "{xml}");
    // The payment run file pays the vendor's IBAN.
    let run_file = out
        .lines()
        .find_map(|l| l.split("payment run file (ISO 20022 pain.001): ").nth(1))
        .map(PathBuf::from)
        .expect("payment run file printed");
    let pain = std::fs::read_to_string(&run_file).unwrap();
    assert!(pain.contains("DE89370400440532013000"), "{pain}");

    // Second run: same summary, nothing created, nothing run again.
    let second = p2p(&dir, &["demo"]);
    assert_ok(&second);
    let out2 = stdout(&second);
    assert_eq!(
        summary_rows(&out2),
        rows,
        "same result on the second run:\n{out2}"
    );
    assert!(out2.contains("already there"), "{out2}");
    assert!(
        !out2.contains("(created)"),
        "nothing created the second time:\n{out2}"
    );
    assert!(out2.contains("[already run: stored result]"), "{out2}");
    assert!(
        out2.contains("approved from the CLI (task-success)"),
        "the stored approval is explained again:\n{out2}"
    );
    assert!(out2.contains("0 callback(s) delivered"), "{out2}");

    let list = p2p(&dir, &["executions", "list"]);
    assert_ok(&list);
    let listed = stdout(&list);
    assert_eq!(
        listed.matches("demo-").count(),
        5,
        "five executions, no more:\n{listed}"
    );
}

/// The JSON values `p2p run --history` printed: the history, then the output (on success).
fn json_values(out: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("not a stream of JSON values ({e}):\n{out}"))
}

/// The state the execution ended in: the last `*StateEntered` event's name.
fn last_state(history: &Value) -> String {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["type"].as_str().unwrap().ends_with("StateEntered"))
        .map(|e| {
            e["stateEnteredEventDetails"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .unwrap()
}

fn count_events(history: &Value, event_type: &str) -> usize {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == event_type)
        .count()
}

/// What one test case of `statemachine/mocks/invoice-workflow.mock.json` must end with.
struct Expected {
    case: &'static str,
    /// `Ok(end state)` for a succeeded execution, `Err((Fail state, error))` for a failed one.
    end: Result<&'static str, (&'static str, &'static str)>,
    /// The failed task attempts in the history (each retry is one).
    task_failures: usize,
}

#[test]
fn every_test_case_of_the_invoice_workflow_mock_config_runs_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let workflow = repo_file("statemachine/invoice-workflow.asl.json");
    let mocks = repo_file("statemachine/mocks/invoice-workflow.mock.json");
    let input = repo_file("statemachine/mocks/invoice-input.json");
    let run = |case: &str| {
        p2p(
            &dir,
            &[
                "run",
                workflow.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--mock-config",
                mocks.to_str().unwrap(),
                "--test-case",
                case,
                "--history",
            ],
        )
    };
    let expected = [
        Expected {
            case: "HappyPath",
            end: Ok("PaymentApproved"),
            task_failures: 0,
        },
        Expected {
            case: "HumanApproval",
            end: Ok("PaymentApproved"),
            task_failures: 0,
        },
        Expected {
            case: "ApprovalRejected",
            end: Ok("ApprovalRejected"),
            task_failures: 1,
        },
        Expected {
            case: "ApprovalTimedOut",
            end: Err(("ApprovalTimedOut", "ApprovalTimedOut")),
            task_failures: 1,
        },
        Expected {
            case: "PriceDiscrepancy",
            end: Ok("InvoiceRejected"),
            task_failures: 0,
        },
        Expected {
            case: "DuplicateInvoice",
            end: Err(("DuplicateInvoice", "DuplicateInvoice")),
            task_failures: 1,
        },
        Expected {
            case: "InvalidInvoice",
            end: Err(("ValidationFailed", "InvoiceInvalid")),
            task_failures: 0,
        },
        // "0" Transient, "1-2" Lambda.TooManyRequestsException, "3" returns: three retries.
        Expected {
            case: "TransientRetried",
            end: Ok("PaymentApproved"),
            task_failures: 3,
        },
        // "0-4" Transient: the first attempt and MaxAttempts 4 retries, then the Catch.
        Expected {
            case: "TransientExhausted",
            end: Err(("ProcessingFailed", "ProcessingFailed")),
            task_failures: 5,
        },
    ];
    // Every case of the file is checked here.
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&mocks).unwrap()).unwrap();
    let mut in_file: Vec<&str> = config["StateMachines"]["invoice-workflow"]["TestCases"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut tested: Vec<&str> = expected.iter().map(|e| e.case).collect();
    in_file.sort_unstable();
    tested.sort_unstable();
    assert_eq!(in_file, tested);

    for want in &expected {
        let o = run(want.case);
        let values = json_values(&stdout(&o));
        let history = &values[0];
        let ctx = format!("case {}: {}\n{}", want.case, stderr(&o), stdout(&o));
        match want.end {
            Ok(state) => {
                assert_ok(&o);
                assert_eq!(values.len(), 2, "{ctx}");
                assert_eq!(last_state(history), state, "{ctx}");
                assert_eq!(
                    history["events"].as_array().unwrap().last().unwrap()["type"],
                    "ExecutionSucceeded",
                    "{ctx}"
                );
            }
            Err((state, error)) => {
                assert_one_line_error(&o, &format!("failed: {error}: "));
                assert_eq!(values.len(), 1, "{ctx}");
                assert_eq!(last_state(history), state, "{ctx}");
                assert_eq!(count_events(history, "ExecutionFailed"), 1, "{ctx}");
            }
        }
        assert_eq!(
            count_events(history, "TaskFailed") + count_events(history, "TaskTimedOut"),
            want.task_failures,
            "{ctx}"
        );
        let output = values.get(1);
        match want.case {
            "HappyPath" | "TransientRetried" => {
                let output = output.unwrap();
                assert_eq!(output["payment"]["payment_id"], "pay-mock");
                assert_eq!(output["approval"]["approved_by"], "system:auto-approval");
                assert_eq!(output["invoice"]["invoice_id"], "inv-mock");
            }
            "HumanApproval" => {
                // The approver's answer went through the state's ResultSelector.
                let output = output.unwrap();
                assert_eq!(
                    output["approval"],
                    serde_json::json!({"approved": true, "approved_by": "controller@example.com"})
                );
                assert_eq!(output["payment"]["payment_id"], "pay-mock");
            }
            "ApprovalRejected" => {
                let output = output.unwrap();
                assert_eq!(output["error"]["Error"], "ApprovalRejected");
                assert_eq!(output["error"]["Cause"], "wrong cost centre");
                assert!(output.get("payment").is_none(), "{output}");
            }
            "PriceDiscrepancy" => {
                let output = output.unwrap();
                assert_eq!(output["reconciliation"]["outcome"], "rejected");
                assert_eq!(
                    output["reconciliation"]["report"]["discrepancies"][0]["code"],
                    "unit_price_mismatch"
                );
                assert_eq!(output["notification"]["message_id"], "msg-mock");
            }
            _ => {}
        }
    }

    // Retries are the same state scheduled again: four ProcessInvoice attempts.
    let retried = json_values(&stdout(&run("TransientRetried")));
    let scheduled = retried[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskScheduled")
        .count();
    assert_eq!(
        scheduled,
        1 + 4 + 3,
        "ValidateInvoice, ProcessInvoice 4 times, Reconcile, ApprovePayment, NotifyPaymentApproved"
    );
    let entered_process = retried[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stateEnteredEventDetails"]["name"] == "ProcessInvoice")
        .count();
    assert_eq!(entered_process, 1, "a retry does not re-enter the state");

    let unknown_case = run("NoSuchCase");
    assert_one_line_error(&unknown_case, "NoSuchCase");

    // Everything was mocked: the store was never opened.
    assert!(!dir.exists(), "mocked runs do not touch the store");
}

#[test]
fn the_mock_config_state_machine_is_the_file_stem_or_state_machine_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // The same definition under another file name.
    let copy = tmp.path().join("approval-flow.asl.json");
    std::fs::copy(repo_file("statemachine/invoice-workflow.asl.json"), &copy).unwrap();
    let mocks = repo_file("statemachine/mocks/invoice-workflow.mock.json");
    let input = repo_file("statemachine/mocks/invoice-input.json");
    let args = |extra: &[&'static str]| {
        let mut v: Vec<String> = [
            "run",
            copy.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--mock-config",
            mocks.to_str().unwrap(),
            "--test-case",
            "HappyPath",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let by_stem = args(&[]);
    let o = p2p(
        &dir,
        &by_stem.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_one_line_error(&o, "approval-flow");

    let named = args(&["--state-machine-name", "invoice-workflow"]);
    let o = p2p(&dir, &named.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ok(&o);
    let output: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(output["payment"]["payment_id"], "pay-mock");
    assert!(!dir.exists(), "mocked runs do not touch the store");
}

#[test]
fn invoke_runs_one_handler_and_reports_its_error_type() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let ok = p2p(
        &dir,
        &[
            "invoke",
            "validate-invoice",
            "--event",
            repo_file("events/validate-invoice/canonical-valid.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_ok(&ok);
    let result: Value = serde_json::from_str(&stdout(&ok)).unwrap();
    assert_eq!(result["valid"], true, "{result}");

    let invalid = p2p(
        &dir,
        &[
            "invoke",
            "validate-invoice",
            "--event",
            repo_file("events/validate-invoice/canonical-invalid.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_ok(&invalid);
    let result: Value = serde_json::from_str(&stdout(&invalid)).unwrap();
    assert_eq!(result["valid"], false);
    assert!(!result["errors"].as_array().unwrap().is_empty());

    // process-invoice on an unknown PO: the contract's error name, non-zero exit.
    let failed = p2p(
        &dir,
        &[
            "invoke",
            "process-invoice",
            "--event",
            repo_file("events/process-invoice/unknown-po.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(!failed.status.success());
    let err = stderr(&failed);
    assert!(err.contains("process-invoice failed: "), "{err}");
    assert!(
        err.contains("NotFound") || err.contains("InvoiceInvalid"),
        "{err}"
    );
}

#[test]
fn jobs_dry_run_reports_statistics_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let reconcile = p2p(&dir, &["jobs", "reconcile", "--dry-run", "--json"]);
    assert_ok(&reconcile);
    let stats: Value = serde_json::from_str(&stdout(&reconcile)).unwrap();
    assert_eq!(stats["dry_run"], true);
    assert_eq!(stats["processed"], 0);
    assert_eq!(stats["complete"], true);

    // Without Workday settings a dry run still works (nothing is sent).
    let monitor = p2p(&dir, &["jobs", "export-monitor", "--dry-run"]);
    assert_ok(&monitor);
    let table = stdout(&monitor);
    assert!(table.contains("export-monitor statistics"), "{table}");
    assert!(table.contains("approved_payments_found"), "{table}");
    assert!(
        !table.contains('\u{1b}'),
        "no progress bar when stdout is not a terminal"
    );

    // A real run needs the Workday settings, and says so.
    let monitor = p2p(&dir, &["jobs", "export-monitor"]);
    assert_one_line_error(&monitor, "WORKDAY_CALLBACK_URL");
}

#[test]
fn task_success_resumes_a_waiting_execution() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let paused = p2p(
        &dir,
        &[
            "run",
            fixture("wait-for-token.asl.json").to_str().unwrap(),
            "--name",
            "manual-approval",
        ],
    );
    assert_ok(&paused);
    let text = stdout(&paused);
    assert!(text.contains("is waiting for task token(s)"), "{text}");
    let token = text
        .lines()
        .find_map(|l| l.split("task token(s): ").nth(1))
        .unwrap()
        .trim()
        .to_string();

    let list = p2p(&dir, &["executions", "list"]);
    assert!(stdout(&list).contains("paused"), "{}", stdout(&list));

    let resumed = p2p(
        &dir,
        &[
            "task-success",
            &token,
            "--output",
            r#"{"approved_by": "controller@example.com"}"#,
        ],
    );
    assert_ok(&resumed);
    let out = stdout(&resumed);
    assert!(
        out.contains("execution manual-approval: SUCCEEDED at Done"),
        "{out}"
    );
    assert!(out.contains("controller@example.com"), "{out}");

    // The token is spent.
    let again = p2p(&dir, &["task-success", &token]);
    assert_one_line_error(&again, &token);

    // task-failure on a fresh pause.
    let paused = p2p(
        &dir,
        &[
            "run",
            fixture("wait-for-token.asl.json").to_str().unwrap(),
            "--name",
            "manual-rejection",
        ],
    );
    assert_ok(&paused);
    let token = stdout(&paused)
        .lines()
        .find_map(|l| {
            l.split("task token(s): ")
                .nth(1)
                .map(|t| t.trim().to_string())
        })
        .unwrap();
    let failed = p2p(
        &dir,
        &[
            "task-failure",
            &token,
            "--error",
            "ApprovalRejected",
            "--cause",
            "wrong cost centre",
        ],
    );
    assert_ok(&failed);
    assert!(stdout(&failed).contains("FAILED"), "{}", stdout(&failed));
    assert!(
        stdout(&failed).contains("ApprovalRejected"),
        "{}",
        stdout(&failed)
    );
}

#[test]
fn bad_input_fails_in_one_line_and_leaves_the_store_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let workflow = repo_file("statemachine/invoice-workflow.asl.json");
    let w = workflow.to_str().unwrap();

    let invalid = p2p(
        &dir,
        &[
            "run",
            fixture("invalid-definition.asl.json").to_str().unwrap(),
        ],
    );
    assert_one_line_error(&invalid, "invalid-definition.asl.json");
    assert!(
        stderr(&invalid).contains("Nowhere"),
        "names the bad target: {}",
        stderr(&invalid)
    );

    let missing = p2p(&dir, &["run", w, "--input", "/no/such/input.json"]);
    assert_one_line_error(&missing, "/no/such/input.json");

    let malformed = p2p(
        &dir,
        &[
            "run",
            w,
            "--input",
            fixture("malformed.json").to_str().unwrap(),
        ],
    );
    assert_one_line_error(&malformed, "malformed.json");

    let unknown = p2p(
        &dir,
        &[
            "run",
            fixture("unknown-function.asl.json").to_str().unwrap(),
        ],
    );
    assert_one_line_error(&unknown, "charge-credit-card");

    let unknown_invoke = p2p(
        &dir,
        &[
            "invoke",
            "charge-credit-card",
            "--event",
            fixture("mock-input.json").to_str().unwrap(),
        ],
    );
    assert_one_line_error(&unknown_invoke, "charge-credit-card");

    let malformed_event = p2p(
        &dir,
        &[
            "invoke",
            "validate-invoice",
            "--event",
            fixture("malformed.json").to_str().unwrap(),
        ],
    );
    assert_one_line_error(&malformed_event, "malformed.json");

    let panics = p2p(
        &dir,
        &["run", fixture("panicking-task.asl.json").to_str().unwrap()],
    );
    assert_one_line_error(&panics, "States.TaskFailed");
    assert!(
        stderr(&panics).contains("asked to panic"),
        "{}",
        stderr(&panics)
    );

    let hangs = p2p(
        &dir,
        &["run", fixture("hanging-task.asl.json").to_str().unwrap()],
    );
    assert_one_line_error(&hangs, "States.Timeout");

    let hangs = p2p(
        &dir,
        &[
            "run",
            fixture("hanging-task-no-timeout.asl.json")
                .to_str()
                .unwrap(),
            "--task-timeout",
            "1",
        ],
    );
    assert_one_line_error(&hangs, "Sandbox.Timedout");

    let no_token = p2p(&dir, &["task-success", "no-such-token"]);
    assert_one_line_error(&no_token, "no-such-token");

    assert!(!store_exists(&dir), "bad input never created the store");
}

/// Every file of the data directory with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn bad_input_leaves_an_existing_store_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // A store with one paused execution in it.
    let paused = p2p(
        &dir,
        &[
            "run",
            fixture("wait-for-token.asl.json").to_str().unwrap(),
            "--name",
            "already-here",
        ],
    );
    assert_ok(&paused);
    let before = snapshot(&dir);
    assert!(store_exists(&dir));

    let workflow = repo_file("statemachine/invoice-workflow.asl.json");
    let w = workflow.to_str().unwrap();
    let invalid = fixture("invalid-definition.asl.json");
    let malformed = fixture("malformed.json");
    let unknown = fixture("unknown-function.asl.json");
    let panicking = fixture("panicking-task.asl.json");
    let hanging = fixture("hanging-task.asl.json");
    let cases: [(&[&str], &str); 7] = [
        (&["run", invalid.to_str().unwrap()], "Nowhere"),
        (
            &["run", w, "--input", "/no/such/input.json"],
            "/no/such/input.json",
        ),
        (
            &["run", w, "--input", malformed.to_str().unwrap()],
            "malformed.json",
        ),
        (&["run", unknown.to_str().unwrap()], "charge-credit-card"),
        (
            &["invoke", "nope", "--event", "f"],
            "unknown function `nope`",
        ),
        (&["run", panicking.to_str().unwrap()], "asked to panic"),
        (&["run", hanging.to_str().unwrap()], "States.Timeout"),
    ];
    for (args, needle) in cases {
        let o = p2p(&dir, args);
        assert_one_line_error(&o, needle);
        assert!(
            snapshot(&dir) == before,
            "`p2p {}` changed the data directory",
            args.join(" ")
        );
    }

    // An unknown token opens the store to look, and changes nothing in it.
    let o = p2p(&dir, &["task-success", "no-such-token"]);
    assert_one_line_error(&o, "no-such-token");
    let list = p2p(&dir, &["executions", "list"]);
    assert_ok(&list);
    let listed = stdout(&list);
    assert_eq!(
        listed.lines().count(),
        3,
        "header, rule, one execution:\n{listed}"
    );
    assert!(
        listed.contains("already-here") && listed.contains("paused"),
        "{listed}"
    );
}

#[test]
fn help_lists_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let help = p2p(tmp.path(), &["--help"]);
    assert_ok(&help);
    let text = stdout(&help);
    for command in [
        "demo",
        "run",
        "invoke",
        "jobs",
        "task-success",
        "task-failure",
        "executions",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
}
