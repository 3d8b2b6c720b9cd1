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
#                   (.venv-sam/bin/cargo-lambda or cargo-lambda on PATH) and zip that
#   NO_BUILD=1      use the existing release binaries
# Measures the host (x86_64/native) release build against bench/fake_runtime.py, which serves
# the Runtime API and a stub AWS endpoint on 127.0.0.1 and feeds events/<function>/<typical>.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNS="${RUNS:-7}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ZIP_BUDGET=$((8 * 1024 * 1024))
INIT_BUDGET_MS=20
HWM_BUDGET_KB=$((24 * 1024))

ALL=(validate-invoice process-invoice reconcile approve-payment export-monitor send-notification textract-processor api)

# The typical event per function (first existing file wins).
typical_event() {
    local fn="$1" candidates=()
    case "$fn" in
        validate-invoice) candidates=(canonical-valid.json seed-valid.json) ;;
        process-invoice | reconcile | approve-payment) candidates=(task-input.json) ;;
        export-monitor) candidates=(scheduled.json) ;;
        send-notification) candidates=(approval-needed.json processed.json) ;;
        textract-processor) candidates=(object-created.json s3-upload.json) ;;
        api) candidates=(list-invoices.json get-invoice.json) ;;
    esac
    for c in "${candidates[@]}"; do
        [[ -f "events/$fn/$c" ]] && { echo "events/$fn/$c"; return; }
    done
    # Otherwise the first sample of that function.
    local first
    first="$(find "events/$fn" -maxdepth 1 -name '*.json' 2>/dev/null | sort | head -n1)"
    [[ -n "$first" ]] && echo "$first"
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

if [[ -z "${NO_BUILD:-}" ]]; then
    pkgs=()
    for fn in "${functions[@]}"; do pkgs+=(-p "$fn"); done
    echo "==> cargo build --release ${pkgs[*]}" >&2
    cargo build --release "${pkgs[@]}" >&2
fi

CARGO_LAMBDA=""
if [[ -n "${BENCH_ARM64:-}" ]]; then
    if [[ -x "$ROOT/.venv-sam/bin/cargo-lambda" ]]; then
        CARGO_LAMBDA="$ROOT/.venv-sam/bin/cargo-lambda"
        export PATH="$ROOT/.venv-sam/bin:$PATH"  # zig from the ziglang wheel
    elif command -v cargo-lambda >/dev/null; then
        CARGO_LAMBDA="$(command -v cargo-lambda)"
    else
        echo "BENCH_ARM64 set but cargo-lambda not found (pip install -r scripts/requirements-sam.txt)" >&2
    fi
    if [[ -n "$CARGO_LAMBDA" ]]; then
        bins=()
        for fn in "${functions[@]}"; do bins+=(--bin "$fn"); done
        echo "==> cargo lambda build --release --arm64 ${bins[*]}" >&2
        "$CARGO_LAMBDA" lambda build --release --arm64 "${bins[@]}" >&2
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/functions.log"

zip_size() {  # binary -> bytes of a zip holding it as `bootstrap`, as SAM packages it
    local bin="$1" dir
    dir="$(mktemp -d -p "$work")"
    cp "$bin" "$dir/bootstrap"
    (cd "$dir" && zip -q -9 -X bootstrap.zip bootstrap)
    stat -c %s "$dir/bootstrap.zip"
}

mark() {  # value budget -> "ok" | "OVER" | "-"
    if [[ "$1" == "-" ]]; then echo "-"; elif awk "BEGIN{exit !($1 <= $2)}"; then echo "ok"; else echo "OVER"; fi
}

printf '%-20s %12s %12s %10s %10s %10s  %s\n' function "zip(host)" "zip(arm64)" "init ms" "VmHWM MB" "budgets" "invocation"
failed=0
for fn in "${functions[@]}"; do
    bin="$TARGET_DIR/release/$fn"
    if [[ ! -x "$bin" ]]; then
        printf '%-20s %s\n' "$fn" "no release binary at $bin"
        failed=1
        continue
    fi
    zhost="$(zip_size "$bin")"
    zarm="-"
    arm_bin="$TARGET_DIR/lambda/$fn/bootstrap"
    if [[ -n "$CARGO_LAMBDA" && -f "$arm_bin" ]]; then
        zarm="$(zip_size "$arm_bin")"
    fi

    event="$(typical_event "$fn")"
    if [[ -z "$event" ]]; then
        printf '%-20s %12s %12s %10s %10s %10s  %s\n' "$fn" "$zhost" "$zarm" - - - "no events/$fn/*.json"
        continue
    fi
    result="$(python3 "$ROOT/bench/fake_runtime.py" --binary "$bin" --function "$fn" \
        --event "$event" --runs "$RUNS" --log "$log")"
    read -r init hwm outcome < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
init = r["init_ms_median"]
hwm = r["vmhwm_kb_max"]
print("-" if init is None else f"{init:.2f}", "-" if hwm is None else hwm, r["outcome"].replace(" ", "_"))
' "$result")
    hwm_mb="-"
    [[ "$hwm" != "-" ]] && hwm_mb="$(awk "BEGIN{printf \"%.1f\", $hwm/1024}")"
    size_for_budget="$zhost"
    [[ "$zarm" != "-" ]] && size_for_budget="$zarm"
    budgets="$(mark "$size_for_budget" "$ZIP_BUDGET")/$(mark "$init" "$INIT_BUDGET_MS")/$(mark "$hwm" "$HWM_BUDGET_KB")"
    printf '%-20s %12s %12s %10s %10s %10s  %s (%s)\n' "$fn" "$zhost" "$zarm" "$init" "$hwm_mb" "$budgets" "$outcome" "$(basename "$event")"
    [[ "$init" == "-" ]] && failed=1
done

echo
echo "budgets: zip <= 8 MB (arm64 zip when built, else host) / init <= ${INIT_BUDGET_MS} ms (median of $RUNS) / VmHWM <= 24 MB"
if [[ $failed -ne 0 ]]; then
    echo "some functions could not be measured; their output is below" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
fi
