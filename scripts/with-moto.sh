#!/usr/bin/env bash
# Runs a command against a local moto server (AWS API emulator):
#   scripts/with-moto.sh cargo test -p p2p-adapters --test aws_contract
# Creates .venv-moto at the repo root on first use (pinned scripts/requirements-moto.txt),
# starts moto on a free 127.0.0.1 port, exports AWS_ENDPOINT_URL and test credentials,
# runs the command, stops the server (also on failure or Ctrl-C) and returns the command's
# exit code.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command...>" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-moto"
REQS="$ROOT/scripts/requirements-moto.txt"
PYTHON="${PYTHON:-python3}"

# (Re)install when the venv is missing or the pins changed since the last install.
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQS" "$VENV/.requirements-installed"; then
  echo "with-moto: installing moto into $VENV" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$VENV/.requirements-installed"
fi

PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log")"

# moto_server's own app, with one change: requests are handled one at a time. moto's
# DynamoDB TransactWriteItems checks conditions, writes, and on failure restores a copy of
# the whole table taken before; two concurrent requests interleave and undo each other's
# writes (we saw 4 invoices win one invoice-number guard). Real DynamoDB transactions are
# serializable, so serializing the emulator makes it faithful, not lenient.
LAUNCHER='
import os, sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app)
host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)
'
MOTO_PORT="$PORT" "$VENV/bin/python" -c "$LAUNCHER" 127.0.0.1 "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!

stop_moto() {
  if kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  rm -f "$LOG"
}
trap stop_moto EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Wait (at most 30 s) until the server answers.
for _ in $(seq 1 60); do
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    echo "with-moto: moto server exited during start-up; its log:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
if ! "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null; then
  echo "with-moto: moto server did not answer on 127.0.0.1:$PORT within 30 s; its log:" >&2
  cat "$LOG" >&2
  exit 1
fi

export MOTO_PORT="$PORT"
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export P2P_MOTO=1

set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
