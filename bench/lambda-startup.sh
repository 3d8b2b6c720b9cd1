#!/usr/bin/env bash
# Lambda start-up budget check for every function binary (not a test: it prints numbers).
#
# Budgets (issue): the release bootstrap zipped as SAM deploys it <= 8 MB; initialisation
# (process start until the first GET /runtime/invocation/next) <= 20 ms with all AWS clients
# built; peak memory (VmHWM) over one typical invocation <= 24 MB.
#
# Usage: bench/lambda-startup.sh [function ...]      (default: every functions/<name> binary)
#   RUNS=N          start-up runs per function, median reported (default 7)
#   BENCH_ARM64=1   also build the deployable aarch64 bootstrap with cargo-lambda
#                   (.venv-sam/bin/cargo-lambda, as scripts/sam-build.sh does) and zip that
#   NO_BUILD=1      use the existing release binaries
#   NO_TLS=1        serve the fake AWS endpoint over plain HTTP
#   STRICT=1        exit 2 when a budget is missed
#   BENCH_NICE=N    niceness of the harness and the function (default -20 when root, so that
#                   other users' builds on a shared machine do not queue ahead of it; 0 = off)
#
# What is measured:
# - zip: the bootstrap zipped the way `sam package`/`sam deploy` zips it (Python zipfile,
#   ZIP_DEFLATED). The arm64 column is what SAM deploys: .aws-sam/build/<Fn>/bootstrap after
#   `make build`, else $CARGO_TARGET_DIR/lambda/<fn>/bootstrap (BENCH_ARM64=1). The size
#   budget is checked on arm64 when there is one, else on the host build.
# - init and VmHWM: the host (x86_64) release binary (same profile, same code; an arm64 one
#   cannot run here) against bench/fake_runtime.py: the Runtime API on 127.0.0.1 and a fake
#   AWS endpoint over HTTPS (so every SDK call pays for TLS as on Lambda) that answers
#   DynamoDB/S3/SNS/EventBridge/Step Functions/Textract. init = spawn until the first GET
#   .../invocation/next (median of RUNS). The machine is shared, so the script also reads
#   /proc/<pid>/task/*/schedstat at that moment: CPU time of all threads (which other load
#   cannot inflate) and, in the JSON (VERBOSE=1), the main thread's wait for a CPU. The
#   init budget is checked on the fastest run, the one least disturbed by other load; the
#   median is printed next to it. VmHWM is read from /proc once the invocation is answered
#   and the function asks for the next event (max over RUNS).
# - the event: bench/events/<fn>/, else events/<fn>/ (see typical_event). The fake store is
#   empty, so reads find nothing: the outcome column says which path ran. textract-processor
#   gets the uploaded image and its recorded AnalyzeExpense response from the shared test data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNS="${RUNS:-7}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ZIP_BUDGET=$((8 * 1024 * 1024))
INIT_BUDGET_MS=20
HWM_BUDGET_KB=$((24 * 1024))
TESTDATA="$ROOT/../shared/testdata"

ALL=(validate-invoice process-invoice reconcile approve-payment export-monitor send-notification textract-processor api)

# The typical event per function (first existing file wins).
typical_event() {
    local fn="$1" candidates=()
    case "$fn" in
        validate-invoice) candidates=(canonical-valid.json seed-valid.json) ;;
        process-invoice | reconcile | approve-payment) candidates=(task-input.json) ;;
        export-monitor) candidates=(scheduled.json) ;;
        send-notification) candidates=(approval-needed.json processed.json) ;;
        # Uploads reach it as EventBridge "Object Created" events (template.yaml).
        textract-processor) candidates=(../eventbridge-s3-object-created.json object-created.json s3-upload-url-encoded.json) ;;
        api) candidates=(list-invoices.json get-invoice.json) ;;
    esac
    for dir in "bench/events/$fn" "events/$fn"; do
        for c in "${candidates[@]}"; do
            [[ -f "$dir/$c" ]] && { echo "$dir/$c"; return; }
        done
    done
    # Otherwise the first sample of that function.
    local first
    first="$(find "bench/events/$fn" "events/$fn" -maxdepth 1 -name '*.json' 2>/dev/null | sort | head -n1)"
    [[ -n "$first" ]] && echo "$first"
}

