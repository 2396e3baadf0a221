"""One shop's state and the root resolvers of QueryRoot and Mutation.

A ``ShopState`` is the ``root_value`` of every GraphQL execution against its
shop; the execution runs under ``ShopState.lock``."""

import json
import threading

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from .models import (
    AdjustmentGroup, Fulfillment, FulfillmentLineItem, FulfillmentOrder, FulfillmentOrderLineItem,
    FulfillmentService, InventoryItem, InventoryLevel, ITEM_SEARCH, LineItem, Location, LOCATION_SEARCH,
    MailingAddress, MediaImage, MerchantRequest, Metafield, Order, ORDER_SEARCH, OptionValue, PRODUCT_SEARCH,
    Product, ProductOption, ProductVariant, search, VARIANT_SEARCH, WebhookSubscription,
)
from .util import connection, decimal_str, gid, gid_kind, money, parse_gid, slugify

PLANS = {
    # name: (bucket size, restore rate per second, display name)
    "standard": (2000, 100, "Basic"),
    "advanced": (4000, 200, "Advanced"),
    "plus": (20000, 1000, "Shopify Plus"),
    "enterprise": (40000, 2000, "Enterprise"),
}

INVENTORY_REASONS = {
    "correction", "cycle_count_available", "damaged", "movement_canceled", "movement_created", "movement_received",
    "movement_updated", "other", "promotion", "quality_control", "received", "reservation_created",
    "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage",
}
MAX_QUANTITY = 1000000000


def uerr(field, message, code=None):
    e = {"field": [str(f) for f in field] if field is not None else None, "message": message}
    if code is not None:
        e["code"] = code
    return e


