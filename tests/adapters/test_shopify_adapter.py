"""The Shopify adapter against the Shopify emulator, over real HTTP.

Expected values come from the emulator (its state, its log, GraphQL reads
made here as a retailer or a customer would), never from the adapter's own
answers."""

import threading
import time
import urllib.parse

import pytest

from tests.receiver import Receiver, receiver  # noqa: F401 (fixture)
from tests.shopify_shop import KEY, SECRET, new_shop, running_emulator
import requests

from odoo.addons.seller_mode.adapters import get_adapter
from odoo.addons.seller_mode.adapters import shopify as shopify_mod
from odoo.addons.seller_mode.adapters.base import (
    AuthError, ImagePayload, OrderPayload, PermanentError, ProductPayload, QtyItem, RetryableError, ThrottledError, Tracking,
    VariantPayload,
)
from odoo.addons.seller_mode.adapters.shopify import ShopifyAdapter

TOPICS = ["ORDERS_CREATE", "ORDERS_CANCELLED", "PRODUCTS_UPDATE", "APP_UNINSTALLED",
          "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED"]


@pytest.fixture(scope="module")
def emu():
    yield from running_emulator(seed=11, round_trip_ms=0)


def adapter(emu, name, token, timeout=5.0, **creds):
    c = {"access_token": token, "api_key": KEY, "api_secret": SECRET}
    c.update(creds)
    return ShopifyAdapter(emu.shop_url(name), c, timeout=timeout)


def ready(emu, name, callback="http://127.0.0.1:9/cb", topics=(), plan="enterprise", **kw):
    """A shop with our fulfillment service set up: (token, adapter)."""
    token = new_shop(emu, name, plan=plan, **kw)
    ad = adapter(emu, name, token)
    info = ad.setup(callback, list(topics))
    ad.credentials["location_id"] = info["location_id"]
    return token, ad


