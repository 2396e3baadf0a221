"""WooCommerce emulator, driven over real HTTP with the `woocommerce` client
(OAuth 1.0a over http) and plain `requests` (basic auth over https).

Expected values come from WooCommerce's documented / measured behaviour
(see ../shared/reference/README.md), never from the emulator's own output.
"""

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.parse

import pytest

from tests.receiver import Receiver, receiver  # noqa: F401 (fixture)
import requests
from woocommerce import API

from emulators.woocommerce import WooCommerceEmulator

requests.packages.urllib3.disable_warnings()


# ---------------------------------------------------------------- helpers
def is_ping(call):
    return "X-WC-Webhook-Topic" not in call["headers"]


def is_delivery(call):
    return not is_ping(call)


def sign_oauth(method, url, key, secret, params=None, timestamp=None, nonce=None, algorithm="HMAC-SHA256"):
    """An independent OAuth 1.0a one-legged signer (RFC 5849 encoding, as
    WooCommerce's server side computes it); returns the full URL."""
    enc = lambda s: urllib.parse.quote(str(s), safe="~")  # noqa: E731
    oauth = {
        "oauth_consumer_key": key,
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_nonce": nonce or "%032x" % random.getrandbits(128),
        "oauth_signature_method": algorithm,
    }
    allp = dict(params or {}, **oauth)
    normalized = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(allp.items()))
    base = "&".join([method, enc(url), enc(normalized)])
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    sig = base64.b64encode(hmac.new((secret + "&").encode(), base.encode(), digest).digest()).decode()
    allp["oauth_signature"] = sig
    return url + "?" + urllib.parse.urlencode(allp)


@pytest.fixture(scope="module")
def emu():
    emulator = WooCommerceEmulator(host="127.0.0.1", port=0, seed=7, tls_port=0).start()
    yield emulator
    emulator.stop()


_counter = [0]


@pytest.fixture
def site(emu):
    """A fresh site (name, key, secret, API client over http) per test, no latency model."""
    _counter[0] += 1
    name = "shop-%d" % _counter[0]
    key, secret = emu.add_site(name)
    emu.set_faults(name, latency_model=False)
    api = API(url=emu.site_url(name), consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10)
    return name, key, secret, api


def https(emu, name, key, secret, method, path, **kwargs):
    url = emu.site_url(name, tls=True) + "/wp-json/wc/v3/" + path
    return requests.request(method, url, auth=(key, secret), verify=emu.tls_cert_path, timeout=10, **kwargs)


# ---------------------------------------------------------------- products
def test_simple_product_crud(emu, site):
    name, key, secret, api = site
    r = api.post("products", {"name": "Blue Shirt", "sku": "BS-1", "regular_price": "19.90", "manage_stock": True,
                              "stock_quantity": 4, "images": [{"src": "https://img.example/blue.jpg"}],
                              "meta_data": [{"key": "origin", "value": "odoo"}], "status": "publish"})
    assert r.status_code == 201, r.text
    p = r.json()
    pid = p["id"]
    assert isinstance(pid, int) and pid > 0
    assert p["type"] == "simple" and p["status"] == "publish" and p["slug"] == "blue-shirt"
    assert p["price"] == "19.90" and p["regular_price"] == "19.90" and p["sale_price"] == ""
    assert p["stock_quantity"] == 4 and p["stock_status"] == "instock" and p["backorders"] == "no"
    assert p["images"][0]["src"] == "https://img.example/blue.jpg" and isinstance(p["images"][0]["id"], int)
    assert p["meta_data"][0]["key"] == "origin" and isinstance(p["meta_data"][0]["id"], int)
    assert p["permalink"].startswith(emu.site_url(name))

    r = api.put("products/%d" % pid, {"sale_price": "15.00", "stock_quantity": 0})
    assert r.status_code == 200
    p = r.json()
    assert p["price"] == "15.00" and p["on_sale"] is True
    assert p["stock_quantity"] == 0 and p["stock_status"] == "outofstock"
    assert emu.stock(name, pid) == 0
    rows = emu.log.rows(tenant=name, kind="stock_set")
    assert [(r["key"], r["value"]) for r in rows] == [(pid, 4), (pid, 0)]
    assert rows[0]["monotonic"] <= rows[1]["monotonic"] and rows[1]["wall"] > 1e9

    api.put("products/%d" % pid, {"backorders": "notify"})
    assert api.get("products/%d" % pid).json()["stock_status"] == "onbackorder"

    # search and sku filters
    api.post("products", {"name": "Red Hat", "sku": "RH-1", "regular_price": "5"})
    assert [x["sku"] for x in api.get("products", params={"sku": "BS-1"}).json()] == ["BS-1"]
    assert [x["name"] for x in api.get("products", params={"search": "hat"}).json()] == ["Red Hat"]
    assert [x["id"] for x in api.get("products", params={"include": str(pid)}).json()] == [pid]

    # delete: trash first, then gone with force
    r = api.delete("products/%d" % pid)
    assert r.status_code == 200 and r.json()["status"] == "trash"
    r = api.delete("products/%d" % pid, params={"force": "true"})
    assert r.status_code == 200
    assert api.get("products/%d" % pid).status_code == 404