class ShopState:
    def __init__(self, emulator, name, plan, auto_submit):
        self.emu = emulator
        self.name = name
        self.domain = "%s.myshopify.com" % name
        self.plan = plan
        self.auto_submit = auto_submit
        self.currency = "USD"
        self.lock = threading.RLock()
        now = emulator.now()
        self.num = emulator.new_id()
        self.created = now
        self.loc_table = {}
        self.services = {}
        self.product_table = {}
        self.variants_by_num = {}
        self.items = {}
        self.levels = {}  # (item num, location num) -> InventoryLevel
        self.order_table = {}
        self.fulfillment_orders = {}
        self.fulfillments = {}
        self.webhooks = {}
        self.idempotency = {}  # key -> (fingerprint, payload)
        self.order_number = 1000
        size, rate, _ = PLANS[plan]
        self.bucket = {"maximumAvailable": float(size), "currentlyAvailable": float(size), "restoreRate": float(rate),
                       "at": emulator.monotonic()}
        default = Location(self, emulator.new_id(), now, "Shop location")
        self.loc_table[default.num] = default
        self.default_location = default

    # ------------------------------------------------------------ helpers
    def new(self, cls, *args, **kwargs):
        return cls(self, self.emu.new_id(), self.emu.now(), *args, **kwargs)

    def log(self, kind, key, value=None):
        self.emu.log.record(self.name, kind, key, value)

    def webhook(self, topic, payload):
        self.emu.send_webhook(self, topic, payload)

    def find(self, gid_value, kind, table):
        num = parse_gid(gid_value, kind)
        return table.get(num) if num is not None else None

    def loc(self, gid_value):
        return self.find(gid_value, "Location", self.loc_table)

    def touch(self, *objs):
        now = self.emu.now()
        for o in objs:
            o.updated = now

    def ensure_level(self, item, location):
        key = (item.num, location.num)
        lv = self.levels.get(key)
        if lv is None:
            lv = InventoryLevel(self, item, location, self.emu.now())
            self.levels[key] = lv
        return lv

    def set_quantity(self, lv, name, quantity):
        """Set ``available`` or ``on_hand``; returns the changes (name, delta, after)."""
        before_avail, before_on_hand = lv.available, lv.value("on_hand")
        if name == "available":
            lv.available = quantity
        else:
            lv.available = quantity - lv.committed
        self.touch(lv, lv.item)
        out = []
        if lv.available != before_avail:
            out.append(("available", lv.available - before_avail, lv.available))
        if lv.value("on_hand") != before_on_hand:
            out.append(("on_hand", lv.value("on_hand") - before_on_hand, lv.value("on_hand")))
        return out

    def app_services(self, app):
        return [s for s in self.services.values() if s.app == app]

    # ------------------------------------------------------------ QueryRoot
    def shop(self, info):
        size, rate, display = PLANS[self.plan]
        return {
            "id": gid("Shop", self.num),
            "name": self.name,
            "email": "owner@%s" % self.domain,
            "contactEmail": "owner@%s" % self.domain,
            "myshopifyDomain": self.domain,
            "currencyCode": self.currency,
            "weightUnit": "KILOGRAMS",
            "ianaTimezone": "Etc/UTC",
            "plan": {"partnerDevelopment": False, "publicDisplayName": display, "shopifyPlus": self.plan in ("plus", "enterprise")},
            "url": "https://%s" % self.domain,
            "createdAt": _iso(self.created),
            "updatedAt": _iso(self.created),
            "fulfillmentServices": list(self.services.values()),
        }

    def locations(self, info, query=None, sortKey="NAME", includeLegacy=False, includeInactive=False, **page):  # noqa: N803
        items = search(self.locations_.values(), query, LOCATION_SEARCH, "name")
        sort = (lambda l: l.name.lower()) if sortKey == "NAME" else None
        return connection(items, sort_value=sort, **page)

    def location(self, info, id=None):  # noqa: A002
        if id is None:
            return self.default_location
        return self.find(id, "Location", self.locations_)

    def product(self, info, id):  # noqa: A002
        return self.find(id, "Product", self.product_table)

    def products(self, info, query=None, sortKey="ID", savedSearchId=None, **page):  # noqa: N803
        items = search(self.product_table.values(), query, PRODUCT_SEARCH)
        sort = {"TITLE": lambda p: p.title.lower(), "UPDATED_AT": lambda p: p.updated,
                "CREATED_AT": lambda p: p.created}.get(sortKey)
        return connection(items, sort_value=sort, **page)

    def productVariant(self, info, id):  # noqa: N802,A002
        return self.find(id, "ProductVariant", self.variants_by_num)

    def productVariants(self, info, query=None, sortKey="ID", savedSearchId=None, **page):  # noqa: N802,N803
        items = search(self.variants_by_num.values(), query, VARIANT_SEARCH)
        return connection(items, **page)

    def inventoryItems(self, info, query=None, **page):  # noqa: N802
        return connection(search(self.items.values(), query, ITEM_SEARCH, "sku"), **page)

    def inventoryItem(self, info, id):  # noqa: N802,A002
        return self.find(id, "InventoryItem", self.items)

    def inventoryLevel(self, info, id):  # noqa: N802,A002
        import re

        m = re.match(r"^gid://shopify/InventoryLevel/(\d+)\?inventory_item_id=(\d+)$", id or "")
        if not m:
            raise GraphQLError("Invalid global id '%s'" % id, extensions={"code": "argumentLiteralsIncompatible"})
        return self.levels.get((int(m.group(2)), int(m.group(1))))

    def order(self, info, id):  # noqa: A002
        return self.find(id, "Order", self.order_table)

    def orders(self, info, query=None, sortKey="PROCESSED_AT", savedSearchId=None, **page):  # noqa: N803
        items = search(self.order_table.values(), query, ORDER_SEARCH, "name")
        sort = {"PROCESSED_AT": lambda o: o.processed, "UPDATED_AT": lambda o: o.updated,
                "CREATED_AT": lambda o: o.created}.get(sortKey)
        return connection(items, sort_value=sort, **page)

    def fulfillmentOrder(self, info, id):  # noqa: N802,A002
        return self.find(id, "FulfillmentOrder", self.fulfillment_orders)

    def assignedFulfillmentOrders(self, info, assignmentStatus=None, locationIds=None, sortKey="ID", **page):  # noqa: N802,N803
        app = info.context["app"]
        locs = {s.location.num for s in self.app_services(app)}
        if locationIds:
            wanted = {parse_gid(x, "Location") for x in locationIds}
            locs &= wanted
        status_map = {
            "FULFILLMENT_REQUESTED": "SUBMITTED",
            "FULFILLMENT_ACCEPTED": "ACCEPTED",
            "CANCELLATION_REQUESTED": "CANCELLATION_REQUESTED",
            "FULFILLMENT_UNSUBMITTED": "UNSUBMITTED",
        }
        items = []
        for fo in self.fulfillment_orders.values():
            if fo.location.num not in locs:
                continue
            if assignmentStatus is not None:
                if fo.requestStatus != status_map[assignmentStatus] or fo.status in ("CLOSED", "CANCELLED"):
                    continue
            elif fo.status in ("CLOSED", "CANCELLED"):
                continue
            items.append(fo)
        return connection(items, **page)

    def webhookSubscriptions(self, info, query=None, sortKey="CREATED_AT", uri=None, format=None, topics=None, **page):  # noqa: N802,N803,A002
        app = info.context["app"]
        items = [w for w in self.webhooks.values() if w.app == app and (uri is None or w.uri == uri)
                 and (format is None or w.format == format) and (topics is None or w.topic in topics)]
        return connection(items, sort_value=(lambda w: w.created) if sortKey == "CREATED_AT" else None, **page)

    def webhookSubscription(self, info, id):  # noqa: N802,A002
        w = self.find(id, "WebhookSubscription", self.webhooks)
        return w if w is not None and w.app == info.context["app"] else None

    def fulfillmentService(self, info, id):  # noqa: N802,A002
        return self.find(id, "FulfillmentService", self.services)

    def node(self, info, id):  # noqa: A002
        kind = gid_kind(id)
        tables = {
            "Product": self.product_table, "ProductVariant": self.variants_by_num, "InventoryItem": self.items,
            "Location": self.locations_, "Order": self.order_table, "FulfillmentOrder": self.fulfillment_orders,
            "Fulfillment": self.fulfillments, "WebhookSubscription": self.webhooks,
        }
        if kind is None:
            parse_gid(id)  # raises
        table = tables.get(kind)
        return self.find(id, kind, table) if table is not None else None

    def nodes(self, info, ids):
        return [self.node(info, x) for x in ids]

    @property
    def locations_(self):
        return self.loc_table

    # ------------------------------------------------------------ products
    def _find_by_custom_id(self, custom):
        ns = custom.get("namespace") or "custom"
        for p in self.product_table.values():
            for m in p.mf:
                if m.namespace == ns and m.key == custom["key"] and m.value == custom["value"]:
                    return p
        return None

    def _handle_taken(self, handle, product):
        return any(p.handle == handle and p is not product for p in self.product_table.values())

    def _unique_handle(self, base, product):
        handle, n = base, 0
        while self._handle_taken(handle, product):
            n += 1
            handle = "%s-%d" % (base, n)
        return handle

    def productSet(self, info, input, synchronous=True, identifier=None):  # noqa: N802,A002
        errors = []
        product = None
        custom = None
        if identifier:
            if identifier.get("id"):
                product = self.find(identifier["id"], "Product", self.product_table)
                if product is None:
                    errors.append(uerr(["identifier", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST"))
            elif identifier.get("handle"):
                product = next((p for p in self.product_table.values() if p.handle == identifier["handle"]), None)
            elif identifier.get("customId"):
                custom = identifier["customId"]
                product = self._find_by_custom_id(custom)
        opts = input.get("productOptions")
        variants = input.get("variants")
        if product is None and not errors and not input.get("title"):
            errors.append(uerr(["input", "title"], "Title can't be blank", "INVALID_PRODUCT"))
        if opts is not None:
            if len(opts) > 3:
                errors.append(uerr(["input", "productOptions"], "Options count is over the allowed limit.", "OPTIONS_OVER_LIMIT"))
            names = [o.get("name") for o in opts]
            if len(set(names)) != len(names):
                errors.append(uerr(["input", "productOptions"], "Duplicated option name.", "DUPLICATED_OPTION_NAME"))
            for i, o in enumerate(opts):
                values = [v.get("name") for v in (o.get("values") or [])]
                if not o.get("name"):
                    errors.append(uerr(["input", "productOptions", i, "name"], "Option name can't be blank", "INVALID_INPUT"))
                if not values:
                    errors.append(uerr(["input", "productOptions", i, "values"], "Option values are missing.", "OPTION_VALUES_MISSING"))
                if len(set(values)) != len(values):
                    errors.append(uerr(["input", "productOptions", i, "values"], "Duplicated option value.", "DUPLICATED_OPTION_VALUE"))
        if variants is not None and len(variants) > 2048:
            errors.append(uerr(["input", "variants"], "Variants count is over the allowed limit.", "VARIANTS_OVER_LIMIT"))
        if variants and opts is None and (product is None or not product.option_list):
            errors.append(uerr(["input", "productOptions"], "Product options input is required when updating variants.",
                               "PRODUCT_OPTIONS_INPUT_MISSING"))
        if input.get("handle") and self._handle_taken(input["handle"], product):
            errors.append(uerr(["input", "handle"], "Handle '%s' already in use. Please provide a new handle." % input["handle"],
                               "HANDLE_NOT_UNIQUE"))
        option_spec = None
        if opts is not None:
            option_spec = [(o.get("name"), [v.get("name") for v in (o.get("values") or [])]) for o in opts]
        elif product is not None:
            option_spec = [(o.name, o.values) for o in product.option_list]
        resolved = []  # per variant: option values dict
        if variants and not errors:
            option_names = [n for n, _ in option_spec]
            seen = set()
            for i, v in enumerate(variants):
                chosen = {}
                for j, ov in enumerate(v.get("optionValues") or []):
                    oname = ov.get("optionName")
                    if oname is None and ov.get("optionId"):
                        oname = next((o.name for o in (product.option_list if product else []) if o.id == ov["optionId"]), None)
                    if oname not in option_names:
                        errors.append(uerr(["input", "variants", i, "optionValues", j], "Option does not exist", "OPTION_DOES_NOT_EXIST"))
                        continue
                    values = dict(option_spec)[oname]
                    if ov.get("name") not in values:
                        errors.append(uerr(["input", "variants", i, "optionValues", j], "Option value does not exist",
                                           "OPTION_VALUE_DOES_NOT_EXIST"))
                        continue
                    chosen[oname] = ov["name"]
                if len(chosen) != len(option_names) and not any(e["field"][:3] == ["input", "variants", str(i)] for e in errors):
                    errors.append(uerr(["input", "variants", i, "optionValues"],
                                       "The variant must have a value for every product option.", "INVALID_VARIANT"))
                combo = tuple(chosen.get(n) for n in option_names)
                if combo in seen:
                    errors.append(uerr(["input", "variants", i], "The variant '%s' already exists." % " / ".join(
                        str(c) for c in combo), "INVALID_VARIANT"))
                seen.add(combo)
                if v.get("id"):
                    existing = self.find(v["id"], "ProductVariant", self.variants_by_num)
                    if existing is None or product is None or existing.product is not product:
                        errors.append(uerr(["input", "variants", i, "id"], "Product variant does not exist",
                                           "PRODUCT_VARIANT_DOES_NOT_EXIST"))
                for k, q in enumerate(v.get("inventoryQuantities") or []):
                    if q["name"] not in ("available", "on_hand"):
                        errors.append(uerr(["input", "variants", i, "inventoryQuantities", k, "name"],
                                           "Inventory quantity name must be available or on_hand.", "INVALID_INPUT"))
                    if self.loc(q["locationId"]) is None:
                        errors.append(uerr(["input", "variants", i, "inventoryQuantities", k, "locationId"],
                                           "Location does not exist", "NOT_FOUND"))
                if len(v.get("inventoryQuantities") or []) > 250:
                    errors.append(uerr(["input", "variants", i, "inventoryQuantities"], "Too many inventory quantities.",
                                       "INVENTORY_QUANTITIES_LIMIT_EXCEEDED"))
                resolved.append(chosen)
        if errors:
            return {"product": None, "userErrors": errors}

        created = product is None
        if created:
            product = self.new(Product)
            self.product_table[product.num] = product
            product.title = input.get("title") or ""
            product.handle = self._unique_handle(identifier.get("handle") if identifier and identifier.get("handle") else slugify(product.title), product)
        for key in ("title", "descriptionHtml", "vendor", "productType", "status"):
            if key in input and input[key] is not None:
                setattr(product, key, input[key])
        if "tags" in input:
            product.tags = list(input["tags"] or [])
        if input.get("handle"):
            product.handle = input["handle"]
        # options
        if opts is not None or variants is None:
            spec = option_spec if opts is not None else [("Title", ["Default Title"])]
            if variants is None:
                spec = [("Title", ["Default Title"])]
            self._set_options(product, spec)
        # variants (replaced wholesale; omitted = deleted, the product keeps one default variant)
        inventory_changes = []
        if variants is None:
            variants, resolved = [{}], [{"Title": "Default Title"}]
        old = list(product.variant_list)
        new_list = []
        for i, (v, chosen) in enumerate(zip(variants, resolved)):
            var = None
            if v.get("id"):
                var = self.find(v["id"], "ProductVariant", self.variants_by_num)
            if var is None:
                var = next((x for x in old if x.option_values == chosen and x not in new_list), None)
            is_new = var is None
            if is_new:
                item = self.new(InventoryItem)
                self.items[item.num] = item
                var = self.new(ProductVariant, product, item)
                self.variants_by_num[var.num] = var
            var.option_values = dict(chosen)
            var.position = v.get("position") or (i + 1)
            item = var.inventoryItem
            if "sku" in v:
                item.sku = v["sku"]
            if "barcode" in v:
                var.barcode = v["barcode"]
            if "price" in v or is_new:
                var.price = money(v.get("price"))
            if "compareAtPrice" in v:
                var.compareAtPrice = money(v["compareAtPrice"], None) if v["compareAtPrice"] is not None else None
            if v.get("inventoryPolicy"):
                var.inventoryPolicy = v["inventoryPolicy"]
            if "taxable" in v and v["taxable"] is not None:
                var.taxable = v["taxable"]
            ii = v.get("inventoryItem") or {}
            if ii.get("sku") is not None:
                item.sku = ii["sku"]
            if "tracked" in ii and ii["tracked"] is not None:
                item.tracked = ii["tracked"]
            if "cost" in ii:
                item.cost = decimal_str(ii["cost"]) if ii["cost"] is not None else None
            if "requiresShipping" in ii and ii["requiresShipping"] is not None:
                item.requiresShipping = ii["requiresShipping"]
            weight = (ii.get("measurement") or {}).get("weight")
            if weight:
                item.weight = {"value": float(weight["value"]), "unit": weight["unit"]}
            if "metafields" in v:
                var.mf = self._metafields(var.mf, v.get("metafields") or [])
            quantities = v.get("inventoryQuantities")
            if quantities:
                for q in quantities:
                    lv = self.ensure_level(item, self.loc(q["locationId"]))
                    if self.set_quantity(lv, q["name"], q["quantity"]):
                        inventory_changes.append((lv, q["name"], q["quantity"]))
            elif is_new:
                self.ensure_level(item, self.default_location)
            self.touch(var, item)
            new_list.append(var)
        for var in old:
            if var not in new_list:
                self._delete_variant(var)
        product.variant_list = sorted(new_list, key=lambda x: x.position)
        # metafields and files: replaced wholesale
        product.mf = self._metafields(product.mf, input.get("metafields") or [])
        if custom and not any(m.namespace == (custom.get("namespace") or "custom") and m.key == custom["key"] for m in product.mf):
            product.mf.append(self.new(Metafield, custom.get("namespace") or "custom", custom["key"], custom["value"], "id"))
        self._set_files(product, input.get("files") or [])
        self.touch(product)
        self.log("product_set", product.id, {"created": created, "title": product.title,
                                              "skus": [v.sku for v in product.variant_list]})
        for lv, name, quantity in inventory_changes:
            self.log("inventory_set", "%s@%s" % (lv.item.id, lv.location.id),
                     {"name": name, "quantity": quantity, "available": lv.available, "on_hand": lv.value("on_hand"),
                      "source": "productSet"})
        self.webhook("PRODUCTS_CREATE" if created else "PRODUCTS_UPDATE", self.product_rest(product))
        return {"product": product, "userErrors": []}

    def _set_options(self, product, spec):
        old = {o.name: o for o in product.option_list}
        new = []
        for pos, (name, values) in enumerate(spec, 1):
            o = old.get(name) or self.new(ProductOption, name, pos)
            o.position = pos
            o.product = product
            oldv = {v.name: v for v in o.value_list}
            o.value_list = [oldv.get(v) or self.new(OptionValue, v, o) for v in values]
            new.append(o)
        product.option_list = new

    def _metafields(self, current, inputs):
        old = {(m.namespace, m.key): m for m in current}
        out = []
        for mi in inputs:
            ns = mi.get("namespace") or "custom"
            key = (ns, mi.get("key"))
            m = old.get(key)
            if m is None:
                m = self.new(Metafield, ns, mi.get("key"), mi.get("value"), mi.get("type") or "single_line_text_field")
            else:
                m.value = mi.get("value", m.value)
                if mi.get("type"):
                    m.type = mi["type"]
                self.touch(m)
            out.append(m)
        return out

    def _set_files(self, product, files):
        old = {m.src: m for m in product.media_list}
        by_id = {m.id: m for m in product.media_list}
        out = []
        for f in files:
            m = by_id.get(f.get("id")) or old.get(f.get("originalSource"))
            if m is None:
                m = self.new(MediaImage, f.get("originalSource"), f.get("alt"), f.get("filename"))
            elif f.get("alt") is not None:
                m.alt = f["alt"]
            out.append(m)
        product.media_list = out

    def _delete_variant(self, var):
        self.variants_by_num.pop(var.num, None)
        item = var.inventoryItem
        self.items.pop(item.num, None)
        for key in [k for k in self.levels if k[0] == item.num]:
            del self.levels[key]

    def product_rest(self, p):
        return {
            "id": p.num, "admin_graphql_api_id": p.id, "title": p.title, "handle": p.handle, "body_html": p.descriptionHtml,
            "vendor": p.vendor, "product_type": p.productType, "status": p.status.lower(), "tags": ", ".join(p.tags),
            "created_at": p.createdAt, "updated_at": p.updatedAt,
            "options": [{"name": o.name, "position": o.position, "values": o.values} for o in p.option_list],
            "variants": [{"id": v.num, "admin_graphql_api_id": v.id, "product_id": p.num, "title": v.title, "sku": v.sku,
                          "barcode": v.barcode, "price": v.price, "compare_at_price": v.compareAtPrice,
                          "position": v.position, "inventory_item_id": v.inventoryItem.num,
                          "inventory_quantity": v.inventoryQuantity, "updated_at": v.updatedAt} for v in p.variant_list],
            "images": [{"id": m.num, "src": m.src, "alt": m.alt} for m in p.media_list],
        }

    def productUpdate(self, info, product=None, identifier=None, **_):  # noqa: N802
        data = product or {}
        target = None
        ident = identifier or {}
        if data.get("id"):
            target = self.find(data["id"], "Product", self.product_table)
        elif ident.get("id"):
            target = self.find(ident["id"], "Product", self.product_table)
        elif ident.get("handle"):
            target = next((p for p in self.product_table.values() if p.handle == ident["handle"]), None)
        elif ident.get("customId"):
            target = self._find_by_custom_id(ident["customId"])
        if target is None:
            return {"product": None, "userErrors": [uerr(["id"], "Product does not exist")]}
        if data.get("handle") and self._handle_taken(data["handle"], target):
            return {"product": None, "userErrors": [uerr(["handle"], "Handle has already been taken")]}
        if "title" in data and not data["title"]:
            return {"product": None, "userErrors": [uerr(["title"], "Title can't be blank")]}
        for key in ("title", "descriptionHtml", "vendor", "productType", "status", "handle"):
            if data.get(key) is not None:
                setattr(target, key, data[key])
        if "tags" in data:
            target.tags = list(data["tags"] or [])
        if data.get("metafields"):
            # productUpdate merges metafields (productSet replaces them)
            merged = {(m.namespace, m.key): m for m in target.mf}
            for m in self._metafields(target.mf, data["metafields"]):
                merged[(m.namespace, m.key)] = m
            target.mf = list(merged.values())
        self.touch(target)
        self.log("product_update", target.id, {k: v for k, v in data.items() if k != "metafields"})
        self.webhook("PRODUCTS_UPDATE", self.product_rest(target))
        return {"product": target, "userErrors": []}

    def productDelete(self, info, input, synchronous=True):  # noqa: N802,A002
        p = self.find(input["id"], "Product", self.product_table)
        if p is None:
            return {"deletedProductId": None, "userErrors": [uerr(["id"], "Product does not exist")]}
        for v in p.variant_list:
            self._delete_variant(v)
        del self.product_table[p.num]
        self.log("product_delete", p.id)
        self.webhook("PRODUCTS_DELETE", {"id": p.num})
        return {"deletedProductId": p.id, "userErrors": []}

    # ------------------------------------------------------------ inventory
    def inventorySetQuantities(self, info, input):  # noqa: N802,A002
        node = info.field_nodes[0]
        directive = info.schema.get_directive("idempotent")
        values = get_directive_values(directive, node, info.variable_values) if directive else None
        key = (values or {}).get("key")
        if key is None:
            raise GraphQLError("The @idempotent directive is required for this mutation.",
                               extensions={"code": "BAD_REQUEST"}, nodes=[node])
        if not key.strip():
            raise GraphQLError("The idempotency key cannot be an empty string or whitespace only.",
                               extensions={"code": "BAD_REQUEST"}, nodes=[node])
        fingerprint = json.dumps(input, sort_keys=True, default=str)
        if key in self.idempotency:
            seen_fingerprint, payload = self.idempotency[key]
            if seen_fingerprint != fingerprint:
                return {"inventoryAdjustmentGroup": None, "userErrors": [uerr(
                    ["input"], "The same idempotency key cannot be used with different parameters.",
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}
            self.log("inventory_set_replay", key)
            return payload
        payload = self._set_quantities(input)
        self.idempotency[key] = (fingerprint, payload)
        return payload

    def _set_quantities(self, input):  # noqa: A002
        errors = []
        name = input["name"]
        if name not in ("available", "on_hand"):
            errors.append(uerr(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME"))
        if input["reason"] not in INVENTORY_REASONS:
            errors.append(uerr(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
        uri = input.get("referenceDocumentUri")
        if uri is not None and ":" not in uri:
            errors.append(uerr(["input", "referenceDocumentUri"], "The specified reference document is invalid.",
                               "INVALID_REFERENCE_DOCUMENT"))
        targets = []
        seen = set()
        for i, q in enumerate(input["quantities"]):
            field = ["input", "quantities", i]
            item = self.find(q["inventoryItemId"], "InventoryItem", self.items)
            loc = self.loc(q["locationId"])
            if "changeFromQuantity" not in q:
                errors.append(uerr(field + ["changeFromQuantity"],
                                   "changeFromQuantity is required: an integer to compare, or null to skip the check.",
                                   "COMPARE_QUANTITY_REQUIRED"))
                continue
            if item is None:
                errors.append(uerr(field + ["inventoryItemId"], "The specified inventory item could not be found.",
                                   "INVALID_INVENTORY_ITEM"))
                continue
            if loc is None:
                errors.append(uerr(field + ["locationId"], "The specified location could not be found.", "INVALID_LOCATION"))
                continue
            if (item.num, loc.num) in seen:
                errors.append(uerr(field, "The combination of inventoryItemId and locationId must be unique.",
                                   "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
                continue
            seen.add((item.num, loc.num))
            lv = self.levels.get((item.num, loc.num))
            if lv is None:
                errors.append(uerr(field + ["locationId"], "The specified inventory item is not stocked at the location.",
                                   "ITEM_NOT_STOCKED_AT_LOCATION"))
                continue
            if q["quantity"] > MAX_QUANTITY:
                errors.append(uerr(field + ["quantity"], "The quantity can't be higher than %d." % MAX_QUANTITY,
                                   "INVALID_QUANTITY_TOO_HIGH"))
                continue
            if q["quantity"] < -MAX_QUANTITY:
                errors.append(uerr(field + ["quantity"], "The quantity can't be lower than -%d." % MAX_QUANTITY,
                                   "INVALID_QUANTITY_TOO_LOW"))
                continue
            cfq = q["changeFromQuantity"]
            if cfq is not None and name in ("available", "on_hand") and lv.value(name) != cfq:
                errors.append(uerr(field + ["changeFromQuantity"],
                                   "The specified compare quantity does not match the current quantity.",
                                   "CHANGE_FROM_QUANTITY_STALE"))
                continue
            targets.append((lv, q["quantity"]))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for lv, quantity in targets:
            for qname, delta, after in self.set_quantity(lv, name, quantity):
                changes.append({"name": qname, "delta": delta, "item": lv.item, "location": lv.location,
                                "quantityAfterChange": after, "ledgerDocumentUri": None})
            self.log("inventory_set", "%s@%s" % (lv.item.id, lv.location.id),
                     {"name": name, "quantity": quantity, "available": lv.available, "on_hand": lv.value("on_hand"),
                      "reason": input["reason"]})
            self.webhook("INVENTORY_LEVELS_UPDATE", {"inventory_item_id": lv.item.num, "location_id": lv.location.num,
                                                      "available": lv.available, "updated_at": lv.updatedAt,
                                                      "admin_graphql_api_id": lv.id})
        group = self.new(AdjustmentGroup, input["reason"], uri, changes)
        return {"inventoryAdjustmentGroup": group if changes or targets else None, "userErrors": []}

    # ------------------------------------------------------------ fulfillment services / webhooks
    def fulfillmentServiceCreate(self, info, name, callbackUrl=None, trackingSupport=False, fulfillmentOrdersOptIn=True,  # noqa: N802,N803
                                 inventoryManagement=False, requiresShippingMethod=True):  # noqa: N803
        if not name.strip():
            return {"fulfillmentService": None, "userErrors": [uerr(["name"], "Name can't be blank")]}
        if any(s.serviceName.lower() == name.lower() for s in self.services.values()) or any(
                l.name.lower() == name.lower() for l in self.locations_.values()):
            return {"fulfillmentService": None, "userErrors": [uerr(["name"], "Name has already been taken")]}
        if callbackUrl is not None and not str(callbackUrl).startswith(("http://", "https://")):
            return {"fulfillmentService": None, "userErrors": [uerr(["callbackUrl"], "Callback url is invalid")]}
        loc = self.new(Location, name)
        self.locations_[loc.num] = loc
        svc = self.new(FulfillmentService, name, callbackUrl, info.context["app"], loc,
                       inventoryManagement=inventoryManagement, trackingSupport=trackingSupport,
                       requiresShippingMethod=requiresShippingMethod)
        loc.fulfillmentService = svc
        self.services[svc.num] = svc
        self.log("fulfillment_service_create", svc.id, {"name": name, "location": loc.id, "callbackUrl": callbackUrl})
        return {"fulfillmentService": svc, "userErrors": []}

    def webhookSubscriptionCreate(self, info, topic, webhookSubscription):  # noqa: N802,N803
        uri = webhookSubscription.get("uri")
        if not uri:
            return {"webhookSubscription": None, "userErrors": [uerr(["webhookSubscription", "uri"], "Address can't be blank")]}
        if not uri.startswith(("http://", "https://", "pubsub://", "arn:aws:events:")):
            return {"webhookSubscription": None, "userErrors": [uerr(["webhookSubscription", "uri"], "Address is invalid")]}
        app = info.context["app"]
        if any(w.topic == topic and w.uri == uri and w.app == app for w in self.webhooks.values()):
            return {"webhookSubscription": None, "userErrors": [uerr(["webhookSubscription", "uri"],
                                                                    "Address for this topic has already been taken")]}
        w = self.new(WebhookSubscription, topic, uri, app, webhookSubscription.get("format") or "JSON",
                     webhookSubscription.get("includeFields"), webhookSubscription.get("filter"),
                     webhookSubscription.get("name"))
        self.webhooks[w.num] = w
        self.log("webhook_subscription_create", w.id, {"topic": topic, "uri": uri})
        return {"webhookSubscription": w, "userErrors": []}

    def webhookSubscriptionDelete(self, info, id):  # noqa: N802,A002
        w = self.find(id, "WebhookSubscription", self.webhooks)
        if w is None or w.app != info.context["app"]:
            return {"deletedWebhookSubscriptionId": None, "userErrors": [uerr(["id"], "Webhook subscription does not exist")]}
        del self.webhooks[w.num]
        self.log("webhook_subscription_delete", w.id, {"topic": w.topic, "uri": w.uri})
        return {"deletedWebhookSubscriptionId": w.id, "userErrors": []}

    # ------------------------------------------------------------ orders
    def orderCreate(self, info, order, options=None):  # noqa: N802
        lines = order.get("lineItems") or []
        errors = []
        if not lines:
            errors.append(uerr(["order", "lineItems"], "Line items must have at least one line item", "INVALID"))
        behaviour = "DECREMENT_IGNORING_POLICY" if options is None else options.get("inventoryBehaviour", "BYPASS")
        resolved = []
        for i, li in enumerate(lines):
            variant = None
            if li.get("variantId"):
                variant = self.find(li["variantId"], "ProductVariant", self.variants_by_num)
                if variant is None:
                    errors.append(uerr(["order", "lineItems", i, "variantId"], "Variant does not exist", "INVALID"))
                    continue
            elif not li.get("title"):
                errors.append(uerr(["order", "lineItems", i, "title"], "Title is required for a custom line item", "INVALID"))
                continue
            if li["quantity"] < 1:
                errors.append(uerr(["order", "lineItems", i, "quantity"], "Quantity must be greater than 0", "INVALID"))
                continue
            loc = None
            if variant is not None:
                levels = variant.inventoryItem.level_list()
                levels.sort(key=lambda lv: (lv.available < li["quantity"], lv.location.num))
                if levels:
                    loc = levels[0].location
                    if behaviour == "DECREMENT_OBEYING_POLICY" and variant.inventoryPolicy == "DENY" \
                            and variant.inventoryItem.tracked and levels[0].available < li["quantity"]:
                        errors.append(uerr(["order", "lineItems", i], "Unable to claim inventory for %s" % variant.displayName,
                                           "INVENTORY_CLAIM_FAILED"))
                        continue
            resolved.append((li, variant, loc or self.default_location))
        if errors:
            return {"order": None, "userErrors": errors}
        self.order_number += 1
        o = self.new(Order, self.order_number)
        if order.get("name"):
            o.name = order["name"]
        o.email = order.get("email")
        o.phone = order.get("phone")
        o.note = order.get("note")
        o.tags = list(order.get("tags") or [])
        o.sourceName = order.get("sourceName")
        o.currency = order.get("currency") or self.currency
        if order.get("financialStatus"):
            o.financial_status = order["financialStatus"]
        for key, attr in (("shippingAddress", "shippingAddress"), ("billingAddress", "billingAddress")):
            if order.get(key):
                setattr(o, attr, self.new(MailingAddress, order[key]))
        self.order_table[o.num] = o
        by_location = {}
        for li_in, variant, loc in resolved:
            li = self.new(LineItem, o)
            li.quantity = li_in["quantity"]
            price = ((li_in.get("priceSet") or {}).get("shopMoney") or {}).get("amount")
            if variant is not None:
                li.variant, li.product = variant, variant.product
                li.sku = li_in.get("sku") or variant.sku
                li.title = li_in.get("title") or variant.product.title
                li.variantTitle = variant.title
                li.vendor = variant.product.vendor
                li.price = money(price if price is not None else variant.price)
                li.requiresShipping = variant.inventoryItem.requiresShipping
                li.taxable = variant.taxable
            else:
                li.sku = li_in.get("sku")
                li.title = li_in.get("title")
                li.variantTitle = li_in.get("variantTitle")
                li.vendor = li_in.get("vendor")
                li.price = money(price)
                li.requiresShipping = bool(li_in.get("requiresShipping"))
                li.taxable = li_in.get("taxable", True)
            o.line_list.append(li)
            if variant is not None and behaviour != "BYPASS" and variant.inventoryItem.tracked:
                lv = self.levels.get((variant.inventoryItem.num, loc.num))
                if lv is not None:
                    lv.available -= li.quantity
                    lv.committed += li.quantity
                    self.touch(lv, lv.item)
                    self.log("inventory_adjust", "%s@%s" % (lv.item.id, loc.id),
                             {"name": "available", "delta": -li.quantity, "available": lv.available, "order": o.id})
            by_location.setdefault(loc.num, (loc, []))[1].append(li)
        for loc, line_items in by_location.values():
            fo = self.new(FulfillmentOrder, o, loc)
            for li in line_items:
                fo.line_list.append(self.new(FulfillmentOrderLineItem, fo, li, li.quantity))
            o.fo_list.append(fo)
            self.fulfillment_orders[fo.num] = fo
        self.log("order_create", o.id, {"name": o.name, "lines": [(li.sku, li.quantity) for li in o.line_list],
                                        "fulfillmentOrders": [fo.id for fo in o.fo_list]})
        self.webhook("ORDERS_CREATE", o.rest())
        if self.auto_submit:
            for fo in list(o.fo_list):
                if fo.location.fulfillmentService is not None:
                    self._submit_request(fo, None, None)
        return {"order": o, "userErrors": []}

    def _fo(self, id_):
        return self.find(id_, "FulfillmentOrder", self.fulfillment_orders)

    def _submit_request(self, fo, message, line_inputs):
        original = fo
        unsubmitted = None
        if line_inputs:
            wanted = {}
            for x in line_inputs:
                wanted[x["id"]] = wanted.get(x["id"], 0) + x["quantity"]
            rest = []
            for li in fo.line_list:
                q = wanted.get(li.id, 0)
                if q < li.remainingQuantity:
                    rest.append((li, li.remainingQuantity - q))
            if rest:
                unsubmitted = self.new(FulfillmentOrder, fo.order, fo.location)
                for li, q in rest:
                    unsubmitted.line_list.append(self.new(FulfillmentOrderLineItem, unsubmitted, li.lineItem, q))
                    li.totalQuantity -= q
                    li.remainingQuantity -= q
                fo.line_list = [li for li in fo.line_list if li.remainingQuantity > 0]
                fo.order.fo_list.append(unsubmitted)
                self.fulfillment_orders[unsubmitted.num] = unsubmitted
        fo.requestStatus = "SUBMITTED"
        req = self.new(MerchantRequest, fo, "FULFILLMENT_REQUEST", message, {"notify_customer": False})
        fo.requests.append(req)
        self.touch(fo, fo.order)
        self.log("fulfillment_request_submit", fo.id, {"order": fo.order.id, "location": fo.location.id,
                                                        "unsubmitted": unsubmitted.id if unsubmitted else None})
        self.webhook("FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", {
            "original_fulfillment_order": original.rest(),
            "submitted_fulfillment_order": fo.rest(),
            "fulfillment_order_merchant_request": {"id": req.id, "message": message, "kind": "fulfillment_request"},
        })
        return original, fo, unsubmitted

    def fulfillmentOrderSubmitFulfillmentRequest(self, info, id, message=None, notifyCustomer=None,  # noqa: N802,N803,A002
                                                 fulfillmentOrderLineItems=None):  # noqa: N803
        fo = self._fo(id)
        empty = {"originalFulfillmentOrder": None, "submittedFulfillmentOrder": None, "unsubmittedFulfillmentOrder": None}
        if fo is None:
            return dict(empty, userErrors=[uerr(["id"], "Fulfillment order does not exist.")])
        if fo.location.fulfillmentService is None:
            return dict(empty, userErrors=[uerr(["id"], "Fulfillment order is not assigned to a fulfillment service.")])
        if fo.status != "OPEN" or fo.requestStatus not in ("UNSUBMITTED", "REJECTED"):
            return dict(empty, userErrors=[uerr(["id"], "Cannot request fulfillment for the fulfillment order.")])
        for i, x in enumerate(fulfillmentOrderLineItems or []):
            li = next((l for l in fo.line_list if l.id == x["id"]), None)
            if li is None or x["quantity"] < 0 or x["quantity"] > li.remainingQuantity:
                return dict(empty, userErrors=[uerr(["fulfillmentOrderLineItems", i], "Invalid fulfillment order line item quantity requested.")])
        original, submitted, unsubmitted = self._submit_request(fo, message, fulfillmentOrderLineItems)
        return {"originalFulfillmentOrder": original, "submittedFulfillmentOrder": submitted,
                "unsubmittedFulfillmentOrder": unsubmitted, "userErrors": []}

    def _owned_fo(self, info, id_):
        fo = self._fo(id_)
        if fo is None:
            return None, [uerr(["id"], "Fulfillment order does not exist.")]
        svc = fo.location.fulfillmentService
        if svc is None or svc.app != info.context["app"]:
            return None, [uerr(["id"], "The fulfillment order is not assigned to a fulfillment service of this app.")]
        return fo, []

    def fulfillmentOrderAcceptFulfillmentRequest(self, info, id, message=None, estimatedShippedAt=None):  # noqa: N802,N803,A002
        fo, errors = self._owned_fo(info, id)
        if fo is not None and fo.requestStatus != "SUBMITTED":
            fo, errors = None, [uerr(["id"], "Cannot accept fulfillment request for the fulfillment order.")]
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": errors}
        fo.requestStatus, fo.status = "ACCEPTED", "IN_PROGRESS"
        self.touch(fo, fo.order)
        self.log("fulfillment_request_accept", fo.id, {"message": message})
        self.webhook("FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_ACCEPTED", {"fulfillment_order": fo.rest(), "message": message})
        return {"fulfillmentOrder": fo, "userErrors": []}

    def fulfillmentOrderRejectFulfillmentRequest(self, info, id, reason=None, message=None, **_):  # noqa: N802,A002
        fo, errors = self._owned_fo(info, id)
        if fo is not None and fo.requestStatus != "SUBMITTED":
            fo, errors = None, [uerr(["id"], "Cannot reject fulfillment request for the fulfillment order.")]
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": errors}
        fo.requestStatus, fo.status = "REJECTED", "OPEN"
        self.touch(fo, fo.order)
        self.log("fulfillment_request_reject", fo.id, {"reason": reason, "message": message})
        return {"fulfillmentOrder": fo, "userErrors": []}

    def _request_cancellation(self, fo, message):
        fo.requestStatus = "CANCELLATION_REQUESTED"
        req = self.new(MerchantRequest, fo, "CANCELLATION_REQUEST", message)
        fo.requests.append(req)
        self.touch(fo, fo.order)
        self.log("cancellation_request_submit", fo.id, {"message": message})
        self.webhook("FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED", {
            "fulfillment_order": fo.rest(),
            "fulfillment_order_merchant_request": {"id": req.id, "message": message, "kind": "cancellation_request"},
        })

    def fulfillmentOrderSubmitCancellationRequest(self, info, id, message=None):  # noqa: N802,A002
        fo = self._fo(id)
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": [uerr(["id"], "Fulfillment order does not exist.")]}
        if fo.requestStatus not in ("SUBMITTED", "ACCEPTED", "CANCELLATION_REJECTED") or fo.status in ("CLOSED", "CANCELLED"):
            return {"fulfillmentOrder": None, "userErrors": [uerr(["id"], "Cannot request cancellation for the fulfillment order.")]}
        self._request_cancellation(fo, message)
        return {"fulfillmentOrder": fo, "userErrors": []}

    def _release(self, fo):
        """Give the unfulfilled quantities of a cancelled fulfillment order back to stock."""
        for foli in fo.line_list:
            q = foli.remainingQuantity
            variant = foli.lineItem.variant
            if q and variant is not None:
                lv = self.levels.get((variant.inventoryItem.num, fo.location.num))
                if lv is not None and lv.committed >= q:
                    lv.committed -= q
                    lv.available += q
                    self.touch(lv, lv.item)
                    self.log("inventory_adjust", "%s@%s" % (lv.item.id, fo.location.id),
                             {"name": "available", "delta": q, "available": lv.available, "order": fo.order.id})

    def fulfillmentOrderAcceptCancellationRequest(self, info, id, message=None):  # noqa: N802,A002
        fo, errors = self._owned_fo(info, id)
        if fo is not None and fo.requestStatus != "CANCELLATION_REQUESTED":
            fo, errors = None, [uerr(["id"], "Cannot accept cancellation request for the fulfillment order.")]
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": errors}
        fo.requestStatus = "CANCELLATION_ACCEPTED"
        if fo.order.cancelled is not None:
            self._release(fo)
            for foli in fo.line_list:
                foli.lineItem.removed += foli.remainingQuantity
                foli.remainingQuantity = 0
            fo.status = "CLOSED"
        else:
            # the merchant can move or resubmit it: back to open
            fo.status = "OPEN"
            fo.requestStatus = "CANCELLATION_ACCEPTED"
        self.touch(fo, fo.order)
        self.log("cancellation_request_accept", fo.id, {"message": message})
        return {"fulfillmentOrder": fo, "userErrors": []}

    def fulfillmentOrderRejectCancellationRequest(self, info, id, message=None):  # noqa: N802,A002
        fo, errors = self._owned_fo(info, id)
        if fo is not None and fo.requestStatus != "CANCELLATION_REQUESTED":
            fo, errors = None, [uerr(["id"], "Cannot reject cancellation request for the fulfillment order.")]
        if fo is None:
            return {"fulfillmentOrder": None, "userErrors": errors}
        fo.requestStatus, fo.status = "CANCELLATION_REJECTED", "IN_PROGRESS"
        self.touch(fo, fo.order)
        self.log("cancellation_request_reject", fo.id, {"message": message})
        return {"fulfillmentOrder": fo, "userErrors": []}

    def fulfillmentCreate(self, info, fulfillment, message=None):  # noqa: N802
        groups = fulfillment["lineItemsByFulfillmentOrder"]
        if not groups:
            return {"fulfillment": None, "userErrors": [uerr(["fulfillment", "lineItemsByFulfillmentOrder"],
                                                            "Line items by fulfillment order can't be blank")]}
        plan = []
        order = location = None
        for i, g in enumerate(groups):
            fo = self._fo(g["fulfillmentOrderId"])
            field = ["fulfillment", "lineItemsByFulfillmentOrder", i, "fulfillmentOrderId"]
            if fo is None:
                return {"fulfillment": None, "userErrors": [uerr(field, "Fulfillment order does not exist.")]}
            if fo.status not in ("OPEN", "IN_PROGRESS") or fo.requestStatus in ("CANCELLATION_REQUESTED", "SUBMITTED"):
                return {"fulfillment": None, "userErrors": [uerr(field, "Fulfillment order %s has an unfulfillable status= %s."
                                                                % (fo.id, fo.status.lower()))]}
            if order is not None and (fo.order is not order or fo.location is not location):
                return {"fulfillment": None, "userErrors": [uerr(field, "All fulfillment orders must belong to the same order and location.")]}
            order, location = fo.order, fo.location
            if g.get("fulfillmentOrderLineItems"):
                for j, x in enumerate(g["fulfillmentOrderLineItems"]):
                    foli = next((l for l in fo.line_list if l.id == x["id"]), None)
                    if foli is None:
                        return {"fulfillment": None, "userErrors": [uerr(["fulfillment", "lineItemsByFulfillmentOrder", i,
                                                                        "fulfillmentOrderLineItems", j, "id"],
                                                                       "Fulfillment order line item does not exist.")]}
                    if x["quantity"] < 1 or x["quantity"] > foli.remainingQuantity:
                        return {"fulfillment": None, "userErrors": [uerr(["fulfillment", "lineItemsByFulfillmentOrder", i,
                                                                        "fulfillmentOrderLineItems", j, "quantity"],
                                                                       "Invalid fulfillment order line item quantity requested.")]}
                    plan.append((fo, foli, x["quantity"]))
            else:
                plan.extend((fo, foli, foli.remainingQuantity) for foli in fo.line_list if foli.remainingQuantity > 0)
        if not plan:
            return {"fulfillment": None, "userErrors": [uerr(["fulfillment"], "Nothing left to fulfill.")]}
        f = self.new(Fulfillment, order, location, "%s.%d" % (order.name, len(order.fulfillment_list) + 1))
        t = fulfillment.get("trackingInfo") or {}
        numbers = list(t.get("numbers") or ([t["number"]] if t.get("number") else []))
        urls = list(t.get("urls") or ([t["url"]] if t.get("url") else []))
        for k in range(max(len(numbers), len(urls), 1 if t.get("company") else 0)):
            f.tracking.append({"company": t.get("company"), "number": numbers[k] if k < len(numbers) else None,
                               "url": urls[k] if k < len(urls) else None})
        f.notify = bool(fulfillment.get("notifyCustomer"))
        merged = {}
        for fo, foli, q in plan:
            foli.remainingQuantity -= q
            li = foli.lineItem
            li.fulfilled += q
            merged[li.num] = merged.get(li.num, (li, 0))
            merged[li.num] = (li, merged[li.num][1] + q)
            if li.variant is not None:
                lv = self.levels.get((li.variant.inventoryItem.num, location.num))
                if lv is not None:
                    # shipped goods leave on_hand: the committed part goes
                    # (an order that bypassed inventory committed nothing)
                    lv.committed -= min(q, lv.committed)
                    self.touch(lv, lv.item)
            if fo not in f.fo_list:
                f.fo_list.append(fo)
        for li, q in merged.values():
            f.fli.append(self.new(FulfillmentLineItem, li, q))
        for fo in f.fo_list:
            fo.fulfillment_list.append(f)
            fo.status = "CLOSED" if all(l.remainingQuantity == 0 for l in fo.line_list) else "IN_PROGRESS"
            if fo.status == "CLOSED" and fo.requestStatus == "ACCEPTED":
                fo.requestStatus = "CLOSED"
            self.touch(fo)
        order.fulfillment_list.append(f)
        self.fulfillments[f.num] = f
        self.touch(order)
        self.log("fulfillment_create", f.id, {"order": order.id, "tracking": f.tracking,
                                              "lines": [(x.lineItem.sku, x.quantity) for x in f.fli]})
        self.webhook("FULFILLMENTS_CREATE", f.rest())
        self.webhook("ORDERS_UPDATED", order.rest())
        status = order.displayFulfillmentStatus
        if status == "FULFILLED":
            self.webhook("ORDERS_FULFILLED", order.rest())
        elif status == "PARTIALLY_FULFILLED":
            self.webhook("ORDERS_PARTIALLY_FULFILLED", order.rest())
        return {"fulfillment": f, "userErrors": []}

    def orderCancel(self, info, orderId, restock, reason, refund=None, notifyCustomer=False, staffNote=None, **_):  # noqa: N802,N803
        o = self.find(orderId, "Order", self.order_table)
        if o is None:
            return {"job": None, "orderCancelUserErrors": [uerr(["orderId"], "Order does not exist", "NOT_FOUND")]}
        if o.cancelled is not None:
            return {"job": None, "orderCancelUserErrors": [uerr(["orderId"], "Order has already been cancelled", "INVALID")]}
        if o.displayFulfillmentStatus == "FULFILLED":
            return {"job": None, "orderCancelUserErrors": [uerr(["orderId"], "Cannot cancel a fulfilled order", "INVALID")]}
        o.cancelled = self.emu.now()
        o.cancelReason = reason
        o.closed_at = o.cancelled
        for fo in o.fo_list:
            if fo.status in ("CLOSED", "CANCELLED"):
                continue
            if fo.location.fulfillmentService is not None and fo.requestStatus in ("ACCEPTED", "CANCELLATION_REJECTED"):
                # the fulfillment service must agree: a cancellation request goes out
                self._request_cancellation(fo, staffNote or "Order cancelled")
                continue
            if restock:
                self._release(fo)
            for foli in fo.line_list:
                foli.lineItem.removed += foli.remainingQuantity
                foli.remainingQuantity = 0
            fo.status = "CANCELLED"
            if fo.requestStatus == "SUBMITTED":
                fo.requestStatus = "CLOSED"
            self.touch(fo)
        self.touch(o)
        self.log("order_cancel", o.id, {"reason": reason, "restock": restock})
        self.webhook("ORDERS_CANCELLED", o.rest())
        self.webhook("ORDERS_UPDATED", o.rest())
        return {"job": {"id": gid("Job", self.emu.new_id()), "done": True}, "orderCancelUserErrors": []}

    # ------------------------------------------------------------ snapshot
    def snapshot(self):
        return {
            "name": self.name,
            "domain": self.domain,
            "plan": self.plan,
            "autoSubmitFulfillmentRequests": self.auto_submit,
            "locations": [l.plain() for l in self.locations_.values()],
            "fulfillmentServices": [s.plain() for s in self.services.values()],
            "products": [p.plain() for p in self.product_table.values()],
            "inventoryLevels": [
                {"inventoryItem": lv.item.id, "location": lv.location.id, "sku": lv.item.sku, **lv.plain()}
                for lv in self.levels.values()
            ],
            "orders": [o.plain() for o in self.order_table.values()],
            "fulfillmentOrders": [fo.plain() for fo in self.fulfillment_orders.values()],
            "fulfillments": [f.plain() for f in self.fulfillments.values()],
            "webhooks": [w.plain() for w in self.webhooks.values()],
            "cost": self.emu.bucket_status(self),
        }


def _iso(t):
    from .util import iso

    return iso(t)


