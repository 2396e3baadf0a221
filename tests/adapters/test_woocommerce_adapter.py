"""The WooCommerce adapter against the in-process WooCommerce emulator (real HTTP)."""

import base64
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse

import pytest

from tests.receiver import Receiver, receiver  # noqa: F401 (fixture)
import requests
import woocommerce

from emulators.woocommerce import WooCommerceEmulator
from odoo.addons.seller_mode.adapters.base import (
    AuthError,
    ImagePayload,
    PermanentError,
    ProductPayload,
    QtyItem,
    RetryableError,
    ThrottledError,
    Tracking,
    VariantPayload,
)
from odoo.addons.seller_mode.adapters.woocommerce import (
    WooCommerceAdapter,
    authorize_url,
    parse_key_callback,
)

SECRET = "our-webhook-secret"
_names = itertools.count(1)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def emu():
    emulator = WooCommerceEmulator(host="127.0.0.1", port=0, seed=0, tls_port=0).start()
    emulator.requests = []  # (site, method, route, body) of every REST call
    original = emulator.dispatch

    def counting(request):
        parts = request.path.split("/")
        if len(parts) > 3 and parts[1] == "sites" and "/wp-json/wc/v3/" in request.path:
            route = request.path.split("/wp-json/wc/v3/", 1)[1]
            emulator.requests.append((parts[2], request.method, route, request.body))
        return original(request)

    emulator.dispatch = counting
    yield emulator
    emulator.stop()


class Site:
    def __init__(self, emu, name, key, secret):
        self.emu, self.name, self.key, self.secret = emu, name, key, secret
        self.url = emu.site_url(name)

    def adapter(self, timeout=5.0, **extra):
        creds = {"consumer_key": self.key, "consumer_secret": self.secret, "webhook_secret": SECRET}
        creds.update(extra)
        adapter = WooCommerceAdapter(self.url, creds, timeout=timeout)
        adapter.backoff = 0.05
        return adapter

    def rest(self):
        """The retailer's own REST client."""
        return woocommerce.API(url=self.url, consumer_key=self.key, consumer_secret=self.secret, version="wc/v3", timeout=10)

    def state(self):
        return self.emu.state_snapshot(self.name)

    def calls(self, since=0):
        return [r for r in self.emu.requests[since:] if r[0] == self.name]

    def mark(self):
        return len(self.emu.requests)


@pytest.fixture
def site(emu):
    name = "w%d" % next(_names)
    key, secret = emu.add_site(name)
    emu.set_faults(name, latency_model=False)
    return Site(emu, name, key, secret)




# ---------------------------------------------------------------- payloads
def simple(key, sku, price="10.00", qty=5, title=None, **kw):
    return ProductPayload(
        key=key, sku=sku, title=title or "Product %s" % key,
        variants=[VariantPayload(key="v" + key, sku=sku, options=[], price=price, quantity=qty,
                                 compare_at_price=kw.pop("compare_at_price", None), weight=kw.pop("weight", 0.0))],
        **kw)


def variable(key, sku, sizes=("S", "M"), price="20.00", qty=3, **kw):
    return ProductPayload(
        key=key, sku=sku, title=kw.pop("title", "Tee %s" % key), options=["Size", "Color"],
        variants=[VariantPayload(key="%s-%s" % (key, s), sku="%s-%s" % (sku, s), options=[s, "Red"], price=price, quantity=qty)
                  for s in sizes],
        **kw)


def product_by_id(state, pid):
    return next(p for p in state["products"] if p["id"] == int(pid))


def variation_by_id(state, vid):
    return next(v for v in state["variations"] if v["id"] == int(vid))


def meta(record):
    return {m["key"]: m["value"] for m in record["meta_data"]}


