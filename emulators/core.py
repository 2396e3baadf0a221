"""Shared machinery of the store emulators: a threaded HTTP server, per-tenant
fault injection, a timestamped change log and an asynchronous webhook sender.

A *tenant* is one Shopify shop or one WooCommerce site; one server process
serves many tenants, each under its own base URL path.
"""

import base64
import hashlib
import hmac
import json
import queue
import random
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

MAX_BODY_BYTES = 8 * 1024 * 1024


# ---------------------------------------------------------------- requests
@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> list of values (as urllib.parse.parse_qs gives)
    headers: dict  # lower-cased names
    body: bytes
    scheme: str = "http"
    raw_query: str = ""
    host: str = ""

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: object = b""  # bytes, str, or anything json-serialisable
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self):
        body = self.body
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


def json_response(payload, status=200, headers=None):
    return Response(status=status, body=payload, headers=headers or {})


def html_response(text, status=200):
    return Response(status=status, body=text, content_type="text/html; charset=utf-8")


def redirect(location, status=302):
    return Response(status=status, body=b"", headers={"Location": location}, content_type="text/plain")


# ---------------------------------------------------------------- faults
@dataclass
class Faults:
    """What a tenant does wrong on purpose. All rates are 0..1."""

    latency_ms: float = 0.0  # added to every API call (on top of the latency model)
    jitter_ms: float = 0.0  # uniform 0..jitter added as well
    error_rate: float = 0.0  # share of API calls answered 5xx
    throttle_next: int = 0  # the next N API calls are refused (429 / THROTTLED)
    hang_next: int = 0  # the next N API calls hang for hang_seconds, then close
    hang_seconds: float = 30.0
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    token_revoked: bool = False  # every API call answers 401
    latency_model: bool = True  # the platform's calibrated latency (off for throughput tests)


class FaultState:
    """Faults of one tenant plus the seeded random source that draws them."""

    def __init__(self, seed):
        self.faults = Faults()
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def configure(self, **changes):
        with self.lock:
            for name, value in changes.items():
                if not hasattr(self.faults, name):
                    raise ValueError("unknown fault %r" % name)
                setattr(self.faults, name, type(getattr(self.faults, name))(value))
        return asdict(self.faults)

    def reset(self):
        with self.lock:
            self.faults = Faults()

    def draw(self):
        """Decide, for one API call, which fault applies: None, 'revoked',
        'hang', 'throttle' or 'error'; and the extra latency in seconds."""
        with self.lock:
            f = self.faults
            extra = (f.latency_ms + self.random.uniform(0, f.jitter_ms)) / 1000.0
            if f.token_revoked:
                return "revoked", extra
            if f.hang_next > 0:
                f.hang_next -= 1
                return "hang", f.hang_seconds
            if f.throttle_next > 0:
                f.throttle_next -= 1
                return "throttle", extra
            if f.error_rate and self.random.random() < f.error_rate:
                return "error", extra
            return None, extra

    def webhook_copies(self):
        """How many times to deliver one webhook: 0 (dropped), 1 or 2."""
        with self.lock:
            f = self.faults
            if f.webhook_drop_rate and self.random.random() < f.webhook_drop_rate:
                return 0
            if f.webhook_duplicate_rate and self.random.random() < f.webhook_duplicate_rate:
                return 2
            return 1

    @property
    def latency_model(self):
        return self.faults.latency_model


# ---------------------------------------------------------------- change log
class ChangeLog:
    """Every state change of a tenant, timestamped with the monotonic and the
    wall clock, so that a benchmark can tell when a value reached the store."""

    def __init__(self):
        self._rows = []
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, tenant, kind, key, value=None):
        with self._lock:
            self._seq += 1
            row = {
                "seq": self._seq,
                "tenant": tenant,
                "kind": kind,
                "key": key,
                "value": value,
                "monotonic": time.monotonic(),
                "wall": time.time(),
            }
            self._rows.append(row)
            return row

    def rows(self, tenant=None, kind=None, since_seq=0):
        with self._lock:
            return [
                dict(r)
                for r in self._rows
                if r["seq"] > since_seq
                and (tenant is None or r["tenant"] == tenant)
                and (kind is None or r["kind"] == kind)
            ]

    def clear(self):
        with self._lock:
            self._rows.clear()


