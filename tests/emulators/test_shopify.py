"""The Shopify Admin GraphQL 2026-04 emulator, driven over real HTTP with the
real clients: ShopifyAPI (``shopify.GraphQL``) and ``requests``.

ShopifyAPI's ``Session`` rewrites every shop URL to ``<label>.myshopify.com``,
so the tests point ``ShopifyResource`` at the emulator directly:
``ShopifyResource.set_site(shop_url + "/admin/api/2026-04")`` and
``ShopifyResource.set_headers({"X-Shopify-Access-Token": token})``.
"""

import base64
import gzip
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.receiver import Receiver, receiver  # noqa: F401 (fixture)
from tests.shopify_shop import KEY, SECRET, new_shop, running_emulator
import requests
import shopify
from graphql import build_client_schema, is_enum_type, is_input_object_type, is_interface_type, is_object_type

from emulators.shopify import ShopifyEmulator, load_schema

ROOT = Path(__file__).resolve().parents[2]
REAL_SCHEMA = ROOT.parent / "shared" / "reference" / "shopify" / "admin-2026-04.introspection.json.gz"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def emu():
    yield from running_emulator(seed=7, round_trip_ms=100)




def gql(emu, shop, token, query, variables=None, status=200):
    r = requests.post(emu.shop_url(shop) + "/admin/api/2026-04/graphql.json",
                      json={"query": query, "variables": variables}, headers={"X-Shopify-Access-Token": token}, timeout=10)
    assert r.status_code == status, r.text
    return r.json()


def data(body):
    assert "errors" not in body, body
    return body["data"]


PRODUCT_SET = """
mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product {
      id handle title status tags
      options { name values }
      metafields(first: 10) { nodes { namespace key value type } }
      media(first: 10) { nodes { ... on MediaImage { id originalSource { url } } } }
      variants(first: 20) { nodes { id sku price compareAtPrice barcode title
        selectedOptions { name value }
        inventoryItem { id sku tracked unitCost { amount } measurement { weight { value unit } } } } }
    }
    userErrors { field message code }
  }
}"""

SET_QTY = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""


def shirt(loc, qty=5, sizes=("S", "M"), prefix="SH"):
    return {
        "title": "Shirt %s" % prefix,
        "status": "ACTIVE",
        "vendor": "Acme",
        "tags": ["summer", "cotton"],
        "productOptions": [{"name": "Size", "values": [{"name": s} for s in sizes]}],
        "metafields": [{"namespace": "seller", "key": "ref", "value": prefix, "type": "single_line_text_field"}],
        "files": [{"originalSource": "https://example.com/%s.jpg" % prefix, "contentType": "IMAGE"}],
        "variants": [
            {"optionValues": [{"optionName": "Size", "name": s}], "sku": "%s-%s" % (prefix, s), "price": "19.90",
             "compareAtPrice": "25.00", "barcode": "123%s" % s,
             "inventoryItem": {"tracked": True, "cost": "7.5", "measurement": {"weight": {"value": 0.25, "unit": "KILOGRAMS"}}},
             "inventoryQuantities": [{"locationId": loc, "name": "available", "quantity": qty}]}
            for s in sizes
        ],
    }


def first_location(emu, shop, token):
    return data(gql(emu, shop, token, "{ locations(first: 5) { nodes { id name } } }"))["locations"]["nodes"][0]["id"]


# ---------------------------------------------------------------- schema
def _type_str(t):
    return str(t)


def test_schema_is_a_faithful_subset_of_the_real_admin_schema():
    if not REAL_SCHEMA.exists():
        pytest.skip("reference schema not found at %s (../shared is absent)" % REAL_SCHEMA)
    real = build_client_schema(json.load(gzip.open(REAL_SCHEMA))["data"])
    ours = load_schema()
    checked = 0
    problems = []
    for name, t in ours.type_map.items():
        if name.startswith("__"):
            continue
        r = real.get_type(name)
        if r is None:
            problems.append("type %s missing" % name)
            continue
        if type(r) is not type(t):
            problems.append("type %s kind differs" % name)
            continue
        if is_enum_type(t):
            for v in t.values:
                checked += 1
                if v not in r.values:
                    problems.append("enum value %s.%s missing" % (name, v))
        if is_object_type(t) or is_interface_type(t) or is_input_object_type(t):
            for fname, f in t.fields.items():
                checked += 1
                rf = r.fields.get(fname)
                if rf is None:
                    problems.append("field %s.%s missing" % (name, fname))
                    continue
                if _type_str(f.type) != _type_str(rf.type):
                    problems.append("field %s.%s: %s != %s" % (name, fname, f.type, rf.type))
                if is_input_object_type(t):
                    if repr(f.default_value) != repr(rf.default_value):
                        problems.append("input default %s.%s" % (name, fname))
                    continue
                for aname, a in f.args.items():
                    checked += 1
                    ra = rf.args.get(aname)
                    if ra is None:
                        problems.append("arg %s.%s(%s) missing" % (name, fname, aname))
                    elif _type_str(a.type) != _type_str(ra.type):
                        problems.append("arg %s.%s(%s): %s != %s" % (name, fname, aname, a.type, ra.type))
                # required arguments of the real field must be there too
                for aname, ra in rf.args.items():
                    if str(ra.type).endswith("!") and repr(ra.default_value) == "Undefined" and aname not in f.args:
                        problems.append("required arg %s.%s(%s) not declared" % (name, fname, aname))
            for iface in getattr(t, "interfaces", []):
                if iface.name not in [i.name for i in r.interfaces]:
                    problems.append("%s does not implement %s in the real schema" % (name, iface.name))
    for d in ours.directives:
        rd = real.get_directive(d.name)
        assert rd is not None, d.name
        assert set(d.locations) == set(rd.locations), d.name
        for aname, a in d.args.items():
            assert str(a.type) == str(rd.args[aname].type)
    assert ours.query_type.name == real.query_type.name and ours.mutation_type.name == real.mutation_type.name
    assert not problems, problems
    assert checked > 500
    # the signatures the brief names
    ps = ours.mutation_type.fields["productSet"]
    assert str(ps.args["input"].type) == "ProductSetInput!" and ps.args["synchronous"].default_value is True
    assert set(ours.get_type("ProductSetIdentifiers").fields) == {"id", "handle", "customId"}


