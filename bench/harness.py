"""Shared helpers of the end-to-end benchmarks (stock_latency, order_flood,
catalog_push): emulators in their own processes, throwaway Odoo databases,
a real Odoo server with the queue_job runner, JSON-RPC, percentiles.

Pieces:

* ``EmulatorHost(platform)`` - a child process (``python bench/harness.py
  --emulator-host shopify|woocommerce``) that runs one emulator (HTTP server
  threads, webhook sender) and answers JSON commands on a pipe: add tenants,
  faults, fast in-process seeding, customers' orders, reading stores' values,
  and the change log. The host also counts every API request per tenant
  (label, HTTP status, THROTTLED) and tags each change-log row with the time
  the answer of its request was sent (``ack_wall``): the emulators log a
  change when they apply it, before their latency model's sleep.
* ``make_database(tag)`` - a database with seller_mode installed (no demo),
  copied from a template database built once per version of the addons'
  source (``bench_tpl_<hash>``; ``--no-template`` style callers can pass
  ``template=False``). ``drop_database(db)``.
* ``odoo_exec(db, code, **params)`` - run Python code against the database in
  a child process (Odoo's Registry, superuser env as ``env``, parameters as
  ``params``); the code sets ``result`` (JSON-serialisable), returned here.
* ``OdooServer(db)`` - ``python3 -m odoo -d DB --db-filter ^DB$
  --load base,rpc,web,queue_job --workers N`` with ODOO_QUEUE_JOB_CHANNELS,
  waits for /web/login; ``rpc(model, method, *args, **kwargs)`` over /jsonrpc
  as admin (thread-safe, one HTTP session per thread), ``queue_counts()``.
  Note: ``rpc`` must be in ``--load``: Odoo 19 serves /jsonrpc and /json/2
  from that server-wide module.
* ``Cleanup`` - an ExitStack that also runs on SIGTERM/SIGINT.
* ``percentile(values, p)``.
"""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools.odoo_tests import odoo_command, odoo_options  # noqa: E402

API_KEY = "seller-mode-app"
API_SECRET = "seller-mode-secret"
DEFAULT_CHANNELS = "root:6,root.seller_mode.stock:4,root.seller_mode.catalog:2,root.seller_mode.orders:2,root.seller_mode.poll:1"


def log(name, message):
    print("[%s %s] %s" % (name, time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def rounded(value, digits=3):
    return None if value is None else round(value, digits)


def postpone_reconciliation(server):
    """As if the hourly stock reconciliation had just run: its first run,
    due at install, would otherwise land in a measured phase (it reads every
    store's quantities and imports the orders waiting there)."""
    cron = server.rpc("ir.model.data", "check_object_reference", "seller_mode",
                      "seller_store_cron_reconcile_stock")[1]
    server.rpc("ir.cron", "write", [cron],
               {"nextcall": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3600))})


