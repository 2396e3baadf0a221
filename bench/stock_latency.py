"""Live stock latency: every free-stock change reaching every store (issue 5).

    PYTHONPATH=. python3 bench/stock_latency.py [--quick] [--capacity] [--workers N] [--channels C] [--keep]

Setup (not measured): one Shopify emulator process and one WooCommerce
emulator process (bench/harness.py EmulatorHost), default latency model on
(Shopify 100 ms round trip; WooCommerce calibrated, ~19 ms per batched item),
Shopify shops on the Standard plan. A database with seller_mode (copied from a
template), N storable products (SKU-00000...) with 1000 units each in
WH/Stock, the stores (100 % share, no buffer, no maximum). A real Odoo server
(``--load base,rpc,web,queue_job``, prefork ``--workers``, ODOO_QUEUE_JOB_CHANNELS as in production)
runs the real connection job for every store (verify, fulfillment service,
webhooks). Then the emulators are seeded directly: Shopify products of 100
variants each stocked at our fulfillment-service location, WooCommerce simple
products with managed stock; and every product is shared with every store by
SQL (share and variant lines with the remote ids, the stores holding exactly
our allocation, stock cursors at the current horizon).

Measured: C stock changes at R per second through real Odoo operations over
JSON-RPC, each on a different product while there are enough products: 80 %
inventory adjustments (write ``inventory_quantity``, ``action_apply_inventory``)
and 20 % deliveries of one unit (create, ``action_confirm`` - the reservation
is the free-stock change - then ``button_validate``). The commit time of a
change is the time its transaction wrote the stock journal row, at pre-commit
(read by the client from the database right after the committing call
returned; the call's return comes later, and a store may be updated before
it). Each change gives the product a new free quantity; its lag in a store is
the time from the commit to the store's acknowledgement: the time the
emulator sent its HTTP answer to the first request that set that quantity
(or a later change's). ``applied_*`` figures use the time the emulator
applied the value instead (before its latency sleep: Shopify's round trip,
WooCommerce's ~19 ms per batched item).
The run waits until every (change, store) pair is acknowledged and the job
queue is idle (or a timeout), then reads every store's value of every variant
and compares it with ``_seller_available_qty`` (drift).

Prints ONE JSON line: p50_s, p95_s, p99_s, shopify{...}, woocommerce{...},
requests, quantities_per_request, throttled, drift, plus detail. Goal: p95 <= 1 s,
p99 <= 2 s, drift 0.

``--capacity``: rounds of changes at rising rates until p95 passes 1 s;
reports the highest rate that kept p95 <= 1 s beside the platforms'
ceilings (Shopify: restore rate / cost per call x 250 quantities; WooCommerce:
1 / time per batched item).

``--quick``: 5 stores (4 Shopify, 1 WooCommerce), 300 SKUs, 200 changes.
Full: 50 stores (40 + 10), 3000 SKUs, 2000 changes at 20/s.
"""

import argparse
import os
import queue
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import log as _log  # noqa: E402

NAME = "stock_latency"
BASE_QTY = 1000
SHOPIFY_RESTORE = 100.0  # Standard plan points per second
SHOPIFY_CALL_COST = 10.0  # one inventorySetQuantities mutation
WOO_ITEM_S = 0.019  # emulator LATENCY["batch_update"]
# As production runs it (README): prefork workers, more of them than the
# channels' capacity, for the users' requests (here the client's) and webhooks.
FULL_WORKERS, QUICK_WORKERS = 40, 12
FULL_CHANNELS = "root:22,root.seller_mode.stock:20,root.seller_mode.catalog:1,root.seller_mode.orders:1,root.seller_mode.poll:1"
QUICK_CHANNELS = "root:8,root.seller_mode.stock:6,root.seller_mode.catalog:1,root.seller_mode.orders:1,root.seller_mode.poll:1"


def log(message):
    _log(NAME, message)


