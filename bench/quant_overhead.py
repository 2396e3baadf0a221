"""Overhead of seller_mode on validating a delivery, with 50 and 500 stores.

    python bench/quant_overhead.py [--quick] [--repeat N] [--lines 100] [--keep]

Creates two throwaway databases, one with ``stock sale_stock portal queue_job``
(the baseline) and one with ``seller_mode`` (no demo data), both installed in
parallel. Each database gets the same 200 storable products (two sets of 100)
with stock in WH/Stock. On the seller_mode database, 500 stores are created;
set A is shared with 50 of them and set B with all 500 (shares and their
variant lines inserted in bulk by SQL: setup is not measured).

Then one worker process per database (Odoo in-process, driven over a pipe)
measures, alternately (baseline, seller_mode/50, seller_mode/500, in a rotating
order), the time to create a delivery of 100 lines (the warehouse's outgoing
type), confirm, reserve, mark picked, ``button_validate()`` and COMMIT (the
stock change journal is written at pre-commit: it must be inside the timing),
in a fresh cursor and environment as a request would, as the admin user.
Stock is put back after each run, outside the timing. The first run of each
scenario is a discarded warm-up; the figures are medians.

Prints ONE JSON line on stdout:
``{"ratio_50": .., "ratio_500": .., "ratio": max, "baseline_s": .., "seller_mode_50_s": ..,
"seller_mode_500_s": .., "repeat": N, ...}``; progress goes to stderr.
The goal is ``ratio <= 1.15``: the cost must not grow with the number of stores.
The databases are dropped at the end, also on failure (unless --keep).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.odoo_tests import odoo_command, odoo_options  # noqa: E402

BASE_MODULES = "stock,sale_stock,portal,queue_job"
SELLER_MODULES = "seller_mode"
STORES = 500
SMALL = 50
PRODUCT_SETS = ("A", "B")  # A: shared with SMALL stores, B: with all STORES
STOCK = 1000.0


def log(message):
    print("[quant_overhead %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def pg_args():
    return ["-h", os.environ.get("PGHOST", "127.0.0.1"), "-p", os.environ.get("PGPORT", "5432"),
            "-U", os.environ.get("PGUSER", "root")]


def drop_db(db):
    subprocess.call(["dropdb"] + pg_args() + ["--if-exists", "--force", db],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))


# ====================================================================== worker
# Runs inside Odoo, one process per database. Reads one JSON command per line
# on stdin, answers one JSON line on the original stdout (Odoo's own output,
# and anything printed, goes to stderr).

def worker(db, lines):
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    replies = os.fdopen(reply_fd, "w", buffering=1)

    import odoo  # noqa: F401, PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.fields import Command  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_options(db, ["--log-level", "warn"]), setup_logging=True)
    registry = Registry(db)
    seller = "seller.store" in registry

    def products_of(env, product_set):
        return env["product.product"].search(
            [("default_code", "=like", "BENCH-%s-%%" % product_set)], order="id", limit=lines)

    def restock(env, products, qty):
        location = env["stock.warehouse"].search([], limit=1).lot_stock_id
        Quant = env["stock.quant"].sudo()
        for product in products:
            Quant._update_available_quantity(product, location, qty)

    def setup():
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True,
                                                     "mail_notrack": True})
            vals = []
            for product_set in PRODUCT_SETS:
                for i in range(lines):
                    vals.append({"name": "Bench %s%03d" % (product_set, i), "default_code": "BENCH-%s-%03d" % (product_set, i),
                                 "type": "consu", "is_storable": True, "list_price": 10.0})
            env["product.product"].create(vals)
            for product_set in PRODUCT_SETS:
                restock(env, products_of(env, product_set), STOCK)
            info = {"products": len(vals)}
            if seller:
                partners = env["res.partner"].create([{"name": "Bench Retailer %03d" % i, "is_company": True}
                                                      for i in range(STORES)])
                pricelist = env["product.pricelist"].create({"name": "Bench Wholesale"})
                stores = env["seller.store"].create([
                    {"name": "Bench Store %03d" % i, "partner_id": partner.id,
                     "platform": "shopify" if i % 2 else "woocommerce", "pricelist_id": pricelist.id,
                     "state": "connected"}
                    for i, partner in enumerate(partners)])
                env.flush_all()
                for product_set, count in (("A", SMALL), ("B", STORES)):
                    templates = products_of(env, product_set).product_tmpl_id
                    cr.execute(
                        """
                        INSERT INTO seller_share (store_id, product_tmpl_id, company_id, partner_id, active, origin, state,
                                                  create_uid, create_date, write_uid, write_date)
                             SELECT s.id, t, s.company_id, s.partner_id, true, 'manual', 'synced',
                                    1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
                               FROM seller_store s, unnest(%s::int[]) t
                              WHERE s.id = ANY(%s)
                        """,
                        [templates.ids, stores[:count].ids],
                    )
                cr.execute(
                    """
                    INSERT INTO seller_share_variant (share_id, store_id, company_id, product_id, active,
                                                      create_uid, create_date, write_uid, write_date)
                         SELECT sh.id, sh.store_id, sh.company_id, p.id, true,
                                1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
                           FROM seller_share sh JOIN product_product p ON p.product_tmpl_id = sh.product_tmpl_id
                    """
                )
                env.invalidate_all()
                cr.execute("ANALYZE")
                Variant = env["seller.share.variant"]
                info.update({
                    "stores": len(stores),
                    "variants_A": Variant.search_count([("product_id", "in", products_of(env, "A").ids)]),
                    "variants_B": Variant.search_count([("product_id", "in", products_of(env, "B").ids)]),
                })
            cr.commit()
            return info

    def run(product_set):
        # the measured transaction, in a fresh cursor and environment as a request
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            admin = env.ref("base.user_admin")
            env = api.Environment(cr, admin.id, {})
            products = products_of(env, product_set)
            warehouse = env["stock.warehouse"].search([], limit=1)
            picking_type = warehouse.out_type_id
            source = picking_type.default_location_src_id or warehouse.lot_stock_id
            dest = picking_type.default_location_dest_id or env.ref("stock.stock_location_customers")
            customer = env.ref("base.res_partner_1", raise_if_not_found=False) or admin.partner_id
            cr.execute("SELECT clock_timestamp() at time zone 'UTC'")
            begin = cr.fetchone()[0]
            cr.commit()

            started = time.perf_counter()
            picking = env["stock.picking"].create({
                "picking_type_id": picking_type.id,
                "partner_id": customer.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [Command.create({
                    "product_id": product.id, "product_uom_qty": 1.0, "product_uom": product.uom_id.id,
                    "location_id": source.id, "location_dest_id": dest.id,
                }) for product in products],
            })
            picking.action_confirm()
            picking.action_assign()
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            before_validate = time.perf_counter()
            result = picking.button_validate()
            cr.commit()
            ended = time.perf_counter()

            if result is not True or picking.state != "done":
                raise RuntimeError("the delivery was not validated: %r, state %s" % (result, picking.state))
            info = {"seconds": ended - started, "validate_seconds": ended - before_validate}
            if seller:
                cr.execute("SELECT count(*) FROM seller_stock_change WHERE product_id = ANY(%s) AND changed_at >= %s",
                           [products.ids, begin])
                info["journal_rows"] = cr.fetchone()[0]
            # put the stock back, outside the timing
            restock(env(su=True), products, 1.0)
            cr.commit()
            return info

    def profile(product_set, out):
        import cProfile  # noqa: PLC0415
        profiler = cProfile.Profile()
        profiler.enable()
        info = run(product_set)
        profiler.disable()
        profiler.dump_stats(out)
        return info

    replies.write(json.dumps({"ready": True, "seller_mode": seller}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["op"] == "setup":
                answer = setup()
            elif command["op"] == "run":
                answer = run(command["set"])
            elif command["op"] == "profile":
                answer = profile(command["set"], command["out"])
            elif command["op"] == "quit":
                break
            else:
                raise ValueError("unknown command %r" % command)
            replies.write(json.dumps({"ok": True, "result": answer}) + "\n")
        except Exception as exc:  # noqa: BLE001
            import traceback  # noqa: PLC0415
            traceback.print_exc()
            replies.write(json.dumps({"ok": False, "error": repr(exc)}) + "\n")
    replies.close()
    return 0


class Worker:
    def __init__(self, db, lines):
        self.db = db
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", db, "--lines", str(lines)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env(),
        )
        hello = self._read()
        if not hello.get("ready"):
            raise RuntimeError("the worker of %s did not start" % db)

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the worker of %s died (exit %s)" % (self.db, self.proc.poll()))
        return json.loads(line)

    def call(self, **command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        if not answer["ok"]:
            raise RuntimeError("%s: %s failed: %s" % (self.db, command, answer["error"]))
        return answer["result"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()


# ====================================================================== driver

def install(dbs_modules):
    """Create the databases in parallel (one Odoo process each)."""
    procs = []
    for db, modules in dbs_modules:
        drop_db(db)
        command = odoo_command(db, ["-i", modules, "--stop-after-init", "--no-http", "--log-level", "warn"])
        procs.append((db, subprocess.Popen(command, cwd=ROOT, env=child_env(), stdout=sys.stderr)))
    failed = [db for db, proc in procs if proc.wait() != 0]
    if failed:
        raise RuntimeError("installing %s failed" % ", ".join(failed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, help="measured runs per scenario (default 11, 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--lines", type=int, default=100, help="lines of the delivery")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="after measuring, cProfile one run of each scenario into PREFIX.<scenario>.prof")
    parser.add_argument("--worker", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.lines)
    repeat = args.repeat or (5 if args.quick else 11)

    started = time.time()
    tag = "%d_%d" % (os.getpid(), int(started))
    base_db, seller_db = "qo_base_%s" % tag, "qo_seller_%s" % tag
    workers = []
    try:
        log("installing %s (%s) and %s (%s)" % (base_db, BASE_MODULES, seller_db, SELLER_MODULES))
        install([(base_db, BASE_MODULES), (seller_db, SELLER_MODULES)])
        installed = time.time()
        log("installed in %.0f s; setting up" % (installed - started))
        base = Worker(base_db, args.lines)
        workers.append(base)
        seller = Worker(seller_db, args.lines)
        workers.append(seller)
        log("baseline setup: %s" % base.call(op="setup"))
        log("seller_mode setup: %s" % seller.call(op="setup"))
        set_up = time.time()

        scenarios = [("baseline", base, "A"), ("seller_mode_50", seller, "A"), ("seller_mode_500", seller, "B")]
        times = {name: [] for name, _, _ in scenarios}
        validate = {name: [] for name, _, _ in scenarios}
        for round_no in range(repeat + 1):
            shift = round_no % len(scenarios)
            for name, target, product_set in scenarios[shift:] + scenarios[:shift]:
                result = target.call(op="run", set=product_set)
                if name != "baseline" and result.get("journal_rows") != args.lines:
                    raise RuntimeError("%s: the journal holds %s rows for the %d products, not %d"
                                       % (name, result.get("journal_rows"), args.lines, args.lines))
                if round_no:  # round 0 is the warm-up
                    times[name].append(result["seconds"])
                    validate[name].append(result["validate_seconds"])
                log("%s %s: %.3f s (validate + commit %.3f s)" % (
                    "warm-up" if not round_no else "run %d/%d" % (round_no, repeat), name,
                    result["seconds"], result["validate_seconds"]))
        if args.profile:
            for name, target, product_set in scenarios:
                out = os.path.abspath("%s.%s.prof" % (args.profile, name))
                log("profiling one %s run into %s" % (name, out))
                target.call(op="profile", set=product_set, out=out)

        medians = {name: statistics.median(values) for name, values in times.items()}
        ratio_50 = medians["seller_mode_50"] / medians["baseline"]
        ratio_500 = medians["seller_mode_500"] / medians["baseline"]
        report = {
            "ratio_50": round(ratio_50, 3),
            "ratio_500": round(ratio_500, 3),
            "ratio": round(max(ratio_50, ratio_500), 3),
            "baseline_s": round(medians["baseline"], 4),
            "seller_mode_50_s": round(medians["seller_mode_50"], 4),
            "seller_mode_500_s": round(medians["seller_mode_500"], 4),
            # ratio of the fastest runs: less sensitive to a loaded machine's spikes
            "ratio_best": round(max(min(times["seller_mode_50"]), min(times["seller_mode_500"]))
                                / min(times["baseline"]), 3),
            "validate_ratio_500": round(statistics.median(validate["seller_mode_500"])
                                        / statistics.median(validate["baseline"]), 3),
            "repeat": repeat,
            "lines": args.lines,
            "stores": STORES,
            "install_s": round(installed - started, 1),
            "setup_s": round(set_up - installed, 1),
            "total_s": round(time.time() - started, 1),
        }
    finally:
        for target in workers:
            target.close()
        if not args.keep:
            for db in (base_db, seller_db):
                drop_db(db)
            log("databases dropped")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
