"""The emulator tests need no Odoo: neutralise pytest-odoo's autouse fixtures
(they would load an Odoo registry) for this directory."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="session", autouse=True)
def load_http():
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    yield