def test_draft_and_categories(emu, site):
    name, key, secret, api = site
    r = api.post("products/categories", {"name": "Shirts"})
    assert r.status_code == 201
    cat = r.json()["id"]
    assert api.post("products/categories", {"name": "Shirts"}).json()["code"] == "term_exists"
    p = api.post("products", {"name": "Draft thing", "status": "draft", "categories": [{"id": cat}]}).json()
    assert p["status"] == "draft" and [c["id"] for c in p["categories"]] == [cat]
    names = [c["name"] for c in api.get("products/categories", params={"per_page": 100}).json()]
    assert "Shirts" in names and "Uncategorized" in names


def test_variable_product_and_variations(emu, site):
    name, key, secret, api = site
    parent = api.post("products", {
        "name": "Tee", "type": "variable", "sku": "TEE",
        "attributes": [{"name": "Size", "variation": True, "visible": True, "options": ["S", "M"]}],
    }).json()
    pid = parent["id"]
    assert parent["type"] == "variable" and parent["attributes"][0]["variation"] is True
    v1 = api.post("products/%d/variations" % pid, {"sku": "TEE-S", "regular_price": "12.00", "manage_stock": True,
                                                   "stock_quantity": 3, "attributes": [{"name": "Size", "option": "S"}]})
    assert v1.status_code == 201, v1.text
    v1 = v1.json()
    v2 = api.post("products/%d/variations" % pid, {"sku": "TEE-M", "regular_price": "14.00", "manage_stock": True,
                                                   "stock_quantity": 0, "attributes": [{"name": "Size", "option": "M"}]}).json()
    assert v1["attributes"] == [{"id": 0, "name": "Size", "option": "S"}]
    listed = api.get("products/%d/variations" % pid).json()
    assert sorted(v["sku"] for v in listed) == ["TEE-M", "TEE-S"]
    parent = api.get("products/%d" % pid).json()
    assert sorted(parent["variations"]) == sorted([v1["id"], v2["id"]])
    assert parent["price"] == "12" or parent["price"] == "12.00" or float(parent["price"]) == 12.0
    assert parent["stock_status"] == "instock"

    r = api.put("products/%d/variations/%d" % (pid, v1["id"]), {"stock_quantity": 7})
    assert r.status_code == 200 and r.json()["stock_quantity"] == 7
    assert emu.stock(name, v1["id"]) == 7
    assert (v1["id"], 7) in [(r["key"], r["value"]) for r in emu.log.rows(tenant=name, kind="stock_set")]

    # sku= on /products also finds variations (WooCommerce searches product_variation too)
    found = api.get("products", params={"sku": "TEE-M"}).json()
    assert [x["id"] for x in found] == [v2["id"]] and found[0]["parent_id"] == pid

    # variation SKU collides with products too
    r = api.post("products", {"name": "x", "sku": "TEE-S"})
    assert r.status_code == 400 and r.json()["code"] == "product_invalid_sku"

    # variation batch
    r = api.post("products/%d/variations/batch" % pid, {"update": [{"id": v2["id"], "stock_quantity": 2}], "delete": [v1["id"]]})
    assert r.status_code == 200
    body = r.json()
    assert body["update"][0]["stock_quantity"] == 2 and body["delete"][0]["id"] == v1["id"]
    assert api.get("products/%d/variations/%d" % (pid, v1["id"])).status_code == 404
    assert api.delete("products/%d/variations/%d" % (pid, v2["id"])).status_code == 501  # needs force
    assert api.delete("products/%d/variations/%d" % (pid, v2["id"]), params={"force": "true"}).status_code == 200


