#!/usr/bin/env bash
# Load run of the served API (loopback only, bounded): starts `serve_local` (bench profile)
# on a fresh seeded data directory, runs `wrk` (apt: wrk) for DURATION against
# GET /api/v1/invoices/{id}, prints the numbers, stops the server by PID.
#
#   functions/api/benches/serve_load.sh            # 10 s, 2 threads, 32 connections
#   DURATION=5s CONNECTIONS=64 functions/api/benches/serve_load.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --profile bench --quiet -p api --example serve_local

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

# The bench profile builds into release/.
RUST_LOG=warn "$CARGO_TARGET_DIR/release/examples/serve_local" \
    --data-dir "$WORK/data" --addr 127.0.0.1:0 --dev-auth --seed >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$WORK/server.log" | head -n1)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/server.log"; echo "server did not start" >&2; exit 1; }
INVOICE=$(sed -n 's/^seeded .*invoice=\([^ ]*\).*/\1/p' "$WORK/server.log")

wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency \
    -H "X-Dev-User: clara@corp.example" -H "X-Dev-Groups: ap-clerk" \
    "$URL/api/v1/invoices/$INVOICE"
