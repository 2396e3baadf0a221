"""Checks the WooCommerce emulator against the REST index measured on a real
WooCommerce 9.2.5 (`<repo>/../shared/reference/woocommerce/wc-v3-9.2.5-index.json.gz`):

* every route, method and argument the emulator accepts (emulators.woocommerce.spec.ROUTES)
  exists there with a compatible type;
* every field of every resource it returns (products, variations, orders,
  order notes, webhooks, categories), recursively, is in the resource's schema
  with a compatible type (null is tolerated: WooCommerce itself answers null
  for fields such as stock_quantity or a variation's image).
"""

import gzip
import json
import pathlib

import pytest
from woocommerce import API

from emulators.woocommerce import WooCommerceEmulator, spec

REPO = pathlib.Path(__file__).resolve().parents[2]
INDEX = REPO.parent / "shared" / "reference" / "woocommerce" / "wc-v3-9.2.5-index.json.gz"

pytestmark = pytest.mark.skipif(
    not INDEX.exists(), reason="reference index not found at %s (../shared is absent)" % INDEX
)


@pytest.fixture(scope="module")
def index():
    with gzip.open(INDEX) as fh:
        return json.load(fh)


def types_of(schema):
    t = schema.get("type")
    if t is None:
        return set()
    return set(t) if isinstance(t, list) else {t}


def arg_compatible(mine, theirs):
    types = types_of(theirs)
    if isinstance(mine, tuple) and mine[0] == "enum":
        return "string" in types and set(mine[1]) <= set(theirs.get("enum", []))
    if isinstance(mine, tuple) and mine[0] == spec.A:
        if "array" not in types:
            return False
        return arg_compatible(mine[1], theirs.get("items", {}))
    return {
        spec.S: lambda: "string" in types,
        spec.I: lambda: "integer" in types,
        spec.B: lambda: "boolean" in types,
        spec.A: lambda: "array" in types,
        spec.O: lambda: "object" in types,
        spec.DATE: lambda: "string" in types and theirs.get("format") == "date-time",
        spec.NULLABLE_STRING: lambda: {"null", "string"} <= types,
        spec.NULLABLE_INT: lambda: {"null", "integer"} <= types,
    }[mine]()


def test_routes_and_arguments_exist_in_index(index):
    routes = index["routes"]
    checked = 0
    for pattern, methods in spec.ROUTES.items():
        assert pattern in routes, "route %s is not served by WooCommerce 9.2.5" % pattern
        for method, (_handler, args) in methods.items():
            endpoints = [e for e in routes[pattern]["endpoints"] if method in e["methods"]]
            assert endpoints, "%s %s is not in the index" % (method, pattern)
            real = endpoints[0]["args"]
            for name, mine in args.items():
                assert name in real, "%s %s: argument %r does not exist" % (method, pattern, name)
                assert arg_compatible(mine, real[name]), "%s %s: %r %r vs %r" % (method, pattern, name, mine, real[name])
                checked += 1
    assert checked > 150


def test_arg_checker_can_fail(index):
    real = index["routes"]["/wc/v3/products"]["endpoints"]
    post = [e for e in real if "POST" in e["methods"]][0]["args"]
    assert not arg_compatible(spec.I, post["regular_price"])
    assert not arg_compatible(("enum", ["publish", "bogus"]), post["status"])


def check_value(value, schema, where, problems):
    if value is None:
        return
    types = types_of(schema)
    if not types or "mixed" in types:
        return
    ok = (
        ("integer" in types and isinstance(value, int) and not isinstance(value, bool))
        or ("number" in types and isinstance(value, (int, float)) and not isinstance(value, bool))
        or ({"string", "date-time"} & types and isinstance(value, str))
        or ("boolean" in types and isinstance(value, bool))
        or ("array" in types and isinstance(value, list))
        or ("object" in types and isinstance(value, dict))
    )
    if not ok:
        problems.append("%s: %r is not %s" % (where, value, sorted(types)))
        return
    if "enum" in schema and isinstance(value, str) and value not in schema["enum"]:
        problems.append("%s: %r not in enum" % (where, value))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for n, item in enumerate(value):
            check_value(item, schema["items"], "%s[%d]" % (where, n), problems)
    if isinstance(value, dict) and "properties" in schema:
        check_fields(value, schema["properties"], where, problems)