def gql(emu, name, token, query, variables=None):
    r = requests.post(emu.graphql_url(name), json={"query": query, "variables": variables or {}},
                      headers={"X-Shopify-Access-Token": token}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def products_in_shop(emu, name):
    return emu.state_snapshot(name)["products"]


READ_PRODUCT = """query($id: ID!) { product(id: $id) { id title status handle
  media(first: 10) { nodes { id ... on MediaImage { originalSource { url } } } }
  metafields(first: 10) { nodes { namespace key value } }
  variants(first: 50) { nodes { id sku price compareAtPrice barcode selectedOptions { name value }
    inventoryItem { id tracked unitCost { amount } measurement { weight { value unit } } } } } } }"""


def shirt(key, sku, sizes=("S", "M"), price="10.00", qty=5, **kw):
    variants = [VariantPayload(key="%s-%s" % (key, s), sku="%s-%s" % (sku, s), options=[s], price=price, quantity=qty,
                               cost="4.20", weight=0.25) for s in sizes]
    data = dict(key=key, sku=sku, options=["Size"], variants=variants, title="Shirt %s" % key,
                images=[ImagePayload(url="https://img.example/%s.jpg" % key)])
    data.update(kw)
    return ProductPayload(**data)


# ---------------------------------------------------------------- connection
def test_verify_setup_idempotent_and_teardown(emu):
    token = new_shop(emu, "conn", plan="advanced")
    ad = get_adapter("shopify", emu.shop_url("conn"), {"access_token": token, "api_secret": SECRET}, timeout=5)
    assert isinstance(ad, ShopifyAdapter) and ad.platform == "shopify"
    info = ad.verify()
    assert info["domain"] == emu.domain("conn") and info["name"] == "conn"
    assert info["currency"] == "USD" and info["plan"] == "Advanced"
    first = ad.setup("https://odoo.example", TOPICS)
    second = ad.setup("https://odoo.example/", TOPICS)
    snap = emu.state_snapshot("conn")
    assert len(snap["fulfillmentServices"]) == 1
    assert first["location_id"] == second["location_id"] == emu.fulfillment_service_location_id("conn")
    hooks = gql(emu, "conn", token, "{ webhookSubscriptions(first: 50) { nodes { id topic uri } } }")["webhookSubscriptions"]["nodes"]
    assert sorted(h["topic"] for h in hooks) == sorted(TOPICS)
    assert {h["uri"] for h in hooks} == {"https://odoo.example/seller_mode/webhook/shopify"}
    assert sorted(first["webhook_ids"]) == sorted(second["webhook_ids"]) == sorted(h["id"] for h in hooks)
    assert len(emu.log.rows(tenant="conn", kind="webhook_subscription_create")) == len(TOPICS)
    created = emu.log.rows(tenant="conn", kind="fulfillment_service_create")
    assert len(created) == 1 and created[0]["value"]["callbackUrl"] == "https://odoo.example/seller_mode/shopify/fulfillment"
    ad.teardown()
    assert gql(emu, "conn", token, "{ webhookSubscriptions(first: 50) { nodes { id } } }")["webhookSubscriptions"]["nodes"] == []
    assert "token" not in repr(ad) and token not in repr(ad)


def test_bad_token_is_auth_error(emu):
    new_shop(emu, "auth")
    with pytest.raises(AuthError):
        adapter(emu, "auth", "shpat_wrong").verify()


# ---------------------------------------------------------------- catalog
def test_push_create_update_and_rerun_without_remote_ids(emu):
    token, ad = ready(emu, "cat")
    loc = ad.credentials["location_id"]
    p = shirt("7", "TEE", title='Tée "Été", rouge, 100% coton', sizes=("S", "M"))
    p.variants[0].sku = "123456789012"
    p.variants[0].barcode = "0012345678905"
    p.variants[1].compare_at_price = "15.00"
    p.metafields = {"origin": "Fabriqué à Lyon, \"atelier\""}
    [res] = ad.push_products([p])
    assert res.error is None and res.created
    shop = products_in_shop(emu, "cat")
    assert len(shop) == 1
    prod = gql(emu, "cat", token, READ_PRODUCT, {"id": shop[0]["id"]})["product"]
    assert res.remote_id == prod["id"]
    assert prod["title"] == 'Tée "Été", rouge, 100% coton' and prod["status"] == "ACTIVE"
    assert [m["originalSource"]["url"] for m in prod["media"]["nodes"]] == ["https://img.example/7.jpg"]
    mf = {(m["namespace"], m["key"]): m["value"] for m in prod["metafields"]["nodes"]}
    assert mf[("seller_mode", "origin")] == 'Fabriqué à Lyon, "atelier"'
    by_size = {v["selectedOptions"][0]["value"]: v for v in prod["variants"]["nodes"]}
    s = by_size["S"]
    assert s["sku"] == "123456789012" and isinstance(s["sku"], str) and s["barcode"] == "0012345678905"
    assert s["price"] == "10.00" and by_size["M"]["compareAtPrice"] == "15.00"
    assert s["inventoryItem"]["tracked"] is True and s["inventoryItem"]["unitCost"]["amount"] in ("4.2", "4.20")
    assert s["inventoryItem"]["measurement"]["weight"] == {"value": 0.25, "unit": "KILOGRAMS"}
    # stocked at our location only, with the initial quantity
    assert emu.available("cat", s["inventoryItem"]["id"], loc) == 5
    with pytest.raises(KeyError):
        emu.available("cat", s["inventoryItem"]["id"], emu.default_location_id("cat"))
    assert res.variants["7-S"].remote_variant_id == s["id"]
    assert res.variants["7-S"].remote_inventory_item_id == s["inventoryItem"]["id"]
    assert res.variants["7-M"].remote_variant_id == by_size["M"]["id"]

    # a push that died half-way: the remote ids were never stored -> still one product, same variants
    p.variants[0].price = "12.50"
    p.variants[0].quantity = 99  # creation only: must not reset the stock
    again = ad.push_products([p])[0]
    assert again.error is None and not again.created
    assert len(products_in_shop(emu, "cat")) == 1
    prod2 = gql(emu, "cat", token, READ_PRODUCT, {"id": prod["id"]})["product"]
    ids2 = {v["selectedOptions"][0]["value"]: v["id"] for v in prod2["variants"]["nodes"]}
    assert ids2 == {k: v["id"] for k, v in by_size.items()}
    assert {v["sku"]: v["price"] for v in prod2["variants"]["nodes"]}["123456789012"] == "12.50"
    assert emu.available("cat", s["inventoryItem"]["id"], loc) == 5
    # the retailer changed the handle: found again by SKU + our key metafield
    gql(emu, "cat", token, "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }",
        {"p": {"id": prod["id"], "handle": "my-own-handle"}})
    third = ad.push_products([p])[0]
    assert third.error is None and third.remote_id == prod["id"] and len(products_in_shop(emu, "cat")) == 1
    # update by remote id, a variant added and one removed
    p.remote_id = prod["id"]
    p.variants = [p.variants[1], VariantPayload(key="7-L", sku="TEE-L", options=["L"], price="11.00", quantity=3)]
    upd = ad.push_products([p])[0]
    prod3 = gql(emu, "cat", token, READ_PRODUCT, {"id": prod["id"]})["product"]
    assert sorted(v["sku"] for v in prod3["variants"]["nodes"]) == ["TEE-L", "TEE-M"]
    new_l = next(v for v in prod3["variants"]["nodes"] if v["sku"] == "TEE-L")
    assert emu.available("cat", new_l["inventoryItem"]["id"], loc) == 3
    assert upd.variants["7-L"].remote_inventory_item_id == new_l["inventoryItem"]["id"]


def test_include_content_false_keeps_retailer_content(emu):
    token, ad = ready(emu, "content")
    p = shirt("1", "KEEP", tags=["summer"])
    res = ad.push_products([p])[0]
    pid = res.remote_id
    gql(emu, "content", token, "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }",
        {"p": {"id": pid, "title": "Retailer's own title", "metafields": [
            {"namespace": "custom", "key": "seo", "value": "kept", "type": "single_line_text_field"}]}})
    p.remote_id = pid
    p.include_content = False
    p.title = "Our new title"
    p.images = [ImagePayload(url="https://img.example/other.jpg")]
    for v in p.variants:
        v.price = "19.99"
    out = ad.push_products([p])[0]
    assert out.error is None
    prod = gql(emu, "content", token, READ_PRODUCT, {"id": pid})["product"]
    assert prod["title"] == "Retailer's own title"
    assert [m["originalSource"]["url"] for m in prod["media"]["nodes"]] == ["https://img.example/1.jpg"]
    assert {v["price"] for v in prod["variants"]["nodes"]} == {"19.99"}
    mf = {(m["namespace"], m["key"]): m["value"] for m in prod["metafields"]["nodes"]}
    assert mf[("custom", "seo")] == "kept"
    # draft, then delete
    assert ad.unpublish([pid]) == {pid: None}
    assert gql(emu, "content", token, READ_PRODUCT, {"id": pid})["product"]["status"] == "DRAFT"
    assert ad.unpublish([pid], delete=True) == {pid: None}
    assert products_in_shop(emu, "content") == []


def test_four_options_refused_others_pushed_and_prices(emu):
    token, ad = ready(emu, "opts")
    bad = ProductPayload(key="b", sku="B", options=["A", "B", "C", "D"], title="Too many",
                         variants=[VariantPayload(key="b1", sku="B1", options=["1", "2", "3", "4"], price="1.00")])
    good = [shirt(str(k), "G%d" % k) for k in range(3)]
    res = ad.push_products([good[0], bad, good[1], good[2]])
    assert res[1].error and "3 options" in res[1].error and res[1].remote_id is None
    assert all(r.error is None for r in (res[0], res[2], res[3]))
    titles = sorted(p["title"] for p in products_in_shop(emu, "opts"))
    assert titles == ["Shirt 0", "Shirt 1", "Shirt 2"]
    # a price the platform refuses only fails its own product
    broken = shirt("x", "X", price="not-a-price")
    res = ad.push_products([shirt("3", "G3"), broken])
    assert res[0].error is None and "not-a-price" in res[1].error
    assert sorted(p["title"] for p in products_in_shop(emu, "opts")) == ["Shirt 0", "Shirt 1", "Shirt 2", "Shirt 3"]
    # prices: read and set through the variant gids the shop has
    prod = gql(emu, "opts", token, READ_PRODUCT, {"id": res[0].remote_id})["product"]
    vids = [v["id"] for v in prod["variants"]["nodes"]]
    assert ad.read_prices(vids) == {vid: "10.00" for vid in vids}
    assert ad.set_prices({vids[0]: "7.25"}) == {vids[0]: None}
    after = gql(emu, "opts", token, READ_PRODUCT, {"id": res[0].remote_id})["product"]
    assert {v["id"]: v["price"] for v in after["variants"]["nodes"]} == {vids[0]: "7.25", vids[1]: "10.00"}
    assert [m["originalSource"]["url"] for m in after["media"]["nodes"]] == ["https://img.example/3.jpg"]
    assert {v["sku"] for v in after["variants"]["nodes"]} == {"G3-S", "G3-M"}
    payload = {"variants": [{"id": 5, "price": "1.00"}, {"admin_graphql_api_id": "gid://shopify/ProductVariant/6",
                                                        "price": "2.00"}]}
    assert ad.webhook_prices(payload) == {"gid://shopify/ProductVariant/5": "1.00", "gid://shopify/ProductVariant/6": "2.00"}


def test_throttling_is_paced_never_raised(emu):
    token, ad = ready(emu, "thr", plan="standard")
    s = emu.shop("thr")
    with s.lock:  # a tiny bucket: the pushes cost several times its size
        s.bucket.update(maximumAvailable=1000.0, currentlyAvailable=1000.0, restoreRate=250.0, at=time.monotonic())
    payloads = [shirt(str(k), "T%03d" % k, sizes=("S", "M", "L")) for k in range(60)]
    started = time.monotonic()
    first = ad.push_products(payloads)
    for p, r in zip(payloads, first):
        p.remote_id = r.remote_id
        for v in p.variants:
            v.price = "20.00"
    second = ad.push_products(payloads)
    elapsed = time.monotonic() - started
    assert all(r.error is None for r in first + second)
    assert len(products_in_shop(emu, "thr")) == 60
    throttled = emu.log.rows(tenant="thr", kind="throttled")
    print("throttle test: %d calls, %d THROTTLED answers, %d paced sleeps (%.1f s), %.1f s total"
          % (ad.stats["calls"], len(throttled), ad.stats["paced_sleeps"], ad.stats["paced_seconds"], elapsed))
    assert ad.stats["paced_sleeps"] > 0  # the bucket really was the limit
    assert len(throttled) <= 2 and ad.stats["throttled"] == len(throttled)
    # a THROTTLED answer forced by the emulator is retried inside the adapter
    emu.set_faults("thr", throttle_next=0)
    with s.lock:
        s.bucket.update(currentlyAvailable=0.0, at=time.monotonic())
    ad2 = adapter(emu, "thr", token)  # knows nothing of the bucket yet
    assert ad2.verify()["domain"] == emu.domain("thr")
    assert ad2.stats["throttled"] >= 1


# ---------------------------------------------------------------- stock
def _stocked(emu, name, ad, n_products, sizes):
    payloads = [ProductPayload(key="q%d" % k, sku="Q%d" % k, options=["N"], title="Q %d" % k,
                               variants=[VariantPayload(key="q%d-%d" % (k, j), sku="Q%d-%d" % (k, j), options=[str(j)],
                                                        price="3.00", quantity=10) for j in range(sizes)])
                for k in range(n_products)]
    res = ad.push_products(payloads)
    assert all(r.error is None for r in res)
    return [v.remote_inventory_item_id for r in res for v in r.variants.values()], res


def test_set_quantities_batches_stale_and_idempotency(emu):
    token, ad = ready(emu, "stock")
    loc = ad.credentials["location_id"]
    items, res = _stocked(emu, "stock", ad, 3, 100)
    assert len(items) == 300
    before = len(emu.log.rows(tenant="stock", kind="inventory_set"))
    out = ad.set_quantities([QtyItem(ref=i, qty=20 + n % 7, expected_previous=10) for n, i in enumerate(items)])
    assert all(r.ok for r in out)
    assert [emu.available("stock", i, loc) for i in items] == [20 + n % 7 for n in range(300)]
    assert len(emu.log.rows(tenant="stock", kind="inventory_set")) - before == 300
    assert ad.read_quantities(items[:5] + items[-5:]) == {i: emu.available("stock", i, loc) for i in items[:5] + items[-5:]}

    # a customer orders 2 of items[0] (claims stock at our location): our compare value is stale
    variant = next(iter(res[0].variants.values())).remote_variant_id
    o = gql(emu, "stock", token, """mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) {
            order { id } userErrors { message } } }""", {"o": {"lineItems": [{"variantId": variant, "quantity": 2}]}})
    assert o["orderCreate"]["userErrors"] == []
    assert emu.available("stock", items[0], loc) == 18
    out = ad.set_quantities([QtyItem(items[0], 50, expected_previous=20), QtyItem(items[1], 51, expected_previous=21),
                             QtyItem(items[2], 52, expected_previous=None)], idempotency_key="job-1")
    assert out[0].stale and not out[0].ok and out[0].store_value == 18
    assert out[1].ok and out[1].value == 51 and out[2].ok and out[2].value == 52
    assert [emu.available("stock", i, loc) for i in items[:3]] == [18, 51, 52]
    # the same key again (a job re-run) is not applied twice
    emu.set_faults("stock", latency_model=False)
    gql(emu, "stock", token, """mutation($i: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $i)
        @idempotent(key: "retailer-1") { userErrors { message } } }""",
        {"i": {"name": "available", "reason": "correction", "quantities": [
            {"inventoryItemId": items[1], "locationId": loc, "quantity": 5, "changeFromQuantity": None}]}})
    again = ad.set_quantities([QtyItem(items[0], 50, expected_previous=20), QtyItem(items[1], 51, expected_previous=21),
                               QtyItem(items[2], 52, expected_previous=None)], idempotency_key="job-1")
    assert emu.available("stock", items[1], loc) == 5  # not set back to 51
    assert emu.log.rows(tenant="stock", kind="inventory_set_replay")
    assert again[1].ok
    # unknown item: reported, the rest applied
    out = ad.set_quantities([QtyItem("gid://shopify/InventoryItem/1", 1), QtyItem(items[3], 33)])
    assert not out[0].ok and out[0].error and out[1].ok
    assert emu.available("stock", items[3], loc) == 33


# ---------------------------------------------------------------- errors and retries
def test_faults_retried_then_retryable(emu):
    token = new_shop(emu, "flt")
    ad = adapter(emu, "flt", token, timeout=0.5)
    ad.backoff = 0.05
    emu.set_faults("flt", error_rate=1.0)
    with pytest.raises(RetryableError) as exc:
        ad.verify()
    assert exc.value.wait > 0
    assert not isinstance(exc.value, ThrottledError)  # a fault spends a job's retries
    assert ad.stats["calls"] == ad.max_attempts
    emu.set_faults("flt", error_rate=0.0, hang_next=1, hang_seconds=1.0)
    assert ad.verify()["name"] == "flt"  # the hung call timed out and was retried
    emu.set_faults("flt", hang_next=10, hang_seconds=1.0)
    ad.max_attempts = 2
    with pytest.raises(RetryableError):
        ad.verify()
    emu.set_faults("flt", hang_next=0, throttle_next=1)
    t0 = time.monotonic()
    assert ad.verify()["name"] == "flt"  # 429 Retry-After: 2.0 honoured
    assert time.monotonic() - t0 >= 1.9
    emu.set_faults("flt", throttle_next=5)
    ad.max_wait = 1.0
    with pytest.raises(ThrottledError) as exc:  # a rate limit does not
        ad.verify()
    assert exc.value.wait >= 2.0
    emu.set_faults("flt", throttle_next=0, token_revoked=True)
    with pytest.raises(AuthError):
        ad.verify()
    emu.set_faults("flt", token_revoked=False)


# ---------------------------------------------------------------- orders
ORDER_CREATE = """mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) { order { id name
  fulfillmentOrders(first: 5) { nodes { id requestStatus assignedLocation { location { id } } } } } userErrors { message } } }"""
FO_READ = "query($id: ID!) { fulfillmentOrder(id: $id) { status requestStatus } }"


def _order_shop(emu, name, receiver=None):
    token, ad = ready(emu, name, callback=receiver.base if receiver else "http://127.0.0.1:9/cb",
                      topics=TOPICS if receiver else ())
    ours = ad.push_products([shirt("o", "OURS", sizes=("S",), qty=6)])[0]
    own = gql(emu, name, token, """mutation($i: ProductSetInput!) { productSet(input: $i, synchronous: true) {
        product { variants(first: 1) { nodes { id } } } userErrors { message } } }""", {"i": {
        "title": "Retailer's own mug", "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [{"optionValues": [{"optionName": "Title", "name": "Default Title"}], "sku": "MUG", "price": "5.00",
                      "inventoryQuantities": [{"locationId": emu.default_location_id(name), "name": "available",
                                               "quantity": 9}]}]}})["productSet"]["product"]["variants"]["nodes"][0]["id"]
    return token, ad, ours.variants["o-S"], own