class Bench:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.changes = []  # dicts: index, sku, free (expected free qty), commit, kind
        self.change_lock = threading.Lock()
        self.counter = 0
        self.onhand = {}
        self.free = {}
        self.busy = set()  # skus with a change in flight
        self._local = threading.local()

    # ------------------------------------------------------------ setup
    def setup(self, stack):
        args = self.args
        tag = "%d_%d" % (os.getpid(), int(time.time()))
        n_shop = args.shopify_stores
        n_woo = args.woo_stores
        self.skus = ["SKU-%05d" % i for i in range(args.skus)]
        self.onhand = {s: float(BASE_QTY) for s in self.skus}
        self.free = dict(self.onhand)

        self.hosts = {}
        if n_shop:
            self.hosts["shopify"] = harness.EmulatorHost("shopify", seed=args.seed)
            stack.callback(self.hosts["shopify"].close)
        if n_woo:
            self.hosts["woocommerce"] = harness.EmulatorHost("woocommerce", seed=args.seed)
            stack.callback(self.hosts["woocommerce"].close)
        self.tenants = {}  # store name -> (platform, tenant)
        stores = []
        for i in range(n_shop):
            name = "shop%02d" % i
            info = self.hosts["shopify"].call("add_tenant", name=name, plan="standard")
            stores.append({"name": name, "platform": "shopify", "url": info["url"], "token": info["token"]})
            self.tenants[name] = ("shopify", name)
        for i in range(n_woo):
            name = "site%02d" % i
            info = self.hosts["woocommerce"].call("add_tenant", name=name)
            stores.append({"name": name, "platform": "woocommerce", "url": info["url"], "key": info["key"],
                           "secret": info["secret"]})
            self.tenants[name] = ("woocommerce", name)

        started = time.time()
        self.db = harness.make_database(tag, template=not args.no_template, name="bench_stock")
        if not args.keep:
            stack.callback(harness.drop_database, self.db)
        log("database %s ready in %.0f s" % (self.db, time.time() - started))

        self.server = harness.OdooServer(self.db, workers=args.workers, channels=args.channels)
        setup = harness.odoo_exec(
            self.db, harness.SETUP_CODE, api_key=harness.API_KEY, api_secret=harness.API_SECRET,
            callback=self.server.url, skus=[{"sku": s, "qty": BASE_QTY} for s in self.skus], stores=stores)
        self.store_ids = setup["stores"]
        self.product_ids = setup["products"]
        self.location_id = setup["location_id"]
        log("%d products, %d stores created" % (len(self.product_ids), len(self.store_ids)))

        stack.callback(self.server.stop)
        self.server.start()
        log("Odoo up at %s (workers %d, channels %s)" % (self.server.url, args.workers, args.channels))
        harness.postpone_reconciliation(self.server)
        connected = harness.connect_stores(self.server, list(self.store_ids.values()))
        self.server.wait_jobs_idle(timeout=120)
        log("stores connected")

        # seed the stores with our products, holding our allocation
        lines = {}
        self.refs = {}  # store name -> {sku: ref}
        self.locations = {}
        for name, (platform, tenant) in self.tenants.items():
            store_id = self.store_ids[name]
            items = [{"sku": s, "qty": BASE_QTY} for s in self.skus]
            if platform == "shopify":
                location = connected[store_id]["remote_location_id"]
                self.locations[name] = location
                seeded = self.hosts["shopify"].call("shopify_seed", shop=tenant, items=items, location_id=location,
                                                    per_product=100)
                self.refs[name] = {sku: v[1] for sku, v in seeded.items()}
                lines[str(store_id)] = [[self.product_ids[sku], v[2], v[0], v[1], BASE_QTY]
                                        for sku, v in seeded.items()]
            else:
                seeded = self.hosts["woocommerce"].call("woo_seed", site_name=tenant, items=items)
                self.refs[name] = {sku: str(pid) for sku, pid in seeded.items()}
                lines[str(store_id)] = [[self.product_ids[sku], str(pid), str(pid), str(pid), BASE_QTY]
                                        for sku, pid in seeded.items()]
        harness.odoo_exec(self.db, harness.SHARE_CODE, lines=lines)
        self.ref_to_sku = {name: {ref: sku for sku, ref in refs.items()} for name, refs in self.refs.items()}
        log("stores seeded: %d variant lines" % sum(len(v) for v in lines.values()))

        quants = self.server.rpc("stock.quant", "search_read", [("location_id", "child_of", self.location_id),
                                                                ("product_id", "in", list(self.product_ids.values()))],
                                 ["product_id", "location_id"])
        by_product = {pid: sku for sku, pid in self.product_ids.items()}
        self.quant_of = {by_product[q["product_id"][0]]: q["id"] for q in quants}
        self.bin_of = {by_product[q["product_id"][0]]: q["location_id"][0] for q in quants}
        self.picking_type = self.server.rpc("stock.picking.type", "search_read",
                                            [("code", "=", "outgoing")], ["id", "default_location_dest_id"], limit=1)[0]
        self.customer_location = self.server.rpc("ir.model.data", "check_object_reference",
                                                 "stock", "stock_location_customers")[1]
        self.partner_id = self.server.rpc("res.partner", "search", [("is_company", "=", True)], limit=1)[0]

    # ------------------------------------------------------------ changes
    def pick_sku(self):
        with self.change_lock:
            if not hasattr(self, "_order") or not self._order:
                self._order = list(self.skus)
                self.rng.shuffle(self._order)
            for n, sku in enumerate(self._order):
                if sku not in self.busy:
                    self._order.pop(n)
                    self.busy.add(sku)
                    return sku
            sku = self.rng.choice([s for s in self.skus if s not in self.busy])
            self.busy.add(sku)
            return sku

    def do_change(self, sku, kind):
        server = self.server
        began = time.time()
        with self.change_lock:
            self.counter += 1
            index = self.counter
        if kind == "adjust":
            new = BASE_QTY + 10 + index  # a quantity this product never had
            quant = self.quant_of[sku]
            server.rpc_retry("stock.quant", "write", [quant], {"inventory_quantity": new})
            server.rpc_retry("stock.quant", "action_apply_inventory", [quant])
            returned = time.time()
            commit = self.committed_at(sku)
            with self.change_lock:
                delta = new - self.onhand[sku]
                self.onhand[sku] = new
                self.free[sku] += delta
                free = self.free[sku]
        else:
            product = self.product_ids[sku]
            picking = server.rpc("stock.picking", "create", {
                "picking_type_id": self.picking_type["id"], "partner_id": self.partner_id,
                "location_id": self.bin_of[sku], "location_dest_id": self.customer_location,
                "move_ids": [(0, 0, {"product_id": product, "product_uom_qty": 1.0,
                                     "location_id": self.bin_of[sku], "location_dest_id": self.customer_location})],
            })
            server.rpc_retry("stock.picking", "action_confirm", [picking])  # reserves: the free-stock change
            returned = time.time()
            commit = self.committed_at(sku)
            with self.change_lock:
                self.free[sku] -= 1
                free = self.free[sku]
            result = server.rpc_retry("stock.picking", "button_validate", [picking])
            if result is not True:
                raise RuntimeError("delivery %s not validated: %r" % (picking, result))
            with self.change_lock:
                self.onhand[sku] -= 1
        return {"index": index, "sku": sku, "free": int(free), "commit": commit, "kind": kind,
                "rpc_s": returned - began}

    def committed_at(self, sku):
        """When the change just made to ``sku`` committed: the time its
        transaction wrote the journal row, at pre-commit (read on a
        connection of the client's own; no other change of this SKU runs).
        The RPC's return comes later, and a store may be updated before it."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = harness.connect_db(self.db)
        with conn.cursor() as cr:
            cr.execute("SELECT extract(epoch FROM changed_at) FROM seller_stock_change WHERE product_id = %s",
                       [self.product_ids[sku]])
            row = cr.fetchone()
        if row is None:
            raise RuntimeError("no journal row for %s after its change" % sku)
        return float(row[0])

    def run_changes(self, count, rate, threads, record=True):
        """``count`` changes at ``rate`` per second from a pool of threads
        (each change starts at its scheduled time, or as soon as a thread is free)."""
        todo = queue.Queue()
        start = time.time() + 0.2
        for n in range(count):
            todo.put((start + n / rate, "deliver" if self.rng.random() < self.args.delivery_share else "adjust"))
        done, errors, late = [], [], []

        def worker():
            while True:
                try:
                    due, kind = todo.get_nowait()
                except queue.Empty:
                    return
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
                else:
                    late.append(-wait)
                sku = self.pick_sku()
                try:
                    change = self.do_change(sku, kind)
                    change["due"] = due
                    done.append(change)
                except Exception as exc:  # noqa: BLE001
                    errors.append(repr(exc))
                finally:
                    with self.change_lock:
                        self.busy.discard(sku)

        busy_before, wall_before = harness.cpu_busy_seconds(), time.time()
        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        busy_cores = (harness.cpu_busy_seconds() - busy_before) / (time.time() - wall_before)
        if errors:
            raise RuntimeError("%d change(s) failed, first: %s" % (len(errors), errors[0]))
        elapsed = max(c["commit"] for c in done) - start if done else 0
        if record:
            self.changes.extend(done)
        return done, {"achieved_rate": round(len(done) / elapsed, 2) if elapsed else None,
                      "change_rpc_p50_s": harness.rounded(harness.percentile([c["rpc_s"] for c in done], 50)),
                      "change_rpc_p95_s": harness.rounded(harness.percentile([c["rpc_s"] for c in done], 95)),
                      "late_p95_s": harness.rounded(harness.percentile(late, 95)),
                      "busy_cores": round(busy_cores, 2), "cores": os.cpu_count()}

    # ------------------------------------------------------------ measuring
    def fetch_rows(self, since):
        """New value rows per store since the given seqs: {store: [(wall, ack, sku, value)]}."""
        out = {name: [] for name in self.tenants}
        for platform, host in self.hosts.items():
            kind = "inventory_set" if platform == "shopify" else "stock_set"
            rows = host.call("log", kind=kind, since=since.get(platform, 0))
            for row in rows:
                since[platform] = max(since.get(platform, 0), row["seq"])
                name = row["tenant"]
                if name not in out:
                    continue
                if platform == "shopify":
                    ref, value = row["key"].split("@")[0], row["value"]["available"]
                else:
                    ref, value = str(row["key"]), row["value"]
                sku = self.ref_to_sku[name].get(ref)
                if sku is not None:
                    out[name].append((row["wall"], row.get("ack_wall") or row["wall"], sku, value))
        return out

    def measure(self, changes, since, timeout):
        """Lags of ``changes`` in every store: wait until each is seen (or timeout)."""
        by_sku = {}
        for c in sorted(changes, key=lambda c: c["commit"]):
            by_sku.setdefault(c["sku"], []).append(c)
        pending = {(name, c["index"]): c for name in self.tenants for c in changes}
        lags = {}  # (store, index) -> (lag, ack lag)
        history = {name: {} for name in self.tenants}  # store -> sku -> [(wall, ack, value)]
        deadline = time.time() + timeout
        last_new = time.time()
        while pending and time.time() < deadline:
            new = self.fetch_rows(since)
            if any(new.values()):
                last_new = time.time()
            elif time.time() - last_new > self.args.quiet:
                break  # nothing reached any store for a while: what is missing is lost
            for name, rows in new.items():
                for wall, ack, sku, value in rows:
                    history[name].setdefault(sku, []).append((wall, ack, value))
            for (name, index), c in list(pending.items()):
                later_values = {d["free"] for d in by_sku[c["sku"]] if d["commit"] >= c["commit"]}
                for wall, ack, value in history[name].get(c["sku"], []):
                    if wall >= c["commit"] and value in later_values:
                        lags[(name, index)] = (max(ack - c["commit"], 0.0), max(wall - c["commit"], 0.0))
                        del pending[(name, index)]
                        break
            if pending:
                time.sleep(0.5)
        return lags, len(pending)

    def summary(self, lags):
        def stats(values):
            return {"p50_s": harness.rounded(harness.percentile(values, 50)),
                    "p95_s": harness.rounded(harness.percentile(values, 95)),
                    "p99_s": harness.rounded(harness.percentile(values, 99)),
                    "max_s": harness.rounded(max(values) if values else None)}

        out = stats([v[0] for v in lags.values()])
        out["applied_p95_s"] = harness.rounded(harness.percentile([v[1] for v in lags.values()], 95))
        for platform in ("shopify", "woocommerce"):
            values = [v for (name, _i), v in lags.items() if self.tenants[name][0] == platform]
            if values:
                out[platform] = stats([v[0] for v in values])
                out[platform]["applied_p95_s"] = harness.rounded(harness.percentile([v[1] for v in values], 95))
                out[platform]["applied_p99_s"] = harness.rounded(harness.percentile([v[1] for v in values], 99))
        return out

    def counts(self):
        out = {}
        for platform, host in self.hosts.items():
            for tenant, label, status, throttled, n in host.call("counts"):
                key = (platform, label, status, throttled)
                out[key] = out.get(key, 0) + n
        return out

    def drift(self):
        wanted = harness.odoo_exec(self.db, """
