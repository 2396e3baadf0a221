#!/usr/bin/env python3
"""Run seller_mode's Odoo tests on a fresh throwaway database.

Installs the module with --test-enable (so install-time errors surface),
then reads Odoo's log: any failure, error or *skipped* test fails the run
(Odoo reports a skipped browser tour and still says "0 failed").
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_command(db, extra, subcommand=None):
    # The installed `odoo` script, not `-m odoo`: in prefork mode Odoo starts
    # its websocket process again from sys.argv[0], which must be that script.
    script = shutil.which("odoo", path=os.path.dirname(sys.executable)) or shutil.which("odoo")
    return [
        sys.executable, *([script] if script else ["-m", "odoo"]),
    ] + ([subcommand] if subcommand else []) + odoo_options(db, extra, shell=subcommand == "shell")


def odoo_options(db, extra, shell=False):
    """Odoo's command-line options for ``db`` (what ``odoo_command`` passes)."""
    return [
        "--db_host", os.environ.get("PGHOST", "127.0.0.1"),
        "--db_port", os.environ.get("PGPORT", "5432"),
        "--db_user", os.environ.get("PGUSER", "root"),
        "--addons-path", ROOT,
        "-d", db,
    ] + ([] if shell else ["--http-interface", "127.0.0.1"]) + extra


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tags", default="/seller_mode")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--log", default=os.path.join(ROOT, "var", "odoo-tests.log"))
    args = parser.parse_args()

    db = "seller_mode_test_%d_%d" % (os.getpid(), int(time.time()))
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    command = odoo_command(db, [
        "-i", "seller_mode", "--test-enable", "--test-tags", args.tags, "--stop-after-init",
        "--http-port", str(free_port()), "--log-level", "info",
    ])
    print("odoo tests: database %s, log %s" % (db, args.log), flush=True)
    started = time.time()
    with open(args.log, "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    text = open(args.log, encoding="utf-8", errors="replace").read()
    if not args.keep:
        subprocess.call(["dropdb", "-h", os.environ.get("PGHOST", "127.0.0.1"), "-U", os.environ.get("PGUSER", "root"),
                         "--if-exists", db])

    problems = []
    summary = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", text)
    if code != 0:
        problems.append("odoo exited with %d" % code)
    if not summary:
        problems.append("odoo printed no test summary: did the tests run at all?")
    ran = sum(int(s[2]) for s in summary)
    failed = sum(int(s[0]) + int(s[1]) for s in summary)
    skipped = [line for line in text.splitlines() if re.search(r" odoo\.tests\.result: skipped |\bSKIP(PED)?\b", line)]
    errors = [line for line in text.splitlines() if re.search(r" (ERROR|CRITICAL) ", line)]
    if failed:
        problems.append("%d failed or errored" % failed)
    if skipped:
        problems.append("%d skipped (a skip is a failure here)" % len(skipped))
    if errors and not failed:
        problems.append("%d ERROR lines in the log" % len(errors))
    if ran == 0:
        problems.append("no test ran")

    for line in (errors + skipped)[:40]:
        print("  " + line[:400])
    print("odoo tests: %d ran, %d failed, %d skipped in %.0f s" % (ran, failed, len(skipped), time.time() - started))
    print("odoo: %d passed, %d failed, %d skipped" % (ran - failed, failed, len(skipped)))
    if problems:
        print("ODOO TESTS FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
