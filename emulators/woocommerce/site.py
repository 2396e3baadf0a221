"""State and resource logic of one emulated WooCommerce site (products,
variations, categories, orders, order notes, webhooks, REST keys), and the
serializers that shape them as WooCommerce 9.2.5 answers.

Everything here runs under the site's lock; the HTTP layer (emulator.py)
handles authentication, faults, latency and webhook delivery.
"""

import copy
import datetime as dt
import hashlib
import random
import re
import threading
import urllib.parse

from . import spec

WC_VERSION = "9.2.5"
UNCATEGORIZED_ID = 15
FIRST_POST_ID = 12
WEBHOOK_RESOURCES = ("coupon", "customer", "order", "product")
WEBHOOK_EVENTS = ("created", "updated", "deleted", "restored")
WEBHOOK_HOOKS = {
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product", "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product", "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "customer.restored": [],
}
ORDER_STATUS_LABELS = {
    "pending": "Pending payment", "processing": "Processing", "on-hold": "On hold",
    "completed": "Completed", "cancelled": "Cancelled", "refunded": "Refunded",
    "failed": "Failed", "checkout-draft": "Draft", "auto-draft": "Draft", "trash": "Trash",
}
BILLING_FIELDS = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country", "email", "phone"]
SHIPPING_FIELDS = ["first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country"]