result = {}
for store in env["seller.store"].search([]):
    lines = env["seller.share.variant"].search([("store_id", "=", store.id)])
    qty = store._seller_available_qty(lines.product_id)
    result[store.name] = {l.product_id.default_code: [qty.get(l.product_id.id), l.last_pushed_qty] for l in lines}
""")
        self.drift_examples = []
        total, stores_off, variants_off = 0, 0, 0
        for name, (platform, tenant) in self.tenants.items():
            refs = self.refs[name]
            have = self.hosts[platform].call("quantities", tenant=tenant, refs=list(refs.values()),
                                             location_id=self.locations.get(name))
            off = 0
            for sku, ref in refs.items():
                want, last = wanted[name].get(sku) or [0, 0]
                diff = abs((have.get(ref) or 0) - (want or 0))
                if diff and len(self.drift_examples) < 8:
                    self.drift_examples.append({
                        "store": name, "sku": sku, "store_value": have.get(ref), "allocation": want,
                        "last_pushed_qty": last,
                        "changes": [(c["kind"], c["free"]) for c in self.changes if c["sku"] == sku]})
                if diff:
                    off += diff
                    variants_off += 1
            total += off
            stores_off += bool(off)
        return total, stores_off, variants_off

    def sync_events(self):
        return harness.odoo_exec(self.db, """
