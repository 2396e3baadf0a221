#!/usr/bin/env python3
"""`make demo`: Odoo with seller_mode and its demo supplier, the two demo
retailer stores connected to emulated Shopify and WooCommerce stores, the
catalog pushed by the job runner; URLs and logins printed.

Everything runs on 127.0.0.1: Odoo on 8069, the Shopify emulator on 8601,
the WooCommerce emulator on 8602 (override with --port, --shopify-port,
--woocommerce-port). Ctrl+C stops it all.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.odoo_tests import odoo_command  # noqa: E402

APP_KEY, APP_SECRET = "seller-mode-demo-app", "seller-mode-demo-secret"
SHOP, SITE = "maison-lumiere", "northwind"

CONFIGURE = """
params = env['ir.config_parameter'].sudo()
params.set_param('seller_mode.shopify_api_key', {key!r})
params.set_param('seller_mode.shopify_api_secret', {secret!r})
params.set_param('seller_mode.callback_base_url', {odoo!r})
params.set_param('web.base.url', {odoo!r})
shop = env.ref('seller_mode.seller_store_retailer_a')
shop.sudo().write({{'url': {shop_url!r}, 'access_token': {token!r}, 'shop_domain': False,
                   'remote_location_id': False, 'state': 'draft'}})
woo = env.ref('seller_mode.seller_store_retailer_b')
woo.sudo().write({{'url': {site_url!r}, 'consumer_key': {ck!r}, 'consumer_secret': {cs!r}, 'state': 'draft'}})
(shop | woo).action_connect()
env.cr.commit()
print('CONFIGURED')
"""


def database_exists(name):
    out = subprocess.run(
        ["psql", "-h", os.environ.get("PGHOST", "127.0.0.1"), "-U", os.environ.get("PGUSER", "root"), "-Atc",
         "SELECT 1 FROM pg_database WHERE datname = '%s'" % name, "postgres"],
        capture_output=True, text=True,
    )
    return out.stdout.strip() == "1"


def start_emulator(args, pattern):
    """Start one emulator process; return it and the first line matching pattern."""
    process = subprocess.Popen([sys.executable, "-m", "emulators"] + args, cwd=ROOT, stdout=subprocess.PIPE,
                               text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    deadline = time.time() + 30
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(pattern, line)
        if match:
            return process, match
    process.kill()
    raise SystemExit("the emulator did not start: %s" % " ".join(args))


def wait_http(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except Exception:
            time.sleep(0.5)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="seller_mode_demo")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--shopify-port", type=int, default=8601)
    parser.add_argument("--woocommerce-port", type=int, default=8602)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=ROOT)
    odoo_url = "http://127.0.0.1:%d" % args.port
    children = []

    def stop(*_):
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        shopify, match = start_emulator(
            ["shopify", "--port", str(args.shopify_port), "--shops", SHOP, "--api-key", APP_KEY,
             "--api-secret", APP_SECRET], r"shop \S+: (\S+)\s+token (\S+)")
        children.append(shopify)
        shop_url, token = match.group(1), match.group(2)
        woo, match = start_emulator(
            ["woocommerce", "--port", str(args.woocommerce_port), "--sites", SITE],
            r"site \S+: (\S+)\s+key (\S+) secret (\S+)")
        children.append(woo)
        site_url, ck, cs = match.group(1), match.group(2), match.group(3)
        step = ["-u", "seller_mode"] if database_exists(args.db) else ["-i", "seller_mode", "--with-demo"]
        print("Preparing database %s (%s) ..." % (args.db, "update" if step[0] == "-u" else "install with demo data"),
              flush=True)
        subprocess.run(odoo_command(args.db, step + ["--stop-after-init", "--log-level", "warn"]), check=True,
                       env=env, cwd=ROOT)
        script = CONFIGURE.format(key=APP_KEY, secret=APP_SECRET, odoo=odoo_url, shop_url=shop_url, token=token,
                                  site_url=site_url, ck=ck, cs=cs)
        configured = subprocess.run(odoo_command(args.db, ["--log-level", "warn", "--no-http"], "shell"),
                                    input=script, capture_output=True, text=True, env=env, cwd=ROOT)
        if "CONFIGURED" not in configured.stdout:
            raise SystemExit("configuring the demo failed:\n" + configured.stdout[-2000:] + configured.stderr[-2000:])

        # As in production (README): prefork workers, the job runner in its
        # own process, each Seller Mode channel with its own capacity.
        env["ODOO_QUEUE_JOB_CHANNELS"] = (
            "root:4,root.seller_mode.stock:2,root.seller_mode.catalog:1,root.seller_mode.orders:1,root.seller_mode.poll:1"
        )
        env["ODOO_QUEUE_JOB_PORT"] = str(args.port)
        server = subprocess.Popen(odoo_command(args.db, [
            "--http-port", str(args.port), "--load", "base,rpc,web,queue_job", "--db-filter", "^%s$" % args.db,
            "--workers", "6", "--max-cron-threads", "1", "--log-level", "warn",
        ]), env=env, cwd=ROOT)
        children.append(server)
        if not wait_http(odoo_url + "/web/login"):
            raise SystemExit("Odoo did not start on %s" % odoo_url)
        print(
            "\nSeller Mode demo is running\n"
            "  Odoo backend:     %(odoo)s/odoo            login admin / password admin\n"
            "  Retailer portal:  %(odoo)s/my              login retailer-a / password retailer-a\n"
            "  Shopify emulator: http://127.0.0.1:%(sp)d/_emulator/   (shop %(shop)s)\n"
            "  WooCommerce emulator: http://127.0.0.1:%(wp)d/_emulator/   (site %(site)s)\n"
            "The job runner connects both demo stores and pushes the catalog within a minute:\n"
            "see Seller Mode > Stores and Sync Log. Stop with Ctrl+C.\n"
            % {"odoo": odoo_url, "sp": args.shopify_port, "wp": args.woocommerce_port, "shop": SHOP, "site": SITE},
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print("a demo process stopped; stopping the rest", file=sys.stderr)
    finally:
        stop()


if __name__ == "__main__":
    main()
