#!/usr/bin/env bash
# Property-based API test: schemathesis (pinned in scripts/requirements-schemathesis.txt)
# against the served /openapi.json of the api crate, on a fresh seeded data directory,
# with dev-auth headers of an admin. Fails on any 5xx or response that breaks the spec.
#
#   scripts/schemathesis.sh            # MAX_EXAMPLES=25 per operation by default
#   MAX_EXAMPLES=100 scripts/schemathesis.sh
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv-schemathesis"
MAX_EXAMPLES="${MAX_EXAMPLES:-25}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qxF -f scripts/requirements-schemathesis.txt; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -r scripts/requirements-schemathesis.txt
fi

# A debug build: fast to build, plenty fast for a few thousand requests.
cargo build --quiet -p api --example serve_local

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

WORKDAY_CALLBACK_SECRET="schemathesis-$RANDOM$RANDOM" \
    "$CARGO_TARGET_DIR/debug/examples/serve_local" \
    --data-dir "$WORK/data" --addr 127.0.0.1:0 --dev-auth --seed >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$WORK/server.log" | head -n1)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "server exited" >&2; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/server.log"; echo "server did not start" >&2; exit 1; }
grep '^seeded' "$WORK/server.log" || true

# Business outcomes that depend on state (a random id names nothing: 404; a random body
# breaks a rule of the data: 409/422) are documented answers, not failures of the spec.
cat >"$WORK/schemathesis.toml" <<'EOF'
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "400", "401", "403", "404", "409", "422"]
EOF

set +e
"$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$URL/openapi.json" \
    --url "$URL" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --phases examples,coverage,fuzzing \
    --header "X-Dev-User: schemathesis@corp.example" \
    --header "X-Dev-Groups: ap-admin" \
    --request-timeout 10 \
    --seed 42 \
    --no-color
STATUS=$?
set -e
if [ "$STATUS" -ne 0 ]; then
    echo "--- server log (tail) ---"
    tail -n 40 "$WORK/server.log"
fi
exit "$STATUS"
