"""Order flood: store orders becoming confirmed sale orders exactly once (issue 6).

    PYTHONPATH=. python3 bench/order_flood.py [--quick] [--orders N] [--stores N] [--workers N] [--keep]

Setup (not measured): Shopify and WooCommerce emulator processes (half the
stores each; Shopify shops on the Standard plan with automatic fulfillment
requests; WooCommerce with its default 20-60 s webhook delay), faults
``webhook_duplicate_rate=0.1`` and ``webhook_drop_rate=0.05`` on every store,
default latency model. A seller_mode database (template copy) with 200
products in stock, the stores connected through the real connection job (so
the webhooks are registered), the emulators seeded with the products and
the shares inserted by SQL, as in stock_latency. A real Odoo server with the
queue_job runner; the poller is triggered every ``--poll`` seconds for every
store through ``action_poll_orders`` (the cron's own interval is in minutes).

Measured: N customers' orders (1-3 lines, quantity 1-2) placed evenly
across the stores within ``--window`` seconds (Shopify ``orderCreate`` run in
the emulator process, which submits the fulfillment request as a checkout
would; WooCommerce ``place_order``, a checkout in status processing). The
benchmark polls Odoo for confirmed seller sale orders (every 0.5 s) until all
are there or nothing moved for ``--quiet`` seconds.

Prints ONE JSON line: orders_placed, sale_orders (confirmed, distinct store
orders; must equal orders_placed), duplicates (sale orders beyond one per store
order: 0), drain_s (last order placed -> last sale order confirmed; goal <= 90),
p95_lag_s (order created in the store -> seen confirmed in Odoo, 0.5 s
resolution), plus detail (exceptions, webhook deliveries, jobs).
``--quick``: 100 orders over 4 stores.
"""

import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import log as _log  # noqa: E402

NAME = "order_flood"
SKUS = 200
STOCK = 100000


def log(message):
    _log(NAME, message)


SHOP_ADDRESS = {"firstName": "Ada", "lastName": "Lovelace", "address1": "12 Analytical Way", "city": "Portland",
                "zip": "97201", "countryCode": "US", "provinceCode": "OR", "phone": "+15035550100"}
WOO_ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "address_1": "12 Analytical Way", "city": "Portland",
               "postcode": "97201", "country": "US", "state": "OR", "phone": "+15035550100"}