def check_fields(obj, properties, where, problems):
    for name, value in obj.items():
        if name == "_links" and where.count(".") == 0:
            continue  # added by WordPress to every REST response, outside the schema
        if name not in properties:
            problems.append("%s.%s is not in the schema" % (where, name))
            continue
        check_value(value, properties[name], "%s.%s" % (where, name), problems)


def assert_shape(obj, schema, label):
    problems = []
    check_fields(obj, schema["properties"], label, problems)
    assert not problems, "\n".join(problems)


def test_shape_checker_can_fail(index):
    problems = []
    check_fields({"id": "12", "bogus": 1}, index["schemas"]["products"]["properties"], "p", problems)
    assert len(problems) == 2


def test_returned_resources_match_schemas(index):
    schemas = index["schemas"]
    emu = WooCommerceEmulator(seed=1).start()
    try:
        key, secret = emu.add_site("schema")
        emu.set_faults("schema", latency_model=False)
        api = API(url=emu.site_url("schema"), consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10)
        cat = api.post("products/categories", {"name": "Tees"}).json()
        simple = api.post("products", {
            "name": "Plain", "sku": "PL", "regular_price": "9.99", "sale_price": "7.50", "manage_stock": True,
            "stock_quantity": 3, "categories": [{"id": cat["id"]}], "tags": [{"name": "summer"}],
            "images": [{"src": "https://img.example/a.png"}], "meta_data": [{"key": "k", "value": {"a": 1}}],
            "dimensions": {"length": "1"}, "weight": "0.2"}).json()
        variable = api.post("products", {"name": "Var", "type": "variable", "attributes": [
            {"name": "Color", "variation": True, "options": ["Red"]}], "default_attributes": [{"name": "Color", "option": "Red"}]}).json()
        variation = api.post("products/%d/variations" % variable["id"], {
            "sku": "VR", "regular_price": "5", "manage_stock": True, "stock_quantity": 2,
            "image": {"src": "https://img.example/r.png"}, "attributes": [{"name": "Color", "option": "Red"}]}).json()
        bare = api.post("products", {"name": "Bare", "regular_price": "1.00", "status": "draft"}).json()
        order = api.post("orders", {
            "line_items": [{"product_id": simple["id"], "quantity": 1}, {"product_id": bare["id"], "quantity": 2},
                           {"product_id": 999999, "quantity": 1}, {"product_id": variable["id"], "variation_id": variation["id"], "quantity": 1}],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "4.00"}],
            "fee_lines": [{"name": "Gift wrap", "total": "1.00"}],
            "billing": {"email": "a@b.c"}, "meta_data": [{"key": "x", "value": "y"}], "status": "processing"}).json()
        note = api.post("orders/%d/notes" % order["id"], {"note": "hi", "customer_note": True}).json()
        hook = api.post("webhooks", {"topic": "order.updated", "delivery_url": "http://127.0.0.1:9/x", "secret": "s"}).json()

        assert simple["id"] and variation["id"] and order["id"]
        for product in [simple, variable, bare, api.get("products/%d" % simple["id"]).json(),
                        api.get("products/%d" % variable["id"], params={"context": "edit"}).json()] + api.get("products").json():
            assert_shape(product, schemas["products"], "product")
        for item in [variation, api.get("products/%d/variations/%d" % (variable["id"], variation["id"])).json()] + \
                api.get("products/%d/variations" % variable["id"]).json():
            assert_shape(item, schemas["products/1/variations"], "variation")
        for item in [order, api.get("orders/%d" % order["id"]).json()] + api.get("orders").json():
            assert_shape(item, schemas["orders"], "order")
        for item in [note] + api.get("orders/%d/notes" % order["id"]).json():
            assert_shape(item, schemas["orders/1/notes"], "note")
        for item in [hook, api.get("webhooks/%d" % hook["id"]).json()] + api.get("webhooks").json():
            assert_shape(item, schemas["webhooks"], "webhook")
        for item in [cat] + api.get("products/categories").json():
            assert_shape(item, schemas["products/categories"], "category")
        # the checkout path builds orders too
        assert_shape(emu.place_order("schema", [{"product_id": simple["id"], "quantity": 1}]), schemas["orders"], "order")
    finally:
        emu.stop()
