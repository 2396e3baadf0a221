"""Shared pytest setup: the repository root on sys.path, and a skip counted
as a failure (a skipped check proves nothing)."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line("%d test(s) skipped: a skip is a failure in this project" % skipped, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _expose_addon():
    """Make ``odoo.addons.seller_mode`` importable (its adapters are tested
    without a database), as Odoo's addons path would."""
    try:
        import odoo.addons
    except ImportError:
        return
    if ROOT not in odoo.addons.__path__:
        odoo.addons.__path__.append(ROOT)


_expose_addon()