def _place(emu, name, token, lines):
    o = gql(emu, name, token, ORDER_CREATE, {"o": {"email": "buyer@example.com", "lineItems": lines, "shippingAddress": {
        "firstName": "Zoé", "lastName": "D'Arc", "address1": "1 rue de l'Église", "city": "Orléans", "countryCode": "FR",
        "zip": "45000"}}})["orderCreate"]
    assert o["userErrors"] == []
    return o["order"]


def test_orders_fetch_accept_fulfil_cancel(emu):
    token, ad, ours, own = _order_shop(emu, "ord")
    loc = ad.credentials["location_id"]
    order = _place(emu, "ord", token, [{"variantId": ours.remote_variant_id, "quantity": 3,
                                        "priceSet": {"shopMoney": {"amount": "19.90", "currencyCode": "USD"}}},
                                       {"variantId": own, "quantity": 1}])
    our_fo = next(fo["id"] for fo in order["fulfillmentOrders"]["nodes"] if fo["assignedLocation"]["location"]["id"] == loc)
    orders, cursor = ad.fetch_orders(None)
    assert cursor and [o.remote_id for o in orders] == [order["id"]]
    got = orders[0]
    assert got.name == order["name"] and got.status == "requested" and got.fulfillment_order_ids == [our_fo]
    assert [(l.sku, l.quantity, l.price) for l in got.lines] == [("OURS-S", 3, "19.90")]  # not the retailer's mug
    assert got.shipping_address.city == "Orléans" and got.shipping_address.country_code == "FR"
    assert got.shipping_address.name == "Zoé D'Arc"
    assert ad.fetch_order(order["id"]).lines[0].remote_line_id == got.lines[0].remote_line_id
    ad.accept(got)
    assert gql(emu, "ord", token, FO_READ, {"id": our_fo})["fulfillmentOrder"] == {"status": "IN_PROGRESS",
                                                                                   "requestStatus": "ACCEPTED"}
    ad.accept(got)  # again (a re-run job): no error
    assert ad.fetch_orders()[0] == []
    line = got.lines[0].remote_line_id
    f1 = ad.fulfil(got, [(line, 2)], Tracking("UPS", "1Z1", "https://ups.example/1Z1"), notify_customer=True)
    f2 = ad.fulfil(got, [(line, 1)], Tracking("UPS", "1Z2", ""), notify_customer=False)
    shop = emu.shop("ord")
    made = {f.id: f for f in shop.fulfillments.values()}
    assert made[f1].tracking == [{"company": "UPS", "number": "1Z1", "url": "https://ups.example/1Z1"}]
    assert made[f1].notify is True and made[f2].notify is False
    assert [x.quantity for x in made[f1].fli] == [2] and [x.quantity for x in made[f2].fli] == [1]
    assert gql(emu, "ord", token, FO_READ, {"id": our_fo})["fulfillmentOrder"]["status"] == "CLOSED"
    with pytest.raises(PermanentError):
        ad.fulfil(got, [(line, 1)], Tracking(), True)

    # a second order: rejected
    o2 = _place(emu, "ord", token, [{"variantId": ours.remote_variant_id, "quantity": 1}])
    req = ad.fetch_order(o2["id"])
    ad.reject(req, "out of stock")
    assert gql(emu, "ord", token, FO_READ, {"id": req.fulfillment_order_ids[0]})["fulfillmentOrder"]["requestStatus"] == "REJECTED"
    assert emu.log.rows(tenant="ord", kind="fulfillment_request_reject")[-1]["value"]["message"] == "out of stock"

    # a third: accepted, then the retailer cancels it -> cancellation request -> we accept it (stock back)
    stock_before = emu.available("ord", ours.remote_inventory_item_id, loc)
    o3 = _place(emu, "ord", token, [{"variantId": ours.remote_variant_id, "quantity": 2}])
    ad.accept(ad.fetch_order(o3["id"]))
    gql(emu, "ord", token, """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true) {
        orderCancelUserErrors { message } } }""", {"id": o3["id"]})
    orders, _ = ad.fetch_orders("2020-01-01T00:00:00Z")
    assert [(o.remote_id, o.status) for o in orders] == [(o3["id"], "cancel_requested")]
    ad.answer_cancellation(orders[0], True, "fine")
    fo3 = orders[0].fulfillment_order_ids[0]
    assert gql(emu, "ord", token, FO_READ, {"id": fo3})["fulfillmentOrder"] == {"status": "CLOSED",
                                                                                "requestStatus": "CANCELLATION_ACCEPTED"}
    assert emu.available("ord", ours.remote_inventory_item_id, loc) == stock_before
    # a fourth: accepted, cancellation requested, we refuse (already shipped)
    o4 = _place(emu, "ord", token, [{"variantId": ours.remote_variant_id, "quantity": 1}])
    p4 = ad.fetch_order(o4["id"])
    ad.accept(p4)
    fo4 = p4.fulfillment_order_ids[0]
    gql(emu, "ord", token, "mutation($id: ID!) { fulfillmentOrderSubmitCancellationRequest(id: $id, message: \"stop\") { userErrors { message } } }",
        {"id": fo4})
    ad.answer_cancellation(OrderPayload(remote_id=o4["id"], name=o4["name"], status="cancel_requested"), False, "shipped")
    assert gql(emu, "ord", token, FO_READ, {"id": fo4})["fulfillmentOrder"]["requestStatus"] == "CANCELLATION_REJECTED"
    # cancel() of an order we have not accepted: the request is rejected
    o5 = _place(emu, "ord", token, [{"variantId": ours.remote_variant_id, "quantity": 1}])
    ad.cancel(ad.fetch_order(o5["id"]), "cannot serve")
    assert gql(emu, "ord", token, FO_READ, {"id": ad.fetch_order(o5["id"]).fulfillment_order_ids[0]}
               )["fulfillmentOrder"]["requestStatus"] == "REJECTED"