# ---------------------------------------------------------------- connection
def test_verify_and_setup_idempotent(site, receiver):
    adapter = site.adapter()
    info = adapter.verify()
    assert info["name"] == site.name
    topics = ["order.created", "order.updated", "product.updated"]
    first = adapter.setup(receiver.base, topics)
    assert first["location_id"] is None and len(first["webhook_ids"]) == 3
    hooks = site.state()["webhooks"]
    assert sorted(h["topic"] for h in hooks) == sorted(topics)
    assert {h["delivery_url"] for h in hooks} == {receiver.base + "/seller_mode/webhook/woocommerce"}
    assert {h["secret"] for h in hooks} == {SECRET}
    second = adapter.setup(receiver.base, topics)
    assert sorted(second["webhook_ids"]) == sorted(first["webhook_ids"])
    assert len(site.state()["webhooks"]) == 3
    # a webhook WooCommerce disabled comes back
    site.rest().put("webhooks/%s" % first["webhook_ids"][0], {"status": "disabled"})
    adapter.setup(receiver.base, topics)
    assert {h["status"] for h in site.state()["webhooks"]} == {"active"}
    # a foreign webhook is left alone by teardown
    site.rest().post("webhooks", {"topic": "order.created", "delivery_url": "http://127.0.0.1:9/other"})
    adapter.teardown()
    assert [h["delivery_url"] for h in site.state()["webhooks"]] == ["http://127.0.0.1:9/other"]


def test_https_basic_auth_with_ca_file(emu, site):
    adapter = WooCommerceAdapter(emu.site_url(site.name, tls=True), {
        "consumer_key": site.key, "consumer_secret": site.secret, "verify_ssl": emu.tls_cert_path}, timeout=5)
    assert adapter.verify()["name"] == site.name


def test_bad_credentials_and_revoked_key_are_auth_errors(site):
    bad = WooCommerceAdapter(site.url, {"consumer_key": site.key, "consumer_secret": "cs_wrong"}, timeout=5)
    with pytest.raises(AuthError):
        bad.verify()
    adapter = site.adapter()
    adapter.verify()
    site.emu.revoke_keys(site.name)
    with pytest.raises(AuthError):
        adapter.read_quantities(["12"])