class WCError(Exception):
    """A WP_Error: answered as {code, message, data: {status, ...}}."""

    def __init__(self, code, message, status=400, **data):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self):
        return {"code": self.code, "message": self.message, "data": dict({"status": self.status}, **self.data)}


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def fmt(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value else None


def parse_date(text):
    """An ISO 8601 string as WordPress reads it: offsets are honoured, no
    offset means site time (UTC here). Returns a naive UTC datetime."""
    if text in (None, ""):
        return None
    text = text.strip().replace(" ", "T")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def money(value):
    return "%.2f" % (float(value or 0) + 0.0)


def decimal_string(value):
    """wc_format_decimal for prices arriving in a batch (numbers accepted)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    return str(value).strip()


def sanitize_title(text):
    text = (text or "").strip().lower()
    text = re.sub(r"[^\w\s-]", "", text, flags=re.UNICODE)
    text = re.sub(r"[\s_]+", "-", text)
    return re.sub(r"-+", "-", text).strip("-")


def php_json(payload):
    """JSON the way wp_json_encode writes it (escaped slashes, ASCII only)."""
    import json

    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _bool(value):
    try:
        return spec._coerce_bool(value)
    except ValueError:
        return bool(value)


def _price_float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class Site:
    def __init__(self, name, url, tls_url, seed, currency="USD"):
        self.name = name
        self.url = url
        self.tls_url = tls_url
        self.seed = seed
        self.currency = currency
        self.lock = threading.RLock()
        self.initial_keys = []
        self.clear()

    # ------------------------------------------------------------ state
    def clear(self):
        self.random = random.Random("%s:data" % self.seed)
        self.next_post = FIRST_POST_ID
        self.next_comment = 1
        self.next_meta = 1
        self.next_term = UNCATEGORIZED_ID + 1
        self.next_webhook = 1
        self.next_key = 1
        self.next_item = 1
        self.products = {}
        self.variations = {}
        self.attachments = {}
        self.orders = {}
        self.notes = {}  # order id -> [note]
        self.webhooks = {}
        self.keys = {}  # consumer key -> key record
        self.tags = {}
        stamp = now()
        self.categories = {
            UNCATEGORIZED_ID: {
                "id": UNCATEGORIZED_ID, "name": "Uncategorized", "slug": "uncategorized", "parent": 0,
                "description": "", "display": "default", "image": None, "menu_order": 0, "_created": stamp,
            }
        }
        self.events = []  # (resource, event, id) to hand to the webhook layer
        self.changes = []  # (kind, key, value) to record in the change log
        self.auth_mode = "auto"
        for key in self.initial_keys:
            self.keys[key["consumer_key"]] = dict(key, nonces={}, last_access=None)
            self.next_key = max(self.next_key, key["key_id"] + 1)

    def post_id(self):
        value = self.next_post
        self.next_post += 1
        return value

    def meta_id(self):
        value = self.next_meta
        self.next_meta += 1
        return value

    def change(self, kind, key, value=None):
        self.changes.append((kind, key, value))

    def event(self, resource, event, rid):
        self.events.append((resource, event, rid))

    def drain(self):
        changes, events = self.changes, self.events
        self.changes, self.events = [], []
        return changes, events

    # ------------------------------------------------------------ keys
    def create_key(self, permissions="read_write", description="", user_id=1, initial=False):
        rnd = self.random if not initial else random.Random("%s:key:%d" % (self.seed, len(self.initial_keys)))
        ck = "ck_" + "%040x" % rnd.getrandbits(160)
        cs = "cs_" + "%040x" % rnd.getrandbits(160)
        record = {
            "key_id": self.next_key, "user_id": user_id, "description": description or "Seller Mode key",
            "permissions": permissions, "consumer_key": ck, "consumer_secret": cs,
            "truncated_key": ck[-7:],
        }
        self.next_key += 1
        if initial:
            self.initial_keys.append(dict(record))
        self.keys[ck] = dict(record, nonces={}, last_access=None)
        self.change("key_create", record["key_id"], {"permissions": permissions})
        return record

    def delete_key(self, ck):
        record = self.keys.pop(ck, None)
        if record:
            self.change("key_revoke", record["key_id"])

    # ------------------------------------------------------------ lookup
    def product(self, pid, code_status=404):
        record = self.products.get(pid)
        if record is None:
            raise WCError("woocommerce_rest_product_invalid_id", "Invalid ID.", code_status)
        return record

    def variation(self, product_id, vid, code_status=404):
        record = self.variations.get(vid)
        if record is None or record["parent_id"] != product_id:
            raise WCError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", code_status)
        return record

    def order(self, oid, code_status=404):
        record = self.orders.get(oid)
        if record is None:
            raise WCError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", code_status)
        return record

    def any_product(self, pid):
        return self.products.get(pid) or self.variations.get(pid)

    # ------------------------------------------------------------ URLs
    def permalink(self, record):
        if record["_kind"] == "variation":
            parent = self.products.get(record["parent_id"])
            base = self.permalink(parent) if parent else self.url + "/"
            query = urllib.parse.urlencode(
                {"attribute_" + sanitize_title(a["name"]): a["option"] for a in record["attributes"]}
            )
            return base + ("?" + query if query else "")
        if record["status"] in ("draft", "pending", "auto-draft") or not record["slug"]:
            return "%s/?post_type=product&p=%d" % (self.url, record["id"])
        return "%s/product/%s/" % (self.url, record["slug"])

    def links(self, path, collection):
        return {
            "self": [{"href": "%s/wp-json/wc/v3/%s" % (self.url, path)}],
            "collection": [{"href": "%s/wp-json/wc/v3/%s" % (self.url, collection)}],
        }

    # ------------------------------------------------------------ SKU
    def sku_owner(self, sku, exclude_id=None):
        wanted = sku.strip().lower()
        if not wanted:
            return None
        for pool in (self.products, self.variations):
            for record in pool.values():
                if record["id"] != exclude_id and record["status"] != "trash" and record["sku"].strip().lower() == wanted:
                    return record["id"]
        return None

    def check_sku(self, sku, exclude_id=None):
        owner = self.sku_owner(sku, exclude_id)
        if owner is not None:
            raise WCError(
                "product_invalid_sku", "Invalid or duplicated SKU.", 400,
                resource_id=owner, unique_sku=self.unique_sku(sku),
            )

    def unique_sku(self, sku):
        n = 1
        while self.sku_owner("%s-%d" % (sku, n)) is not None:
            n += 1
        return "%s-%d" % (sku, n)

    def unique_slug(self, slug, exclude_id=None):
        base = slug or "product"
        taken = {p["slug"] for p in self.products.values() if p["id"] != exclude_id}
        if base not in taken:
            return base
        n = 2
        while "%s-%d" % (base, n) in taken:
            n += 1
        return "%s-%d" % (base, n)

    # ------------------------------------------------------------ meta / images / terms
    def apply_meta(self, record, entries):
        if not isinstance(entries, list):
            return
        meta = record["meta_data"]
        for entry in entries:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            key, value, mid = str(entry["key"]), entry.get("value"), entry.get("id")
            target = None
            if mid:
                target = next((m for m in meta if m["id"] == int(mid)), None)
            if target is None:
                target = next((m for m in meta if m["key"] == key), None)
            if value is None and not mid:
                record["meta_data"] = meta = [m for m in meta if m["key"] != key]
                continue
            if target is None:
                meta.append({"id": self.meta_id(), "key": key, "value": value})
            else:
                target["key"], target["value"] = key, value

    def image(self, data, position):
        if not isinstance(data, dict):
            return None
        image_id = data.get("id")
        if image_id:
            image_id = int(image_id)
            if image_id not in self.attachments:
                raise WCError("woocommerce_product_invalid_image_id", "#%s is an invalid image ID." % image_id, 400)
            record = self.attachments[image_id]
        elif data.get("src"):
            src = str(data["src"])
            if not re.match(r"^https?://", src):
                raise WCError(
                    "woocommerce_product_image_upload_error",
                    "Error getting remote image %s. Error: A valid URL was not provided." % src, 400,
                )
            stamp = now()
            filename = urllib.parse.urlsplit(src).path.rsplit("/", 1)[-1]
            record = {
                "id": self.post_id(), "src": src, "name": filename.rsplit(".", 1)[0] or filename,
                "alt": "", "_created": stamp, "_modified": stamp,
            }
            self.attachments[record["id"]] = record
        else:
            return None
        if "alt" in data:
            record["alt"] = str(data["alt"])
        if data.get("name"):
            record["name"] = str(data["name"])
        return record["id"]

    def serialize_image(self, image_id):
        record = self.attachments.get(image_id)
        if record is None:
            return None
        return {
            "id": record["id"],
            "date_created": fmt(record["_created"]), "date_created_gmt": fmt(record["_created"]),
            "date_modified": fmt(record["_modified"]), "date_modified_gmt": fmt(record["_modified"]),
            "src": record["src"], "name": record["name"], "alt": record["alt"],
        }

    def category_ids(self, entries):
        ids = []
        for entry in entries or []:
            cid = entry.get("id") if isinstance(entry, dict) else entry
            try:
                cid = int(cid)
            except (TypeError, ValueError):
                continue
            if cid in self.categories and cid not in ids:
                ids.append(cid)
        return ids

    def tag_ids(self, entries):
        ids = []
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if entry.get("id") and int(entry["id"]) in self.tags:
                ids.append(int(entry["id"]))
            elif entry.get("name"):
                name = str(entry["name"])
                found = next((t for t in self.tags.values() if t["name"] == name), None)
                if found is None:
                    found = {"id": self.next_term, "name": name, "slug": sanitize_title(name)}
                    self.next_term += 1
                    self.tags[found["id"]] = found
                ids.append(found["id"])
        return ids

    # ------------------------------------------------------------ products
    def new_product_record(self, kind):
        stamp = now()
        return {
            "_kind": kind, "id": 0, "name": "", "slug": "", "type": "simple" if kind == "product" else "variation",
            "status": "publish", "featured": False, "catalog_visibility": "visible", "description": "",
            "short_description": "", "sku": "", "regular_price": "", "sale_price": "",
            "date_on_sale_from": None, "date_on_sale_to": None, "total_sales": 0,
            "virtual": False, "downloadable": False, "external_url": "", "button_text": "",
            "tax_status": "taxable", "tax_class": "", "manage_stock": False, "stock_quantity": None,
            "backorders": "no", "low_stock_amount": None, "sold_individually": False, "weight": "",
            "dimensions": {"length": "", "width": "", "height": ""}, "shipping_class": "",
            "reviews_allowed": True, "upsell_ids": [], "cross_sell_ids": [], "parent_id": 0,
            "purchase_note": "", "categories": [], "tags": [], "images": [], "image": None,
            "attributes": [], "default_attributes": [], "menu_order": 0, "meta_data": [],
            "stock_status": "instock", "post_password": "", "global_unique_id": "",
            "_created": stamp, "_modified": stamp,
        }

    def apply_props(self, record, data, creating):
        """Apply writable properties (WooCommerce's prepare_object_for_database)."""
        kind = record["_kind"]
        if "sku" in data and data["sku"] is not None:
            sku = str(data["sku"]).strip()
            if sku:
                self.check_sku(sku, exclude_id=record["id"] or None)
            record["sku"] = sku
        for name in ("name", "description", "short_description", "purchase_note", "tax_class",
                     "weight", "shipping_class", "external_url", "button_text", "post_password", "global_unique_id"):
            if name in data and data[name] is not None:
                record[name] = str(data[name])
        for name in ("featured", "virtual", "downloadable", "sold_individually", "reviews_allowed"):
            if name in data and data[name] is not None:
                record[name] = _bool(data[name])
        for name, choices in (("type", ["simple", "grouped", "external", "variable"]),
                              ("catalog_visibility", ["visible", "catalog", "search", "hidden"]),
                              ("tax_status", spec.TAX_STATUSES), ("backorders", spec.BACKORDERS)):
            if kind == "variation" and name in ("type", "catalog_visibility"):
                continue
            if name in data and data[name] in choices:
                record[name] = data[name]
        if "status" in data and data["status"] in (spec.PRODUCT_STATUSES if kind == "product" else spec.VARIATION_STATUSES):
            record["status"] = data["status"]
        for name in ("regular_price", "sale_price"):
            if name in data:
                record[name] = decimal_string(data[name])
        for name in ("date_on_sale_from", "date_on_sale_to"):
            for key in (name, name + "_gmt"):
                if key in data:
                    try:
                        record[name] = parse_date(data[key])
                    except ValueError:
                        pass
        if "menu_order" in data and spec._is_int(data["menu_order"]):
            record["menu_order"] = int(data["menu_order"])
        if "dimensions" in data and isinstance(data["dimensions"], dict):
            for axis in ("length", "width", "height"):
                if axis in data["dimensions"]:
                    record["dimensions"][axis] = str(data["dimensions"][axis])
        if kind == "product":
            for name in ("upsell_ids", "cross_sell_ids"):
                if name in data and isinstance(data[name], list):
                    record[name] = [int(x) for x in data[name] if spec._is_int(x)]
            if "parent_id" in data and spec._is_int(data["parent_id"]):
                record["parent_id"] = int(data["parent_id"])
            if "categories" in data:
                record["categories"] = self.category_ids(data["categories"])
            if "tags" in data:
                record["tags"] = self.tag_ids(data["tags"])
            if "images" in data and isinstance(data["images"], list):
                record["images"] = [i for i in (self.image(img, n) for n, img in enumerate(data["images"])) if i]
            if "attributes" in data and isinstance(data["attributes"], list):
                record["attributes"] = [self.product_attribute(a, n) for n, a in enumerate(data["attributes"]) if isinstance(a, dict)]
            if "default_attributes" in data and isinstance(data["default_attributes"], list):
                record["default_attributes"] = [
                    {"id": int(a.get("id") or 0), "name": str(a.get("name", "")), "option": str(a.get("option", ""))}
                    for a in data["default_attributes"] if isinstance(a, dict)
                ]
            for key in ("date_created", "date_created_gmt"):
                if data.get(key):
                    try:
                        record["_created"] = parse_date(data[key])
                    except ValueError:
                        pass
            if "slug" in data and data["slug"]:
                record["slug"] = self.unique_slug(sanitize_title(str(data["slug"])), record["id"])
        else:
            if "image" in data:
                record["image"] = self.image(data["image"], 0) if data["image"] else None
            if "attributes" in data and isinstance(data["attributes"], list):
                record["attributes"] = [
                    {"id": int(a.get("id") or 0), "name": str(a.get("name", "")), "option": str(a.get("option", ""))}
                    for a in data["attributes"] if isinstance(a, dict)
                ]
        if "meta_data" in data:
            self.apply_meta(record, data["meta_data"])
        # Stock (woocommerce_manage_stock = yes).
        if "manage_stock" in data and data["manage_stock"] is not None:
            record["manage_stock"] = _bool(data["manage_stock"])
        if "stock_status" in data and data["stock_status"] in spec.STOCK_STATUSES:
            record["stock_status"] = data["stock_status"]
        if record["manage_stock"]:
            if "stock_quantity" in data and data["stock_quantity"] is not None and spec._is_int(data["stock_quantity"]):
                record["stock_quantity"] = int(float(data["stock_quantity"]))
            if "low_stock_amount" in data:
                value = data["low_stock_amount"]
                record["low_stock_amount"] = int(value) if spec._is_int(value) else None
        else:
            record["stock_quantity"] = None
            record["backorders"] = "no"
            record["low_stock_amount"] = None
        if record["_kind"] == "product" and record["status"] not in ("draft", "pending", "auto-draft") and not record["slug"]:
            record["slug"] = self.unique_slug(sanitize_title(record["name"]) or str(record["id"]), record["id"])
        self.sync_stock_status(record)

    def product_attribute(self, data, position):
        options = data.get("options", [])
        if isinstance(options, str):
            options = [o.strip() for o in options.split("|") if o.strip()]
        return {
            "id": int(data.get("id") or 0),
            "name": str(data.get("name", "")),
            "slug": sanitize_title(str(data.get("name", ""))),
            "position": int(data["position"]) if spec._is_int(data.get("position")) else position,
            "visible": bool(data.get("visible", False)),
            "variation": bool(data.get("variation", False)),
            "options": [str(o) for o in options] if isinstance(options, list) else [],
        }

    def sync_stock_status(self, record):
        if record["_kind"] == "product" and record["type"] == "variable" and not record["manage_stock"]:
            children = [v for v in self.variations.values() if v["parent_id"] == record["id"] and v["status"] == "publish"]
            states = {v["stock_status"] for v in children}
            record["stock_status"] = "instock" if "instock" in states else ("onbackorder" if "onbackorder" in states else "outofstock")
            return
        if record["manage_stock"]:
            qty = record["stock_quantity"] or 0
            if qty > 0:
                record["stock_status"] = "instock"
            elif record["backorders"] != "no":
                record["stock_status"] = "onbackorder"
            else:
                record["stock_status"] = "outofstock"

    def on_sale(self, record):
        sale, regular = _price_float(record["sale_price"]), _price_float(record["regular_price"])
        if sale is None or (regular is not None and sale >= regular):
            return False
        moment = now()
        if record["date_on_sale_from"] and record["date_on_sale_from"] > moment:
            return False
        if record["date_on_sale_to"] and record["date_on_sale_to"] < moment:
            return False
        return True

    def price(self, record):
        if record["_kind"] == "product" and record["type"] == "variable":
            prices = [_price_float(self.price(v)) for v in self.variations.values()
                      if v["parent_id"] == record["id"] and v["status"] == "publish"]
            prices = [p for p in prices if p is not None]
            if not prices:
                return ""
            low = min(prices)
            return decimal_string(low)
        return record["sale_price"] if self.on_sale(record) else record["regular_price"]

    def price_html(self, record):
        price = _price_float(self.price(record))
        if price is None:
            return ""
        amount = '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">%s</span>%.2f</bdi></span>'
        return amount % (self.currency_symbol(), price)

    def currency_symbol(self):
        return {"USD": "&#36;", "EUR": "&euro;", "GBP": "&pound;"}.get(self.currency, self.currency)

    def children(self, pid):
        return sorted(v["id"] for v in self.variations.values() if v["parent_id"] == pid)

    def serialize_product(self, record, context="view"):
        """A product as GET /products/<id> shows it (variations too: type 'variation')."""
        is_var = record["_kind"] == "variation"
        parent = self.products.get(record["parent_id"]) if is_var else None
        if is_var:
            name = (parent["name"] if parent else "") + (
                " - " + ", ".join(a["option"] for a in record["attributes"]) if record["attributes"] else "")
            slug = sanitize_title(name)
            images = [self.serialize_image(record["image"])] if record["image"] else []
        else:
            name, slug = record["name"], record["slug"]
            images = [self.serialize_image(i) for i in record["images"] if i in self.attachments]
        managing = record["manage_stock"]
        out = {
            "id": record["id"],
            "name": name,
            "slug": slug,
            "permalink": self.permalink(record),
            "date_created": fmt(record["_created"]),
            "date_created_gmt": fmt(record["_created"]),
            "date_modified": fmt(record["_modified"]),
            "date_modified_gmt": fmt(record["_modified"]),
            "type": record["type"],
            "status": record["status"],
            "featured": record["featured"],
            "catalog_visibility": record["catalog_visibility"],
            "description": record["description"],
            "short_description": record["short_description"],
            "sku": record["sku"],
            "price": self.price(record),
            "regular_price": "" if record["type"] == "variable" else record["regular_price"],
            "sale_price": "" if record["type"] == "variable" else record["sale_price"],
            "date_on_sale_from": fmt(record["date_on_sale_from"]),
            "date_on_sale_from_gmt": fmt(record["date_on_sale_from"]),
            "date_on_sale_to": fmt(record["date_on_sale_to"]),
            "date_on_sale_to_gmt": fmt(record["date_on_sale_to"]),
            "on_sale": self.on_sale(record) if record["type"] != "variable" else any(
                self.on_sale(v) for v in self.variations.values() if v["parent_id"] == record["id"]),
            "purchasable": record["status"] == "publish" and self.price(record) != "",
            "total_sales": record["total_sales"],
            "virtual": record["virtual"],
            "downloadable": record["downloadable"],
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "external_url": record["external_url"],
            "button_text": record["button_text"],
            "tax_status": record["tax_status"],
            "tax_class": record["tax_class"],
            "manage_stock": managing,
            "stock_quantity": record["stock_quantity"] if managing else None,
            "backorders": record["backorders"],
            "backorders_allowed": record["backorders"] != "no",
            "backordered": record["stock_status"] == "onbackorder",
            "low_stock_amount": record["low_stock_amount"],
            "sold_individually": record["sold_individually"],
            "weight": record["weight"],
            "dimensions": dict(record["dimensions"]),
            "shipping_required": not record["virtual"],
            "shipping_taxable": record["tax_status"] in ("taxable", "shipping") and not record["virtual"],
            "shipping_class": record["shipping_class"],
            "shipping_class_id": "0",
            "reviews_allowed": record["reviews_allowed"],
            "average_rating": "0.00",
            "rating_count": 0,
            "upsell_ids": list(record["upsell_ids"]),
            "cross_sell_ids": list(record["cross_sell_ids"]),
            "parent_id": record["parent_id"],
            "purchase_note": record["purchase_note"],
            "categories": [
                {"id": c, "name": self.categories[c]["name"], "slug": self.categories[c]["slug"]}
                for c in (parent["categories"] if is_var and parent else record["categories"]) if c in self.categories
            ] if not is_var else [],
            "tags": [{"id": t, "name": self.tags[t]["name"], "slug": self.tags[t]["slug"]} for t in record["tags"] if t in self.tags],
            "images": images,
            "attributes": [
                {k: a[k] for k in ("id", "name", "position", "visible", "variation", "options")} for a in record["attributes"]
            ] if not is_var else [
                {"id": a["id"], "name": a["name"], "option": a["option"]} for a in record["attributes"]
            ],
            "default_attributes": [dict(a) for a in record["default_attributes"]],
            "variations": self.children(record["id"]) if not is_var else [],
            "grouped_products": [],
            "menu_order": record["menu_order"],
            "price_html": self.price_html(record),
            "related_ids": [],
            "meta_data": [dict(m) for m in record["meta_data"]],
            "stock_status": record["stock_status"],
            "has_options": record["type"] == "variable",
            "post_password": record["post_password"],
            "global_unique_id": record["global_unique_id"],
        }
        if context == "edit" and not is_var:
            out["permalink_template"] = "%s/product/%%pagename%%/" % self.url
            out["generated_slug"] = sanitize_title(record["name"])
        out["_links"] = self.links("products/%d" % record["id"], "products")
        if is_var:
            out["_links"]["up"] = [{"href": "%s/wp-json/wc/v3/products/%d" % (self.url, record["parent_id"])}]
        return out

    def serialize_variation(self, record, context="view"):
        managing = record["manage_stock"]
        out = {
            "id": record["id"],
            "date_created": fmt(record["_created"]),
            "date_modified": fmt(record["_modified"]),
            "description": record["description"],
            "permalink": self.permalink(record),
            "sku": record["sku"],
            "price": self.price(record),
            "regular_price": record["regular_price"],
            "sale_price": record["sale_price"],
            "date_on_sale_from": fmt(record["date_on_sale_from"]),
            "date_on_sale_from_gmt": fmt(record["date_on_sale_from"]),
            "date_on_sale_to": fmt(record["date_on_sale_to"]),
            "date_on_sale_to_gmt": fmt(record["date_on_sale_to"]),
            "on_sale": self.on_sale(record),
            "status": record["status"],
            "purchasable": record["status"] == "publish" and self.price(record) != "",
            "virtual": record["virtual"],
            "downloadable": record["downloadable"],
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "tax_status": record["tax_status"],
            "tax_class": record["tax_class"],
            "manage_stock": managing,
            "stock_quantity": record["stock_quantity"] if managing else None,
            "stock_status": record["stock_status"],
            "backorders": record["backorders"],
            "backorders_allowed": record["backorders"] != "no",
            "backordered": record["stock_status"] == "onbackorder",
            "low_stock_amount": record["low_stock_amount"],
            "weight": record["weight"],
            "dimensions": dict(record["dimensions"]),
            "shipping_class": record["shipping_class"],
            "shipping_class_id": "0",
            "image": self.serialize_image(record["image"]) if record["image"] else None,
            "attributes": [{"id": a["id"], "name": a["name"], "option": a["option"]} for a in record["attributes"]],
            "menu_order": record["menu_order"],
            "meta_data": [dict(m) for m in record["meta_data"]],
            "type": "variation",
            "global_unique_id": record["global_unique_id"],
        }
        path = "products/%d/variations" % record["parent_id"]
        out["_links"] = self.links("%s/%d" % (path, record["id"]), path)
        out["_links"]["up"] = [{"href": "%s/wp-json/wc/v3/products/%d" % (self.url, record["parent_id"])}]
        return out

    def set_stock(self, record, qty):
        """Set a managed stock quantity directly (as wc_update_product_stock)."""
        old = record["stock_quantity"]
        record["stock_quantity"] = qty
        self.sync_stock_status(record)
        record["_modified"] = now()
        if old != qty:
            self.change("stock_set", record["id"], qty)
        if record["_kind"] == "variation" and record["parent_id"] in self.products:
            self.sync_stock_status(self.products[record["parent_id"]])

    def _stock_log(self, before, record):
        if before != record["stock_quantity"]:
            self.change("stock_set", record["id"], record["stock_quantity"])

    def create_product(self, data):
        record = self.new_product_record("product")
        record["id"] = 0
        if "sku" in data and data["sku"]:
            self.check_sku(str(data["sku"]).strip())
        record["id"] = self.post_id()
        try:
            self.apply_props(record, data, creating=True)
        except WCError:
            self.next_post -= 1
            raise
        if not record["categories"]:
            record["categories"] = [UNCATEGORIZED_ID]
        self.products[record["id"]] = record
        self.change("product_create", record["id"], {"sku": record["sku"], "name": record["name"]})
        if record["manage_stock"] and record["stock_quantity"] is not None:
            self.change("stock_set", record["id"], record["stock_quantity"])
        self.event("product", "created", record["id"])
        return record

    def update_product(self, pid, data):
        record = self.product(pid, 400)
        work = copy.deepcopy(record)
        before = record["stock_quantity"] if record["manage_stock"] else None
        self.apply_props(work, data, creating=False)
        work["_modified"] = now()
        record.clear()
        record.update(work)
        self.change("product_update", pid, sorted(k for k in data if k != "id"))
        self._stock_log(before, record)
        self.event("product", "updated", pid)
        return record

    def delete_product(self, pid, force):
        record = self.product(pid, 404)
        out = self.serialize_product(record)
        if force:
            for vid in self.children(pid):
                self.variations.pop(vid, None)
            del self.products[pid]
            self.change("product_delete", pid, {"force": True})
            self.event("product", "deleted", pid)
            return out
        if record["status"] == "trash":
            raise WCError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
        record["status"] = "trash"
        record["_modified"] = now()
        self.change("product_delete", pid, {"force": False})
        self.event("product", "deleted", pid)
        return self.serialize_product(record)

    def create_variation(self, product_id, data):
        parent = self.products.get(product_id)
        if parent is None:
            raise WCError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        record = self.new_product_record("variation")
        record["parent_id"] = product_id
        record["type"] = "variation"
        if "sku" in data and data["sku"]:
            self.check_sku(str(data["sku"]).strip())
        record["id"] = self.post_id()
        try:
            self.apply_props(record, data, creating=True)
        except WCError:
            self.next_post -= 1
            raise
        self.variations[record["id"]] = record
        self.sync_stock_status(parent)
        self.change("variation_create", record["id"], {"parent_id": product_id, "sku": record["sku"]})
        if record["manage_stock"] and record["stock_quantity"] is not None:
            self.change("stock_set", record["id"], record["stock_quantity"])
        self.event("product", "created", record["id"])
        return record

    def update_variation(self, product_id, vid, data):
        record = self.variation(product_id, vid, 400)
        work = copy.deepcopy(record)
        before = record["stock_quantity"] if record["manage_stock"] else None
        self.apply_props(work, data, creating=False)
        work["_modified"] = now()
        record.clear()
        record.update(work)
        if product_id in self.products:
            self.sync_stock_status(self.products[product_id])
        self.change("variation_update", vid, sorted(k for k in data if k not in ("id", "product_id")))
        self._stock_log(before, record)
        self.event("product", "updated", vid)
        return record

    def delete_variation(self, product_id, vid, force):
        record = self.variation(product_id, vid, 404)
        if not force:
            raise WCError("woocommerce_rest_trash_not_supported", "Resource does not support trashing.", 501)
        out = self.serialize_variation(record)
        del self.variations[vid]
        if product_id in self.products:
            self.sync_stock_status(self.products[product_id])
        self.change("variation_delete", vid, {"parent_id": product_id})
        self.event("product", "deleted", vid)
        return out

    # ------------------------------------------------------------ categories
    def serialize_category(self, record):
        return {
            "id": record["id"], "name": record["name"], "slug": record["slug"], "parent": record["parent"],
            "description": record["description"], "display": record["display"],
            "image": self.serialize_image(record["image"]) if record["image"] else None,
            "menu_order": record["menu_order"],
            "count": sum(1 for p in self.products.values() if record["id"] in p["categories"] and p["status"] == "publish"),
            "_links": self.links("products/categories/%d" % record["id"], "products/categories"),
        }

    def category(self, cid):
        record = self.categories.get(cid)
        if record is None:
            raise WCError("woocommerce_rest_term_invalid", "Resource does not exist.", 404)
        return record

    def create_category(self, data):
        name = str(data.get("name", "")).strip()
        if not name:
            raise WCError("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
        parent = int(data.get("parent") or 0)
        for other in self.categories.values():
            if other["name"].lower() == name.lower() and other["parent"] == parent:
                raise WCError("term_exists", "A term with the name provided already exists with this parent.", 400, resource_id=other["id"])
        slug = sanitize_title(data.get("slug") or name) or str(self.next_term)
        taken = {c["slug"] for c in self.categories.values()}
        base, n = slug, 2
        while slug in taken:
            slug, n = "%s-%d" % (base, n), n + 1
        record = {
            "id": self.next_term, "name": name, "slug": slug, "parent": parent,
            "description": str(data.get("description", "")), "display": data.get("display") or "default",
            "image": None, "menu_order": int(data.get("menu_order") or 0), "_created": now(),
        }
        self.next_term += 1
        self.categories[record["id"]] = record
        self.change("category_create", record["id"], {"name": name})
        return record

    def update_category(self, cid, data):
        record = self.category(cid)
        for name in ("name", "description", "display"):
            if name in data and data[name] is not None:
                record[name] = str(data[name])
        if data.get("slug"):
            record["slug"] = sanitize_title(data["slug"])
        for name in ("parent", "menu_order"):
            if name in data and spec._is_int(data[name]):
                record[name] = int(data[name])
        self.change("category_update", cid, sorted(data))
        return record

    def delete_category(self, cid, force):
        record = self.category(cid)
        if not force:
            raise WCError("woocommerce_rest_trash_not_supported", "Resource does not support trashing.", 501)
        if cid == UNCATEGORIZED_ID:
            raise WCError("woocommerce_rest_cannot_delete", "Default product category cannot be deleted.", 500)
        out = self.serialize_category(record)
        del self.categories[cid]
        for product in self.products.values():
            if cid in product["categories"]:
                product["categories"].remove(cid)
                if not product["categories"]:
                    product["categories"] = [UNCATEGORIZED_ID]
        self.change("category_delete", cid)
        return out

    # ------------------------------------------------------------ orders
    def new_order(self, created_via):
        stamp = now()
        oid = self.post_id()
        return {
            "id": oid, "parent_id": 0, "status": "pending", "currency": self.currency, "customer_id": 0,
            "order_key": "wc_order_" + "".join(self.random.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(13)),
            "billing": {f: "" for f in BILLING_FIELDS}, "shipping": {f: "" for f in SHIPPING_FIELDS},
            "payment_method": "", "payment_method_title": "", "transaction_id": "",
            "created_via": created_via, "customer_note": "", "meta_data": [], "line_items": [],
            "shipping_lines": [], "fee_lines": [], "_created": stamp, "_modified": stamp,
            "_completed": None, "_paid": None, "_stock_reduced": False,
        }

    def line_item(self, posted, existing=None):
        if not isinstance(posted, dict):
            raise WCError("woocommerce_rest_invalid_line_item", "Line item is not an object.", 400)
        item = existing or {
            "id": 0, "name": "", "product_id": 0, "variation_id": 0, "quantity": 1, "tax_class": "",
            "subtotal": "0.00", "total": "0.00", "meta_data": [], "sku": "", "_image": None, "parent_name": None,
        }
        product = None
        if posted.get("sku"):
            owner = self.sku_owner(str(posted["sku"]))
            product = self.any_product(owner) if owner else None
        elif posted.get("variation_id"):
            product = self.variations.get(int(posted["variation_id"]))
        elif posted.get("product_id"):
            product = self.any_product(int(posted["product_id"])) if spec._is_int(posted["product_id"]) else None
        elif existing is None:
            raise WCError("woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400)
        if "quantity" in posted and spec._is_int(posted["quantity"]):
            item["quantity"] = int(float(posted["quantity"]))
        if product is not None:
            is_var = product["_kind"] == "variation"
            parent = self.products.get(product["parent_id"]) if is_var else None
            item["product_id"] = parent["id"] if parent else product["id"]
            item["variation_id"] = product["id"] if is_var else 0
            item["sku"] = product["sku"]
            item["tax_class"] = product["tax_class"]
            if is_var:
                item["name"] = (parent["name"] if parent else "") + (
                    " - " + ", ".join(a["option"] for a in product["attributes"]) if product["attributes"] else "")
                item["parent_name"] = parent["name"] if parent else None
                item["meta_data"] = [
                    {"id": self.meta_id(), "key": sanitize_title(a["name"]), "value": a["option"],
                     "display_key": a["name"], "display_value": a["option"]}
                    for a in product["attributes"]
                ]
                item["_image"] = product["image"] or (parent["images"][0] if parent and parent["images"] else None)
            else:
                item["name"] = product["name"]
                item["_image"] = product["images"][0] if product["images"] else None
            unit = _price_float(self.price(product)) or 0.0
            item["subtotal"] = item["total"] = money(unit * item["quantity"])
        if "name" in posted and posted["name"] is not None:
            item["name"] = str(posted["name"])
        for name in ("subtotal", "total"):
            if name in posted and posted[name] not in (None, ""):
                item[name] = money(_price_float(decimal_string(posted[name])) or 0)
        if "total" in posted and "subtotal" not in posted and existing is None:
            item["subtotal"] = item["total"]
        if isinstance(posted.get("meta_data"), list):
            self.apply_meta(item, posted["meta_data"])
        if not item["id"]:
            item["id"] = self.next_item
            self.next_item += 1
        return item

    def other_line(self, posted, kind):
        line = {"id": self.next_item, "total": money(_price_float(decimal_string(posted.get("total"))) or 0), "meta_data": []}
        self.next_item += 1
        if kind == "shipping":
            line.update(method_title=str(posted.get("method_title", "")), method_id=str(posted.get("method_id", "")),
                        instance_id=str(posted.get("instance_id", "")))
        else:
            line.update(name=str(posted.get("name", "")), tax_class=str(posted.get("tax_class", "")),
                        tax_status=posted.get("tax_status") if posted.get("tax_status") in ("taxable", "none") else "taxable")
        return line

    def order_total(self, order):
        total = sum(float(i["total"]) for i in order["line_items"])
        total += sum(float(s["total"]) for s in order["shipping_lines"])
        total += sum(float(f["total"]) for f in order["fee_lines"])
        return total

    def add_note(self, oid, text, customer_note=False, added_by_user=False):
        note = {
            "id": self.next_comment, "order_id": oid, "author": "admin" if added_by_user else "system",
            "note": text, "customer_note": bool(customer_note), "_created": now(),
        }
        self.next_comment += 1
        self.notes.setdefault(oid, []).append(note)
        self.change("note_create", note["id"], {"order_id": oid, "customer_note": note["customer_note"]})
        return note

    def adjust_stock(self, order, direction):
        """Reduce (direction -1) or restore (+1) the stock of managed items, as
        wc_maybe_reduce_stock_levels / wc_maybe_increase_stock_levels do."""
        changes = []
        for item in order["line_items"]:
            product = self.any_product(item["variation_id"] or item["product_id"])
            if product is None or not product["manage_stock"]:
                continue
            old = product["stock_quantity"] or 0
            new = old + direction * item["quantity"]
            self.set_stock(product, new)
            if direction < 0:
                product["total_sales"] += item["quantity"]
                parent = self.products.get(product["parent_id"]) if product["_kind"] == "variation" else None
                if parent:
                    parent["total_sales"] += item["quantity"]
            label = item["name"] + (" (%s)" % product["sku"] if product["sku"] else "")
            changes.append("%s %d&rarr;%d" % (label, old, new))
            self.event("product", "updated", product["id"])
        if changes:
            self.add_note(order["id"], ("Stock levels reduced: " if direction < 0 else "Stock levels increased: ") + ", ".join(changes))
        order["_stock_reduced"] = direction < 0

    def transition(self, order, old, new, note=True):
        stamp = now()
        if new in ("processing", "completed") and not order["_paid"]:
            order["_paid"] = stamp
        if new == "completed":
            order["_completed"] = stamp
        if new in ("processing", "completed", "on-hold") and not order["_stock_reduced"]:
            self.adjust_stock(order, -1)
        elif new in ("cancelled", "pending") and order["_stock_reduced"]:
            self.adjust_stock(order, +1)
        if note and old != new:
            self.add_note(order["id"], "Order status changed from %s to %s." % (
                ORDER_STATUS_LABELS.get(old, old), ORDER_STATUS_LABELS.get(new, new)))

    def apply_order(self, order, data, creating):
        for name in ("billing", "shipping"):
            if isinstance(data.get(name), dict):
                fields = BILLING_FIELDS if name == "billing" else SHIPPING_FIELDS
                for key in fields:
                    if key in data[name] and data[name][key] is not None:
                        order[name][key] = str(data[name][key])
        for name in ("payment_method", "payment_method_title", "transaction_id", "customer_note"):
            if name in data and data[name] is not None:
                order[name] = str(data[name])
        for name in ("customer_id", "parent_id"):
            if name in data and spec._is_int(data[name]):
                order[name] = int(data[name])
        if data.get("currency") in spec.CURRENCIES:
            order["currency"] = data["currency"]
        if "meta_data" in data:
            self.apply_meta(order, data["meta_data"])
        if isinstance(data.get("line_items"), list):
            for posted in data["line_items"]:
                existing = None
                if isinstance(posted, dict) and posted.get("id"):
                    existing = next((i for i in order["line_items"] if i["id"] == int(posted["id"])), None)
                    if existing is None:
                        raise WCError("woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.", 400)
                    if spec._is_int(posted.get("quantity")) and int(posted["quantity"]) == 0:
                        order["line_items"].remove(existing)
                        continue
                item = self.line_item(posted, existing)
                if existing is None:
                    order["line_items"].append(item)
        for name, kind in (("shipping_lines", "shipping"), ("fee_lines", "fee")):
            if isinstance(data.get(name), list):
                for posted in data[name]:
                    if isinstance(posted, dict) and not posted.get("id"):
                        order[name].append(self.other_line(posted, kind))

    def create_order(self, data, created_via="rest-api"):
        order = self.new_order(created_via)
        self.apply_order(order, data, creating=True)
        self.orders[order["id"]] = order
        status = data.get("status") if data.get("status") in spec.ORDER_STATUSES else "pending"
        if data.get("set_paid") and status in ("pending", "failed", "cancelled", "on-hold"):
            status = "processing"
            order["_paid"] = now()
        order["status"] = status
        self.change("order_create", order["id"], {"status": status, "created_via": created_via})
        if status != "pending":
            self.transition(order, "pending", status, note=False)
        self.event("order", "created", order["id"])
        return order

    def update_order(self, oid, data):
        order = self.order(oid, 400)
        work = copy.deepcopy(order)
        self.apply_order(work, data, creating=False)
        order.clear()
        order.update(work)
        old = order["status"]
        new = data.get("status") if data.get("status") in spec.ORDER_STATUSES else old
        if data.get("set_paid") and new in ("pending", "failed", "cancelled", "on-hold"):
            new = "processing"
        order["status"] = new
        order["_modified"] = now()
        self.change("order_update", oid, {"status": new, "fields": sorted(k for k in data if k != "id")})
        if new != old:
            self.transition(order, old, new)
        self.event("order", "updated", oid)
        return order

    def delete_order(self, oid, force):
        order = self.order(oid, 404)
        out = self.serialize_order(order)
        if force:
            del self.orders[oid]
            self.notes.pop(oid, None)
        else:
            if order["status"] == "trash":
                raise WCError("woocommerce_rest_already_trashed", "The order has already been deleted.", 410)
            order["status"] = "trash"
            order["_modified"] = now()
            out = self.serialize_order(order)
        self.change("order_delete", oid, {"force": bool(force)})
        self.event("order", "deleted", oid)
        return out

    def serialize_order(self, order, context="view"):
        total = self.order_total(order)
        shipping_total = sum(float(s["total"]) for s in order["shipping_lines"])
        items = []
        for item in order["line_items"]:
            image = self.attachments.get(item["_image"]) if item["_image"] else None
            items.append({
                "id": item["id"], "name": item["name"], "product_id": item["product_id"],
                "variation_id": item["variation_id"], "quantity": item["quantity"], "tax_class": item["tax_class"],
                "subtotal": item["subtotal"], "subtotal_tax": "0.00", "total": item["total"], "total_tax": "0.00",
                "taxes": [], "meta_data": [dict(m) for m in item["meta_data"]], "sku": item["sku"],
                "price": float(item["total"]) / max(1, item["quantity"]),
                "image": {"id": image["id"] if image else 0, "src": image["src"] if image else ""},
                "parent_name": item["parent_name"],
            })
        needs_payment = order["status"] in ("pending", "failed") and total > 0
        return {
            "id": order["id"],
            "parent_id": order["parent_id"],
            "status": order["status"],
            "currency": order["currency"],
            "version": WC_VERSION,
            "prices_include_tax": False,
            "date_created": fmt(order["_created"]),
            "date_modified": fmt(order["_modified"]),
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": money(shipping_total),
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": money(total),
            "total_tax": "0.00",
            "customer_id": order["customer_id"],
            "order_key": order["order_key"],
            "billing": dict(order["billing"]),
            "shipping": dict(order["shipping"]),
            "payment_method": order["payment_method"],
            "payment_method_title": order["payment_method_title"],
            "transaction_id": order["transaction_id"],
            "customer_ip_address": "",
            "customer_user_agent": "",
            "created_via": order["created_via"],
            "customer_note": order["customer_note"],
            "date_completed": fmt(order["_completed"]),
            "date_paid": fmt(order["_paid"]),
            "cart_hash": "",
            "number": str(order["id"]),
            "meta_data": [dict(m) for m in order["meta_data"]],
            "line_items": items,
            "tax_lines": [],
            "shipping_lines": [
                {"id": s["id"], "method_title": s["method_title"], "method_id": s["method_id"], "instance_id": s["instance_id"],
                 "total": s["total"], "total_tax": "0.00", "taxes": [], "meta_data": []}
                for s in order["shipping_lines"]
            ],
            "fee_lines": [
                {"id": f["id"], "name": f["name"], "tax_class": f["tax_class"], "tax_status": f["tax_status"],
                 "total": f["total"], "total_tax": "0.00", "taxes": [], "meta_data": []}
                for f in order["fee_lines"]
            ],
            "coupon_lines": [],
            "refunds": [],
            "payment_url": "%s/checkout/order-pay/%d/?pay_for_order=true&key=%s" % (self.url, order["id"], order["order_key"]),
            "is_editable": order["status"] in ("pending", "on-hold", "auto-draft", "checkout-draft"),
            "needs_payment": needs_payment,
            "needs_processing": any(not (self.any_product(i["variation_id"] or i["product_id"]) or {}).get("virtual", False)
                                    for i in order["line_items"]),
            "date_created_gmt": fmt(order["_created"]),
            "date_modified_gmt": fmt(order["_modified"]),
            "date_completed_gmt": fmt(order["_completed"]),
            "date_paid_gmt": fmt(order["_paid"]),
            "_links": self.links("orders/%d" % order["id"], "orders"),
        }

    def serialize_note(self, note):
        path = "orders/%d/notes" % note["order_id"]
        links = self.links("%s/%d" % (path, note["id"]), path)
        links["up"] = [{"href": "%s/wp-json/wc/v3/orders/%d" % (self.url, note["order_id"])}]
        return {
            "id": note["id"], "author": note["author"], "date_created": fmt(note["_created"]),
            "date_created_gmt": fmt(note["_created"]), "note": note["note"],
            "customer_note": note["customer_note"], "_links": links,
        }

    # ------------------------------------------------------------ webhooks
    def webhook(self, wid):
        record = self.webhooks.get(wid)
        if record is None:
            raise WCError("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        return record

    @staticmethod
    def valid_topic(topic):
        if not topic:
            return False
        if topic.startswith("action.") and len(topic) > 7:
            return True
        parts = topic.split(".")
        return len(parts) == 2 and parts[0] in WEBHOOK_RESOURCES and parts[1] in WEBHOOK_EVENTS

    def create_webhook(self, data):
        missing = [n for n in ("topic", "delivery_url") if not data.get(n)]
        if missing:
            raise WCError("rest_missing_callback_param", "Missing parameter(s): %s" % ", ".join(missing), 400, params=missing)
        topic = str(data["topic"]).lower()
        if not self.valid_topic(topic):
            raise WCError("woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400)
        url = str(data["delivery_url"])
        if not re.match(r"^https?://[^\s/]+", url):
            raise WCError("woocommerce_rest_shop_webhook_invalid_delivery_url",
                          "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
        stamp = now()
        resource, event = topic.split(".", 1)
        record = {
            "id": self.next_webhook, "name": str(data.get("name") or "Webhook created on %s" % stamp.strftime("%B %d, %Y @ %I:%M %p")),
            "status": data.get("status") if data.get("status") in spec.WEBHOOK_STATUSES else "active",
            "topic": topic, "resource": resource, "event": event, "delivery_url": url,
            "secret": str(data.get("secret") or "".join(self.random.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()") for _ in range(50))),
            "failure_count": 0, "_created": stamp, "_modified": stamp,
        }
        self.next_webhook += 1
        self.webhooks[record["id"]] = record
        self.change("webhook_create", record["id"], {"topic": topic, "delivery_url": url})
        return record

    def update_webhook(self, wid, data):
        record = self.webhook(wid)
        if "topic" in data:
            topic = str(data["topic"]).lower()
            if not self.valid_topic(topic):
                raise WCError("woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic must be valid.", 400)
            record["topic"] = topic
            record["resource"], record["event"] = topic.split(".", 1)
        if data.get("name"):
            record["name"] = str(data["name"])
        if data.get("secret"):
            record["secret"] = str(data["secret"])
        if data.get("status") in spec.WEBHOOK_STATUSES:
            record["status"] = data["status"]
            if data["status"] == "active":
                record["failure_count"] = 0
        record["_modified"] = now()
        self.change("webhook_update", wid, {k: data[k] for k in ("status", "topic", "name") if k in data})
        return record

    def serialize_webhook(self, record, context="view"):
        out = {
            "id": record["id"], "name": record["name"], "status": record["status"], "topic": record["topic"],
            "resource": record["resource"], "event": record["event"], "hooks": list(WEBHOOK_HOOKS.get(record["topic"], [])),
            "delivery_url": record["delivery_url"],
            "date_created": fmt(record["_created"]), "date_created_gmt": fmt(record["_created"]),
            "date_modified": fmt(record["_modified"]), "date_modified_gmt": fmt(record["_modified"]),
        }
        if context == "edit":
            out["secret"] = record["secret"]
        out["_links"] = self.links("webhooks/%d" % record["id"], "webhooks")
        return out

    # ------------------------------------------------------------ snapshot
    def snapshot(self):
        strip = lambda d: {k: v for k, v in d.items() if k != "_links"}  # noqa: E731
        return {
            "name": self.name,
            "url": self.url,
            "products": [strip(self.serialize_product(p, "edit")) for p in sorted(self.products.values(), key=lambda r: r["id"])],
            "variations": [dict(strip(self.serialize_variation(v)), parent_id=v["parent_id"]) for v in sorted(self.variations.values(), key=lambda r: r["id"])],
            "categories": [strip(self.serialize_category(c)) for c in sorted(self.categories.values(), key=lambda r: r["id"])],
            "orders": [strip(self.serialize_order(o)) for o in sorted(self.orders.values(), key=lambda r: r["id"])],
            "notes": {str(oid): [dict(strip(self.serialize_note(n)), order_id=oid) for n in notes] for oid, notes in self.notes.items()},
            "webhooks": [dict(strip(self.serialize_webhook(w, "edit")), failure_count=w["failure_count"]) for w in sorted(self.webhooks.values(), key=lambda r: r["id"])],
            "keys": [
                {k: v for k, v in key.items() if k != "nonces"} for key in sorted(self.keys.values(), key=lambda r: r["key_id"])
            ],
        }


def delivery_id(seed, counter):
    return hashlib.md5(("%s:%d" % (seed, counter)).encode()).hexdigest()