def test_duplicate_sku_single_and_batch(emu, site):
    name, key, secret, api = site
    assert api.post("products", {"name": "A", "sku": "DUP"}).status_code == 201
    r = api.post("products", {"name": "B", "sku": "DUP"})
    assert r.status_code == 400
    assert r.json()["code"] == "product_invalid_sku" and r.json()["data"]["status"] == 400
    r = api.post("products/batch", {"create": [{"name": "C", "sku": "NEW-1"}, {"name": "D", "sku": "DUP"}]})
    assert r.status_code == 200
    created = r.json()["create"]
    assert created[0]["sku"] == "NEW-1" and created[0]["id"] > 0
    assert created[1]["id"] == 0
    assert created[1]["error"]["code"] == "product_invalid_sku"
    assert created[1]["error"]["data"]["status"] == 400
    skus = sorted(p["sku"] for p in api.get("products", params={"per_page": 100}).json())
    assert skus == ["DUP", "NEW-1"]


def test_batch_limit(emu, site):
    name, key, secret, api = site
    r = api.post("products/batch", {"create": [{"name": "P%d" % i, "sku": "P%d" % i} for i in range(100)]})
    assert r.status_code == 200 and len(r.json()["create"]) == 100
    r = api.post("products/batch", {"create": [{"name": "Q%d" % i} for i in range(60)],
                                    "update": [{"id": 1, "name": "x"}] * 41})
    assert r.status_code == 413
    assert r.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert api.get("products", params={"per_page": 1}).headers["X-WP-Total"] == "100"


def test_per_page_and_unknown_ids(emu, site):
    name, key, secret, api = site
    r = api.get("products", params={"per_page": 101})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    assert api.get("orders", params={"per_page": 0}).status_code == 400
    assert api.get("products", params={"per_page": 100}).status_code == 200
    r = api.get("products/987654")
    assert r.status_code == 404 and r.json()["code"] == "woocommerce_rest_product_invalid_id"
    r = api.put("products/987654", {"name": "x"})
    assert r.status_code == 400 and r.json()["code"] == "woocommerce_rest_product_invalid_id"
    r = api.get("nothing/here")
    assert r.status_code == 404 and r.json()["code"] == "rest_no_route"
    r = api.post("products", {"name": "x", "regular_price": 10})  # a number is not a string
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"


