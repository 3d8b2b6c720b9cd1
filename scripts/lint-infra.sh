#!/usr/bin/env bash
# Lints the infrastructure: template.yaml (sam validate --lint, cfn-lint) and every
# statemachine/*.asl.json (statelint, asl-validator). Installs its tools on first use:
#   .venv-sam/            Python venv from scripts/requirements-sam.txt (aws-sam-cli, cfn-lint, statelint, ...)
#   .venv-sam/npm/        asl-validator from npm (pinned below)
# Exits non-zero if any linter reports a problem. Needs python3 (3.9+), npm, and the
# package registries (first run only). No AWS account: region and credentials are dummies.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/sam-venv.sh
. "$ROOT/scripts/sam-venv.sh"
NPM_PREFIX="$VENV/npm"
ASL_VALIDATOR_VERSION="4.0.0"

log() { printf '==> %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------
ensure_sam_venv

ASL_VALIDATOR="$NPM_PREFIX/node_modules/.bin/asl-validator"
if [[ ! -x "$ASL_VALIDATOR" ]] \
    || [[ "$(node -p "require('$NPM_PREFIX/node_modules/asl-validator/package.json').version" 2>/dev/null)" != "$ASL_VALIDATOR_VERSION" ]]; then
    log "installing asl-validator@$ASL_VALIDATOR_VERSION into .venv-sam/npm"
    mkdir -p "$NPM_PREFIX"
    npm install --silent --no-audit --no-fund --save-exact --prefix "$NPM_PREFIX" \
        "asl-validator@$ASL_VALIDATOR_VERSION" >/dev/null
fi

# SAM and cfn-lint want a region; nothing here talks to AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="${AWS_REGION:-$AWS_DEFAULT_REGION}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export SAM_CLI_TELEMETRY=0

failures=()
run() {
    local name="$1"
    shift
    log "$name"
    if ! "$@"; then
        failures+=("$name")
    fi
}

# --- template ------------------------------------------------------------------------
run "sam validate --lint" "$VENV/bin/sam" validate --lint -t template.yaml
run "cfn-lint" "$VENV/bin/cfn-lint" template.yaml

# --- state machines ------------------------------------------------------------------
# statelint insists that Resource is a URI, so the ${...} DefinitionSubstitutions are
# replaced by dummy ARNs of the right service in a scratch copy (the original is linted too
# by asl-validator, which accepts the placeholders).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

shopt -s nullglob
asl_files=(statemachine/*.asl.json)
if [[ ${#asl_files[@]} -eq 0 ]]; then
    log "no statemachine/*.asl.json found"
    failures+=("state machines present")
fi
for f in "${asl_files[@]}"; do
    concrete="$scratch/$(basename "$f")"
    if ! "$VENV/bin/python" - "$f" "$concrete" <<'PY'
import json, re, sys

src, dst = sys.argv[1], sys.argv[2]
with open(src) as fh:
    text = fh.read()
json.loads(text)  # a parse error fails here with its position

def dummy(m):
    name = m.group(1)
    if name.endswith("FunctionArn"):
        return "arn:aws:lambda:us-east-1:123456789012:function:" + name[: -len("Arn")]
    if name.endswith("StateMachineArn"):
        return "arn:aws:states:us-east-1:123456789012:stateMachine:" + name[: -len("Arn")]
    if name.endswith("TopicArn"):
        return "arn:aws:sns:us-east-1:123456789012:" + name[: -len("Arn")]
    if name.endswith("QueueUrl"):
        return "https://sqs.us-east-1.amazonaws.com/123456789012/" + name
    if name.endswith("Arn"):
        return "arn:aws:lambda:us-east-1:123456789012:function:" + name
    return "dummy-" + name

with open(dst, "w") as fh:
    fh.write(re.sub(r"\$\{([A-Za-z0-9_]+)\}", dummy, text))
PY
    then
        log "$f is not valid JSON"
        failures+=("json $f")
        continue
    fi
    run "statelint $f" "$VENV/bin/statelint" "$concrete"
    run "asl-validator $f" "$ASL_VALIDATOR" --json-path "$f"
    run "asl-validator $f (substituted)" "$ASL_VALIDATOR" --json-path "$concrete"
done

if [[ ${#failures[@]} -gt 0 ]]; then
    printf 'lint-infra: FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
log "lint-infra: template and ${#asl_files[@]} state machine(s) clean"