# Extra fake_runtime.py arguments that make a function's invocation typical.
fixtures() {
    case "$1" in
        textract-processor)
            # events/eventbridge-s3-object-created.json uploads this very image (90249 bytes).
            local img="$TESTDATA/textract/trp_default_invoice_1.png"
            local expense="$TESTDATA/textract/trp_invoice-expense-response.json"
            local document="$TESTDATA/textract/textractor_analyzedocument_sample-invoice.json"
            if [[ -f "$img" && -f "$expense" ]]; then
                echo "--s3-object uploads/=$img --textract-expense $expense"
                [[ -f "$document" ]] && echo "--textract-document $document"
            fi
            ;;
    esac
}

if [[ $# -gt 0 ]]; then
    functions=("$@")
else
    functions=()
    for fn in "${ALL[@]}"; do
        [[ -f "functions/$fn/Cargo.toml" ]] && functions+=("$fn")
    done
fi
if [[ ${#functions[@]} -eq 0 ]]; then
    echo "no functions/<name> packages found" >&2
    exit 1
fi

# One cargo invocation selecting bins the way cargo-lambda/SAM do (workspace-wide feature
# resolution), so the host binaries match the deployed ones but for the target.
bins=()
for fn in "${functions[@]}"; do bins+=(--bin "$fn"); done
if [[ -z "${NO_BUILD:-}" ]]; then
    echo "==> cargo build --release ${bins[*]}" >&2
    cargo build --release "${bins[@]}" >&2
fi

CARGO_LAMBDA=""
if [[ -n "${BENCH_ARM64:-}" ]]; then
    if [[ -x "$ROOT/.venv-sam/bin/cargo-lambda" ]]; then
        CARGO_LAMBDA="$ROOT/.venv-sam/bin/cargo-lambda"
        export PATH="$ROOT/.venv-sam/bin:$PATH"  # zig from the ziglang wheel
    elif command -v cargo-lambda >/dev/null; then
        CARGO_LAMBDA="$(command -v cargo-lambda)"
    else
        echo "BENCH_ARM64 set but cargo-lambda not found (scripts/sam-build.sh installs it)" >&2
    fi
    if [[ -n "$CARGO_LAMBDA" ]]; then
        echo "==> cargo lambda build --release --arm64 ${bins[*]}" >&2
        "$CARGO_LAMBDA" lambda build --release --arm64 "${bins[@]}" >&2
    fi
fi

# Logical id of each function in template.yaml (for .aws-sam/build/<LogicalId>/bootstrap).
declare -A LOGICAL_ID=()
while read -r bin id; do LOGICAL_ID[$bin]="$id"; done < <(awk '
    /^  [A-Za-z0-9]+:[[:space:]]*$/ { id = $1; sub(":", "", id) }
    /^[[:space:]]+Binary:[[:space:]]*[A-Za-z0-9_-]+[[:space:]]*$/ { print $2, id }' template.yaml)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/functions.log"

zip_size() {  # binary -> bytes of a zip holding it as `bootstrap`, as SAM packages it
    python3 - "$1" <<'PY'
import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o100755 << 16
    with open(sys.argv[1], "rb") as fh:
        zf.writestr(info, fh.read(), compress_type=zipfile.ZIP_DEFLATED)
print(len(buf.getvalue()))
PY
}

mb() { [[ "$1" == "-" ]] && echo "-" || awk "BEGIN{printf \"%.2f\", $1/1048576}"; }

mark() {  # value budget -> "ok" | "OVER" | "-"
    if [[ "$1" == "-" ]]; then echo "-"; elif awk "BEGIN{exit !($1 <= $2)}"; then echo "ok"; else echo "OVER"; fi
}

nice_value="${BENCH_NICE:-}"
if [[ -z "$nice_value" ]]; then
    nice_value=0
    [[ "$(id -u)" == 0 ]] && nice_value=-20
fi

tls_flag=(--tls)
[[ -n "${NO_TLS:-}" ]] && tls_flag=()
command -v openssl >/dev/null || tls_flag=()
aws_scheme="https"
[[ ${#tls_flag[@]} -eq 0 ]] && aws_scheme="http"

printf '%-19s %9s %9s %8s %8s %7s %8s %9s  %s\n' function "zip host" "zip arm64" "init med" "init min" "cpu ms" "VmHWM MB" "budgets" "invocation (event, AWS calls)"
failed=0
over=0
for fn in "${functions[@]}"; do
    bin="$TARGET_DIR/release/$fn"
    if [[ ! -x "$bin" ]]; then
        printf '%-19s %s\n' "$fn" "no release binary at $bin"
        failed=1
        continue
    fi
    zhost="$(zip_size "$bin")"
    zarm="-"
    arm_bin=""
    sam_bin=".aws-sam/build/${LOGICAL_ID[$fn]:-none}/bootstrap"
    if [[ -f "$sam_bin" ]]; then
        arm_bin="$sam_bin"
    elif [[ -f "$TARGET_DIR/lambda/$fn/bootstrap" ]]; then
        arm_bin="$TARGET_DIR/lambda/$fn/bootstrap"
    fi
    [[ -n "$arm_bin" ]] && zarm="$(zip_size "$arm_bin")"

    event="$(typical_event "$fn")"
    if [[ -z "$event" ]]; then
        printf '%-19s %9s %9s %8s %8s %7s %8s %9s  %s\n' "$fn" "$(mb "$zhost")" "$(mb "$zarm")" - - - - - "no events/$fn/*.json"
        continue
    fi
    # shellcheck disable=SC2046  # fixtures() prints whitespace-separated arguments
    result="$(python3 "$ROOT/bench/fake_runtime.py" --binary "$bin" --function "$fn" \
        --event "$event" --runs "$RUNS" --log "$log" --nice "$nice_value" "${tls_flag[@]}" $(fixtures "$fn"))"
    read -r init initmin cpu hwm outcome calls < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
f = lambda v: "-" if v is None else f"{v:.1f}"
runs = r["init_ms_all"]
hwm = r["vmhwm_kb_max"]
print(f(r["init_ms_median"]), f(min(runs) if runs else None), f(r["cpu_ms_median"]),
      "-" if hwm is None else hwm, r["outcome"].replace(" ", "_"), r["aws_calls"])
' "$result")
    hwm_mb="-"
    [[ "$hwm" != "-" ]] && hwm_mb="$(awk "BEGIN{printf \"%.1f\", $hwm/1024}")"
    size_for_budget="$zhost"
    [[ "$zarm" != "-" ]] && size_for_budget="$zarm"
    init_for_budget="$initmin"
    budgets="$(mark "$size_for_budget" "$ZIP_BUDGET")/$(mark "$init_for_budget" "$INIT_BUDGET_MS")/$(mark "$hwm" "$HWM_BUDGET_KB")"
    [[ "$budgets" == *OVER* ]] && over=1
    printf '%-19s %9s %9s %8s %8s %7s %8s %9s  %s (%s, %s)\n' "$fn" "$(mb "$zhost")" "$(mb "$zarm")" "$init" "$initmin" "$cpu" "$hwm_mb" "$budgets" "$outcome" "$(basename "$event")" "$calls"
    [[ "$init" == "-" ]] && failed=1
    if [[ -n "${VERBOSE:-}" ]]; then echo "$result" >&2; fi
done

echo
echo "zip sizes in MB (2^20 bytes). init: wall ms from spawn to the first /next, median and min"
echo "of $RUNS runs; cpu: CPU ms of all the function's threads until then (median; other load"
echo "cannot inflate it). Budgets: zip <= 8 MB (arm64 when present, else host) / init min <= ${INIT_BUDGET_MS} ms"
echo "(the run least disturbed by other load; on an idle machine median ~ min) / VmHWM <= 24 MB (max of $RUNS)."
echo "AWS endpoint: $aws_scheme; niceness: $nice_value; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $failed -ne 0 ]]; then
    echo "some functions could not be measured; their output is below" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
fi
if [[ $over -ne 0 && -n "${STRICT:-}" ]]; then
    exit 2
fi