# ---------------------------------------------------------------- orders
def test_orders_listing_and_pagination(emu, site):
    name, key, secret, api = site
    pid = api.post("products", {"name": "Mug", "sku": "MUG", "regular_price": "8.50", "manage_stock": True, "stock_quantity": 20}).json()["id"]
    ids = [emu.place_order(name, [{"product_id": pid, "quantity": 1}], shipping={"first_name": "Ann"})["id"] for _ in range(5)]
    assert emu.stock(name, pid) == 15
    time.sleep(1.1)  # WordPress dates have one-second resolution
    mark = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    time.sleep(1.1)
    for oid in ids[:2]:
        r = api.put("orders/%d" % oid, {"status": "completed", "meta_data": [{"key": "odoo_picking", "value": "WH/OUT/1"}]})
        assert r.status_code == 200 and r.json()["status"] == "completed"
    r = api.get("orders", params={"modified_after": mark})
    assert r.status_code == 200
    assert sorted(o["id"] for o in r.json()) == sorted(ids[:2])

    r = api.get("orders", params={"per_page": 2, "page": 1, "orderby": "id", "order": "asc"})
    assert r.headers["X-WP-Total"] == "5" and r.headers["X-WP-TotalPages"] == "3"
    assert [o["id"] for o in r.json()] == sorted(ids)[:2]
    assert 'rel="next"' in r.headers["Link"] and "page=2" in r.headers["Link"]
    r = api.get("orders", params={"per_page": 2, "page": 3, "orderby": "id", "order": "asc"})
    assert [o["id"] for o in r.json()] == sorted(ids)[4:]
    assert 'rel="prev"' in r.headers["Link"] and 'rel="next"' not in r.headers["Link"]
    assert len(api.get("orders", params={"status": "completed"}).json()) == 2

    order = api.get("orders/%d" % ids[0]).json()
    line = order["line_items"][0]
    assert line["product_id"] == pid and line["variation_id"] == 0 and line["sku"] == "MUG"
    assert line["quantity"] == 1 and line["total"] == "8.50" and order["total"] == "8.50"
    assert order["shipping"]["first_name"] == "Ann"
    assert {"key": "odoo_picking", "value": "WH/OUT/1"}.items() <= order["meta_data"][0].items()

    r = api.get("orders/99999")
    assert r.status_code == 404 and r.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_order_create_rest_and_unknown_product(emu, site):
    name, key, secret, api = site
    pid = api.post("products", {"name": "Pen", "regular_price": "2.00", "manage_stock": True, "stock_quantity": 10}).json()["id"]
    r = api.post("orders", {"line_items": [{"product_id": pid, "quantity": 3}], "set_paid": True})
    assert r.status_code == 201
    assert r.json()["status"] == "processing" and r.json()["total"] == "6.00"
    assert emu.stock(name, pid) == 7
    r = api.post("orders", {"line_items": [{"product_id": 424242, "quantity": 1}]})
    assert r.status_code == 201
    order = r.json()
    assert order["total"] == "0.00" and order["line_items"][0]["product_id"] == 0
    assert order["line_items"][0]["name"] == ""
    # cancelling a processing order puts the stock back
    oid = api.post("orders", {"line_items": [{"product_id": pid, "quantity": 2}], "status": "processing"}).json()["id"]
    assert emu.stock(name, pid) == 5
    api.put("orders/%d" % oid, {"status": "cancelled"})
    assert emu.stock(name, pid) == 7


def test_order_notes(emu, site):
    name, key, secret, api = site
    oid = emu.place_order(name, [{"product_id": 1, "quantity": 1}], status="processing")["id"]
    r = api.post("orders/%d/notes" % oid, {"note": "Shipped with DHL", "customer_note": True})
    assert r.status_code == 201 and r.json()["customer_note"] is True and r.json()["note"] == "Shipped with DHL"
    r = api.post("orders/%d/notes" % oid, {"note": "internal", "customer_note": False})
    assert r.json()["customer_note"] is False
    notes = api.get("orders/%d/notes" % oid).json()
    assert {"Shipped with DHL", "internal"} <= {n["note"] for n in notes}
    customer = api.get("orders/%d/notes" % oid, params={"type": "customer"}).json()
    assert [n["note"] for n in customer] == ["Shipped with DHL"]
    assert len(emu.log.rows(tenant=name, kind="note_create")) >= 2