def cpu_busy_seconds():
    """CPU time the whole machine spent busy so far (all cores, every
    process: Odoo, PostgreSQL, the emulators, the client), from /proc/stat.
    Two readings over a phase tell how many cores it kept busy: whether a
    figure measured the code or a saturated machine."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# ====================================================================== cleanup

class Cleanup(contextlib.ExitStack):
    """Runs its callbacks at exit, on an exception, and on SIGTERM/SIGINT
    (turned into SystemExit so ``finally`` blocks and callbacks run)."""

    def __enter__(self):
        super().__enter__()
        self._old = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise SystemExit(128 + signum)

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for sig, handler in self._old.items():
                signal.signal(sig, handler)


def stop_process(proc, timeout=15):
    """Stop one process we started (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


# ====================================================================== databases

def pg_args():
    return ["-h", os.environ.get("PGHOST", "127.0.0.1"), "-p", os.environ.get("PGPORT", "5432"),
            "-U", os.environ.get("PGUSER", "root")]


def psql(sql, db="postgres"):
    return subprocess.run(["psql"] + pg_args() + ["-d", db, "-Atc", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


def _filestore_dir(db):
    return os.path.expanduser("~/.local/share/Odoo/filestore/%s" % db)


def drop_database(db):
    subprocess.call(["dropdb"] + pg_args() + ["--if-exists", "--force", db],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(_filestore_dir(db), ignore_errors=True)


def addons_hash():
    """A hash of seller_mode's source and of the Odoo/queue_job versions."""
    digest = hashlib.sha256()
    base = os.path.join(ROOT, "seller_mode")
    for folder, dirs, files in sorted(os.walk(base)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, base).encode())
            with open(path, "rb") as handle:
                digest.update(handle.read())
    try:
        import odoo.release  # noqa: PLC0415
        digest.update(odoo.release.version.encode())
    except Exception:  # noqa: BLE001
        pass
    return digest.hexdigest()[:12]


def install_database(db, modules="seller_mode"):
    drop_database(db)
    command = odoo_command(db, ["-i", modules, "--stop-after-init", "--no-http", "--log-level", "warn"])
    code = subprocess.call(command, cwd=ROOT, env=child_env(), stdout=sys.stderr, stderr=sys.stderr)
    if code != 0:
        raise RuntimeError("installing %s in %s failed (exit %s)" % (modules, db, code))


def print_report(report, args, began, set_up=None):
    """Print a benchmark's one JSON line, with the run's setup (Odoo workers,
    job channels) and timings added."""
    report.update({"workers": args.workers, "channels": args.channels})
    if set_up is not None:
        report["setup_s"] = round(set_up - began, 1)
    report["total_s"] = round(time.time() - began, 1)
    print(json.dumps(report), flush=True)


def connect_db(db):
    """A plain autocommit connection to ``db`` (for the bench's own reads)."""
    import psycopg2
    conn = psycopg2.connect(dbname=db, host=os.environ.get("PGHOST", "127.0.0.1"),
                            port=os.environ.get("PGPORT", "5432"), user=os.environ.get("PGUSER", "root"))
    conn.autocommit = True
    return conn


def make_database(tag, template=True, name="bench"):
    """A fresh database with seller_mode installed. With ``template``, it is
    copied from ``bench_tpl_<hash>`` (built on first use, kept for later
    runs; older templates are dropped)."""
    db = "%s_%s" % (name, tag)
    if not template:
        install_database(db)
        return db
    tpl = "bench_tpl_%s" % addons_hash()
    existing = psql("SELECT datname FROM pg_database WHERE datname LIKE 'bench_tpl_%'").split()
    for old in existing:
        if old != tpl:
            drop_database(old)
    if tpl not in existing:
        log("harness", "building template database %s (seller_mode, no demo)" % tpl)
        install_database(tpl)
    drop_database(db)
    subprocess.run(["createdb"] + pg_args() + ["-T", tpl, db], check=True)
    if os.path.isdir(_filestore_dir(tpl)):
        shutil.copytree(_filestore_dir(tpl), _filestore_dir(db))
    return db


# ====================================================================== odoo_exec

def odoo_exec(db, code, timeout=900, **params):
    """Run ``code`` in a child process with Odoo loaded: ``env`` (superuser),
    ``cr``, ``params``; the code sets ``result``. Committed at the end."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--odoo-exec", db],
        input=json.dumps({"code": code, "params": params}), capture_output=True, text=True, cwd=ROOT,
        env=child_env(), timeout=timeout,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
        raise RuntimeError("odoo_exec on %s failed (exit %s)" % (db, proc.returncode))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT ")]
    if not lines:
        sys.stderr.write(proc.stderr[-5000:])
        raise RuntimeError("odoo_exec on %s gave no result" % db)
    return json.loads(lines[-1][len("@@RESULT "):])


def _odoo_exec_main(db):
    request = json.loads(sys.stdin.read())
    out = os.dup(1)
    os.dup2(2, 1)
    import odoo  # noqa: F401, PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_options(db, ["--log-level", "warn"]), setup_logging=True)
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True,
                                                 "mail_notrack": True})
        scope = {"env": env, "cr": cr, "params": request["params"], "result": None, "json": json, "time": time}
        exec(compile(request["code"], "<odoo_exec>", "exec"), scope)  # noqa: S102
        env.flush_all()
        cr.commit()
    with os.fdopen(out, "w") as handle:
        handle.write("@@RESULT " + json.dumps(scope["result"], default=str) + "\n")
    return 0


# ====================================================================== Odoo server

class OdooServer:
    """A real Odoo server as production runs it, with the queue_job runner."""

    def __init__(self, db, workers=0, channels=DEFAULT_CHANNELS, cron_threads=1, log_path=None, extra=None):
        self.db = db
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.workers = workers
        self.channels = channels
        self.log_path = log_path or os.path.join(ROOT, "var", "bench-odoo-%s.log" % db)
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.proc = None
        self.uid = None
        self.password = "admin"
        self._local = threading.local()
        args = [
            "--db-filter", "^%s$" % db, "--http-port", str(self.port),
            "--load", "base,rpc,web,queue_job", "--workers", str(workers),
            "--max-cron-threads", str(cron_threads), "--log-level", "info",
            "--limit-time-real", "600", "--limit-time-cpu", "600",
            "--limit-memory-soft", str(4 << 30), "--limit-memory-hard", str(6 << 30),
            "--log-handler", "odoo.addons.rpc.controllers.jsonrpc:ERROR",
        ] + (extra or [])
        self.conflicts = 0  # RPCs retried after a serialization failure
        self.command = odoo_command(db, args)

    def start(self, timeout=120):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env=child_env(ODOO_QUEUE_JOB_CHANNELS=self.channels, ODOO_QUEUE_JOB_PORT=self.port,
                          ODOO_QUEUE_JOB_HOST="127.0.0.1"),
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Odoo exited with %s (log %s)" % (self.proc.returncode, self.log_path))
            try:
                if requests.get(self.url + "/web/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("Odoo did not answer on %s within %d s" % (self.url, timeout))
        self.uid = self._call("common", "login", [self.db, "admin", self.password])
        if not self.uid:
            raise RuntimeError("admin/admin cannot log in to %s" % self.db)
        return self

    def stop(self):
        stop_process(self.proc, timeout=20)
        if getattr(self, "_log", None):
            self._log.close()

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _call(self, service, method, args, timeout=120):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"service": service, "method": method, "args": args}}
        answer = self._session().post(self.url + "/jsonrpc", json=payload, timeout=timeout).json()
        if answer.get("error"):
            error = answer["error"]
            raise RuntimeError("RPC %s.%s: %s" % (service, method, (error.get("data") or {}).get("message")
                                                  or error.get("message")))
        return answer.get("result")

    def rpc(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", [self.db, self.uid, self.password, model, method, list(args), kwargs])

    def rpc_retry(self, model, method, *args, tries=8, **kwargs):
        """``rpc`` retried when Odoo answers a serialization failure after
        its own retries (as a user would click again); counted in ``conflicts``."""
        for attempt in range(tries):
            try:
                return self.rpc(model, method, *args, **kwargs)
            except RuntimeError as exc:
                if "could not serialize" not in str(exc) or attempt == tries - 1:
                    raise
                self.conflicts += 1
                time.sleep(0.05 * (attempt + 1))

    def queue_counts(self, channel_prefix=None):
        """{state: count} of queue jobs (optionally of channels under a prefix)."""
        domain = [("channel", "=like", channel_prefix + "%")] if channel_prefix else []
        groups = self.rpc("queue.job", "read_group", domain, ["state"], ["state"], lazy=False)
        return {g["state"]: g["__count"] for g in groups}

    def wait_jobs_idle(self, timeout=300, channel_prefix=None, quiet_s=1.0, name="harness"):
        """Wait until no job is pending, enqueued or started."""
        deadline = time.time() + timeout
        idle_since = None
        while time.time() < deadline:
            counts = self.queue_counts(channel_prefix)
            busy = sum(counts.get(s, 0) for s in ("pending", "enqueued", "started", "wait_dependencies"))
            if busy == 0:
                idle_since = idle_since or time.time()
                if time.time() - idle_since >= quiet_s:
                    return counts
            else:
                idle_since = None
            time.sleep(0.25)
        raise RuntimeError("jobs still running after %d s: %s" % (timeout, self.queue_counts(channel_prefix)))


# ====================================================================== emulator host

class EmulatorHost:
    """One emulator in its own process, driven over a pipe."""

    def __init__(self, platform, seed=0, name="harness"):
        self.platform = platform
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--emulator-host", platform, "--seed", str(seed)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env(),
        )
        self._lock = threading.Lock()
        hello = self._read()
        self.base_url = hello["base_url"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the %s emulator host died (exit %s)" % (self.platform, self.proc.poll()))
        return json.loads(line)

    def call(self, op, **kwargs):
        with self._lock:
            self.proc.stdin.write(json.dumps(dict(kwargs, op=op)) + "\n")
            self.proc.stdin.flush()
            answer = self._read()
        if not answer.get("ok"):
            raise RuntimeError("%s emulator: %s failed: %s" % (self.platform, op, answer.get("error")))
        return answer.get("result")

    def close(self):
        if self.proc.poll() is None:
            try:
                with self._lock:
                    self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                    self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                stop_process(self.proc)


def _emulator_host_main(platform, seed):
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    from emulators import core  # noqa: PLC0415

    local = threading.local()
    counters = {}  # (tenant, label, status, throttled) -> count
    ack = {}  # change-log seq -> wall time the answer was sent
    counter_lock = threading.Lock()
    requests_log = []  # [tenant, label, start wall, end wall, status, throttled, actual cost]

    original_record = core.ChangeLog.record

    def record(self, tenant, kind, key, value=None):
        row = original_record(self, tenant, kind, key, value)
        rows = getattr(local, "rows", None)
        if rows is not None:
            rows.append(row)
        return row

    core.ChangeLog.record = record

    def label_of(request):
        if platform == "shopify":
            body = request.body[:4000].decode("utf-8", "replace")
            for name in ("inventorySetQuantities", "productSet", "orderCreate", "productUpdate", "products(",
                         "inventoryItems", "nodes(", "fulfillmentServiceCreate", "webhookSubscriptionCreate",
                         "assignedFulfillmentOrders", "fulfillmentOrderAcceptFulfillmentRequest", "orders(",
                         "order(", "shop {", "shop{", "locations", "productVariants"):
                if name in body:
                    return name.rstrip("({ ")
            return "graphql"
        path = request.path
        if "/wp-json/wc/v3/" in path:
            route = path.split("/wp-json/wc/v3/", 1)[1]
            parts = ["<id>" if p.isdigit() else p for p in route.strip("/").split("/")]
            return "%s %s" % (request.method, "/".join(parts))
        return request.method + " other"

    def tenant_of(request):
        parts = request.path.split("/")
        return parts[2] if len(parts) > 2 and parts[1] in ("shops", "sites") else "-"

    if platform == "shopify":
        from emulators.shopify import ShopifyEmulator  # noqa: PLC0415
        emulator = ShopifyEmulator(host="127.0.0.1", port=0, seed=seed, api_key=API_KEY, api_secret=API_SECRET)
    else:
        from emulators.woocommerce import WooCommerceEmulator  # noqa: PLC0415
        emulator = WooCommerceEmulator(host="127.0.0.1", port=0, seed=seed, tls=False)

    original_handle = emulator.handle

    def handle(request):
        if request.path.startswith("/_emulator"):
            return original_handle(request)
        local.rows = []
        began = time.time()
        try:
            response = original_handle(request)
        finally:
            rows, local.rows = local.rows, None
        now = time.time()
        status = response.status if response is not None else 0
        throttled = status == 429
        if platform == "shopify" and response is not None and isinstance(response.body, dict):
            throttled = throttled or any((e.get("extensions") or {}).get("code") == "THROTTLED"
                                         for e in (response.body.get("errors") or []) if isinstance(e, dict))
        cost = None
        if platform == "shopify" and response is not None and isinstance(response.body, dict):
            cost = ((response.body.get("extensions") or {}).get("cost") or {}).get("actualQueryCost")
        key = (tenant_of(request), label_of(request), status, throttled)
        with counter_lock:
            counters[key] = counters.get(key, 0) + 1
            requests_log.append([key[0], key[1], began, now, status, throttled, cost])
            for row in rows:
                ack[row["seq"]] = now
        return response

    emulator.handle = handle
    emulator.start()
    reply.write(json.dumps({"ready": True, "base_url": emulator.base_url}) + "\n")

    def shopify_seed(shop, items, location_id, per_product):
        """Products with ``per_product`` variants each (option "Size"),
        stocked at ``location_id``; returns {sku: [variant gid, item gid]}."""
        state = emulator.shop(shop)
        query = """mutation Seed($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
            product { id variants(first: 250) { nodes { id sku inventoryItem { id } } } }
            userErrors { field message code } } }"""
        out = {}
        for start in range(0, len(items), per_product):
            chunk = items[start:start + per_product]
            values = ["V%d" % n for n in range(len(chunk))]
            data = {
                "title": "Seeded %s" % chunk[0]["sku"], "status": "ACTIVE", "vendor": "Bench Supplier",
                "productOptions": [{"name": "Size", "values": [{"name": v} for v in values]}],
                "variants": [{
                    "optionValues": [{"optionName": "Size", "name": values[n]}],
                    "sku": item["sku"], "price": "10.00",
                    "inventoryItem": {"tracked": True, "sku": item["sku"]},
                    "inventoryQuantities": [{"locationId": location_id, "name": "available",
                                             "quantity": int(item["qty"])}],
                } for n, item in enumerate(chunk)],
            }
            with state.lock:
                state.bucket["currentlyAvailable"] = state.bucket["maximumAvailable"]
            body = emulator.run_graphql(state, query, {"input": data})
            result = (body.get("data") or {}).get("productSet") or {}
            if body.get("errors") or result.get("userErrors"):
                raise RuntimeError("seeding %s: %s" % (shop, body.get("errors") or result.get("userErrors")))
            for node in result["product"]["variants"]["nodes"]:
                out[node["sku"]] = [node["id"], node["inventoryItem"]["id"], result["product"]["id"]]
        with state.lock:
            state.bucket["currentlyAvailable"] = state.bucket["maximumAvailable"]
            state.bucket["at"] = emulator.monotonic()
        return out

    def woo_seed(site_name, items):
        site = emulator._site(site_name)
        out = {}
        with site.lock:
            for item in items:
                record = site.create_product({"name": "Seeded %s" % item["sku"], "type": "simple", "sku": item["sku"],
                                              "regular_price": "10.00", "manage_stock": True,
                                              "stock_quantity": int(item["qty"]), "status": "publish"})
                out[item["sku"]] = record["id"]
            site.drain()  # seeding is not a change to report, nor a webhook to send
        return out

    def quantities(tenant, refs, location_id=None):
        if platform == "shopify":
            return {ref: emulator.available(tenant, ref, location_id) for ref in refs}
        return {ref: emulator.stock(tenant, int(ref)) for ref in refs}

    def log_rows(tenant=None, kind=None, since=0):
        rows = emulator.log.rows(tenant=tenant, kind=kind, since_seq=since)
        with counter_lock:
            for row in rows:
                row["ack_wall"] = ack.get(row["seq"])
        return rows

    def shopify_order(shop, lines, address, name=None):
        state = emulator.shop(shop)
        query = """mutation Place($order: OrderCreateOrderInput!) { orderCreate(order: $order) {
            order { id name createdAt } userErrors { field message code } } }"""
        order = {"lineItems": [{"variantId": l["variant_id"], "quantity": int(l["quantity"])} for l in lines],
                 "shippingAddress": address, "billingAddress": address, "email": "customer@example.com",
                 "financialStatus": "PAID"}
        body = emulator.run_graphql(state, query, {"order": order})
        with state.lock:  # a customer's checkout does not spend the app's bucket: give the points back
            spent = ((body.get("extensions") or {}).get("cost") or {}).get("actualQueryCost") or 0
            emulator._refill(state)
            state.bucket["currentlyAvailable"] = min(state.bucket["maximumAvailable"],
                                                     state.bucket["currentlyAvailable"] + spent)
        result = (body.get("data") or {}).get("orderCreate") or {}
        if body.get("errors") or result.get("userErrors"):
            raise RuntimeError("orderCreate in %s: %s" % (shop, body.get("errors") or result.get("userErrors")))
        return {"id": result["order"]["id"], "name": result["order"]["name"], "wall": time.time()}

    def woo_order(site_name, line_items, address):
        out = emulator.place_order(site_name, line_items, shipping=address, billing=dict(address, email="c@example.com"))
        return {"id": out["id"], "name": out.get("number"), "wall": time.time()}

    def request_log(tenant=None, since=0.0):
        with counter_lock:
            return [r for r in requests_log if (tenant is None or r[0] == tenant) and r[2] >= since]

    def counts():
        with counter_lock:
            return [[k[0], k[1], k[2], k[3], v] for k, v in counters.items()]

    def add_tenant(name, plan="standard"):
        if platform == "shopify":
            token = emulator.add_shop(name, plan=plan)
            return {"token": token, "url": emulator.shop_url(name), "domain": emulator.domain(name)}
        key, secret = emulator.add_site(name)
        return {"key": key, "secret": secret, "url": emulator.site_url(name)}

    def fs_location(shop, default=False):
        if default:
            return emulator.default_location_id(shop)
        return emulator.fulfillment_service_location_id(shop)

    def snapshot_bucket(shop):
        state = emulator.shop(shop)
        with state.lock:
            emulator._refill(state)
            return dict(state.bucket)

    def woo_products(site_name):
        site = emulator._site(site_name)
        with site.lock:
            return {"products": len(site.products), "variations": len(site.variations),
                    "skus": [r["sku"] for r in site.products.values()]}

    def shopify_products(shop):
        state = emulator.shop(shop)
        with state.lock:
            return {"products": len(state.product_table), "variants": len(state.variants_by_num),
                    "titles": [p.title for p in state.product_table.values()]}

    handlers = {
        "add_tenant": add_tenant, "set_faults": lambda tenant, **f: emulator.set_faults(tenant, **f),
        "shopify_seed": shopify_seed, "woo_seed": woo_seed, "quantities": quantities, "log": log_rows,
        "shopify_order": shopify_order, "woo_order": woo_order, "counts": counts, "requests": request_log, "fs_location": fs_location,
        "bucket": snapshot_bucket, "woo_products": woo_products, "shopify_products": shopify_products,
        "flush_webhooks": lambda: emulator.flush_webhooks() if platform == "woocommerce" else None,
        "set_webhook_delay": lambda name, seconds: emulator.set_webhook_delay(name, seconds),
        "pending_webhooks": lambda: emulator.webhooks.pending(),
    }
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        try:
            reply.write(json.dumps({"ok": True, "result": handlers[op](**command)}, default=str) + "\n")
        except Exception as exc:  # noqa: BLE001
            import traceback  # noqa: PLC0415
            sys.stderr.write("".join(traceback.format_exc())[-1500:])
            reply.write(json.dumps({"ok": False, "error": repr(exc)[:800]}) + "\n")
    emulator.stop()
    return 0


# ====================================================================== common setup

SETUP_CODE = r"""
from odoo import Command
p = params
ICP = env["ir.config_parameter"].sudo()
ICP.set_param("seller_mode.shopify_api_key", p["api_key"])
ICP.set_param("seller_mode.shopify_api_secret", p["api_secret"])
ICP.set_param("seller_mode.callback_base_url", p["callback"])
ICP.set_param("web.base.url", p["callback"])
warehouse = env["stock.warehouse"].search([], limit=1)
location = warehouse.lot_stock_id
# Stock spread over bins under WH/Stock (the stores take WH/Stock and its
# children): inventory adjustments write their location (last_inventory_date),
# so concurrent adjustments in one location collide in stock's core.
bins = env["stock.location"].create([{"name": "Bin %02d" % n, "location_id": location.id, "usage": "internal"}
                                     for n in range(p.get("bins", 16))])
products = env["product.product"]
if p["skus"]:
    tmpl_vals = [{"name": "Bench %s" % s["sku"], "default_code": s["sku"], "type": "consu", "is_storable": True,
                  "list_price": 20.0, "standard_price": 8.0, "sale_ok": True} for s in p["skus"]]
    templates = env["product.template"].create(tmpl_vals)
    products = templates.product_variant_ids
    Quant = env["stock.quant"].sudo()
    by_code = {pr.default_code: pr for pr in products}
    for n, s in enumerate(p["skus"]):
        Quant._update_available_quantity(by_code[s["sku"]], bins[n % len(bins)], s["qty"])
pricelist = env["product.pricelist"].create({"name": "Bench Wholesale"})
stores = []
for s in p["stores"]:
    partner = env["res.partner"].create({"name": "Retailer %s" % s["name"], "is_company": True,
                                        "country_id": env.ref("base.us").id, "street": "1 Main St", "city": "Springfield",
                                        "zip": "12345"})
    vals = {"name": s["name"], "platform": s["platform"], "url": s["url"], "partner_id": partner.id,
            "pricelist_id": pricelist.id, "location_ids": [Command.set(location.ids)],
            "stock_share_percent": 100.0, "stock_buffer": 0, "stock_max": 0}
    if s["platform"] == "shopify":
        vals["access_token"] = s["token"]
    else:
        vals["consumer_key"] = s["key"]
        vals["consumer_secret"] = s["secret"]
    stores.append(env["seller.store"].create(vals))
env.flush_all()
result = {"stores": {st.name: st.id for st in stores}, "products": {pr.default_code: pr.id for pr in products},
          "location_id": location.id, "warehouse_id": warehouse.id}
"""

SHARE_CODE = r"""
# Shares and variant lines inserted by SQL (setup, not measured): as if the
# catalog push had run, with the stores holding exactly our allocation.
p = params
for store_id, lines in p["lines"].items():
    store_id = int(store_id)
    cr.execute('''
        INSERT INTO seller_share (store_id, product_tmpl_id, company_id, partner_id, active, origin, state,
                                  remote_product_id, push_pending, revision, changed_at, last_push_at,
                                  create_uid, create_date, write_uid, write_date)
             SELECT s.id, pp.product_tmpl_id, s.company_id, s.partner_id, true, 'manual', 'synced',
                    x.remote_product, false, 1, now() at time zone 'UTC', now() at time zone 'UTC',
                    1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
               FROM seller_store s, unnest(%s::int[], %s::text[]) AS x(product_id, remote_product)
               JOIN product_product pp ON pp.id = x.product_id
              WHERE s.id = %s
    ''', [[l[0] for l in lines], [l[1] for l in lines], store_id])
    cr.execute('''
        INSERT INTO seller_share_variant (share_id, store_id, company_id, product_id, active, remote_variant_id,
                                          remote_inventory_item_id, last_pushed_qty, qty_known, last_pushed_at,
                                          last_pushed_price, create_uid, create_date, write_uid, write_date)
             SELECT sh.id, sh.store_id, sh.company_id, x.product_id, true, x.variant, x.item, x.qty, true,
                    now() at time zone 'UTC', 10.0, 1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
               FROM unnest(%s::int[], %s::text[], %s::text[], %s::int[]) AS x(product_id, variant, item, qty)
               JOIN product_product pp ON pp.id = x.product_id
               JOIN seller_share sh ON sh.store_id = %s AND sh.product_tmpl_id = pp.product_tmpl_id
    ''', [[l[0] for l in lines], [l[2] for l in lines], [l[3] for l in lines], [l[4] for l in lines], store_id])
cr.commit()
# The running server's stock jobs lock store rows: retry in fresh transactions.
import psycopg2, time as _time
for _attempt in range(30):
    try:
        cr.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        horizon = cr.fetchone()[0]
        cr.execute("UPDATE seller_store SET stock_cursor = %s, stock_pushed_revision = stock_revision "
                   "WHERE id = ANY(%s)", [horizon, [int(s) for s in p["lines"]]])
        cr.commit()
        break
    except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
        cr.rollback()
        _time.sleep(1)
cr.execute("ANALYZE")
result = {"horizon": horizon}
"""


def connect_stores(server, store_ids, timeout=180, name="harness"):
    """The real connection flow: action_connect queues the connect job
    (verify, fulfillment service, webhooks); wait until all are connected."""
    server.rpc("seller.store", "action_connect", store_ids)
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = server.rpc("seller.store", "read", store_ids, ["state", "state_message", "remote_location_id"])
        bad = [r for r in rows if r["state"] == "error"]
        if bad:
            raise RuntimeError("store(s) failed to connect: %s" % bad[:3])
        if all(r["state"] == "connected" for r in rows):
            return {r["id"]: r for r in rows}
        time.sleep(0.5)
    raise RuntimeError("stores not connected after %d s" % timeout)


def main():
    args = sys.argv[1:]
    if args[:1] == ["--odoo-exec"]:
        return _odoo_exec_main(args[1])
    if args[:1] == ["--emulator-host"]:
        seed = int(args[3]) if len(args) > 3 and args[2] == "--seed" else 0
        return _emulator_host_main(args[1], seed)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