# ---------------------------------------------------------------- webhooks


def test_webhooks_signed_verified_and_parsed(emu, receiver):
    token, ad, ours, own = _order_shop(emu, "hook", receiver)
    order = _place(emu, "hook", token, [{"variantId": ours.remote_variant_id, "quantity": 1}])
    [call] = receiver.wait(topic="orders/create")
    headers, body, path = call["headers"], call["body"], call["path"]
    assert path == "/seller_mode/webhook/shopify"
    assert ad.verify_webhook(headers, body)
    assert ad.verify_webhook({k.lower(): v for k, v in headers.items()}, body)  # header names in any case
    assert not ad.verify_webhook(headers, body.replace(b"buyer", b"thief"))
    assert not ad.verify_webhook(dict(headers, **{"X-Shopify-Hmac-Sha256": "AAAA"}), body)
    assert not adapter(emu, "hook", token, api_secret="another-secret").verify_webhook(headers, body)
    ev = ad.parse_webhook(headers, body)
    assert ev.topic == "order" and ev.remote_id == order["id"] and ev.delivery_id == headers["X-Shopify-Webhook-Id"]
    [call] = receiver.wait(topic="fulfillment_orders/fulfillment_request_submitted")
    h2, b2 = call["headers"], call["body"]
    assert ad.verify_webhook(h2, b2)
    ev2 = ad.parse_webhook(h2, b2)
    assert ev2.topic == "fulfillment_request" and ev2.remote_id == order["id"]
    ad.accept(ad.fetch_order(order["id"]))
    gql(emu, "hook", token, """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true) {
        orderCancelUserErrors { message } } }""", {"id": order["id"]})
    [call] = receiver.wait(topic="fulfillment_orders/cancellation_request_submitted")
    h3, b3 = call["headers"], call["body"]
    assert ad.parse_webhook(h3, b3).topic == "cancellation_request"
    [call] = receiver.wait(topic="orders/cancelled")
    h4, b4 = call["headers"], call["body"]
    assert ad.parse_webhook(h4, b4).topic == "order_cancelled"
    gql(emu, "hook", token, "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }",
        {"p": {"id": emu.state_snapshot("hook")["products"][0]["id"], "title": "Edited"}})
    [call] = receiver.wait(topic="products/update")
    h5, b5 = call["headers"], call["body"]
    ev5 = ad.parse_webhook(h5, b5)
    assert ev5.topic == "product_updated" and ev5.remote_id == emu.state_snapshot("hook")["products"][0]["id"]
    # REST numeric ids become gids; unknown topics are "other"; malformed JSON is refused
    ev6 = ad.parse_webhook({"x-shopify-topic": "orders/updated", "x-shopify-event-id": "e1"}, b'{"id": 450789469}')
    assert (ev6.topic, ev6.remote_id, ev6.delivery_id) == ("order", "gid://shopify/Order/450789469", "e1")
    assert ad.parse_webhook({"X-Shopify-Topic": "app/uninstalled"}, b"{}").topic == "app_uninstalled"
    assert ad.parse_webhook({"X-Shopify-Topic": "shop/update"}, b"{}").topic == "other"
    with pytest.raises(PermanentError):
        ad.parse_webhook(headers, b"{not json")