groups = env["seller.sync.event"].read_group([("kind", "=", "stock")], ["count:sum", "batches:sum"], ["result"])
jobs = env["queue.job"].read_group([], ["exec_time:avg", "exec_time:max"], ["channel", "state"], lazy=False)
# stock jobs of one store that ran at the same time (the identity key only
# absorbs pending jobs: a follow-up can start while the previous one runs)
stock_jobs = env["queue.job"].search([("method_name", "=", "_seller_job_push_stock"), ("date_started", "!=", False)],
                                     order="date_started")
by_store, overlaps = {}, 0
for job in stock_jobs:
    key = tuple(job.records.ids)
    done = job.date_done or job.date_started
    previous = by_store.get(key)
    if previous and job.date_started < previous:
        overlaps += 1
    by_store[key] = max(previous or done, done)
result = {"events": [{"result": g["result"], "count": g["count"], "batches": g["batches"], "events": g["result_count"]}
                     for g in groups],
          "jobs": [{"channel": g["channel"], "state": g["state"], "count": g["__count"],
                    "exec_avg_s": round(g["exec_time"] or 0, 3)} for g in jobs],
          "stock_jobs": len(stock_jobs), "stock_jobs_overlapping_same_store": overlaps,
          "job_retries": sum(j.retry - 1 for j in env["queue.job"].search([]) if j.retry)}