# ---------------------------------------------------------------- signatures
def hmac_sha256_base64(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# ---------------------------------------------------------------- webhooks
@dataclass
class WebhookDelivery:
    url: str
    headers: dict
    build_body: object  # callable returning bytes, called at delivery time
    tenant: str
    due: float  # monotonic time
    attempts: int = 0
    on_result: object = None  # callable(ok: bool), e.g. to count failures


class WebhookSender:
    """Delivers webhooks from one background thread, after an optional
    delay, retrying failures with a backoff as the platforms do."""

    def __init__(self, log, max_attempts=5, retry_delays=(1, 2, 5, 10)):
        self.log = log
        self.max_attempts = max_attempts
        self.retry_delays = retry_delays
        self._queue = queue.PriorityQueue()
        self._counter = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.delivered = []  # (tenant, url, status) for tests

    def start(self):
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def enqueue(self, delivery):
        with self._lock:
            self._counter += 1
            self._queue.put((delivery.due, self._counter, delivery))

    def pending(self):
        return self._queue.qsize()

    def clear(self):
        while not self._queue.empty():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self.delivered.clear()

    def _run(self):
        session = requests.Session()
        while not self._stop.is_set():
            try:
                due, _, delivery = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            wait = due - time.monotonic()
            if wait > 0:
                # Not due yet: put it back and sleep a little (or until due).
                self._queue.put((due, _, delivery))
                self._stop.wait(min(wait, 0.05))
                continue
            self._deliver(session, delivery)

    def _deliver(self, session, delivery):
        delivery.attempts += 1
        body = delivery.build_body()
        try:
            response = session.post(delivery.url, data=body, headers=delivery.headers, timeout=10)
            status = response.status_code
        except requests.RequestException:
            status = 0
        ok = 200 <= status < 300
        self.delivered.append((delivery.tenant, delivery.url, status))
        self.log.record(delivery.tenant, "webhook_delivery", delivery.url, {"status": status, "attempt": delivery.attempts})
        if delivery.on_result:
            delivery.on_result(ok)
        if not ok and delivery.attempts < self.max_attempts:
            delay = self.retry_delays[min(delivery.attempts - 1, len(self.retry_delays) - 1)]
            delivery.due = time.monotonic() + delay
            self.enqueue(delivery)


# ---------------------------------------------------------------- server
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SellerModeEmulator/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read state, not logs
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(Response(413, {"error": "body too large"}))
            return
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=urllib.parse.unquote(parsed.path),
            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            scheme="https" if self.server.is_tls else "http",
            raw_query=parsed.query,
            host=self.headers.get("Host", ""),
        )
        try:
            response = self.server.app.handle(request)
        except Exception as exc:  # an emulator bug must show, not hang the client
            response = Response(500, {"errors": "emulator error: %s" % exc})
        if response is None:  # a hang fault: close without answering
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response):
        payload = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, app, tls_context=None):
        super().__init__(address, _Handler)
        self.app = app
        self.is_tls = tls_context is not None
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def self_signed_context(common_name="127.0.0.1"):
    """A TLS context with a certificate made now, for 127.0.0.1 and localhost."""
    folder = tempfile.mkdtemp(prefix="emulator-tls-")
    cert, key = folder + "/cert.pem", folder + "/key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", key, "-out", cert, "-subj", "/CN=%s" % common_name,
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


class Emulator:
    """Base of both emulators: owns the HTTP server(s), the change log, the
    webhook sender and the faults of each tenant. Subclasses implement
    ``dispatch(request)`` and ``reset_state()``."""

    name = "emulator"

    def __init__(self, host="127.0.0.1", port=0, seed=0, tls=False, tls_port=0):
        self.host = host
        self.port = port
        self.seed = seed
        self.want_tls = tls
        self.tls_port = tls_port
        self.log = ChangeLog()
        self.webhooks = WebhookSender(self.log)
        self._faults = {}
        self._servers = []
        self._threads = []
        self.lock = threading.RLock()
        self.tls_cert_path = None

    # -- life cycle
    def start(self):
        server = _Server((self.host, self.port), self)
        self.port = server.server_address[1]
        self._servers.append(server)
        if self.want_tls:
            context, self.tls_cert_path = self_signed_context()
            tls_server = _Server((self.host, self.tls_port), self, tls_context=context)
            self.tls_port = tls_server.server_address[1]
            self._servers.append(tls_server)
        for srv in self._servers:
            thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.webhooks.start()
        return self

    def stop(self):
        self.webhooks.stop()
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def tls_base_url(self):
        return "https://%s:%d" % (self.host, self.tls_port)

    def reset(self):
        with self.lock:
            self.log.clear()
            self.webhooks.clear()
            for state in self._faults.values():
                state.reset()
            self.reset_state()

    # -- faults
    def faults(self, tenant):
        with self.lock:
            if tenant not in self._faults:
                # A stable per-tenant seed keeps runs deterministic.
                digest = hashlib.sha256(("%s:%s" % (self.seed, tenant)).encode()).hexdigest()
                self._faults[tenant] = FaultState(int(digest[:12], 16))
            return self._faults[tenant]

    def set_faults(self, tenant, **changes):
        return self.faults(tenant).configure(**changes)

    def simulate_latency(self, tenant, seconds):
        """Sleep for the platform's latency model (unless turned off) plus the
        injected extra latency."""
        if seconds > 0:
            time.sleep(seconds)

    # -- HTTP entry point
    def handle(self, request):
        if request.path.startswith("/_emulator"):
            return self.admin(request)
        return self.dispatch(request)

    def admin(self, request):
        """Control and inspection over HTTP, for the demo and for benchmarks
        that run the emulator in another process."""
        parts = [p for p in request.path.split("/") if p][1:]
        if not parts:
            return html_response(self.admin_page())
        action = parts[0]
        if action == "state":
            return json_response(self.state_snapshot(request.arg("tenant")))
        if action == "log":
            return json_response(
                self.log.rows(
                    tenant=request.arg("tenant"),
                    kind=request.arg("kind"),
                    since_seq=int(request.arg("since", "0")),
                )
            )
        if action == "reset" and request.method == "POST":
            self.reset()
            return json_response({"ok": True})
        if action == "faults" and request.method == "POST":
            payload = request.json() or {}
            tenant = payload.pop("tenant")
            try:
                return json_response(self.set_faults(tenant, **payload))
            except ValueError as exc:
                return json_response({"error": str(exc)}, status=400)
        return json_response({"error": "unknown admin action"}, status=404)

    # -- to implement
    def dispatch(self, request):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def state_snapshot(self, tenant=None):
        raise NotImplementedError

    def admin_page(self):
        raise NotImplementedError
