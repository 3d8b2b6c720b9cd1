#!/usr/bin/env python3
"""Start-up and memory measurement of one Lambda bootstrap against a local fake Runtime API.

Used by bench/lambda-startup.sh; Python standard library only. One HTTP server on
127.0.0.1 plays two parts:

* the Lambda Runtime API (2018-06-01): the first GET .../invocation/next returns the event,
  the /response or /error POST records the outcome, and the second GET .../next (the
  function is idle again) is held open while the harness reads VmHWM from /proc;
* a minimal AWS endpoint (AWS_ENDPOINT_URL) answering DynamoDB, EventBridge, SNS, Step
  Functions, S3 and Textract calls with empty-but-valid replies, so an invocation runs its
  normal path without a network (e.g. GetItem finds nothing). With --tls (the default of
  bench/lambda-startup.sh) it is served over HTTPS with a throw-away certificate that the
  function trusts through SSL_CERT_FILE (the system bundle plus that certificate), so every
  AWS call pays for TLS like on Lambda: loading the native root store, the handshake, the
  buffers. The Runtime API stays plain HTTP, as on Lambda. Fixtures make an invocation
  typical instead of "not found": --s3-object serves a file for uploaded keys, and
  --textract-expense / --textract-document answer Textract with recorded responses.

Init time = from just before the process is spawned until its first GET .../next arrives,
i.e. process start, configuration, AWS SDK clients and adapters built, runtime started.
Prints one JSON object per function on stdout.
"""

import argparse
import email.utils
import hashlib
import http.server
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

RUNTIME_PREFIX = "/2018-06-01/runtime/"


class Invocation:
    """What one process run did, filled in by the server threads."""

    def __init__(self, event: bytes):
        self.event = event
        self.cond = threading.Condition()
        self.next_calls = 0
        self.first_next_at = None
        self.outcome = None  # ("response" | "error" | "init_error", body)
        self.idle = False  # second /next arrived: the invocation is complete
        self.aws_calls = []
        self.release = threading.Event()
        self.pid = None
        self.sched_at_first_next = None  # (cpu ns all threads, main thread queued ns)


CURRENT = {"inv": None}
# Filled from the command line: what the fake AWS serves besides empty replies.
FIXTURES = {"s3_prefix": None, "s3_body": None, "expense": None, "document": None}