""")


def request_figures(before, after):
    """Stock requests, quantities per request and throttled answers between two counts."""
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    stock_writes = sum(n for (p, label, st, th), n in diff.items()
                       if (p == "shopify" and label == "inventorySetQuantities" and not th)
                       or (p == "woocommerce" and label.startswith(("POST products/batch", "PUT products/batch",
                                                                    "POST products/<id>/variations/batch"))))
    stock_reads = sum(n for (p, label, st, th), n in diff.items()
                      if (p == "woocommerce" and label in ("GET products", "GET products/<id>/variations"))
                      or (p == "shopify" and label in ("inventoryItems", "nodes")))
    throttled = sum(n for (p, label, st, th), n in diff.items() if th)
    by_label = {}
    for (p, label, st, th), n in diff.items():
        if n:
            key = "%s %s %s%s" % (p, label, st, " THROTTLED" if th else "")
            by_label[key] = by_label.get(key, 0) + n
    return stock_writes, stock_reads, throttled, by_label


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--capacity", action="store_true", help="raise the rate until p95 passes 1 s")
    parser.add_argument("--shopify-stores", type=int)
    parser.add_argument("--woo-stores", type=int)
    parser.add_argument("--skus", type=int)
    parser.add_argument("--changes", type=int)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--delivery-share", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=8, help="JSON-RPC client threads")
    parser.add_argument("--workers", type=int,
                        help="Odoo --workers (0: threaded; default %d, %d with --quick)" % (FULL_WORKERS, QUICK_WORKERS))
    parser.add_argument("--channels", help="queue_job channels (default %s; %s with --quick)"
                        % (FULL_CHANNELS, QUICK_CHANNELS))
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the stores after the last change")
    parser.add_argument("--quiet", type=float, default=30.0,
                        help="stop waiting when no store changed for this long (the rest counts as unacknowledged)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-template", action="store_true", help="install seller_mode instead of copying the template")
    args = parser.parse_args()
    quick = args.quick
    args.shopify_stores = args.shopify_stores if args.shopify_stores is not None else (4 if quick else 40)
    args.woo_stores = args.woo_stores if args.woo_stores is not None else (1 if quick else 10)
    args.skus = args.skus or (300 if quick else 3000)
    args.changes = args.changes or (200 if quick else 2000)
    args.workers = args.workers if args.workers is not None else (QUICK_WORKERS if quick else FULL_WORKERS)
    args.channels = args.channels or (QUICK_CHANNELS if quick else FULL_CHANNELS)

    began = time.time()
    bench = Bench(args)
    report = {}
    with harness.Cleanup() as stack:
        bench.setup(stack)
        set_up = time.time()
        log("setup done in %.0f s" % (set_up - began))
        # warm-up (not measured): caches, sessions, the first jobs
        warm, _ = bench.run_changes(min(20, args.changes), args.rate, args.threads, record=False)
        since = {}
        bench.measure(warm, since, timeout=60)
        bench.server.wait_jobs_idle(timeout=120)
        before = bench.counts()

        if not args.capacity:
            log("measuring: %d changes at %.1f/s over %d stores" % (args.changes, args.rate, len(bench.tenants)))
            changes, pace = bench.run_changes(args.changes, args.rate, args.threads)
            log("changes applied (%s); waiting for the stores" % pace)
            lags, missing = bench.measure(changes, since, timeout=args.timeout)
            last = max(c["commit"] for c in changes)
            try:
                bench.server.wait_jobs_idle(timeout=args.timeout)
            except RuntimeError as exc:
                log(str(exc))
            quiet = time.time()
            after = bench.counts()
            writes, reads, throttled, by_label = request_figures(before, after)
            quantities = sum(1 for _ in lags)  # acknowledged (change, store) pairs
            drift, stores_off, variants_off = bench.drift()
            report = bench.summary(lags)
            report.update({
                "requests": writes + reads,
                "write_requests": writes,
                "read_requests": reads,
                "quantities_per_request": round(quantities / writes, 2) if writes else None,
                "throttled": throttled,
                "drift": drift,
                "drift_stores": stores_off,
                "drift_variants": variants_off,
                "drift_examples": bench.drift_examples,
                "changes": len(changes),
                "rate": args.rate,
                "achieved_rate": pace["achieved_rate"],
                "late_p95_s": pace["late_p95_s"],
                "change_rpc_p50_s": pace["change_rpc_p50_s"],
                "change_rpc_p95_s": pace["change_rpc_p95_s"],
                "busy_cores": pace["busy_cores"],
                "cores": pace["cores"],
                "unacknowledged": missing,
                "stores": len(bench.tenants),
                "shopify_stores": args.shopify_stores,
                "woo_stores": args.woo_stores,
                "skus": args.skus,
                "quiet_after_last_change_s": round(quiet - last, 1),
                "requests_by_label": by_label,
            })
            report["sync"] = bench.sync_events()
            report["rpc_conflicts_retried"] = bench.server.conflicts
        else:
            rounds = []
            rate = args.rate / 2
            best = None
            per_round = max(args.changes // 4, 100)
            while rate <= 400:
                log("capacity round: %d changes at %.1f/s" % (per_round, rate))
                changes, pace = bench.run_changes(per_round, rate, args.threads)
                lags, missing = bench.measure(changes, since, timeout=args.timeout)
                bench.server.wait_jobs_idle(timeout=args.timeout)
                figures = bench.summary(lags)
                rounds.append({"rate": rate, "achieved_rate": pace["achieved_rate"], "p95_s": figures["p95_s"],
                               "p99_s": figures["p99_s"], "unacknowledged": missing,
                               "busy_cores": pace["busy_cores"]})
                log("  -> %s" % rounds[-1])
                if missing or figures["p95_s"] is None or figures["p95_s"] > 1.0:
                    break
                best = pace["achieved_rate"] or rate
                if pace["achieved_rate"] and pace["achieved_rate"] < rate * 0.8:
                    log("the JSON-RPC client cannot reach %.1f/s: stopping" % rate)
                    break
                rate *= 1.5
            shopify_ceiling = SHOPIFY_RESTORE / SHOPIFY_CALL_COST * 250
            woo_ceiling = 1.0 / WOO_ITEM_S
            lower = min(c for c, n in ((shopify_ceiling, args.shopify_stores), (woo_ceiling, args.woo_stores)) if n)
            drift, stores_off, variants_off = bench.drift()
            report = {
                "capacity_rate": best,
                "shopify_ceiling": shopify_ceiling,
                "woocommerce_ceiling": round(woo_ceiling, 1),
                "ratio_to_lower_ceiling": round(best / lower, 3) if best else 0,
                "rounds": rounds,
                "drift": drift,
                "stores": len(bench.tenants),
                "skus": args.skus,
            }
    harness.print_report(report, args, began, set_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
