#!/usr/bin/env python3
"""`make demo`: create or update a demo database with seller_mode and its demo
data, then serve Odoo (with the queue_job runner) on 127.0.0.1:8069."""

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.odoo_tests import odoo_command  # noqa: E402


def database_exists(name):
    out = subprocess.run(
        ["psql", "-h", os.environ.get("PGHOST", "127.0.0.1"), "-U", os.environ.get("PGUSER", "root"), "-Atc",
         "SELECT 1 FROM pg_database WHERE datname = '%s'" % name, "postgres"],
        capture_output=True, text=True,
    )
    return out.stdout.strip() == "1"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="seller_mode_demo")
    parser.add_argument("--port", type=int, default=8069)
    args = parser.parse_args()

    env = dict(os.environ, PYTHONPATH=ROOT)
    step = ["-u", "seller_mode"] if database_exists(args.db) else ["-i", "seller_mode", "--with-demo"]
    print("Preparing database %s (%s) ..." % (args.db, "update" if step[0] == "-u" else "install with demo data"), flush=True)
    subprocess.run(odoo_command(args.db, step + ["--stop-after-init", "--log-level", "warn"]), check=True, env=env)

    print(
        "\nSeller Mode demo\n"
        "  Backend:  http://127.0.0.1:%d/odoo  (login admin / password admin)\n"
        "  Seller Mode menu: stores, shared products, sync log\n"
        "Stop with Ctrl+C.\n" % args.port,
        flush=True,
    )
    env["ODOO_QUEUE_JOB_CHANNELS"] = "root:4,root.seller_mode.stock:2,root.seller_mode.catalog:1,root.seller_mode.orders:1"
    os.execvpe(sys.executable, odoo_command(args.db, [
        "--http-port", str(args.port), "--load", "base,web,queue_job", "--db-filter", "^%s$" % args.db,
        "--log-level", "warn",
    ]), env)


if __name__ == "__main__":
    main()
