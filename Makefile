# Seller Mode: `make demo` serves a demo, `make test` runs every test.
PYTHON ?= python3
PGHOST ?= 127.0.0.1
PGUSER ?= root
DEMO_DB ?= seller_mode_demo
export PGHOST PGUSER

.PHONY: test test-odoo test-pytest demo bench

test: test-odoo test-pytest

test-odoo:
	$(PYTHON) tools/odoo_tests.py

test-pytest:
	PYTHONPATH=$(CURDIR) $(PYTHON) -m pytest -q

demo:
	PYTHONPATH=$(CURDIR) $(PYTHON) tools/demo.py --db $(DEMO_DB)

bench:
	for b in bench/*.py; do PYTHONPATH=$(CURDIR) $(PYTHON) $$b --quick || exit 1; done