# ---------------------------------------------------------------- OAuth
def test_oauth_helpers(emu):
    new_shop(emu, "oauth")
    shop_url = emu.shop_url("oauth")
    url = shopify_mod.authorize_url(shop_url, KEY, ["read_products", "write_products"], "https://odoo.example/cb", "st4te")
    r = requests.get(url, allow_redirects=False, timeout=5)
    assert r.status_code == 302
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.netloc == "odoo.example"
    params = dict(urllib.parse.parse_qsl(loc.query))
    assert params["state"] == "st4te" and params["shop"] == "oauth.myshopify.com"
    assert shopify_mod.verify_oauth_callback(params, SECRET)
    assert not shopify_mod.verify_oauth_callback(dict(params, shop="evil.myshopify.com"), SECRET)
    assert not shopify_mod.verify_oauth_callback(params, "wrong-secret")
    assert not shopify_mod.verify_oauth_callback({k: v for k, v in params.items() if k != "hmac"}, SECRET)
    tok = shopify_mod.exchange_code(shop_url, KEY, SECRET, params["code"], timeout=5)
    assert tok["access_token"].startswith("shpua_") and tok["refresh_token"] and tok["expires_in"] == 3600
    assert tok["scope"] == "read_products,write_products"
    assert adapter(emu, "oauth", tok["access_token"]).verify()["domain"] == "oauth.myshopify.com"
    with pytest.raises((AuthError, PermanentError)):
        shopify_mod.exchange_code(shop_url, KEY, SECRET, params["code"], timeout=5)  # single use
    new = shopify_mod.refresh_token(shop_url, KEY, SECRET, tok["refresh_token"], timeout=5)
    assert new["access_token"] != tok["access_token"] and new["refresh_token"] != tok["refresh_token"]
    assert adapter(emu, "oauth", new["access_token"]).verify()["name"] == "oauth"
    with pytest.raises(AuthError):
        shopify_mod.refresh_token(shop_url, KEY, SECRET, tok["refresh_token"], timeout=5)  # used already
    assert [r["kind"] for r in emu.log.rows(tenant="oauth") if r["kind"].startswith("token_")][-2:] == [
        "token_issue", "token_refresh"]