# ---------------------------------------------------------------- basics, real client
def test_shopify_api_client_reads_shop_and_locations(emu):
    token = new_shop(emu, "client-a")
    shopify.ShopifyResource.set_site(emu.shop_url("client-a") + "/admin/api/2026-04")
    shopify.ShopifyResource.set_headers({"X-Shopify-Access-Token": token})
    try:
        raw = shopify.GraphQL().execute("{ shop { name myshopifyDomain currencyCode } locations(first: 5) { nodes { id name isActive } } }")
    finally:
        shopify.ShopifyResource.clear_session()
    body = json.loads(raw)
    assert body["data"]["shop"]["myshopifyDomain"] == "client-a.myshopify.com"
    locs = body["data"]["locations"]["nodes"]
    assert [l["name"] for l in locs] == ["Shop location"]
    assert locs[0]["id"].startswith("gid://shopify/Location/")
    cost = body["extensions"]["cost"]
    # shop (1) + locations connection 2 + 5 x 1
    assert cost["requestedQueryCost"] == 1 + 2 + 5
    assert cost["actualQueryCost"] == 1 + 2 + 1
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


def test_auth_version_and_validation_errors(emu):
    token = new_shop(emu, "auth-a")
    url = emu.shop_url("auth-a")
    r = requests.post(url + "/admin/api/2026-04/graphql.json", json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": "shpat_wrong"})
    assert r.status_code == 401
    assert r.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    other = new_shop(emu, "auth-b")
    r = requests.post(url + "/admin/api/2026-04/graphql.json", json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": other})
    assert r.status_code == 401  # another shop's token
    for version in ("2024-10", "2026-01", "unstable"):
        r = requests.post(url + "/admin/api/%s/graphql.json" % version, json={"query": "{ shop { name } }"},
                          headers={"X-Shopify-Access-Token": token})
        assert r.status_code == 404
    assert requests.post(emu.base_url + "/shops/nope/admin/api/2026-04/graphql.json", json={"query": "{ shop { name } }"},
                         headers={"X-Shopify-Access-Token": token}).status_code == 404
    r = requests.post(url + "/admin/api/2026-04/graphql.json", data="not json", headers={"X-Shopify-Access-Token": token})
    assert r.status_code == 400
    body = gql(emu, "auth-a", token, "{ shop { nope } }")
    assert "data" not in body and "nope" in body["errors"][0]["message"]
    assert "cost" in body["extensions"]
    body = gql(emu, "auth-a", token, "{ products { nodes { id } } }")
    assert "first or last" in body["errors"][0]["message"]
    body = gql(emu, "auth-a", token, "{ products(first: 251) { nodes { id } } }")
    assert body["errors"]
    # application/graphql bodies are accepted too
    r = requests.post(url + "/admin/api/2026-04/graphql.json", data="{ shop { name } }",
                      headers={"X-Shopify-Access-Token": token, "Content-Type": "application/graphql"})
    assert r.json()["data"]["shop"]["name"] == "auth-a"
    assert r.headers["X-Shopify-API-Version"] == "2026-04"


# ---------------------------------------------------------------- products
def test_product_set_creates_updates_and_replaces_lists(emu):
    token = new_shop(emu, "prod-a")
    loc = first_location(emu, "prod-a", token)
    body = data(gql(emu, "prod-a", token, PRODUCT_SET, {"input": shirt(loc, qty=5)}))["productSet"]
    assert body["userErrors"] == []
    p = body["product"]
    assert p["id"].startswith("gid://shopify/Product/") and p["handle"] == "shirt-sh"
    assert p["options"] == [{"name": "Size", "values": ["S", "M"]}]
    assert [v["sku"] for v in p["variants"]["nodes"]] == ["SH-S", "SH-M"]
    v0 = p["variants"]["nodes"][0]
    assert v0["price"] == "19.90" and v0["compareAtPrice"] == "25.00" and v0["barcode"] == "123S"
    assert v0["selectedOptions"] == [{"name": "Size", "value": "S"}] and v0["title"] == "S"
    assert float(v0["inventoryItem"]["unitCost"]["amount"]) == 7.5
    assert v0["inventoryItem"]["measurement"]["weight"] == {"value": 0.25, "unit": "KILOGRAMS"}
    assert v0["inventoryItem"]["tracked"] is True and v0["inventoryItem"]["sku"] == "SH-S"
    assert p["metafields"]["nodes"] == [{"namespace": "seller", "key": "ref", "value": "SH", "type": "single_line_text_field"}]
    assert p["media"]["nodes"][0]["originalSource"]["url"] == "https://example.com/SH.jpg"
    item_s = v0["inventoryItem"]["id"]
    assert emu.available("prod-a", item_s, loc) == 5

    # upsert by handle: M removed, L added, metafields and files omitted -> deleted
    update = shirt(loc, qty=9, sizes=("S", "L"))
    update["title"] = "Shirt v2"
    del update["metafields"], update["files"]
    body = data(gql(emu, "prod-a", token, PRODUCT_SET, {"input": update, "identifier": {"handle": "shirt-sh"}}))["productSet"]
    assert body["userErrors"] == []
    p2 = body["product"]
    assert p2["id"] == p["id"] and p2["title"] == "Shirt v2"
    assert [v["sku"] for v in p2["variants"]["nodes"]] == ["SH-S", "SH-L"]
    assert p2["variants"]["nodes"][0]["inventoryItem"]["id"] == item_s  # matched by option values
    assert p2["metafields"]["nodes"] == [] and p2["media"]["nodes"] == []
    assert emu.available("prod-a", item_s, loc) == 9
    skus = [v["sku"] for pr in emu.state_snapshot("prod-a")["products"] for v in pr["variants"]]
    assert "SH-M" not in skus

    # by id, status change only: variants omitted -> one default variant
    body = data(gql(emu, "prod-a", token, PRODUCT_SET, {"input": {"status": "DRAFT"}, "identifier": {"id": p["id"]}}))["productSet"]
    assert body["product"]["status"] == "DRAFT"
    assert [v["title"] for v in body["product"]["variants"]["nodes"]] == ["Default Title"]

    # customId upsert twice -> one product
    ident = {"customId": {"namespace": "seller", "key": "odoo_id", "value": "42"}}
    a = data(gql(emu, "prod-a", token, PRODUCT_SET, {"input": {"title": "Mug"}, "identifier": ident}))["productSet"]["product"]
    b = data(gql(emu, "prod-a", token, PRODUCT_SET, {"input": {"title": "Mug 2", "metafields": [
        {"namespace": "seller", "key": "odoo_id", "value": "42", "type": "id"}]}, "identifier": ident}))["productSet"]["product"]
    assert a["id"] == b["id"] and b["title"] == "Mug 2"

    rows = emu.log.rows(tenant="prod-a", kind="product_set")
    assert len(rows) == 5 and all(r["wall"] > 0 and r["monotonic"] > 0 for r in rows)


def test_product_set_user_errors(emu):
    token = new_shop(emu, "prod-err")
    loc = first_location(emu, "prod-err", token)
    four = {"title": "Too many", "productOptions": [{"name": n, "values": [{"name": "x"}]} for n in "ABCD"]}
    errs = data(gql(emu, "prod-err", token, PRODUCT_SET, {"input": four}))["productSet"]
    assert errs["product"] is None and errs["userErrors"][0]["code"] == "OPTIONS_OVER_LIMIT"
    missing = data(gql(emu, "prod-err", token, PRODUCT_SET, {"input": {"title": "X"}, "identifier": {"id": "gid://shopify/Product/1"}}))
    assert missing["productSet"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    bad_value = shirt(loc)
    bad_value["variants"][0]["optionValues"][0]["name"] = "XXL"
    e = data(gql(emu, "prod-err", token, PRODUCT_SET, {"input": bad_value}))["productSet"]["userErrors"]
    assert e[0]["code"] == "OPTION_VALUE_DOES_NOT_EXIST" and e[0]["field"][:3] == ["input", "variants", "0"]
    no_opts = shirt(loc)
    del no_opts["productOptions"]
    e = data(gql(emu, "prod-err", token, PRODUCT_SET, {"input": no_opts}))["productSet"]["userErrors"]
    assert e[0]["code"] == "PRODUCT_OPTIONS_INPUT_MISSING"
    # schema-level: unknown input field, missing required argument
    body = gql(emu, "prod-err", token, PRODUCT_SET, {"input": {"title": "x", "bogus": 1}})
    assert body["errors"] and "data" not in body
    assert gql(emu, "prod-err", token, "mutation { productSet { userErrors { message } } }")["errors"]
    assert emu.state_snapshot("prod-err")["products"] == []


def test_products_pagination_filters_variants_update_delete(emu):
    token = new_shop(emu, "prod-list")
    loc = first_location(emu, "prod-list", token)
    ids = []
    for i in range(5):
        inp = shirt(loc, prefix="P%d" % i, sizes=("S",))
        inp["status"] = "DRAFT" if i % 2 else "ACTIVE"
        ids.append(data(gql(emu, "prod-list", token, PRODUCT_SET, {"input": inp}))["productSet"]["product"]["id"])
    seen, after, pages = [], None, 0
    while True:
        conn = data(gql(emu, "prod-list", token, "query($after: String) { products(first: 2, after: $after) { "
                        "pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }", {"after": after}))["products"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ids and pages == 3
    q = lambda query: [n["id"] for n in data(gql(emu, "prod-list", token, "query($q: String) { products(first: 50, query: $q) { nodes { id } } }",
                                                  {"q": query}))["products"]["nodes"]]
    assert q("sku:P3-S") == [ids[3]]
    assert q("status:DRAFT") == [ids[1], ids[3]]
    assert q("status:active sku:P2-S") == [ids[2]]
    boundary = int(time.time()) + 1  # whole seconds, as Shopify's timestamps
    time.sleep(boundary - time.time() + 0.05)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(boundary))
    upd = data(gql(emu, "prod-list", token, "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { product { id title updatedAt } userErrors { field message } } }",
                   {"p": {"id": ids[4], "title": "Renamed", "tags": ["x"]}}))["productUpdate"]
    assert upd["userErrors"] == [] and upd["product"]["title"] == "Renamed"
    assert q("updated_at:>'%s'" % stamp) == [ids[4]]
    assert q("updated_at:>%s" % stamp) == [ids[4]]
    variants = data(gql(emu, "prod-list", token, '{ productVariants(first: 5, query: "sku:P1-S") { nodes { id sku product { id } inventoryItem { id } } } }'))
    nodes = variants["productVariants"]["nodes"]
    assert len(nodes) == 1 and nodes[0]["product"]["id"] == ids[1]
    one = data(gql(emu, "prod-list", token, "query($id: ID!) { product(id: $id) { title variantsCount { count } } }", {"id": ids[4]}))
    assert one["product"] == {"title": "Renamed", "variantsCount": {"count": 1}}
    bad = data(gql(emu, "prod-list", token, "mutation { productUpdate(product: {id: \"gid://shopify/Product/9\", title: \"x\"}) { product { id } userErrors { field message } } }"))
    assert bad["productUpdate"]["product"] is None and bad["productUpdate"]["userErrors"]
    dele = data(gql(emu, "prod-list", token, "mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId userErrors { message } } }", {"id": ids[0]}))
    assert dele["productDelete"]["deletedProductId"] == ids[0]
    again = data(gql(emu, "prod-list", token, "mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId userErrors { message } } }", {"id": ids[0]}))
    assert again["productDelete"]["deletedProductId"] is None and again["productDelete"]["userErrors"]
    assert data(gql(emu, "prod-list", token, "query($id: ID!) { product(id: $id) { id } }", {"id": ids[0]}))["product"] is None
    assert gql(emu, "prod-list", token, '{ product(id: "not-a-gid") { id } }')["errors"]


# ---------------------------------------------------------------- inventory
def _stock(emu, shop, token, qty=10):
    loc = first_location(emu, shop, token)
    p = data(gql(emu, shop, token, PRODUCT_SET, {"input": shirt(loc, qty=qty, sizes=("S",), prefix="INV")}))["productSet"]["product"]
    return loc, p["variants"]["nodes"][0]["inventoryItem"]["id"]


def test_inventory_set_quantities_compare_and_set_and_idempotency(emu):
    token = new_shop(emu, "inv-a")
    loc, item = _stock(emu, "inv-a", token, qty=10)

    def setq(quantities, key, name="available", reason="correction"):
        return gql(emu, "inv-a", token, SET_QTY, {"input": {"name": name, "reason": reason, "quantities": quantities}, "key": key})

    ok = data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 7, "changeFromQuantity": 10}], "k1"))
    group = ok["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert ok["inventorySetQuantities"]["userErrors"] == []
    assert {"name": "available", "delta": -3, "quantityAfterChange": 7} in group["changes"]
    assert emu.available("inv-a", item, loc) == 7
    # the same key again: same answer, not applied twice
    again = data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 7, "changeFromQuantity": 10}], "k1"))
    assert again["inventorySetQuantities"]["inventoryAdjustmentGroup"]["id"] == group["id"]
    assert emu.available("inv-a", item, loc) == 7
    assert len(emu.log.rows(tenant="inv-a", kind="inventory_set")) == 2  # productSet's + one
    mismatch = data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 1, "changeFromQuantity": 7}], "k1"))
    assert mismatch["inventorySetQuantities"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    # stale compare: refused, nothing applied
    stale = data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 3, "changeFromQuantity": 10}], "k2"))
    err = stale["inventorySetQuantities"]["userErrors"][0]
    assert err["code"] == "CHANGE_FROM_QUANTITY_STALE" and err["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert stale["inventorySetQuantities"]["inventoryAdjustmentGroup"] is None
    assert emu.available("inv-a", item, loc) == 7
    # explicit null skips the check
    data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 4, "changeFromQuantity": None}], "k3"))
    assert emu.available("inv-a", item, loc) == 4
    # changeFromQuantity omitted -> refused
    omitted = data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 2}], "k4"))
    assert omitted["inventorySetQuantities"]["userErrors"] and emu.available("inv-a", item, loc) == 4
    # on_hand
    data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 12, "changeFromQuantity": 4}], "k5", name="on_hand"))
    assert emu.available("inv-a", item, loc) == 12
    # bad name, bad reason, unknown item
    assert data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 1, "changeFromQuantity": None}], "k6",
                     name="incoming"))["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_NAME"
    assert data(setq([{"inventoryItemId": item, "locationId": loc, "quantity": 1, "changeFromQuantity": None}], "k7",
                     reason="because"))["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_REASON"
    assert data(setq([{"inventoryItemId": "gid://shopify/InventoryItem/5", "locationId": loc, "quantity": 1, "changeFromQuantity": None}],
                     "k8"))["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_INVENTORY_ITEM"
    # the directive is required, and it is a field directive
    no_key = gql(emu, "inv-a", token, "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { message } } }",
                 {"input": {"name": "available", "reason": "correction", "quantities": [
                     {"inventoryItemId": item, "locationId": loc, "quantity": 1, "changeFromQuantity": None}]}})
    assert no_key["errors"] and "idempotent" in no_key["errors"][0]["message"]
    on_op = gql(emu, "inv-a", token, "mutation M @idempotent(key: \"x\") { inventorySetQuantities(input: {name: \"available\", reason: \"correction\", quantities: []}) { userErrors { message } } }")
    assert on_op["errors"] and "data" not in on_op
    assert emu.available("inv-a", item, loc) == 12
    # 251 quantities refused as a whole; 250 accepted by the schema
    many = [{"inventoryItemId": item, "locationId": loc, "quantity": i, "changeFromQuantity": None} for i in range(251)]
    body = setq(many, "k9")
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED" and "251" in body["errors"][0]["message"]
    body = setq(many[:250], "k10")
    assert body["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
    assert emu.available("inv-a", item, loc) == 12
    # reads
    reads = data(gql(emu, "inv-a", token, """query($item: ID!, $loc: ID!) {
        inventoryItem(id: $item) { sku inventoryLevel(locationId: $loc) { id quantities(names: ["available", "on_hand"]) { name quantity } } }
        inventoryItems(first: 5, query: "sku:INV-S") { nodes { id } } }""", {"item": item, "loc": loc}))
    assert reads["inventoryItems"]["nodes"] == [{"id": item}]
    level = reads["inventoryItem"]["inventoryLevel"]
    assert {q["name"]: q["quantity"] for q in level["quantities"]} == {"available": 12, "on_hand": 12}
    lv = data(gql(emu, "inv-a", token, "query($id: ID!) { inventoryLevel(id: $id) { item { id } location { id } quantities(names: [\"available\"]) { quantity } } }",
                  {"id": level["id"]}))["inventoryLevel"]
    assert lv == {"item": {"id": item}, "location": {"id": loc}, "quantities": [{"quantity": 12}]}


# ---------------------------------------------------------------- cost and throttling
def test_cost_throttling_and_restore_rate(emu):
    token = new_shop(emu, "cost-a", plan="standard")
    query = "{ products(first: 10) { edges { node { id title variants(first: 5) { nodes { id sku } } } } } }"
    body = gql(emu, "cost-a", token, query)
    # Shopify's rule: connection = 2 + first x (1 + cost of a node's fields); scalars 0
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 10 * (1 + (2 + 5 * 1))
    assert body["extensions"]["cost"]["actualQueryCost"] == 2  # no products
    big = gql(emu, "cost-a", token, "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }")
    assert big["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    # a burst of mutations (10 points each, 90 per request) empties the 2000 bucket
    burst = "mutation { %s }" % " ".join(
        'd%d: webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/%d") { deletedWebhookSubscriptionId }' % (i, i)
        for i in range(90))
    statuses = []
    for _ in range(4):
        b = gql(emu, "cost-a", token, burst)
        statuses.append(b)
        if "errors" in b:
            break
    throttled = statuses[-1]
    assert throttled["errors"][0]["message"] == "Throttled"
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["requestedQueryCost"] == 900
    assert len(statuses) == 3  # 2000 - 900 - 900 < 900
    t0 = time.monotonic()
    before = throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    time.sleep(1.0)
    after = gql(emu, "cost-a", token, "{ shop { name } }")["extensions"]["cost"]["throttleStatus"]
    elapsed = time.monotonic() - t0
    gained = after["currentlyAvailable"] + 1 - before  # this query cost 1
    assert after["restoreRate"] == 100 and after["maximumAvailable"] == 2000
    assert abs(gained - 100 * elapsed) <= 25, (gained, elapsed)
    assert emu.log.rows(tenant="cost-a", kind="throttled")


# ---------------------------------------------------------------- orders and fulfillment
FS_CREATE = """mutation($name: String!, $cb: URL) { fulfillmentServiceCreate(name: $name, callbackUrl: $cb, trackingSupport: true, inventoryManagement: true) {
  fulfillmentService { id serviceName callbackUrl location { id name isFulfillmentService } } userErrors { field message } } }"""
ORDER_CREATE = """mutation($order: OrderCreateOrderInput!) { orderCreate(order: $order) {
  order { id name displayFulfillmentStatus lineItems(first: 10) { nodes { id sku quantity } }
    fulfillmentOrders(first: 10) { nodes { id status requestStatus assignedLocation { location { id } } lineItems(first: 10) { nodes { id sku remainingQuantity } } } } }
  userErrors { field message code } } }"""
WEBHOOK_CREATE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
  webhookSubscription { id topic uri } userErrors { field message } } }"""


def _verify(headers, body):
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, headers["X-Shopify-Hmac-Sha256"])


def _setup_fulfillment_shop(emu, shop, receiver=None, auto=True):
    token = new_shop(emu, shop, auto_submit_fulfillment_requests=auto)
    loc = first_location(emu, shop, token)
    fs = data(gql(emu, shop, token, FS_CREATE, {"name": "Seller Mode %s" % shop, "cb": "http://127.0.0.1:9/fs"}))["fulfillmentServiceCreate"]
    assert fs["userErrors"] == []
    fs_loc = fs["fulfillmentService"]["location"]["id"]
    assert fs["fulfillmentService"]["location"]["isFulfillmentService"] is True
    dup = data(gql(emu, shop, token, FS_CREATE, {"name": "Seller Mode %s" % shop, "cb": None}))["fulfillmentServiceCreate"]
    assert dup["fulfillmentService"] is None and dup["userErrors"]
    if receiver:
        for topic in ("ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "PRODUCTS_UPDATE",
                      "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED",
                      "APP_UNINSTALLED"):
            w = data(gql(emu, shop, token, WEBHOOK_CREATE, {"topic": topic, "uri": receiver.url}))["webhookSubscriptionCreate"]
            assert w["userErrors"] == [], w
    fs_item = shirt(fs_loc, qty=6, sizes=("S",), prefix="FS")
    own_item = shirt(loc, qty=4, sizes=("S",), prefix="OWN")
    a = data(gql(emu, shop, token, PRODUCT_SET, {"input": fs_item}))["productSet"]["product"]["variants"]["nodes"][0]
    b = data(gql(emu, shop, token, PRODUCT_SET, {"input": own_item}))["productSet"]["product"]["variants"]["nodes"][0]
    return token, loc, fs_loc, a, b


def _order(emu, shop, token, lines, **extra):
    order = {"email": "buyer@example.com", "lineItems": lines,
             "shippingAddress": {"firstName": "Ada", "lastName": "L", "address1": "1 Main St", "city": "Paris",
                                 "countryCode": "FR", "zip": "75001"}}
    order.update(extra)
    return data(gql(emu, shop, token, ORDER_CREATE, {"order": order}))["orderCreate"]


def test_order_to_fulfillment_with_tracking_and_webhooks(emu, receiver):
    token, loc, fs_loc, fs_var, own_var = _setup_fulfillment_shop(emu, "ord-a", receiver)
    hooks = data(gql(emu, "ord-a", token, "{ webhookSubscriptions(first: 20) { nodes { topic uri } } }"))["webhookSubscriptions"]["nodes"]
    assert len(hooks) == 7 and all(h["uri"] == receiver.url for h in hooks)
    dup = data(gql(emu, "ord-a", token, WEBHOOK_CREATE, {"topic": "ORDERS_CREATE", "uri": receiver.url}))["webhookSubscriptionCreate"]
    assert dup["userErrors"]
    res = _order(emu, "ord-a", token, [
        {"variantId": fs_var["id"], "quantity": 3, "priceSet": {"shopMoney": {"amount": "19.90", "currencyCode": "USD"}}},
        {"variantId": own_var["id"], "quantity": 1}])
    assert res["userErrors"] == []
    order = res["order"]
    assert [(li["sku"], li["quantity"]) for li in order["lineItems"]["nodes"]] == [("FS-S", 3), ("OWN-S", 1)]
    fos = {fo["assignedLocation"]["location"]["id"]: fo for fo in order["fulfillmentOrders"]["nodes"]}
    assert set(fos) == {fs_loc, loc}
    assert fos[fs_loc]["requestStatus"] == "SUBMITTED"  # auto-submitted
    assert fos[loc]["requestStatus"] == "UNSUBMITTED"
    assert emu.available("ord-a", fs_var["inventoryItem"]["id"], fs_loc) == 3
    assert emu.available("ord-a", own_var["inventoryItem"]["id"], loc) == 3
    bad = _order(emu, "ord-a", token, [{"variantId": "gid://shopify/ProductVariant/1", "quantity": 1}])
    assert bad["order"] is None and bad["userErrors"]

    # the fulfillment service sees the request, accepts, ships 2 then 1
    q = """query($s: FulfillmentOrderAssignmentStatus) { assignedFulfillmentOrders(first: 10, assignmentStatus: $s) {
           nodes { id requestStatus order { id } lineItems(first: 10) { nodes { id sku remainingQuantity } } } } }"""
    requested = data(gql(emu, "ord-a", token, q, {"s": "FULFILLMENT_REQUESTED"}))["assignedFulfillmentOrders"]["nodes"]
    assert [fo["id"] for fo in requested] == [fos[fs_loc]["id"]]
    fo_id = requested[0]["id"]
    foli = requested[0]["lineItems"]["nodes"][0]
    acc = data(gql(emu, "ord-a", token, "mutation($id: ID!) { fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: \"ok\") { fulfillmentOrder { status requestStatus } userErrors { message } } }",
                   {"id": fo_id}))["fulfillmentOrderAcceptFulfillmentRequest"]
    assert acc["fulfillmentOrder"] == {"status": "IN_PROGRESS", "requestStatus": "ACCEPTED"}
    accepted = data(gql(emu, "ord-a", token, q, {"s": "FULFILLMENT_ACCEPTED"}))["assignedFulfillmentOrders"]["nodes"]
    assert [fo["id"] for fo in accepted] == [fo_id]
    assert data(gql(emu, "ord-a", token, q, {"s": "FULFILLMENT_REQUESTED"}))["assignedFulfillmentOrders"]["nodes"] == []
    fc = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id status totalQuantity
            trackingInfo { company number url } } userErrors { field message } } }"""
    part = data(gql(emu, "ord-a", token, fc, {"f": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": [{"id": foli["id"], "quantity": 2}]}],
        "trackingInfo": {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}, "notifyCustomer": True}}))["fulfillmentCreate"]
    assert part["userErrors"] == []
    assert part["fulfillment"]["trackingInfo"] == [{"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}]
    assert part["fulfillment"]["totalQuantity"] == 2
    too_many = data(gql(emu, "ord-a", token, fc, {"f": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": [{"id": foli["id"], "quantity": 5}]}]}}))["fulfillmentCreate"]
    assert too_many["fulfillment"] is None and too_many["userErrors"]
    oq = """query($id: ID!) { order(id: $id) { displayFulfillmentStatus cancelledAt
            lineItems(first: 5) { nodes { sku quantity unfulfilledQuantity } }
            fulfillments { trackingInfo { number } fulfillmentLineItems(first: 5) { nodes { quantity lineItem { sku } } } }
            fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { remainingQuantity } } } } } }"""
    o = data(gql(emu, "ord-a", token, oq, {"id": order["id"]}))["order"]
    assert o["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED" and o["cancelledAt"] is None
    assert o["fulfillments"][0]["fulfillmentLineItems"]["nodes"] == [{"quantity": 2, "lineItem": {"sku": "FS-S"}}]
    rest = data(gql(emu, "ord-a", token, fc, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_id}],
                                                 "trackingInfo": {"company": "UPS", "number": "1Z998"}}}))["fulfillmentCreate"]
    assert rest["fulfillment"]["totalQuantity"] == 1
    own_fo = fos[loc]["id"]
    data(gql(emu, "ord-a", token, fc, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": own_fo}]}}))
    o = data(gql(emu, "ord-a", token, oq, {"id": order["id"]}))["order"]
    assert o["displayFulfillmentStatus"] == "FULFILLED"
    assert all(fo["status"] == "CLOSED" for fo in o["fulfillmentOrders"]["nodes"])
    assert [li["unfulfilledQuantity"] for li in o["lineItems"]["nodes"]] == [0, 0]
    listed = data(gql(emu, "ord-a", token, "query($q: String) { orders(first: 10, query: $q) { nodes { id name } } }",
                      {"q": "updated_at:>2020-01-01T00:00:00Z"}))["orders"]["nodes"]
    assert [x["id"] for x in listed] == [order["id"]]
    assert emu.quantity("ord-a", fs_var["inventoryItem"]["id"], fs_loc, "on_hand") == 3
    assert [r["key"] for r in emu.log.rows(tenant="ord-a", kind="order_create")] == [order["id"]]
    assert len(emu.log.rows(tenant="ord-a", kind="fulfillment_create")) == 3

    # webhooks: signed with the app secret, REST-style payloads
    created = receiver.wait(1, topic="orders/create")
    assert len(created) == 1
    headers, body = created[0]["headers"], created[0]["body"]
    assert _verify(headers, body)
    assert headers["X-Shopify-Shop-Domain"] == "ord-a.myshopify.com" and headers["X-Shopify-API-Version"] == "2026-04"
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Triggered-At"]
    payload = json.loads(body)
    assert payload["admin_graphql_api_id"] == order["id"] and payload["line_items"][0]["sku"] == "FS-S"
    submitted = receiver.wait(1, topic="fulfillment_orders/fulfillment_request_submitted")
    assert json.loads(submitted[0]["body"])["submitted_fulfillment_order"]["id"] == fo_id
    assert receiver.wait(3, topic="orders/updated")
    assert all(_verify(c["headers"], c["body"]) for c in receiver.calls)


def test_fulfillment_request_reject_and_cancellation_requests(emu, receiver):
    token, loc, fs_loc, fs_var, own_var = _setup_fulfillment_shop(emu, "ord-c", receiver, auto=False)
    order = _order(emu, "ord-c", token, [{"variantId": fs_var["id"], "quantity": 4}])["order"]
    fo = order["fulfillmentOrders"]["nodes"][0]
    assert fo["requestStatus"] == "UNSUBMITTED"
    assert emu.available("ord-c", fs_var["inventoryItem"]["id"], fs_loc) == 2
    sub = """mutation($id: ID!, $lines: [FulfillmentOrderLineItemInput!]) { fulfillmentOrderSubmitFulfillmentRequest(id: $id, message: "go", fulfillmentOrderLineItems: $lines) {
             originalFulfillmentOrder { id } submittedFulfillmentOrder { id requestStatus lineItems(first: 5) { nodes { remainingQuantity } } }
             unsubmittedFulfillmentOrder { id requestStatus lineItems(first: 5) { nodes { remainingQuantity } } } userErrors { message } } }"""
    foli = fo["lineItems"]["nodes"][0]["id"]
    r = data(gql(emu, "ord-c", token, sub, {"id": fo["id"], "lines": [{"id": foli, "quantity": 3}]}))["fulfillmentOrderSubmitFulfillmentRequest"]
    assert r["userErrors"] == []
    assert r["submittedFulfillmentOrder"]["requestStatus"] == "SUBMITTED"
    assert r["submittedFulfillmentOrder"]["lineItems"]["nodes"] == [{"remainingQuantity": 3}]
    assert r["unsubmittedFulfillmentOrder"]["lineItems"]["nodes"] == [{"remainingQuantity": 1}]
    again = data(gql(emu, "ord-c", token, sub, {"id": fo["id"], "lines": None}))["fulfillmentOrderSubmitFulfillmentRequest"]
    assert again["userErrors"]
    rej = data(gql(emu, "ord-c", token, "mutation($id: ID!) { fulfillmentOrderRejectFulfillmentRequest(id: $id, reason: INVENTORY_OUT_OF_STOCK, message: \"no\") { fulfillmentOrder { status requestStatus } userErrors { message } } }",
                   {"id": fo["id"]}))["fulfillmentOrderRejectFulfillmentRequest"]
    assert rej["fulfillmentOrder"] == {"status": "OPEN", "requestStatus": "REJECTED"}
    # resubmit, accept, ask to cancel, fulfillment service rejects then (second request) accepts
    data(gql(emu, "ord-c", token, sub, {"id": fo["id"], "lines": None}))
    accept = "mutation($id: ID!) { fulfillmentOrderAcceptFulfillmentRequest(id: $id) { fulfillmentOrder { requestStatus } userErrors { message } } }"
    assert data(gql(emu, "ord-c", token, accept, {"id": fo["id"]}))["fulfillmentOrderAcceptFulfillmentRequest"]["fulfillmentOrder"]["requestStatus"] == "ACCEPTED"
    cancel_req = "mutation($id: ID!) { fulfillmentOrderSubmitCancellationRequest(id: $id, message: \"stop\") { fulfillmentOrder { requestStatus } userErrors { message } } }"
    c = data(gql(emu, "ord-c", token, cancel_req, {"id": fo["id"]}))["fulfillmentOrderSubmitCancellationRequest"]
    assert c["fulfillmentOrder"]["requestStatus"] == "CANCELLATION_REQUESTED"
    listed = data(gql(emu, "ord-c", token, "{ assignedFulfillmentOrders(first: 5, assignmentStatus: CANCELLATION_REQUESTED) { nodes { id } } }"))
    assert listed["assignedFulfillmentOrders"]["nodes"] == [{"id": fo["id"]}]
    rj = data(gql(emu, "ord-c", token, "mutation($id: ID!) { fulfillmentOrderRejectCancellationRequest(id: $id, message: \"shipped\") { fulfillmentOrder { status requestStatus } userErrors { message } } }",
                  {"id": fo["id"]}))["fulfillmentOrderRejectCancellationRequest"]
    assert rj["fulfillmentOrder"] == {"status": "IN_PROGRESS", "requestStatus": "CANCELLATION_REJECTED"}
    wrong = data(gql(emu, "ord-c", token, "mutation($id: ID!) { fulfillmentOrderAcceptCancellationRequest(id: $id) { fulfillmentOrder { id } userErrors { message } } }",
                     {"id": fo["id"]}))["fulfillmentOrderAcceptCancellationRequest"]
    assert wrong["fulfillmentOrder"] is None and wrong["userErrors"]
    # cancelling the order sends a cancellation request for the accepted fulfillment order
    oc = """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, notifyCustomer: false, staffNote: "buyer") {
            job { id done } orderCancelUserErrors { field message code } } }"""
    res = data(gql(emu, "ord-c", token, oc, {"id": order["id"]}))["orderCancel"]
    assert res["orderCancelUserErrors"] == [] and res["job"]["done"] is True
    assert receiver.wait(2, topic="fulfillment_orders/cancellation_request_submitted")
    assert receiver.wait(1, topic="orders/cancelled")
    acc = data(gql(emu, "ord-c", token, "mutation($id: ID!) { fulfillmentOrderAcceptCancellationRequest(id: $id, message: \"ok\") { fulfillmentOrder { status requestStatus } userErrors { message } } }",
                   {"id": fo["id"]}))["fulfillmentOrderAcceptCancellationRequest"]
    assert acc["fulfillmentOrder"] == {"status": "CLOSED", "requestStatus": "CANCELLATION_ACCEPTED"}
    # stock comes back (the 3 of the accepted one and the 1 of the unsubmitted one)
    assert emu.available("ord-c", fs_var["inventoryItem"]["id"], fs_loc) == 6
    o = data(gql(emu, "ord-c", token, "query($id: ID!) { order(id: $id) { cancelledAt cancelReason } }", {"id": order["id"]}))["order"]
    assert o["cancelledAt"] and o["cancelReason"] == "CUSTOMER"
    twice = data(gql(emu, "ord-c", token, oc, {"id": order["id"]}))["orderCancel"]
    assert twice["orderCancelUserErrors"]
    assert emu.log.rows(tenant="ord-c", kind="order_cancel")
    # a plain order (own stock) cancelled with restock
    own = _order(emu, "ord-c", token, [{"variantId": own_var["id"], "quantity": 2}])["order"]
    assert emu.available("ord-c", own_var["inventoryItem"]["id"], loc) == 2
    data(gql(emu, "ord-c", token, oc, {"id": own["id"]}))
    assert emu.available("ord-c", own_var["inventoryItem"]["id"], loc) == 4


# ---------------------------------------------------------------- webhooks: faults, retries, uninstall
def test_webhook_duplicates_drops_retries_and_app_uninstalled(emu):
    rec = Receiver(fail_first=1)
    try:
        token = new_shop(emu, "hook-a")
        loc = first_location(emu, "hook-a", token)
        data(gql(emu, "hook-a", token, WEBHOOK_CREATE, {"topic": "PRODUCTS_UPDATE", "uri": rec.url}))
        data(gql(emu, "hook-a", token, WEBHOOK_CREATE, {"topic": "APP_UNINSTALLED", "uri": rec.url}))
        pid = data(gql(emu, "hook-a", token, PRODUCT_SET, {"input": shirt(loc, prefix="HK")}))["productSet"]["product"]["id"]
        upd = "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { product { id } userErrors { message } } }"
        data(gql(emu, "hook-a", token, upd, {"p": {"id": pid, "title": "one"}}))
        got = rec.wait(2, timeout=4)  # first answered 500, retried after ~1 s
        assert len(got) == 2 and got[0]["headers"]["X-Shopify-Webhook-Id"] == got[1]["headers"]["X-Shopify-Webhook-Id"]
        assert json.loads(got[1]["body"])["title"] == "one"
        emu.set_faults("hook-a", webhook_duplicate_rate=1.0)
        data(gql(emu, "hook-a", token, upd, {"p": {"id": pid, "title": "two"}}))
        got = rec.wait(4)
        assert len(got) == 4 and got[2]["headers"]["X-Shopify-Webhook-Id"] == got[3]["headers"]["X-Shopify-Webhook-Id"]
        emu.set_faults("hook-a", webhook_duplicate_rate=0.0, webhook_drop_rate=1.0)
        data(gql(emu, "hook-a", token, upd, {"p": {"id": pid, "title": "three"}}))
        time.sleep(0.3)
        assert len(rec.calls) == 4
        emu.set_faults("hook-a", webhook_drop_rate=0.0)
        emu.revoke_token("hook-a", token)
        un = rec.wait(1, topic="app/uninstalled")
        assert len(un) == 1 and _verify(un[0]["headers"], un[0]["body"])
        assert json.loads(un[0]["body"])["myshopify_domain"] == "hook-a.myshopify.com"
        assert gql(emu, "hook-a", token, "{ shop { name } }", status=401)["errors"].startswith("[API] Invalid API key")
    finally:
        rec.close()


# ---------------------------------------------------------------- OAuth
def test_oauth_install_hmac_code_exchange_and_refresh(emu):
    new_shop(emu, "oauth-a")
    url = emu.shop_url("oauth-a")
    r = requests.get(url + "/admin/oauth/authorize", params={"client_id": KEY, "scope": "read_products,write_inventory",
                                                             "redirect_uri": "http://127.0.0.1:9/callback", "state": "nonce-1"},
                     allow_redirects=False)
    assert r.status_code == 302
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.path == "/callback"
    params = dict(urllib.parse.parse_qsl(loc.query))
    assert params["shop"] == "oauth-a.myshopify.com" and params["state"] == "nonce-1"
    assert {"code", "timestamp", "host", "hmac"} <= set(params)
    # independent check of the signature
    message = "&".join("%s=%s" % (k, v) for k, v in sorted(params.items()) if k != "hmac")
    assert hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest() == params["hmac"]
    shopify.Session.setup(api_key=KEY, secret=SECRET)
    try:
        assert shopify.Session.validate_hmac(params)
        assert shopify.Session.validate_params(params)
        forged = dict(params, state="other")
        assert not shopify.Session.validate_hmac(forged)
    finally:
        shopify.Session.setup(api_key=None, secret=None)
    assert requests.get(url + "/admin/oauth/authorize", params={"client_id": "other", "redirect_uri": "http://x/cb"},
                        allow_redirects=False).status_code == 400
    # code exchange (form body)
    tok = requests.post(url + "/admin/oauth/access_token", data={"client_id": KEY, "client_secret": SECRET, "code": params["code"]})
    assert tok.status_code == 200, tok.text
    t = tok.json()
    assert set(t) == {"access_token", "scope", "expires_in", "refresh_token", "refresh_token_expires_in"}
    assert t["scope"] == "read_products,write_inventory" and t["expires_in"] > 0
    assert gql(emu, "oauth-a", t["access_token"], "{ shop { name } }")["data"]["shop"]["name"] == "oauth-a"
    reuse = requests.post(url + "/admin/oauth/access_token", data={"client_id": KEY, "client_secret": SECRET, "code": params["code"]})
    assert reuse.status_code == 400
    bad = requests.post(url + "/admin/oauth/access_token", json={"client_id": KEY, "client_secret": "nope", "code": "x"})
    assert bad.status_code in (400, 401)
    # refresh (JSON body)
    ref = requests.post(url + "/admin/oauth/access_token", json={"client_id": KEY, "client_secret": SECRET,
                                                                 "grant_type": "refresh_token", "refresh_token": t["refresh_token"]})
    assert ref.status_code == 200
    t2 = ref.json()
    assert t2["access_token"] != t["access_token"] and t2["refresh_token"] != t["refresh_token"]
    assert gql(emu, "oauth-a", t2["access_token"], "{ shop { name } }")["data"]
    assert requests.post(url + "/admin/oauth/access_token", json={"client_id": KEY, "client_secret": SECRET,
                                                                  "grant_type": "refresh_token", "refresh_token": t["refresh_token"]}).status_code == 400
    scopes = requests.get(url + "/admin/oauth/access_scopes.json", headers={"X-Shopify-Access-Token": t2["access_token"]}).json()
    assert [s["handle"] for s in scopes["access_scopes"]] == ["read_products", "write_inventory"]
    # expiry
    emu.expire_token("oauth-a", t["access_token"])
    assert gql(emu, "oauth-a", t["access_token"], "{ shop { name } }", status=401)
    emu.advance_time(t2["expires_in"] + 1)
    try:
        assert gql(emu, "oauth-a", t2["access_token"], "{ shop { name } }", status=401)
        ref2 = requests.post(url + "/admin/oauth/access_token", json={"client_id": KEY, "client_secret": SECRET,
                                                                      "grant_type": "refresh_token", "refresh_token": t2["refresh_token"]})
        assert ref2.status_code == 200
        assert gql(emu, "oauth-a", ref2.json()["access_token"], "{ shop { name } }")["data"]
    finally:
        emu.advance_time(-(t2["expires_in"] + 1))


# ---------------------------------------------------------------- faults and latency
def test_faults_and_latency(emu):
    token = new_shop(emu, "fault-a")
    url = emu.shop_url("fault-a") + "/admin/api/2026-04/graphql.json"
    h = {"X-Shopify-Access-Token": token}
    q = {"query": "{ shop { name } }"}
    emu.set_faults("fault-a", throttle_next=1)
    r = requests.post(url, json=q, headers=h)
    assert r.status_code == 429 and float(r.headers["Retry-After"]) > 0
    assert requests.post(url, json=q, headers=h).status_code == 200
    emu.set_faults("fault-a", error_rate=1.0)
    codes = {requests.post(url, json=q, headers=h).status_code for _ in range(6)}
    assert codes <= {502, 503} and codes
    emu.set_faults("fault-a", error_rate=0.0, token_revoked=True)
    assert requests.post(url, json=q, headers=h).status_code == 401
    emu.set_faults("fault-a", token_revoked=False, hang_next=1, hang_seconds=0.3)
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, json=q, headers=h, timeout=5)
    assert time.monotonic() - t0 >= 0.3
    assert requests.post(url, json=q, headers=h).status_code == 200
    # the round-trip model (100 ms here) and injected latency
    emu.set_faults("fault-a", latency_model=True)
    t0 = time.monotonic()
    requests.post(url, json=q, headers=h)
    model = time.monotonic() - t0
    emu.set_faults("fault-a", latency_ms=150)
    t0 = time.monotonic()
    requests.post(url, json=q, headers=h)
    extra = time.monotonic() - t0
    emu.set_faults("fault-a", latency_model=False, latency_ms=0)
    t0 = time.monotonic()
    requests.post(url, json=q, headers=h)
    fast = time.monotonic() - t0
    assert 0.1 <= model < 0.3 and 0.25 <= extra < 0.5 and fast < 0.08


def test_admin_page_state_and_cli(emu):
    token = new_shop(emu, "adm-a")
    loc = first_location(emu, "adm-a", token)
    data(gql(emu, "adm-a", token, PRODUCT_SET, {"input": shirt(loc, prefix="ADM")}))
    page = requests.get(emu.base_url + "/_emulator/")
    assert page.status_code == 200 and "Shirt ADM" in page.text and "adm-a.myshopify.com" in page.text
    state = requests.get(emu.base_url + "/_emulator/state", params={"tenant": "adm-a"}).json()
    assert state["products"][0]["title"] == "Shirt ADM" and state["cost"]["maximumAvailable"] == 40000
    assert {lv["sku"] for lv in state["inventoryLevels"]} == {"ADM-S", "ADM-M"}
    log = requests.get(emu.base_url + "/_emulator/log", params={"tenant": "adm-a", "kind": "product_set"}).json()
    assert len(log) == 1
    proc = subprocess.Popen([sys.executable, "-m", "emulators", "shopify", "--port", "0", "--shops", "cli-a,cli-b", "--no-latency"],
                            cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "shop" and first[1] == "cli-a:"
        shop_url, cli_token = first[2], first[4]
        r = requests.post(shop_url + "/admin/api/2026-04/graphql.json", json={"query": "{ shop { myshopifyDomain } }"},
                          headers={"X-Shopify-Access-Token": cli_token}, timeout=5)
        assert r.json()["data"]["shop"]["myshopifyDomain"] == "cli-a.myshopify.com"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        proc.stdout.close()


def test_deterministic_under_a_seed_and_reset_keeps_shops():
    runs = []
    for _ in range(2):
        e = ShopifyEmulator(port=0, seed=3, round_trip_ms=0).start()
        try:
            token = e.add_shop("det-a", plan="advanced")
            e.set_faults("det-a", latency_model=False)
            loc = first_location(e, "det-a", token)
            pid = data(gql(e, "det-a", token, PRODUCT_SET, {"input": shirt(loc, prefix="DET")}))["productSet"]["product"]["id"]
            runs.append((token, loc, pid))
            e.reset()
            assert e.state_snapshot("det-a")["products"] == []
            body = gql(e, "det-a", token, "{ shop { name } }")  # add_shop's token survives a reset
            assert body["data"]["shop"]["name"] == "det-a"
            assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 4000
            assert e.log.rows(tenant="det-a", kind="product_set") == []
        finally:
            e.stop()
    assert runs[0] == runs[1]
    assert ShopifyEmulator(seed=4).add_shop("det-a") != runs[0][0]