def dynamodb_reply(op: str) -> dict:
    if op in ("Query", "Scan"):
        return {"Items": [], "Count": 0, "ScannedCount": 0}
    if op == "BatchGetItem":
        return {"Responses": {}, "UnprocessedKeys": {}}
    if op == "DescribeTable":
        return {"Table": {"TableStatus": "ACTIVE"}}
    # GetItem (not found), PutItem, UpdateItem, DeleteItem, TransactWriteItems, ...
    return {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    # ---- Runtime API
    def _runtime(self):
        inv = CURRENT["inv"]
        path = self.path[len(RUNTIME_PREFIX):]
        if self.command == "GET" and path == "invocation/next":
            with inv.cond:
                inv.next_calls += 1
                first = inv.next_calls == 1
                if first:
                    inv.first_next_at = time.monotonic()
                    if inv.pid is not None:
                        inv.sched_at_first_next = sched_times(inv.pid)
                else:
                    inv.idle = True
                inv.cond.notify_all()
            if not first:
                # Hold the idle function here until the harness kills it.
                inv.release.wait(60)
                return
            deadline_ms = int((time.time() + 30) * 1000)
            self._send(
                200,
                inv.event,
                extra={
                    "Lambda-Runtime-Aws-Request-Id": str(uuid.uuid4()),
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id":
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
                },
            )
            return
        body = self._body()
        kind = None
        if path.endswith("/response"):
            kind = "response"
        elif path.endswith("/error"):
            kind = "error"
        elif path == "init/error":
            kind = "init_error"
        if kind:
            with inv.cond:
                inv.outcome = (kind, body)
                inv.cond.notify_all()
            self._send(202, b'{"status":"OK"}')
        else:
            self._send(404, b'{"errorType":"NotFound"}')

    # ---- fake AWS
    def _aws(self):
        inv = CURRENT["inv"]
        body = self._body()
        target = self.headers.get("X-Amz-Target", "")
        if inv is not None:
            inv.aws_calls.append(target or f"{self.command} {self.path.split('?')[0]}")
        if target.startswith("DynamoDB_20120810."):
            out = dynamodb_reply(target.split(".", 1)[1])
            self._send(200, json.dumps(out).encode(), "application/x-amz-json-1.0")
        elif target == "AWSEvents.PutEvents":
            n = max(1, len(json.loads(body or b"{}").get("Entries", [])))
            out = {"FailedEntryCount": 0, "Entries": [{"EventId": f"evt-{i}"} for i in range(n)]}
            self._send(200, json.dumps(out).encode(), "application/x-amz-json-1.1")
        elif target.startswith("AWSStepFunctions."):
            out = {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:wf:bench",
                   "startDate": time.time()}
            self._send(200, json.dumps(out).encode(), "application/x-amz-json-1.0")
        elif target.startswith("AmazonSNS."):
            self._send(200, b'{"MessageId":"bench-message"}', "application/x-amz-json-1.0")
        elif b"Action=Publish" in body:
            xml = (b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                   b"<PublishResult><MessageId>bench-message</MessageId></PublishResult>"
                   b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>")
            self._send(200, xml, "text/xml")
        elif target.startswith("Textract."):
            self._textract(target.split(".", 1)[1])
        elif self.command == "GET" and "tagging" in urllib.parse.urlsplit(self.path).query:
            xml = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                   b"<TagSet></TagSet></Tagging>")
            self._send(200, xml, "application/xml")
        elif self.command in ("GET", "HEAD") and self._s3_fixture_key():
            body = FIXTURES["s3_body"]
            self._send(200, body, "application/octet-stream", extra={
                "ETag": '"%s"' % hashlib.md5(body).hexdigest(),
                "Last-Modified": email.utils.formatdate(usegmt=True),
                "x-amz-version-id": "bench-version-1",
            })
        elif self.command in ("GET", "HEAD"):
            # S3: no such object (HEAD before PUT finds nothing; GET of a file is absent).
            xml = b"<Error><Code>NoSuchKey</Code><Message>bench</Message></Error>"
            self._send(404, xml, "application/xml")
        else:
            # S3 PUT, Workday callback POST, anything else: accepted.
            self._send(200, b"{}", "application/json", extra={"ETag": '"bench"'})

    def _s3_fixture_key(self) -> bool:
        """Whether this GET/HEAD reads an object under the fixture prefix (path style:
        /<bucket>/<key>)."""
        if FIXTURES["s3_prefix"] is None or FIXTURES["s3_body"] is None:
            return False
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = path.lstrip("/").split("/", 1)
        return len(parts) == 2 and parts[1].startswith(FIXTURES["s3_prefix"])

    def _textract(self, op: str):
        ctype = "application/x-amz-json-1.1"
        if op in ("StartExpenseAnalysis", "StartDocumentAnalysis"):
            self._send(200, b'{"JobId":"bench-job"}', ctype)
            return
        body = None
        if op in ("AnalyzeExpense", "GetExpenseAnalysis"):
            body = FIXTURES["expense"]
        elif op in ("AnalyzeDocument", "GetDocumentAnalysis"):
            body = FIXTURES["document"]
        if body is None:
            self._send(400, b'{"__type":"InvalidParameterException","message":"bench"}', ctype)
            return
        if op.startswith("Get"):
            doc = json.loads(body)
            doc.setdefault("JobStatus", "SUCCEEDED")
            doc.pop("NextToken", None)
            body = json.dumps(doc).encode()
        self._send(200, body, ctype)

    def _dispatch(self):
        if self.path.startswith(RUNTIME_PREFIX):
            self._runtime()
        else:
            self._aws()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch


def sched_times(pid: int):
    """(ns on a CPU summed over the process's threads, ns the main thread spent runnable
    but waiting for a CPU) from /proc/<pid>/task/*/schedstat, or None. The second is the
    delay other processes' load adds to the main thread, where the init work runs."""
    try:
        cpu, queued = 0, 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                run_ns, wait_ns, _ = (int(x) for x in fh.read().split())
            cpu += run_ns
            if tid == str(pid):
                queued = wait_ns
        return cpu, queued
    except (OSError, ValueError):
        return None


def vm_status(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(v.split()[0])  # kB
    except OSError:
        pass
    return out


SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian/Ubuntu
    "/etc/pki/tls/certs/ca-bundle.crt",  # Amazon Linux (as on Lambda)
    "/etc/ssl/cert.pem",
)


def make_tls(work: str):
    """A throw-away certificate for 127.0.0.1 and a CA bundle of the system's roots plus it.
    Returns (server SSLContext, bundle path)."""
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bundle = os.path.join(work, "ca-bundle.crt")
    with open(bundle, "wb") as out:
        for path in SYSTEM_BUNDLES:
            if os.path.isfile(path):
                with open(path, "rb") as fh:
                    out.write(fh.read())
                break
        with open(cert, "rb") as fh:
            out.write(fh.read())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, bundle


def serve(server):
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_once(binary, env, event, log, timeout=30.0):
    inv = Invocation(event)
    CURRENT["inv"] = inv
    t0 = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    inv.pid = proc.pid
    result = {"init_ms": None, "outcome": None, "vmhwm_kb": None, "aws_calls": 0,
              "cpu_ms": None, "queued_ms": None}
    try:
        with inv.cond:
            inv.cond.wait_for(lambda: inv.first_next_at is not None or proc.poll() is not None,
                              timeout)
        if inv.first_next_at is None:
            result["outcome"] = f"exited before asking for an event (code {proc.poll()})"
            return result
        result["init_ms"] = (inv.first_next_at - t0) * 1000.0
        if inv.sched_at_first_next is not None:
            cpu_ns, queued_ns = inv.sched_at_first_next
            result["cpu_ms"] = cpu_ns / 1e6
            result["queued_ms"] = queued_ns / 1e6
        with inv.cond:
            inv.cond.wait_for(lambda: inv.idle or proc.poll() is not None, timeout)
        status = vm_status(proc.pid)
        result["vmhwm_kb"] = status.get("VmHWM")
        result["aws_calls"] = len(inv.aws_calls)
        result["aws_call_list"] = list(inv.aws_calls)
        if inv.outcome is None:
            result["outcome"] = "no response"
        else:
            kind, body = inv.outcome
            if kind == "response":
                result["outcome"] = "response"
            else:
                try:
                    err = json.loads(body).get("errorType", "?")
                except ValueError:
                    err = "?"
                result["outcome"] = f"{kind}:{err}"
        return result
    finally:
        inv.release.set()
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--function", required=True)
    ap.add_argument("--event", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--log", required=True, help="file for the function's stdout/stderr")
    ap.add_argument("--tls", action="store_true",
                    help="serve the fake AWS endpoint over HTTPS (trusted via SSL_CERT_FILE)")
    ap.add_argument("--s3-object", metavar="PREFIX=FILE",
                    help="serve FILE for S3 GET/HEAD of keys starting with PREFIX")
    ap.add_argument("--textract-expense", metavar="FILE",
                    help="AnalyzeExpense / GetExpenseAnalysis response")
    ap.add_argument("--textract-document", metavar="FILE",
                    help="AnalyzeDocument / GetDocumentAnalysis response")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the harness and the function at this niceness (-20: ahead of other "
                         "load on a shared machine; needs root, ignored otherwise)")
    args = ap.parse_args()

    # The function inherits the harness's niceness.
    if args.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        except OSError:
            pass

    with open(args.event, "rb") as fh:
        event = fh.read()
    if args.s3_object:
        prefix, _, path = args.s3_object.partition("=")
        with open(path, "rb") as fh:
            FIXTURES["s3_prefix"], FIXTURES["s3_body"] = prefix, fh.read()
    for name, path in (("expense", args.textract_expense), ("document", args.textract_document)):
        if path:
            with open(path, "rb") as fh:
                FIXTURES[name] = fh.read()

    work = tempfile.mkdtemp(prefix="p2p-bench-")
    # The Runtime API: plain HTTP on 127.0.0.1, as Lambda serves it.
    runtime = serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    port = runtime.server_address[1]
    runtime_url = f"http://127.0.0.1:{port}"
    # The AWS endpoint: the same handler, on its own port, HTTPS with --tls.
    aws = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    extra_env = {}
    scheme = "http"
    if args.tls:
        ctx, bundle = make_tls(work)
        aws.socket = ctx.wrap_socket(aws.socket, server_side=True)
        extra_env["SSL_CERT_FILE"] = bundle
        scheme = "https"
    serve(aws)
    endpoint = f"{scheme}://127.0.0.1:{aws.server_address[1]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": work,
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        # What Lambda sets.
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": args.function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": work,
        "AWS_ENDPOINT_URL": endpoint,
        # What template.yaml sets (names only; the fake endpoint accepts any).
        "VENDORS_TABLE": "bench-vendors",
        "PURCHASE_ORDERS_TABLE": "bench-purchase-orders",
        "INVOICES_TABLE": "bench-invoices",
        "PAYMENTS_TABLE": "bench-payments",
        "AUDIT_TABLE": "bench-audit-log",
        "RAW_BUCKET": "bench-raw",
        "PROCESSED_BUCKET": "bench-processed",
        "PAYMENTS_BUCKET": "bench-payment-files",
        "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
        "EVENT_BUS_NAME": "bench-events",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
        "MATCH_TOLERANCE_PERCENT": "1",
        "LINE_PRICE_TOLERANCE_PERCENT": "0",
        "MAX_INVOICE_AMOUNT": "10000",
        "REQUIRE_FUTURE_DUE_DATE": "true",
        "AUTO_APPROVE_LIMIT": "5000",
        "APPROVER_ROLE_REQUIRED_ABOVE": "5000",
        "DEBTOR_NAME": "P2P Example Buyer Ltd",
        "DEBTOR_IBAN": "DE89370400440532013000",
        "DEBTOR_BIC": "COBADEFFXXX",
        "METRICS_NAMESPACE": "P2P/bench",
        # reqwest trusts its compiled-in roots only, so the callback stays plain HTTP.
        "WORKDAY_CALLBACK_URL": f"{runtime_url}/api/v1/workday/callback",
        "WORKDAY_CALLBACK_SECRET": "bench-secret",
        "WORKDAY_TIMEOUT_SECONDS": "5",
        "P2P_CURSOR_KEY": "bench-cursor-key",
        **extra_env,
    }

    runs = []
    with open(args.log, "ab") as log:
        for _ in range(max(1, args.runs)):
            r = run_once(args.binary, env, event, log)
            runs.append(r)
            if r["init_ms"] is None:
                break
    runtime.shutdown()
    aws.shutdown()

    inits = [r["init_ms"] for r in runs if r["init_ms"] is not None]
    cpus = [r["cpu_ms"] for r in runs if r["cpu_ms"] is not None]
    queued = [r["queued_ms"] for r in runs if r["queued_ms"] is not None]
    # Wall time minus the main thread's wait for a CPU: the init on an otherwise idle machine.
    unqueued = [r["init_ms"] - r["queued_ms"] for r in runs
                if r["init_ms"] is not None and r["queued_ms"] is not None]
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    hwms = [r["vmhwm_kb"] for r in runs if r["vmhwm_kb"] is not None]
    print(json.dumps({
        "function": args.function,
        "runs": len(runs),
        "init_ms_median": statistics.median(inits) if inits else None,
        "init_ms_all": [round(x, 2) for x in inits],
        "init_unqueued_ms_median": med(unqueued),
        "cpu_ms_median": med(cpus),
        "queued_ms_median": med(queued),
        "vmhwm_kb_max": max(hwms) if hwms else None,
        "outcome": runs[-1]["outcome"],
        "aws_calls": runs[-1]["aws_calls"],
        "aws_call_list": runs[-1].get("aws_call_list", []),
        "tls": bool(args.tls),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