# ---------------------------------------------------------------- webhooks
def verify_signature(call, secret):
    expected = base64.b64encode(hmac.new(secret.encode(), call["body"], hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, call["headers"]["X-WC-Webhook-Signature"])


def test_webhooks_signature_ping_and_delivery_time_payload(emu, site):
    name, key, secret, api = site
    receiver = Receiver()
    try:
        emu.set_webhook_delay(name, 1.0)
        r = api.post("webhooks", {"name": "odoo", "topic": "product.updated", "delivery_url": receiver.url, "secret": "s3cr3t"})
        assert r.status_code == 201
        hook = r.json()
        assert hook["status"] == "active" and hook["topic"] == "product.updated" and hook["resource"] == "product"
        pings = receiver.wait(1, predicate=is_ping)
        assert len(pings) == 1
        assert pings[0]["body"] == ("webhook_id=%d" % hook["id"]).encode()
        assert "X-WC-Webhook-Signature" not in pings[0]["headers"]

        pid = api.post("products", {"name": "Lamp", "sku": "LAMP", "manage_stock": True, "stock_quantity": 1}).json()["id"]
        t0 = time.monotonic()
        api.put("products/%d" % pid, {"stock_quantity": 5})
        api.put("products/%d" % pid, {"stock_quantity": 9, "name": "Lamp v2"})
        calls = receiver.wait(1, timeout=5, predicate=is_delivery)
        assert len(calls) == 1
        call = calls[0]
        assert call["t"] - t0 >= 0.8  # not before the configured delay
        assert verify_signature(call, "s3cr3t")
        assert not verify_signature(call, "wrong")
        headers = call["headers"]
        assert headers["X-WC-Webhook-Topic"] == "product.updated"
        assert headers["X-WC-Webhook-Resource"] == "product" and headers["X-WC-Webhook-Event"] == "updated"
        assert headers["X-WC-Webhook-ID"] == str(hook["id"]) and headers["X-WC-Webhook-Delivery-ID"]
        assert headers["X-WC-Webhook-Source"] == emu.site_url(name) + "/"
        payload = json.loads(call["body"])
        # built at delivery time: the latest state, once
        assert payload["id"] == pid and payload["stock_quantity"] == 9 and payload["name"] == "Lamp v2"
        time.sleep(0.3)
        assert len([c for c in receiver.calls if is_delivery(c)]) == 1

        # listing, status update, deletion
        assert [w["id"] for w in api.get("webhooks").json()] == [hook["id"]]
        assert api.put("webhooks/%d" % hook["id"], {"status": "paused"}).json()["status"] == "paused"
        assert api.delete("webhooks/%d" % hook["id"]).status_code == 501
        assert api.delete("webhooks/%d" % hook["id"], params={"force": "true"}).status_code == 200
        assert api.get("webhooks/%d" % hook["id"]).status_code == 404
    finally:
        receiver.close()


def test_webhook_default_delay_is_tens_of_seconds(emu, site):
    name, key, secret, api = site
    receiver = Receiver()
    try:
        api.post("webhooks", {"topic": "order.created", "delivery_url": receiver.url, "secret": "x"})
        emu.place_order(name, [{"product_id": 1, "quantity": 1}])
        time.sleep(1.0)
        assert [c for c in receiver.calls if is_delivery(c)] == []
    finally:
        receiver.close()


def test_webhook_disabled_after_consecutive_failures(emu, site):
    name, key, secret, api = site
    receiver = Receiver(status=500)
    try:
        emu.set_webhook_delay(name, 0)
        hook = api.post("webhooks", {"topic": "order.created", "delivery_url": receiver.url, "secret": "x"}).json()
        for n in range(1, 7):
            emu.place_order(name, [{"product_id": 1, "quantity": 1}])
            assert len(receiver.wait(n, predicate=is_delivery)) == n
        time.sleep(0.2)
        assert api.get("webhooks/%d" % hook["id"]).json()["status"] == "active"  # 6 failures: count 6
        emu.place_order(name, [{"product_id": 1, "quantity": 1}])
        receiver.wait(7, predicate=is_delivery)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and api.get("webhooks/%d" % hook["id"]).json()["status"] != "disabled":
            time.sleep(0.05)
        assert api.get("webhooks/%d" % hook["id"]).json()["status"] == "disabled"
        emu.place_order(name, [{"product_id": 1, "quantity": 1}])
        time.sleep(0.4)
        assert len([c for c in receiver.calls if is_delivery(c)]) == 7
    finally:
        receiver.close()


def test_webhook_drop_and_duplicate_faults(emu, site):
    name, key, secret, api = site
    receiver = Receiver()
    try:
        emu.set_webhook_delay(name, 0)
        api.post("webhooks", {"topic": "order.created", "delivery_url": receiver.url, "secret": "x"})
        emu.set_faults(name, webhook_drop_rate=1.0)
        emu.place_order(name, [{"product_id": 1, "quantity": 1}])
        time.sleep(0.4)
        assert [c for c in receiver.calls if is_delivery(c)] == []
        emu.set_faults(name, webhook_drop_rate=0.0, webhook_duplicate_rate=1.0)
        oid = emu.place_order(name, [{"product_id": 1, "quantity": 1}])["id"]
        calls = receiver.wait(2, predicate=is_delivery)
        assert len(calls) == 2 and all(json.loads(c["body"])["id"] == oid for c in calls)
    finally:
        emu.set_faults(name, webhook_duplicate_rate=0.0)
        receiver.close()


# ---------------------------------------------------------------- auth
def test_auth_rules(emu, site):
    name, key, secret, api = site
    url = emu.site_url(name) + "/wp-json/wc/v3/products"
    # basic auth and query-string keys over plain http are not accepted
    r = requests.get(url, auth=(key, secret), timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_cannot_view"
    r = requests.get(url, params={"consumer_key": key, "consumer_secret": secret}, timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_cannot_view"
    # independent OAuth signer: accepted with both hash algorithms
    assert requests.get(sign_oauth("GET", url, key, secret, {"per_page": "5"}), timeout=5).status_code == 200
    assert requests.get(sign_oauth("GET", url, key, secret, algorithm="HMAC-SHA1"), timeout=5).status_code == 200
    # bad signature
    r = requests.get(sign_oauth("GET", url, key, secret + "x"), timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    # replayed nonce
    signed = sign_oauth("GET", url, key, secret)
    assert requests.get(signed, timeout=5).status_code == 200
    r = requests.get(signed, timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    # stale timestamp (an hour old)
    r = requests.get(sign_oauth("GET", url, key, secret, timestamp=int(time.time()) - 3600), timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    # unknown key
    r = requests.get(sign_oauth("GET", url, "ck_nope", secret), timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    # https: basic auth and query-string keys are accepted, a wrong secret is not
    assert https(emu, name, key, secret, "GET", "products").status_code == 200
    r = requests.get(emu.site_url(name, tls=True) + "/wp-json/wc/v3/products",
                     params={"consumer_key": key, "consumer_secret": secret}, verify=False, timeout=5)
    assert r.status_code == 200
    r = https(emu, name, key, "cs_wrong", "GET", "products")
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    r = https(emu, name, key, secret, "POST", "products", json={"name": "via https"})
    assert r.status_code == 201
    # the woocommerce client over https (basic auth)
    api_tls = API(url=emu.site_url(name, tls=True), consumer_key=key, consumer_secret=secret,
                  version="wc/v3", timeout=10, verify_ssl=emu.tls_cert_path)
    assert api_tls.get("products").status_code == 200
    # read-only key cannot write
    rk, rs = emu.add_key(name, permissions="read")
    assert https(emu, name, rk, rs, "GET", "products").status_code == 200
    r = https(emu, name, rk, rs, "POST", "products", json={"name": "x"})
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    # revoked keys
    emu.revoke_keys(name)
    assert api.get("products").status_code == 401
    assert https(emu, name, key, secret, "GET", "products").status_code == 401


def test_key_authorization_flow(emu, site):
    name, key, secret, api = site
    callback = Receiver(status=200)
    try:
        params = {"app_name": "Seller Mode", "scope": "read_write", "user_id": "42",
                  "return_url": "http://127.0.0.1:9/done", "callback_url": callback.url}
        r = requests.get(emu.site_url(name) + "/wc-auth/v1/authorize", params=params, allow_redirects=False, timeout=10)
        assert r.status_code == 302
        location = urllib.parse.urlsplit(r.headers["Location"])
        assert location.path == "/done"
        assert urllib.parse.parse_qs(location.query) == {"success": ["1"], "user_id": ["42"]}
        calls = callback.wait(1)
        data = json.loads(calls[0]["body"])
        assert set(data) == {"key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions"}
        assert data["user_id"] == "42" and data["key_permissions"] == "read_write"
        assert data["consumer_key"].startswith("ck_") and data["consumer_secret"].startswith("cs_")
        assert https(emu, name, data["consumer_key"], data["consumer_secret"], "GET", "products").status_code == 200

        callback.status = 500
        r = requests.get(emu.site_url(name) + "/wc-auth/v1/authorize", params=params, allow_redirects=False, timeout=10)
        assert r.status_code == 302 and "success=0" in r.headers["Location"]
        failed = json.loads(callback.wait(2)[1]["body"])
        assert https(emu, name, failed["consumer_key"], failed["consumer_secret"], "GET", "products").status_code == 401
        r = requests.get(emu.site_url(name) + "/wc-auth/v1/authorize", params=dict(params, scope="all"), allow_redirects=False, timeout=10)
        assert r.status_code == 400
    finally:
        callback.close()


# ---------------------------------------------------------------- faults and latency
def test_faults(emu, site):
    name, key, secret, api = site
    emu.set_faults(name, throttle_next=1)
    r = api.get("products")
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert api.get("products").status_code == 200
    emu.set_faults(name, error_rate=1.0)
    statuses = {api.get("products").status_code for _ in range(6)}
    assert statuses <= {500, 503} and statuses
    emu.set_faults(name, error_rate=0.0, token_revoked=True)
    r = api.get("products")
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_authentication_error"
    emu.set_faults(name, token_revoked=False, hang_next=1, hang_seconds=0.5)
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("products")
    assert time.monotonic() - t0 >= 0.45
    assert api.get("products").status_code == 200
    emu.set_faults(name, latency_ms=300)
    t0 = time.monotonic()
    api.get("products")
    assert time.monotonic() - t0 >= 0.3


def test_latency_model(emu, site):
    name, key, secret, api = site
    created = api.post("products/batch", {"create": [{"name": "L%d" % i, "manage_stock": True, "stock_quantity": 1} for i in range(100)]}).json()["create"]
    emu.set_faults(name, latency_model=True)
    t0 = time.monotonic()
    r = api.post("products/batch", {"update": [{"id": p["id"], "stock_quantity": 5} for p in created]})
    elapsed = time.monotonic() - t0
    assert r.status_code == 200 and all(u["stock_quantity"] == 5 for u in r.json()["update"])
    assert 1.5 <= elapsed <= 2.5, elapsed
    t0 = time.monotonic()
    api.get("products/%d" % created[0]["id"])
    single = time.monotonic() - t0
    assert 0.035 <= single <= 0.5, single  # ~50 ms
    t0 = time.monotonic()
    assert len(api.get("products", params={"per_page": 100}).json()) == 100
    listing = time.monotonic() - t0
    assert 0.15 <= listing <= 0.8, listing  # ~200 ms


def test_deterministic_keys_and_reset():
    a = WooCommerceEmulator(seed=3, tls=False)
    b = WooCommerceEmulator(seed=3, tls=False)
    c = WooCommerceEmulator(seed=4, tls=False)
    assert a.add_site("x") == b.add_site("x") != c.add_site("x")
    a.start()
    try:
        key, secret = a.add_site("x")
        a.set_faults("x", latency_model=False)
        api = API(url=a.site_url("x"), consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10)
        assert api.post("products", {"name": "one"}).status_code == 201
        a.reset()
        a.set_faults("x", latency_model=False)
        assert api.get("products").json() == []
        assert a.state_snapshot("x")["products"] == []
    finally:
        a.stop()


def test_concurrent_clients(emu, site):
    name, key, secret, api = site
    pid = api.post("products", {"name": "C", "manage_stock": True, "stock_quantity": 100}).json()["id"]
    errors = []

    def buy():
        try:
            emu.place_order(name, [{"product_id": pid, "quantity": 1}])
            client = API(url=emu.site_url(name), consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10)
            assert client.get("products/%d" % pid).status_code == 200
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=buy) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert emu.stock(name, pid) == 80
