"""Catalog push: thousands of products x 3 variants to a Shopify shop and a WooCommerce site (issue 4).

    PYTHONPATH=. python3 bench/catalog_push.py [--quick] [--products N] [--workers N] [--keep]

Setup (not measured): one Shopify emulator process (one shop on the Standard
plan: bucket 2000 points, 100 points/s) and one WooCommerce emulator process
(one site), both with the default latency model; a database with seller_mode
(copied from a template), N products with 3 variants each (attribute Size
S/M/L, a SKU per variant, stock 50 each), two draft stores sharing every
product (shares made by the ORM: their variant lines too). A real Odoo server
with the queue_job runner.

Measured: ``action_connect`` on both stores (the real connection job, which
marks every share for pushing and queues the catalog jobs); the benchmark
then waits until no share of either store is pending. Every API request is
recorded by the emulator host (start, end, status, THROTTLED, Shopify's
``actualQueryCost``).

Prints ONE JSON line: ``shopify_ratio_to_bound`` = Shopify wall time (first
request to last answer) / ((sum of the actual query costs - the bucket's
starting capacity) / restore rate) - goal <= 1.1; ``woo_requests_per_product``;
``throttled`` (THROTTLED or 429 answers seen); ``duplicates`` (remote products
beyond one per share, both stores - must be 0); plus walls, costs, errors.
``--quick``: 300 products.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import log as _log  # noqa: E402

NAME = "catalog_push"
BUCKET = 2000.0
RESTORE = 100.0

PRODUCTS_CODE = r"""
from odoo import Command
p = params
attribute = env["product.attribute"].create({"name": "Size", "create_variant": "always",
                                            "value_ids": [Command.create({"name": n}) for n in ("S", "M", "L")]})
values = attribute.value_ids
templates = env["product.template"]
for start in range(0, p["count"], 500):
    templates |= env["product.template"].create([{
        "name": "Bench Tee %05d, \u00e9t\u00e9 \"quoted\"" % n, "type": "consu", "is_storable": True, "sale_ok": True,
        "list_price": 25.0 + n % 7, "standard_price": 9.0, "weight": 0.2,
        "description_sale": "A tee, number %d." % n,
        "attribute_line_ids": [Command.create({"attribute_id": attribute.id, "value_ids": [Command.set(values.ids)]})],
    } for n in range(start, min(start + 500, p["count"]))])
env.flush_all()
cr.execute("UPDATE product_product SET default_code = 'TEE-' || lpad(product_tmpl_id::text, 6, '0') || '-' || id "
           "WHERE product_tmpl_id = ANY(%s)", [templates.ids])
env.invalidate_all()
location = env["stock.warehouse"].search([], limit=1).lot_stock_id
Quant = env["stock.quant"].sudo()
for product in templates.product_variant_ids:
    Quant._update_available_quantity(product, location, 50)
stores = env["seller.store"].browse(p["store_ids"])
env["seller.share"].create([{"store_id": s.id, "product_tmpl_id": t.id} for s in stores for t in templates])
result = {"templates": len(templates), "variants": len(templates.product_variant_ids),
          "share_variants": env["seller.share.variant"].search_count([])}