def test_5xx_throttle_and_hang_are_retried_then_retryable(site):
    adapter = site.adapter(timeout=0.4)
    site.emu.set_faults(site.name, error_rate=1.0)
    mark = site.mark()
    with pytest.raises(RetryableError) as caught:
        adapter.read_quantities(["12"])
    assert not isinstance(caught.value, ThrottledError)  # a fault spends a job's retries
    assert len(site.calls(mark)) == adapter.max_attempts == 3
    site.emu.set_faults(site.name, error_rate=0.0, throttle_next=1)
    started = time.monotonic()
    assert adapter.read_quantities(["999"]) == {}  # 429, waits Retry-After (2 s), then succeeds
    assert time.monotonic() - started >= 1.9
    site.emu.set_faults(site.name, hang_next=3, hang_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(RetryableError) as caught:
        adapter.read_quantities(["12"])
    assert caught.value.wait > 0
    assert time.monotonic() - started < 5
    site.emu.set_faults(site.name, hang_next=0, throttle_next=5)
    adapter.max_sleep = 1.0  # Retry-After (2 s) longer than it may sleep: at once, a rate limit
    with pytest.raises(ThrottledError) as caught:
        adapter.read_quantities(["12"])
    assert caught.value.wait >= 2.0
    site.emu.set_faults(site.name, throttle_next=0)


# ---------------------------------------------------------------- catalog
def test_push_simple_and_variable_create_then_update(site):
    adapter = site.adapter()
    payloads = [
        simple("1", "S-1", price="9.50", qty=7, compare_at_price="12.00", weight=0.25, product_type="Mugs",
               metafields={"origin": "FR"}, images=[ImagePayload("http://img.example/a.jpg", "front")]),
        variable("2", "T-2", sizes=("S", "M", "L"), qty=4, product_type="Mugs", tags=["cotton"]),
    ]
    first = adapter.push_products(payloads)
    assert [r.error for r in first] == [None, None] and all(r.created for r in first)
    state = site.state()
    assert len(state["products"]) == 2 and len(state["variations"]) == 3
    mug = product_by_id(state, first[0].remote_id)
    assert mug["type"] == "simple" and mug["sku"] == "S-1" and mug["manage_stock"] is True
    assert (mug["regular_price"], mug["sale_price"], mug["stock_quantity"], mug["weight"]) == ("12.00", "9.50", 7, "0.25")
    assert meta(mug)["_seller_mode_key"] == "1" and meta(mug)["seller_mode_origin"] == "FR"
    assert [c["name"] for c in mug["categories"]] == ["Mugs"]
    assert [i["src"] for i in mug["images"]] == ["http://img.example/a.jpg"]
    tee = product_by_id(state, first[1].remote_id)
    assert tee["type"] == "variable" and tee["sku"] == "T-2" and tee["manage_stock"] is False
    assert tee["attributes"][0]["name"] == "Size" and tee["attributes"][0]["options"] == ["S", "M", "L"]
    assert tee["attributes"][0]["variation"] is True and [t["name"] for t in tee["tags"]] == ["cotton"]
    assert len(state["categories"]) == 2  # Uncategorized + Mugs, created once
    variations = [v for v in state["variations"] if v["parent_id"] == tee["id"]]
    assert sorted(v["sku"] for v in variations) == ["T-2-L", "T-2-M", "T-2-S"]
    assert all(v["manage_stock"] and v["stock_quantity"] == 4 and v["regular_price"] == "20.00" for v in variations)
    small = next(v for v in variations if v["sku"] == "T-2-S")
    assert first[1].variants["2-S"].remote_variant_id == str(small["id"])
    assert first[1].variants["2-S"].remote_inventory_item_id == "%d/%d" % (tee["id"], small["id"])
    assert first[0].variants["v1"].remote_inventory_item_id == str(mug["id"])

    # update: new prices, a quantity that must not be written, one size dropped
    again = [
        simple("1", "S-1", price="11.00", qty=99, product_type="Mugs", remote_id=first[0].remote_id,
               images=[ImagePayload("http://img.example/a.jpg", "front")]),
        variable("2", "T-2", sizes=("S", "M"), price="21.00", qty=99, remote_id=first[1].remote_id, product_type="Mugs"),
    ]
    for variant in again[1].variants:
        variant.remote_variant_id = first[1].variants[variant.key].remote_variant_id
    second = adapter.push_products(again)
    assert [r.error for r in second] == [None, None] and not any(r.created for r in second)
    assert [r.remote_id for r in second] == [r.remote_id for r in first]
    assert second[1].variants["2-S"].remote_variant_id == first[1].variants["2-S"].remote_variant_id
    state = site.state()
    mug = product_by_id(state, first[0].remote_id)
    assert (mug["regular_price"], mug["sale_price"], mug["stock_quantity"]) == ("11.00", "", 7)
    assert len(mug["images"]) == 1 and mug["images"][0]["id"] == product_by_id(state, first[0].remote_id)["images"][0]["id"]
    assert sorted(v["sku"] for v in state["variations"]) == ["T-2-M", "T-2-S"]  # L deleted
    assert {v["stock_quantity"] for v in state["variations"]} == {4}
    assert {v["regular_price"] for v in state["variations"]} == {"21.00"}
    assert len(state["products"]) == 2


def test_image_sent_once(site):
    adapter = site.adapter()
    payload = simple("1", "IMG-1", images=[ImagePayload("http://img.example/a.jpg")])
    first = adapter.push_products([payload])[0]
    image_id = product_by_id(site.state(), first.remote_id)["images"][0]["id"]
    payload.remote_id = first.remote_id
    payload.images.append(ImagePayload("http://img.example/b.jpg"))
    adapter.push_products([payload])
    images = product_by_id(site.state(), first.remote_id)["images"]
    assert images[0]["id"] == image_id and images[1]["src"] == "http://img.example/b.jpg"


def test_rerun_with_remote_ids_lost_creates_no_duplicate(site):
    adapter = site.adapter()
    payloads = [simple("1", "A/1"), variable("2", "B/2")]
    first = adapter.push_products(payloads)
    # same payloads, no remote ids (a push that died before storing them)
    second = site.adapter().push_products([simple("1", "A/1", price="3.00"), variable("2", "B/2", price="4.00")])
    assert [r.error for r in second] == [None, None]
    assert [r.remote_id for r in second] == [r.remote_id for r in first]
    assert second[1].variants["2-S"].remote_variant_id == first[1].variants["2-S"].remote_variant_id
    state = site.state()
    assert len(state["products"]) == 2 and len(state["variations"]) == 2
    assert product_by_id(state, first[0].remote_id)["regular_price"] == "3.00"
    assert {v["regular_price"] for v in state["variations"]} == {"4.00"}


def test_remote_id_of_a_deleted_product_falls_back_to_sku_then_create(site):
    adapter = site.adapter()
    first = adapter.push_products([simple("1", "GONE-1")])[0]
    site.rest().delete("products/%s" % first.remote_id, params={"force": "true"})
    again = adapter.push_products([simple("1", "GONE-1", remote_id=first.remote_id)])[0]
    assert again.error is None and again.created and again.remote_id != first.remote_id
    assert len(site.state()["products"]) == 1


def test_include_content_false_keeps_retailer_name(site):
    adapter = site.adapter()
    first = adapter.push_products([simple("1", "C-1", title="Our name", price="10.00")])[0]
    answer = site.rest().put("products/%s" % first.remote_id, {"name": "Retailer name", "description": "Theirs"})
    assert answer.status_code == 200
    mark = site.mark()
    update = simple("1", "C-1", title="Our new name", price="15.00", remote_id=first.remote_id, include_content=False,
                    images=[ImagePayload("http://img.example/x.jpg")], tags=["x"], product_type="Other")
    result = adapter.push_products([update])[0]
    assert result.error is None
    product = product_by_id(site.state(), first.remote_id)
    assert product["name"] == "Retailer name" and product["description"] == "Theirs"
    assert product["regular_price"] == "15.00" and product["images"] == [] and product["tags"] == []
    batch = [json.loads(c[3]) for c in site.calls(mark) if c[2] == "products/batch"]
    sent = batch[0]["update"][0]
    assert not {"name", "description", "images", "tags", "categories"} & set(sent)


def test_sku_digits_accents_commas_quotes(site):
    adapter = site.adapter()
    title = 'Crème brûlée, "l\'été" — 5½'
    result = adapter.push_products([simple("1", "123456789012", title=title, product_type="Épicerie, fine",
                                           metafields={"note": 'a, "b" é'})])[0]
    product = product_by_id(site.state(), result.remote_id)
    assert product["sku"] == "123456789012" and isinstance(product["sku"], str)
    assert product["name"] == title
    assert [c["name"] for c in product["categories"]] == ["Épicerie, fine"]
    assert meta(product)["seller_mode_note"] == 'a, "b" é'
    batch = next(json.loads(c[3]) for c in site.calls() if c[2] == "products/batch")
    assert batch["create"][0]["sku"] == "123456789012"
    # a SKU with a comma cannot go in ?sku= (comma-separated): still found again
    first = adapter.push_products([simple("2", "X,1")])[0]
    again = site.adapter().push_products([simple("2", "X,1")])[0]
    assert again.remote_id == first.remote_id and len(site.state()["products"]) == 2


def test_large_push_is_split_in_batches_of_100(site):
    adapter = site.adapter()
    payloads = [simple(str(n), "BULK-%03d" % n, price="1.%02d" % (n % 100)) for n in range(250)]
    mark = site.mark()
    results = adapter.push_products(payloads)
    assert all(r.error is None and r.created for r in results)
    assert len({r.remote_id for r in results}) == 250
    calls = site.calls(mark)
    batches = [json.loads(c[3]) for c in calls if c[1] == "POST" and c[2] == "products/batch"]
    sizes = [sum(len(b.get(k, [])) for k in ("create", "update", "delete")) for b in batches]
    assert sizes == [100, 100, 50]
    assert len(calls) <= 3 + 5  # 3 batches + the SKU lookups
    assert len(site.state()["products"]) == 250
    # the update push: one read per 100 products + 3 batches
    for payload, result in zip(payloads, results):
        payload.remote_id = result.remote_id
        payload.include_content = False
    mark = site.mark()
    again = adapter.push_products(payloads)
    assert all(r.error is None and not r.created for r in again)
    assert len(site.calls(mark)) == 6


def test_per_item_error_mapped_to_its_payload(site):
    adapter = site.adapter()
    good = simple("1", "OK-1")
    bad = simple("2", "BAD-2", images=[ImagePayload("not-a-url")])
    good2 = variable("3", "OK-3")
    results = adapter.push_products([good, bad, good2])
    assert results[0].error is None and results[0].remote_id
    assert results[2].error is None and len(results[2].variants) == 2
    assert results[1].remote_id is None and "Error getting remote image" in results[1].error
    assert sorted(p["sku"] for p in site.state()["products"]) == ["OK-1", "OK-3"]


def test_variation_sku_taken_by_another_product_is_a_variant_error(site):
    adapter = site.adapter()
    site.rest().post("products", {"name": "theirs", "sku": "TAKEN-M"})
    result = adapter.push_products([variable("1", "TAKEN", sizes=("S", "M"))])[0]
    assert result.remote_id and "1-S" in result.variants and "1-M" not in result.variants
    assert "TAKEN-M" in result.error and "duplicated SKU" in result.error


def test_unpublish_draft_and_delete(site):
    adapter = site.adapter()
    a, b = adapter.push_products([simple("1", "U-1"), simple("2", "U-2")])
    assert adapter.unpublish([a.remote_id]) == {a.remote_id: None}
    assert product_by_id(site.state(), a.remote_id)["status"] == "draft"
    assert adapter.unpublish([b.remote_id], delete=True) == {b.remote_id: None}
    assert [p["id"] for p in site.state()["products"]] == [int(a.remote_id)]


def test_prices_read_set_and_webhook_prices(site):
    adapter = site.adapter()
    a, t = adapter.push_products([simple("1", "P-1", price="5.00"), variable("2", "P-2", price="7.00")])
    ref_v = t.variants["2-S"].remote_inventory_item_id
    assert adapter.read_prices([a.remote_id, ref_v]) == {a.remote_id: "5.00", ref_v: "7.00"}
    assert adapter.set_prices({a.remote_id: "6.50", ref_v: "8.25"}) == {a.remote_id: None, ref_v: None}
    state = site.state()
    assert product_by_id(state, a.remote_id)["regular_price"] == "6.50"
    assert variation_by_id(state, t.variants["2-S"].remote_variant_id)["regular_price"] == "8.25"
    pid, vid = ref_v.split("/")
    payload = site.emu.get_product(site.name, int(vid))
    assert adapter.webhook_prices(payload) == {ref_v: "8.25"}
    assert adapter.webhook_prices(site.emu.get_product(site.name, int(a.remote_id))) == {a.remote_id: "6.50"}


# ---------------------------------------------------------------- stock
def test_set_quantities_with_stale_detection(site):
    adapter = site.adapter()
    a, t = adapter.push_products([simple("1", "Q-1", qty=5), variable("2", "Q-2", qty=3)])
    ref_a = a.remote_id
    ref_s = t.variants["2-S"].remote_inventory_item_id
    ref_m = t.variants["2-M"].remote_inventory_item_id
    # a sale in the store first: Q-1 5 -> 3
    site.emu.place_order(site.name, [{"product_id": int(ref_a), "quantity": 2}])
    assert site.emu.stock(site.name, int(ref_a)) == 3
    mark = site.mark()
    results = adapter.set_quantities([
        QtyItem(ref_a, 10, expected_previous=5),
        QtyItem(ref_s, 7, expected_previous=3),
        QtyItem(ref_m, 8),
    ])
    assert results[0].stale and not results[0].ok and results[0].store_value == 3
    assert results[1].ok and results[1].value == 7 and not results[1].stale
    assert results[2].ok and results[2].value == 8
    assert site.emu.stock(site.name, int(ref_a)) == 3  # not written
    assert site.emu.stock(site.name, int(ref_s.split("/")[1])) == 7
    assert site.emu.stock(site.name, int(ref_m.split("/")[1])) == 8
    calls = site.calls(mark)
    # read the simple product, read the parent's variations, one variations batch
    assert len(calls) == 3
    assert adapter.read_quantities([ref_a, ref_s, ref_m, "999999"]) == {ref_a: 3, ref_s: 7, ref_m: 8}


def test_set_quantities_many_variations_one_batch_per_parent(site):
    adapter = site.adapter()
    products = adapter.push_products([variable(str(n), "MV-%d" % n, sizes=("S", "M", "L")) for n in range(3)])
    items = [QtyItem(rv.remote_inventory_item_id, 11) for r in products for rv in r.variants.values()]
    mark = site.mark()
    results = adapter.set_quantities(items)
    assert all(r.ok and r.value == 11 for r in results)
    assert len(site.calls(mark)) == 3  # no read (nothing to compare), a batch per parent
    assert {v["stock_quantity"] for v in site.state()["variations"]} == {11}


# ---------------------------------------------------------------- orders
SHIP = {"first_name": "Zoé", "last_name": "Martin", "address_1": "1 rue de l'Église", "city": "Lyon",
        "postcode": "69001", "country": "FR", "company": ""}


def test_fetch_orders_mapping_and_status(site):
    adapter = site.adapter()
    a, t = adapter.push_products([simple("1", "O-1", price="10.00"), variable("2", "O-2", price="4.00")])
    foreign = site.rest().post("products", {"name": "Theirs", "sku": "THEIRS", "regular_price": "3.00"}).json()
    vid = int(t.variants["2-M"].remote_variant_id)
    order = site.emu.place_order(site.name, [
        {"product_id": int(a.remote_id), "quantity": 2},
        {"variation_id": vid, "product_id": int(t.remote_id), "quantity": 1},
        {"product_id": foreign["id"], "quantity": 3},
    ], shipping=SHIP, billing={"email": "zoe@example.com", "phone": "+33 1"})
    orders, cursor = adapter.fetch_orders(None)
    assert [o.remote_id for o in orders] == [str(order["id"])]
    got = orders[0]
    assert got.status == "requested" and got.name == "#%s" % order["number"]
    assert got.email == "zoe@example.com" and got.currency == "USD"
    assert (got.shipping_address.name, got.shipping_address.street, got.shipping_address.country_code) == (
        "Zoé Martin", "1 rue de l'Église", "FR")
    lines = {line.sku: line for line in got.lines}
    assert sorted(lines) == ["O-1", "O-2-M", "THEIRS"]
    assert lines["O-1"].quantity == 2 and lines["O-1"].price == "10.00"
    assert lines["O-2-M"].remote_variant_id == str(vid) and lines["O-2-M"].remote_product_id == t.remote_id
    assert lines["THEIRS"].quantity == 3
    assert {line.remote_line_id for line in got.lines} == {str(i["id"]) for i in order["line_items"]}
    assert cursor
    on_hold = site.emu.place_order(site.name, [{"product_id": int(a.remote_id), "quantity": 1}], status="on-hold")
    site.rest().put("orders/%d" % order["id"], {"status": "cancelled"})
    orders, _ = adapter.fetch_orders("2000-01-01T00:00:00Z")
    status = {o.remote_id: o.status for o in orders}
    assert status == {str(order["id"]): "cancelled", str(on_hold["id"]): "other"}
    assert adapter.fetch_order(order["id"]).status == "cancelled"
    assert adapter.fetch_order("999999") is None


def test_fetch_orders_paginates_and_cursor(site):
    adapter = site.adapter()
    product = adapter.push_products([simple("1", "PG-1", qty=1000)])[0]
    placed = [site.emu.place_order(site.name, [{"product_id": int(product.remote_id), "quantity": 1}])["id"] for _ in range(130)]
    mark = site.mark()
    orders, _ = adapter.fetch_orders("2000-01-01T00:00:00Z")
    assert sorted(int(o.remote_id) for o in orders) == sorted(placed)
    assert len([c for c in site.calls(mark) if c[2] == "orders"]) >= 2
    time.sleep(2.2)  # the newest change is now 2 s old: the cursor need not hold back
    orders, cursor = adapter.fetch_orders("2000-01-01T00:00:00Z")
    assert len(orders) == 130
    newer = site.emu.place_order(site.name, [{"product_id": int(product.remote_id), "quantity": 1}])
    orders, cursor2 = adapter.fetch_orders(cursor)
    assert [o.remote_id for o in orders] == [str(newer["id"])]
    assert cursor2 >= cursor


def test_fulfil_complete_cancel_accept_reject(site):
    adapter = site.adapter()
    product = adapter.push_products([simple("1", "F-1", qty=50)])[0]
    placed = [site.emu.place_order(site.name, [{"product_id": int(product.remote_id), "quantity": 1}], shipping=SHIP)
              for _ in range(3)]
    orders = {o.remote_id: o for o in adapter.fetch_orders(None)[0]}
    first = orders[str(placed[0]["id"])]
    adapter.accept(first)
    adapter.fulfil(first, [(first.lines[0].remote_line_id, 1)],
                   Tracking(company="Colissimo", number="6A123", url="https://track.example/6A123"))
    notes = site.state()["notes"][str(placed[0]["id"])]
    customer = [n for n in notes if n["customer_note"]]
    assert len(customer) == 1
    assert "Colissimo" in customer[0]["note"] and "6A123" in customer[0]["note"] and "https://track.example/6A123" in customer[0]["note"]
    assert any(n["note"] == "Accepted by supplier" and not n["customer_note"] for n in notes)
    assert site.emu.get_order(site.name, placed[0]["id"])["status"] == "processing"
    adapter.complete(first)
    assert site.emu.get_order(site.name, placed[0]["id"])["status"] == "completed"
    adapter.cancel(orders[str(placed[1]["id"])], "out of stock")
    assert site.emu.get_order(site.name, placed[1]["id"])["status"] == "cancelled"
    assert any("out of stock" in n["note"] for n in site.state()["notes"][str(placed[1]["id"])])
    adapter.reject(str(placed[2]["id"]), "cannot ship there")
    assert site.emu.get_order(site.name, placed[2]["id"])["status"] == "on-hold"
    adapter.answer_cancellation(str(placed[2]["id"]), True, "ok")
    assert any(n["note"].startswith("Cancellation accepted") for n in site.state()["notes"][str(placed[2]["id"])])


# ---------------------------------------------------------------- webhooks
def test_webhooks_end_to_end(site, receiver):
    adapter = site.adapter()
    site.emu.set_webhook_delay(site.name, 0)
    adapter.setup(receiver.base, ["order.created", "order.updated", "product.updated"])
    pings = receiver.wait(predicate=lambda r: r["body"].startswith(b"webhook_id="))
    assert len(pings) == 3
    ping = pings[0]
    assert adapter.verify_webhook(ping["headers"], ping["body"]) is False
    assert adapter.parse_webhook(ping["headers"], ping["body"]).topic == "ping"

    product = adapter.push_products([simple("1", "WH-1", qty=5)])[0]
    order = site.emu.place_order(site.name, [{"product_id": int(product.remote_id), "quantity": 1}])
    got = receiver.wait(predicate=lambda r: r["headers"].get("X-WC-Webhook-Topic") == "order.created")
    assert got, "no order.created delivery"
    headers, body = got[0]["headers"], got[0]["body"]
    assert adapter.verify_webhook(headers, body) is True
    lower = {k.lower(): v for k, v in headers.items()}
    assert adapter.verify_webhook(lower, body) is True
    event = adapter.parse_webhook(lower, body)
    assert (event.topic, event.remote_id) == ("order", str(order["id"]))
    assert event.delivery_id == headers["X-WC-Webhook-Delivery-ID"]
    forged = body.replace(b'"processing"', b'"completed"')
    assert forged != body and adapter.verify_webhook(headers, forged) is False
    wrong = dict(headers, **{"X-WC-Webhook-Signature": base64.b64encode(
        hmac.new(b"not-our-secret", body, hashlib.sha256).digest()).decode()})
    assert adapter.verify_webhook(wrong, body) is False

    site.rest().put("orders/%d" % order["id"], {"status": "cancelled"})
    got = receiver.wait(predicate=lambda r: r["headers"].get("X-WC-Webhook-Topic") == "order.updated"
                            and b'"cancelled"' in r["body"])
    assert got
    event = adapter.parse_webhook(got[0]["headers"], got[0]["body"])
    assert (event.topic, event.remote_id) == ("order_cancelled", str(order["id"]))
    updates = receiver.wait(predicate=lambda r: r["headers"].get("X-WC-Webhook-Topic") == "product.updated")
    assert updates and adapter.parse_webhook(updates[0]["headers"], updates[0]["body"]).topic == "product_updated"
    with pytest.raises(PermanentError):
        adapter.parse_webhook({"X-WC-Webhook-Topic": "order.created"}, b"{not json")


# ---------------------------------------------------------------- key authorization
def test_key_authorization_flow(site, receiver):
    url = authorize_url(site.url, "Seller Mode", 42, receiver.base + "/return", receiver.base + "/callback")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["scope"] == ["read_write"] and query["user_id"] == ["42"]
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "success=1" in answer.headers["Location"]
    callback = receiver.matching(lambda r: r["path"] == "/callback")
    assert len(callback) == 1
    keys = parse_key_callback(callback[0]["body"])
    assert keys["user_id"] == "42" and keys["key_permissions"] == "read_write"
    assert keys["consumer_key"] != site.key
    adapter = WooCommerceAdapter(site.url, {"consumer_key": keys["consumer_key"], "consumer_secret": keys["consumer_secret"]})
    assert adapter.verify()["name"] == site.name
    for body in (b"", b"[]", b"{not json", json.dumps({"key_id": 1}).encode(),
                 json.dumps({"key_id": 1, "user_id": 1, "consumer_key": "x", "consumer_secret": "y",
                             "key_permissions": "read"}).encode()):
        with pytest.raises(PermanentError):
            parse_key_callback(body)
    with pytest.raises(ValueError):
        authorize_url(site.url, "x", 1, "ftp://r", receiver.base, scope="all")