# As production runs it (README): prefork workers, more of them than the
# channels take, imports with room to run side by side.
WORKERS = 16
CHANNELS = ("root:14,root.seller_mode.stock:4,root.seller_mode.catalog:1,"
            "root.seller_mode.orders:8,root.seller_mode.poll:1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--orders", type=int)
    parser.add_argument("--stores", type=int)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the orders are placed")
    parser.add_argument("--poll", type=float, default=10.0, help="seconds between order polls of every store")
    parser.add_argument("--quiet", type=float, default=120.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--workers", type=int, default=WORKERS, help="Odoo --workers (0: threaded)")
    parser.add_argument("--channels", default=CHANNELS)
    parser.add_argument("--duplicate-rate", type=float, default=0.1)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-template", action="store_true")
    args = parser.parse_args()
    n_orders = args.orders or (100 if args.quick else 1000)
    n_stores = args.stores or (4 if args.quick else 20)
    n_shop = n_stores // 2
    n_woo = n_stores - n_shop
    rng = random.Random(args.seed)

    began = time.time()
    report = {}
    with harness.Cleanup() as stack:
        hosts = {"shopify": harness.EmulatorHost("shopify", seed=args.seed),
                 "woocommerce": harness.EmulatorHost("woocommerce", seed=args.seed)}
        for host in hosts.values():
            stack.callback(host.close)
        stores, tenants = [], {}
        for i in range(n_shop):
            name = "shop%02d" % i
            info = hosts["shopify"].call("add_tenant", name=name, plan="standard")
            stores.append({"name": name, "platform": "shopify", "url": info["url"], "token": info["token"]})
            tenants[name] = "shopify"
        for i in range(n_woo):
            name = "site%02d" % i
            info = hosts["woocommerce"].call("add_tenant", name=name)
            stores.append({"name": name, "platform": "woocommerce", "url": info["url"], "key": info["key"],
                           "secret": info["secret"]})
            tenants[name] = "woocommerce"
        skus = ["ORD-%04d" % i for i in range(SKUS)]
        tag = "%d_%d" % (os.getpid(), int(time.time()))
        db = harness.make_database(tag, template=not args.no_template, name="bench_orders")
        if not args.keep:
            stack.callback(harness.drop_database, db)
        server = harness.OdooServer(db, workers=args.workers, channels=args.channels)
        setup = harness.odoo_exec(db, harness.SETUP_CODE, api_key=harness.API_KEY, api_secret=harness.API_SECRET,
                                  callback=server.url, skus=[{"sku": s, "qty": STOCK} for s in skus], stores=stores)
        store_ids, product_ids = setup["stores"], setup["products"]
        stack.callback(server.stop)
        server.start()
        harness.postpone_reconciliation(server)
        connected = harness.connect_stores(server, list(store_ids.values()))
        server.wait_jobs_idle(timeout=120)
        # seed the stores (allocation: all our stock), share by SQL
        lines, variants = {}, {}
        for name, platform in tenants.items():
            sid = store_ids[name]
            items = [{"sku": s, "qty": STOCK} for s in skus]
            if platform == "shopify":
                seeded = hosts["shopify"].call("shopify_seed", shop=name, items=items,
                                               location_id=connected[sid]["remote_location_id"], per_product=100)
                variants[name] = {sku: v[0] for sku, v in seeded.items()}
                lines[str(sid)] = [[product_ids[sku], v[2], v[0], v[1], STOCK] for sku, v in seeded.items()]
            else:
                seeded = hosts["woocommerce"].call("woo_seed", site_name=name, items=items)
                variants[name] = {sku: pid for sku, pid in seeded.items()}
                lines[str(sid)] = [[product_ids[sku], str(pid), str(pid), str(pid), STOCK] for sku, pid in seeded.items()]
        harness.odoo_exec(db, harness.SHARE_CODE, lines=lines)
        for name, platform in tenants.items():
            hosts[platform].call("set_faults", tenant=name, webhook_duplicate_rate=args.duplicate_rate,
                                 webhook_drop_rate=args.drop_rate)
        server.wait_jobs_idle(timeout=120)
        set_up = time.time()
        log("setup done in %.0f s: %d stores (%d Shopify, %d WooCommerce)" % (set_up - began, n_stores, n_shop, n_woo))

        # the poller, as a cron every --poll seconds would
        stop = threading.Event()

        def poller():
            while not stop.wait(args.poll):
                try:
                    server.rpc("seller.store", "action_poll_orders", list(store_ids.values()))
                except Exception as exc:  # noqa: BLE001
                    log("poll failed: %s" % exc)

        poll_thread = threading.Thread(target=poller, daemon=True)
        poll_thread.start()
        stack.callback(stop.set)

        # observe confirmed sale orders
        seen = {}  # (store id, client_order_ref) -> first seen confirmed wall
        all_orders = {}

        def observe():
            rows = server.rpc("sale.order", "search_read", [("seller_store_id", "!=", False)],
                              ["seller_store_id", "client_order_ref", "state", "seller_exception"])
            now = time.time()
            for r in rows:
                key = (r["seller_store_id"][0], (r["client_order_ref"] or "").lstrip("#"))
                all_orders[r["id"]] = r
                if r["state"] == "sale" and key not in seen:
                    seen[key] = now

        placed = []  # (store id, name, wall)
        log("placing %d orders over %.0f s" % (n_orders, args.window))
        start = time.time()
        names = list(tenants)
        observe_every = 0.5
        next_observe = time.time()
        for n in range(n_orders):
            due = start + n * args.window / n_orders
            while time.time() < due:
                if time.time() >= next_observe:
                    observe()
                    next_observe = time.time() + observe_every
                time.sleep(min(0.02, max(due - time.time(), 0)))
            name = names[n % len(names)]
            chosen = rng.sample(skus, rng.randint(1, 3))
            if tenants[name] == "shopify":
                out = hosts["shopify"].call("shopify_order", shop=name, lines=[
                    {"variant_id": variants[name][s], "quantity": rng.randint(1, 2)} for s in chosen],
                    address=SHOP_ADDRESS)
            else:
                out = hosts["woocommerce"].call("woo_order", site_name=name, line_items=[
                    {"product_id": variants[name][s], "quantity": rng.randint(1, 2)} for s in chosen],
                    address=WOO_ADDRESS)
            placed.append((store_ids[name], str(out["name"]).lstrip("#"), out["wall"]))
        last_placed = max(p[2] for p in placed)
        log("placed in %.1f s; waiting for the sale orders" % (last_placed - start))

        expected = {(sid, ref) for sid, ref, _w in placed}
        deadline = time.time() + args.timeout
        last_change, last_count = time.time(), -1
        while time.time() < deadline:
            observe()
            got = len(expected & set(seen))
            if got != last_count:
                last_count, last_change = got, time.time()
                log("%d / %d confirmed" % (got, len(expected)))
            if got >= len(expected) or time.time() - last_change > args.quiet:
                break
            time.sleep(0.5)
        stop.set()

        lags = [seen[(sid, ref)] - wall for sid, ref, wall in placed if (sid, ref) in seen]
        confirmed = [seen[k] for k in expected if k in seen]
        per_key = {}
        for r in all_orders.values():
            key = (r["seller_store_id"][0], (r["client_order_ref"] or "").lstrip("#"))
            per_key[key] = per_key.get(key, 0) + 1
        duplicates = sum(c - 1 for c in per_key.values() if c > 1)
        exceptions = [r["seller_exception"] for r in all_orders.values() if r["seller_exception"]]
        hooks = harness.odoo_exec(db, """
groups = env["seller.webhook.event"].read_group([], ["topic"], ["topic"])
jobs = env["queue.job"].read_group([], ["exec_time:avg"], ["method_name", "state"], lazy=False)
result = {"webhooks": {g["topic"]: g["topic_count"] for g in groups},
          "jobs": [[g["method_name"], g["state"], g["__count"], round(g["exec_time"] or 0, 3)] for g in jobs],
          "job_retries": sum(j.retry - 1 for j in env["queue.job"].search([]) if j.retry),
          "order_events": env["seller.sync.event"].search_count([("kind", "=", "order")])}
""")
        sends = {}
        for platform, host in hosts.items():
            for row in host.call("log", kind="webhook_send" if platform == "shopify" else "webhook_dropped"):
                copies = (row.get("value") or {}).get("copies", 0) if platform == "shopify" else 0
                key = "%s %s" % (platform, "dropped" if not copies else ("duplicated" if copies > 1 else "sent"))
                sends[key] = sends.get(key, 0) + 1
        report = {
            "orders_placed": len(placed),
            "sale_orders": len(confirmed),
            "duplicates": duplicates,
            "drain_s": harness.rounded(max(confirmed) - last_placed, 1) if confirmed else None,
            "p95_lag_s": harness.rounded(harness.percentile(lags, 95), 2),
            "p50_lag_s": harness.rounded(harness.percentile(lags, 50), 2),
            "max_lag_s": harness.rounded(max(lags) if lags else None, 2),
            "lag_shopify_p95_s": harness.rounded(harness.percentile(
                [seen[(s, r)] - w for s, r, w in placed if (s, r) in seen and s in
                 {store_ids[n] for n, p in tenants.items() if p == "shopify"}], 95), 2),
            "lag_woocommerce_p95_s": harness.rounded(harness.percentile(
                [seen[(s, r)] - w for s, r, w in placed if (s, r) in seen and s in
                 {store_ids[n] for n, p in tenants.items() if p == "woocommerce"}], 95), 2),
            "missing": len(expected - set(seen)),
            "sale_orders_in_odoo": len(all_orders),
            "exceptions": len(exceptions),
            "exception_examples": exceptions[:3],
            "placing_s": round(last_placed - start, 1),
            "stores": n_stores,
            "webhook_events": hooks["webhooks"],
            "webhook_sends": sends,
            "jobs": hooks["jobs"],
            "job_retries": hooks["job_retries"],
            "poll_s": args.poll,
        }
    harness.print_report(report, args, began, set_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