"""


def log(message):
    _log(NAME, message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--products", type=int)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--channels", default=harness.DEFAULT_CHANNELS)
    parser.add_argument("--timeout", type=float, default=1500.0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-template", action="store_true")
    args = parser.parse_args()
    count = args.products or (300 if args.quick else 3000)

    began = time.time()
    report = {}
    with harness.Cleanup() as stack:
        shopify = harness.EmulatorHost("shopify")
        stack.callback(shopify.close)
        woo = harness.EmulatorHost("woocommerce")
        stack.callback(woo.close)
        shop = shopify.call("add_tenant", name="shop", plan="standard")
        site = woo.call("add_tenant", name="site")
        stores = [{"name": "shop", "platform": "shopify", "url": shop["url"], "token": shop["token"]},
                  {"name": "site", "platform": "woocommerce", "url": site["url"], "key": site["key"],
                   "secret": site["secret"]}]
        tag = "%d_%d" % (os.getpid(), int(time.time()))
        db = harness.make_database(tag, template=not args.no_template, name="bench_catalog")
        if not args.keep:
            stack.callback(harness.drop_database, db)
        server = harness.OdooServer(db, workers=args.workers, channels=args.channels)
        setup = harness.odoo_exec(db, harness.SETUP_CODE, api_key=harness.API_KEY, api_secret=harness.API_SECRET,
                                  callback=server.url, skus=[], stores=stores)
        store_ids = setup["stores"]
        made = harness.odoo_exec(db, PRODUCTS_CODE, count=count, store_ids=list(store_ids.values()))
        log("%s" % made)
        stack.callback(server.stop)
        server.start()
        server.wait_jobs_idle(timeout=120)
        set_up = time.time()
        log("setup done in %.0f s; connecting and pushing %d products x 3 variants" % (set_up - began, count))

        started = time.time()
        server.rpc("seller.store", "action_connect", list(store_ids.values()))
        done_at = {}
        last_progress = {}
        deadline = started + args.timeout
        while len(done_at) < len(store_ids) and time.time() < deadline:
            for name, sid in store_ids.items():
                if name in done_at:
                    continue
                state = server.rpc("seller.store", "read", [sid], ["state", "state_message"])[0]
                if state["state"] == "error":
                    raise RuntimeError("%s: %s" % (name, state["state_message"]))
                if state["state"] != "connected":
                    continue
                pending = server.rpc("seller.share", "search_count", [("store_id", "=", sid), ("push_pending", "=", True),
                                                                      ("state", "!=", "error")])
                if last_progress.get(name) != pending:
                    last_progress[name] = pending
                    log("%s: %d share(s) still to push" % (name, pending))
                if pending == 0:
                    done_at[name] = time.time()
            time.sleep(1.0)
        if len(done_at) < len(store_ids):
            log("timeout: %s" % last_progress)
        server.wait_jobs_idle(timeout=300)

        # the push: from action_connect to the moment the last share was done
        # (later requests - order polls, reconciliation - are not the push's)
        shop_end = done_at.get("shop", time.time())
        site_end = done_at.get("site", time.time())
        shop_requests = [r for r in shopify.call("requests", tenant="shop", since=started) if r[3] <= shop_end]
        site_requests = [r for r in woo.call("requests", tenant="site", since=started) if r[3] <= site_end
                         and not r[1].startswith("GET orders")]
        costs = sum(r[6] or 0 for r in shop_requests)
        shop_wall = (max(r[3] for r in shop_requests) - min(r[2] for r in shop_requests)) if shop_requests else None
        bound = max(costs - BUCKET, 0) / RESTORE
        site_wall = (max(r[3] for r in site_requests) - min(r[2] for r in site_requests)) if site_requests else None
        throttled_shop = sum(1 for r in shop_requests if r[5])
        throttled_site = sum(1 for r in site_requests if r[5])
        shop_products = shopify.call("shopify_products", shop="shop")
        site_products = woo.call("woo_products", site_name="site")
        shares = {name: server.rpc("seller.share", "read_group", [("store_id", "=", sid)], ["state"], ["state"])
                  for name, sid in store_ids.items()}
        share_counts = {name: {g["state"]: g["state_count"] for g in groups} for name, groups in shares.items()}
        duplicates = max(shop_products["products"] - count, 0) + max(site_products["products"] - count, 0)
        title_dupes = (len(shop_products["titles"]) - len(set(shop_products["titles"]))) + \
            (len(site_products["skus"]) - len(set(site_products["skus"])))
        errors = server.rpc("seller.share", "search_read", [("state", "=", "error")], ["error_message"], limit=3)
        labels = {}
        for r in shop_requests + site_requests:
            key = "%s %s%s" % (r[1], r[4], " THROTTLED" if r[5] else "")
            labels[key] = labels.get(key, 0) + 1
        report = {
            "shopify_ratio_to_bound": round(shop_wall / bound, 3) if shop_wall and bound else None,
            "woo_requests_per_product": round(len(site_requests) / count, 3),
            "throttled": throttled_shop + throttled_site,
            "duplicates": duplicates + title_dupes,
            "products": count,
            "variants": made["variants"],
            "shopify_wall_s": harness.rounded(shop_wall, 1),
            "shopify_bound_s": round(bound, 1),
            "shopify_cost_sum": costs,
            "shopify_requests": len(shop_requests),
            "shopify_done_s": harness.rounded(done_at["shop"] - started, 1) if "shop" in done_at else None,
            "woo_wall_s": harness.rounded(site_wall, 1),
            "woo_requests": len(site_requests),
            "woo_done_s": harness.rounded(done_at["site"] - started, 1) if "site" in done_at else None,
            "woo_s_per_product": round(site_wall / count, 3) if site_wall else None,
            "remote_products": {"shopify": shop_products["products"], "woocommerce": site_products["products"],
                                "shopify_variants": shop_products["variants"],
                                "woocommerce_variations": site_products["variations"]},
            "shares": share_counts,
            "share_errors": [e["error_message"] for e in errors],
            "requests_by_label": labels,
        }
    harness.print_report(report, args, began, set_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
