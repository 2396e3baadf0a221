"""seller_mode installs on a fresh database with demo data and uninstalls cleanly."""

import os
import subprocess
import time

from tools.odoo_tests import odoo_command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

UNINSTALL = """
module = env['ir.module.module'].search([('name', '=', 'seller_mode')])
module.button_immediate_uninstall()
env.cr.commit()
"""

CHECK_DEMO = """
stores = env['seller.store'].search([])
print('STORES', len(stores), sorted(set(stores.mapped('platform'))))
print('SHARES', env['seller.share'].search_count([]))
print('VARIANT_PRODUCTS', len([t for t, n in env['product.product']._read_group([], ['product_tmpl_id'], ['__count']) if n > 1]))
print('NUMERIC_SKU', env['product.product'].search_count([('default_code', '=', '123456789012')]))
"""


def run(db, args, stdin=None, subcommand=None):
    return subprocess.run(
        odoo_command(db, args, subcommand), input=stdin, capture_output=True, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT), timeout=900,
    )


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "root", "-Atc", sql, db], capture_output=True, text=True).stdout


def test_install_with_demo_then_uninstall():
    db = "seller_mode_install_%d_%d" % (os.getpid(), int(time.time()))
    try:
        result = run(db, ["-i", "seller_mode", "--with-demo", "--stop-after-init", "--log-level", "warn"])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert " ERROR " not in result.stdout + result.stderr, (result.stdout + result.stderr)[-3000:]

        shell = run(db, ["--log-level", "warn", "--no-http"], stdin=CHECK_DEMO, subcommand="shell")
        lines = dict(line.split(" ", 1) for line in shell.stdout.splitlines() if line.split(" ")[0].isupper())
        assert lines.get("STORES") == "2 ['shopify', 'woocommerce']", shell.stdout + shell.stderr
        assert int(lines["SHARES"]) >= 20
        assert int(lines["VARIANT_PRODUCTS"]) >= 3
        assert lines["NUMERIC_SKU"] == "1"

        shell = run(db, ["--log-level", "warn", "--no-http"], stdin=UNINSTALL, subcommand="shell")
        assert shell.returncode == 0, shell.stdout[-3000:] + shell.stderr[-3000:]
        state = psql("SELECT state FROM ir_module_module WHERE name = 'seller_mode'", db).strip()
        assert state == "uninstalled"
        tables = psql("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'seller\\_%'", db).split()
        assert tables == [], tables
        columns = psql(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE column_name LIKE 'seller\\_%'", db
        ).split()
        assert columns == [], columns
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "root", "--if-exists", db])