# ---------------------------------------------------------------- threads
def test_two_stores_in_parallel_threads_no_crossover(emu):
    shops = {}
    for name in ("par-a", "par-b"):
        shops[name] = ready(emu, name)
    errors = []

    def run(name):
        try:
            ad = shops[name][1]
            for batch in range(6):
                payloads = [shirt("%s-%d-%d" % (name, batch, k), "%s-%d-%d" % (name.upper(), batch, k), sizes=("S",),
                                  title="%s product %d-%d" % (name, batch, k)) for k in range(4)]
                res = ad.push_products(payloads)
                assert all(r.error is None for r in res), res
                ad.set_quantities([QtyItem(v.remote_inventory_item_id, 7) for r in res for v in r.variants.values()])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append((name, exc))

    threads = [threading.Thread(target=run, args=(n,)) for n in shops]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for name in shops:
        titles = [p["title"] for p in products_in_shop(emu, name)]
        assert len(titles) == 24 and all(t.startswith(name + " product") for t in titles), titles
        loc = shops[name][1].credentials["location_id"]
        levels = [lv for lv in emu.state_snapshot(name)["inventoryLevels"] if lv["location"] == loc]
        assert len(levels) == 24 and all(lv["sku"].startswith(name.upper()) for lv in levels)
        assert {r["tenant"] for r in emu.log.rows(kind="product_set") if r["key"] in
                {p["id"] for p in products_in_shop(emu, name)}} == {name}
