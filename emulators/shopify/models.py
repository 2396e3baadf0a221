"""The objects of one shop. Each is also the GraphQL source of its type: the
graphql-core default resolver reads attributes, and calls methods with
``(info, **arguments)``, so GraphQL field names are attributes/methods here
and internal state uses snake_case names that never clash with them."""

from .util import MAX_PAGE, connection, decimal_str, gid, iso, matches, parse_gid, parse_search

QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control")


class Obj:
    TYPENAME = "Node"
    GID = None

    def __init__(self, shop, num, now):
        self.shop = shop
        self.num = num
        self.created = now
        self.updated = now

    @property
    def id(self):
        return gid(self.GID or self.TYPENAME, self.num)

    @property
    def legacyResourceId(self):  # noqa: N802 - GraphQL name
        return str(self.num)

    @property
    def createdAt(self):  # noqa: N802
        return iso(self.created)

    @property
    def updatedAt(self):  # noqa: N802
        return iso(self.updated)


def _metafield_getters(owner):
    def metafield(info, key, namespace=None):
        for m in owner.mf:
            if m.key == key and (namespace or "custom") == m.namespace:
                return m
        return None

    def metafields(info, namespace=None, keys=None, **page):
        items = [
            m
            for m in owner.mf
            if (namespace is None or m.namespace == namespace)
            and (keys is None or "%s.%s" % (m.namespace, m.key) in keys)
        ]
        return connection(items, **page)

    return metafield, metafields


class Metafield(Obj):
    TYPENAME = "Metafield"

    def __init__(self, shop, num, now, namespace, key, value, type_):
        super().__init__(shop, num, now)
        self.namespace = namespace
        self.key = key
        self.value = value
        self.type = type_

    def plain(self):
        return {"id": self.id, "namespace": self.namespace, "key": self.key, "value": self.value, "type": self.type}


class MediaImage(Obj):
    TYPENAME = "MediaImage"
    mediaContentType = "IMAGE"
    status = "READY"

    def __init__(self, shop, num, now, src, alt, filename=None):
        super().__init__(shop, num, now)
        self.src = src
        self.alt = alt or ""
        self.filename = filename

    @property
    def image(self):
        return {"id": gid("ImageSource", self.num), "altText": self.alt, "url": self.src, "width": None, "height": None}

    @property
    def originalSource(self):  # noqa: N802
        return {"url": self.src, "fileSize": None}

    @property
    def mimeType(self):  # noqa: N802
        ext = (self.src or "").rsplit(".", 1)[-1].lower()
        return {"png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(ext, "image/jpeg")

    def plain(self):
        return {"id": self.id, "originalSource": self.src, "alt": self.alt}


class FulfillmentService(Obj):
    TYPENAME = "FulfillmentService"

    def __init__(self, shop, num, now, name, callback_url, app, location, **flags):
        super().__init__(shop, num, now)
        self.serviceName = name
        self.handle = name.lower().replace(" ", "-")
        self.callbackUrl = callback_url
        self.app = app
        self.location = location
        self.inventoryManagement = flags.get("inventoryManagement", False)
        self.trackingSupport = flags.get("trackingSupport", False)
        self.requiresShippingMethod = flags.get("requiresShippingMethod", True)
        self.type = "THIRD_PARTY"

    @property
    def id(self):
        # Shopify's fulfillment service gids carry the app id as a query.
        return "gid://shopify/FulfillmentService/%d?id=true" % self.num

    def plain(self):
        return {
            "id": self.id,
            "serviceName": self.serviceName,
            "callbackUrl": self.callbackUrl,
            "location": self.location.id,
            "app": self.app,
        }


class Location(Obj):
    TYPENAME = "Location"
    isActive = True
    fulfillsOnlineOrders = True
    shipsInventory = True

    def __init__(self, shop, num, now, name, service=None):
        super().__init__(shop, num, now)
        self.name = name
        self.fulfillmentService = service

    @property
    def isFulfillmentService(self):  # noqa: N802
        return self.fulfillmentService is not None

    @property
    def address(self):
        return {"address1": None, "address2": None, "city": None, "country": "United States", "countryCode": "US",
                "formatted": ["United States"], "phone": None, "province": None, "provinceCode": None, "zip": None}

    def inventoryLevel(self, info, inventoryItemId, includeInactive=False):  # noqa: N802
        num = parse_gid(inventoryItemId, "InventoryItem")
        return self.shop.levels.get((num, self.num))

    def inventoryLevels(self, info, query=None, includeInactive=False, **page):  # noqa: N802
        items = [lv for (i, l), lv in self.shop.levels.items() if l == self.num]
        return connection(items, **page)

    def plain(self):
        return {"id": self.id, "name": self.name, "isFulfillmentService": self.isFulfillmentService}


class InventoryItem(Obj):
    TYPENAME = "InventoryItem"

    def __init__(self, shop, num, now):
        super().__init__(shop, num, now)
        self.sku = None
        self.tracked = True
        self.cost = None
        self.weight = None  # {"value": float, "unit": str}
        self.requiresShipping = True
        self.variant = None

    @property
    def unitCost(self):  # noqa: N802
        if self.cost is None:
            return None
        return {"amount": decimal_str(self.cost), "currencyCode": self.shop.currency}

    @property
    def measurement(self):
        return {"id": gid("InventoryItemMeasurement", self.num), "weight": self.weight}

    def inventoryLevel(self, info, locationId, includeInactive=False):  # noqa: N802
        return self.shop.levels.get((self.num, parse_gid(locationId, "Location")))

    def inventoryLevels(self, info, query=None, includeInactive=False, **page):  # noqa: N802
        return connection(self.level_list(), **page)

    def level_list(self):
        return [lv for (i, l), lv in self.shop.levels.items() if i == self.num]

    def plain(self):
        return {
            "id": self.id,
            "sku": self.sku,
            "tracked": self.tracked,
            "cost": decimal_str(self.cost),
            "weight": self.weight,
            "levels": {lv.location.id: lv.plain() for lv in self.level_list()},
        }


class InventoryLevel(Obj):
    TYPENAME = "InventoryLevel"
    isActive = True

    def __init__(self, shop, item, location, now):
        super().__init__(shop, shop.emu.new_id(), now)  # num: a unique key for cursors
        self.item = item
        self.location = location
        self.available = 0
        self.committed = 0

    @property
    def num_key(self):
        return (self.item.num, self.location.num)

    @property
    def id(self):
        return "gid://shopify/InventoryLevel/%d?inventory_item_id=%d" % (self.location.num, self.item.num)

    def value(self, name):
        if name == "available":
            return self.available
        if name == "on_hand":
            return self.available + self.committed
        if name == "committed":
            return self.committed
        return 0

    def quantities(self, info, names):
        out = []
        for name in names:
            if name not in QUANTITY_NAMES:
                from graphql import GraphQLError

                raise GraphQLError("Invalid quantity name: %s" % name, extensions={"code": "BAD_REQUEST"})
            out.append({
                "id": "gid://shopify/InventoryQuantity/%d?inventory_item_id=%d&name=%s" % (self.location.num, self.item.num, name),
                "name": name,
                "quantity": self.value(name),
                "updatedAt": iso(self.updated),
            })
        return out

    def plain(self):
        return {"available": self.available, "on_hand": self.value("on_hand"), "committed": self.committed}


class ProductOption(Obj):
    TYPENAME = "ProductOption"

    def __init__(self, shop, num, now, name, position):
        super().__init__(shop, num, now)
        self.name = name
        self.position = position
        self.value_list = []  # [OptionValue]
        self.product = None

    @property
    def values(self):
        return [v.name for v in self.value_list]

    @property
    def optionValues(self):  # noqa: N802
        return self.value_list


class OptionValue(Obj):
    TYPENAME = "ProductOptionValue"

    def __init__(self, shop, num, now, name, option):
        super().__init__(shop, num, now)
        self.name = name
        self.option = option

    @property
    def hasVariants(self):  # noqa: N802
        product = self.option.product
        return any(v.option_values.get(self.option.name) == self.name for v in product.variant_list)


class ProductVariant(Obj):
    TYPENAME = "ProductVariant"

    def __init__(self, shop, num, now, product, item):
        super().__init__(shop, num, now)
        self.product = product
        self.inventoryItem = item
        item.variant = self
        self.option_values = {}  # option name -> value name
        self.barcode = None
        self.price = "0.00"
        self.compareAtPrice = None
        self.position = 1
        self.inventoryPolicy = "DENY"
        self.taxable = True
        self.mf = []
        self.metafield, self.metafields = _metafield_getters(self)

    @property
    def sku(self):
        return self.inventoryItem.sku

    @property
    def title(self):
        return " / ".join(self.option_values[o.name] for o in self.product.option_list if o.name in self.option_values)

    @property
    def displayName(self):  # noqa: N802
        return "%s - %s" % (self.product.title, self.title)

    @property
    def selectedOptions(self):  # noqa: N802
        out = []
        for o in self.product.option_list:
            if o.name in self.option_values:
                value = self.option_values[o.name]
                ov = next((x for x in o.value_list if x.name == value), None)
                out.append({"name": o.name, "value": value, "optionValue": ov})
        return out

    @property
    def inventoryQuantity(self):  # noqa: N802
        return sum(lv.available for lv in self.inventoryItem.level_list())

    @property
    def availableForSale(self):  # noqa: N802
        return self.product.status == "ACTIVE" and (self.inventoryPolicy == "CONTINUE" or not self.inventoryItem.tracked or self.inventoryQuantity > 0)

    def plain(self):
        return {
            "id": self.id,
            "title": self.title,
            "sku": self.sku,
            "barcode": self.barcode,
            "price": self.price,
            "compareAtPrice": self.compareAtPrice,
            "position": self.position,
            "options": dict(self.option_values),
            "inventoryItem": self.inventoryItem.plain(),
            "metafields": [m.plain() for m in self.mf],
        }


class Product(Obj):
    TYPENAME = "Product"

    def __init__(self, shop, num, now):
        super().__init__(shop, num, now)
        self.title = ""
        self.handle = ""
        self.descriptionHtml = ""
        self.vendor = ""
        self.productType = ""
        self.tags = []
        self.status = "ACTIVE"
        self.option_list = []
        self.variant_list = []
        self.mf = []
        self.media_list = []
        self.metafield, self.metafields = _metafield_getters(self)

    @property
    def totalInventory(self):  # noqa: N802
        return sum(v.inventoryQuantity for v in self.variant_list)

    @property
    def tracksInventory(self):  # noqa: N802
        return any(v.inventoryItem.tracked for v in self.variant_list)

    @property
    def hasOnlyDefaultVariant(self):  # noqa: N802
        return len(self.variant_list) == 1 and [o.name for o in self.option_list] == ["Title"] and self.variant_list[0].title == "Default Title"

    def options(self, info, first=None):
        return self.option_list[:first] if first is not None else self.option_list

    def variants(self, info, sortKey="POSITION", **page):  # noqa: N803
        sort = (lambda v: v.position) if sortKey == "POSITION" else None
        return connection(self.variant_list, sort_value=sort, **page)

    @property
    def variantsCount(self):  # noqa: N802
        return {"count": len(self.variant_list), "precision": "EXACT"}

    def media(self, info, sortKey="POSITION", query=None, **page):  # noqa: N803
        positions = {m.num: i for i, m in enumerate(self.media_list)}
        return connection(self.media_list, sort_value=lambda m: positions[m.num], **page)

    @property
    def mediaCount(self):  # noqa: N802
        return {"count": len(self.media_list), "precision": "EXACT"}

    def plain(self):
        return {
            "id": self.id,
            "title": self.title,
            "handle": self.handle,
            "descriptionHtml": self.descriptionHtml,
            "vendor": self.vendor,
            "productType": self.productType,
            "tags": list(self.tags),
            "status": self.status,
            "options": [{"name": o.name, "values": o.values} for o in self.option_list],
            "variants": [v.plain() for v in self.variant_list],
            "metafields": [m.plain() for m in self.mf],
            "files": [m.plain() for m in self.media_list],
            "createdAt": self.createdAt,
            "updatedAt": self.updatedAt,
        }


# ---------------------------------------------------------------- orders
def _bag(amount, currency):
    m = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": m, "presentmentMoney": m}


class LineItem(Obj):
    TYPENAME = "LineItem"

    def __init__(self, shop, num, now, order):
        super().__init__(shop, num, now)
        self.order = order
        self.variant = None
        self.product = None
        self.sku = None
        self.title = ""
        self.variantTitle = None
        self.vendor = None
        self.quantity = 0
        self.price = "0.00"
        self.requiresShipping = True
        self.taxable = True
        self.fulfilled = 0
        self.removed = 0  # cancelled quantity

    @property
    def name(self):
        if self.variantTitle and self.variantTitle != "Default Title":
            return "%s - %s" % (self.title, self.variantTitle)
        return self.title

    @property
    def currentQuantity(self):  # noqa: N802
        return self.quantity - self.removed

    @property
    def unfulfilledQuantity(self):  # noqa: N802
        return max(0, self.quantity - self.removed - self.fulfilled)

    @property
    def originalUnitPriceSet(self):  # noqa: N802
        return _bag(self.price, self.order.currency)

    def plain(self):
        return {
            "id": self.id,
            "variant": self.variant.id if self.variant else None,
            "sku": self.sku,
            "title": self.title,
            "quantity": self.quantity,
            "price": self.price,
            "fulfilled": self.fulfilled,
            "removed": self.removed,
        }

    def rest(self):
        return {
            "id": self.num,
            "admin_graphql_api_id": self.id,
            "variant_id": self.variant.num if self.variant else None,
            "product_id": self.product.num if self.product else None,
            "sku": self.sku,
            "title": self.title,
            "variant_title": self.variantTitle,
            "name": self.name,
            "vendor": self.vendor,
            "quantity": self.quantity,
            "current_quantity": self.currentQuantity,
            "fulfillable_quantity": self.unfulfilledQuantity,
            "price": self.price,
            "requires_shipping": self.requiresShipping,
            "taxable": self.taxable,
            "fulfillment_status": "fulfilled" if self.quantity and self.fulfilled >= self.quantity - self.removed else (
                "partial" if self.fulfilled else None),
        }


class MailingAddress(Obj):
    TYPENAME = "MailingAddress"
    KEYS = ("firstName", "lastName", "company", "address1", "address2", "city", "provinceCode", "countryCode", "zip", "phone")

    def __init__(self, shop, num, now, data):
        super().__init__(shop, num, now)
        for k in self.KEYS:
            setattr(self, k, data.get(k))
        self.countryCodeV2 = self.countryCode
        self.province = self.provinceCode
        self.country = self.countryCode

    @property
    def name(self):
        return " ".join(x for x in (self.firstName, self.lastName) if x) or None

    def plain(self):
        return {k: getattr(self, k) for k in self.KEYS}

    def rest(self):
        p = self.plain()
        return {
            "first_name": p["firstName"], "last_name": p["lastName"], "name": self.name, "company": p["company"],
            "address1": p["address1"], "address2": p["address2"], "city": p["city"], "province_code": p["provinceCode"],
            "country_code": p["countryCode"], "zip": p["zip"], "phone": p["phone"],
        }


class Order(Obj):
    TYPENAME = "Order"

    def __init__(self, shop, num, now, number):
        super().__init__(shop, num, now)
        self.number = number
        self.name = "#%d" % number
        self.email = None
        self.phone = None
        self.note = None
        self.tags = []
        self.currency = shop.currency
        self.processed = now
        self.cancelled = None
        self.cancelReason = None
        self.closed_at = None
        self.line_list = []
        self.fo_list = []
        self.fulfillment_list = []
        self.shippingAddress = None
        self.billingAddress = None
        self.sourceName = None
        self.financial_status = "PAID"

    @property
    def currencyCode(self):  # noqa: N802
        return self.currency

    @property
    def processedAt(self):  # noqa: N802
        return iso(self.processed)

    @property
    def cancelledAt(self):  # noqa: N802
        return iso(self.cancelled)

    @property
    def closed(self):
        return self.closed_at is not None

    @property
    def closedAt(self):  # noqa: N802
        return iso(self.closed_at)

    @property
    def displayFinancialStatus(self):  # noqa: N802
        return self.financial_status

    @property
    def displayFulfillmentStatus(self):  # noqa: N802
        wanted = sum(li.quantity - li.removed for li in self.line_list)
        done = sum(li.fulfilled for li in self.line_list)
        if wanted > 0 and done >= wanted:
            return "FULFILLED"
        if done > 0:
            return "PARTIALLY_FULFILLED"
        if self.cancelled is not None and wanted == 0 and any(li.removed for li in self.line_list):
            return "RESTOCKED"
        if any(fo.status == "IN_PROGRESS" for fo in self.fo_list):
            return "IN_PROGRESS"
        return "UNFULFILLED"

    def lineItems(self, info, **page):  # noqa: N802
        return connection(self.line_list, **page)

    def fulfillmentOrders(self, info, displayable=False, query=None, **page):  # noqa: N802
        items = self.fo_list
        if displayable:
            items = [fo for fo in items if fo.status not in ("CANCELLED", "CLOSED") or fo.fulfillment_list]
        return connection(items, **page)

    def fulfillments(self, info, first=None, query=None):
        return self.fulfillment_list[:first] if first is not None else self.fulfillment_list

    def _total(self):
        from decimal import Decimal

        return "%.2f" % sum((Decimal(li.price) * li.quantity for li in self.line_list), Decimal("0"))

    @property
    def totalPriceSet(self):  # noqa: N802
        return _bag(self._total(), self.currency)

    @property
    def subtotalPriceSet(self):  # noqa: N802
        return _bag(self._total(), self.currency)

    def plain(self):
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "lineItems": [li.plain() for li in self.line_list],
            "fulfillmentOrders": [fo.id for fo in self.fo_list],
            "fulfillments": [f.id for f in self.fulfillment_list],
            "displayFulfillmentStatus": self.displayFulfillmentStatus,
            "cancelledAt": self.cancelledAt,
            "createdAt": self.createdAt,
            "updatedAt": self.updatedAt,
        }

    def rest(self):
        status = self.displayFulfillmentStatus
        return {
            "id": self.num,
            "admin_graphql_api_id": self.id,
            "name": self.name,
            "order_number": self.number,
            "email": self.email,
            "phone": self.phone,
            "note": self.note,
            "tags": ", ".join(self.tags),
            "currency": self.currency,
            "created_at": self.createdAt,
            "updated_at": self.updatedAt,
            "processed_at": self.processedAt,
            "cancelled_at": self.cancelledAt,
            "cancel_reason": self.cancelReason.lower() if self.cancelReason else None,
            "closed_at": self.closedAt,
            "financial_status": self.financial_status.lower(),
            "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}.get(status),
            "total_price": self._total(),
            "subtotal_price": self._total(),
            "line_items": [li.rest() for li in self.line_list],
            "shipping_address": self.shippingAddress.rest() if self.shippingAddress else None,
            "billing_address": self.billingAddress.rest() if self.billingAddress else None,
            "fulfillments": [f.rest() for f in self.fulfillment_list],
            "source_name": self.sourceName,
        }


class FulfillmentOrderLineItem(Obj):
    TYPENAME = "FulfillmentOrderLineItem"

    def __init__(self, shop, num, now, fo, line_item, quantity):
        super().__init__(shop, num, now)
        self.fo = fo
        self.lineItem = line_item
        self.totalQuantity = quantity
        self.remainingQuantity = quantity

    @property
    def sku(self):
        return self.lineItem.sku

    @property
    def variant(self):
        return self.lineItem.variant

    @property
    def inventoryItemId(self):  # noqa: N802
        v = self.lineItem.variant
        return v.inventoryItem.id if v else None

    @property
    def productTitle(self):  # noqa: N802
        return self.lineItem.title

    @property
    def variantTitle(self):  # noqa: N802
        return self.lineItem.variantTitle

    @property
    def requiresShipping(self):  # noqa: N802
        return self.lineItem.requiresShipping

    def plain(self):
        return {"id": self.id, "lineItem": self.lineItem.id, "sku": self.sku, "totalQuantity": self.totalQuantity,
                "remainingQuantity": self.remainingQuantity}


class MerchantRequest(Obj):
    TYPENAME = "FulfillmentOrderMerchantRequest"

    def __init__(self, shop, num, now, fo, kind, message, options=None):
        super().__init__(shop, num, now)
        self.fulfillmentOrder = fo
        self.kind = kind
        self.message = message
        self.requestOptions = options or {}

    @property
    def sentAt(self):  # noqa: N802
        return iso(self.created)

    def plain(self):
        return {"id": self.id, "kind": self.kind, "message": self.message}


class FulfillmentOrder(Obj):
    TYPENAME = "FulfillmentOrder"

    def __init__(self, shop, num, now, order, location):
        super().__init__(shop, num, now)
        self.order = order
        self.location = location
        self.status = "OPEN"
        self.requestStatus = "UNSUBMITTED"
        self.line_list = []
        self.requests = []
        self.fulfillment_list = []

    @property
    def orderId(self):  # noqa: N802
        return self.order.id

    @property
    def orderName(self):  # noqa: N802
        return self.order.name

    @property
    def assignedLocation(self):  # noqa: N802
        return {"name": self.location.name, "location": self.location, "address1": None, "city": None,
                "countryCode": "US", "zip": None}

    @property
    def destination(self):
        a = self.order.shippingAddress
        if a is None:
            return None
        return {"id": gid("FulfillmentOrderDestination", self.num), "firstName": a.firstName, "lastName": a.lastName,
                "company": a.company, "address1": a.address1, "address2": a.address2, "city": a.city,
                "province": a.provinceCode, "countryCode": a.countryCode, "zip": a.zip, "phone": a.phone,
                "email": self.order.email}

    def lineItems(self, info, **page):  # noqa: N802
        return connection(self.line_list, **page)

    def merchantRequests(self, info, kind=None, **page):  # noqa: N802
        return connection([r for r in self.requests if kind is None or r.kind == kind], **page)

    def fulfillments(self, info, **page):
        return connection(self.fulfillment_list, **page)

    def plain(self):
        return {
            "id": self.id,
            "order": self.order.id,
            "location": self.location.id,
            "status": self.status,
            "requestStatus": self.requestStatus,
            "lineItems": [li.plain() for li in self.line_list],
            "merchantRequests": [r.plain() for r in self.requests],
        }

    def rest(self):
        return {"id": self.id, "status": self.status.lower(), "request_status": self.requestStatus.lower(),
                "assigned_location_id": self.location.id, "order_id": self.order.id}


class FulfillmentLineItem(Obj):
    TYPENAME = "FulfillmentLineItem"

    def __init__(self, shop, num, now, line_item, quantity):
        super().__init__(shop, num, now)
        self.lineItem = line_item
        self.quantity = quantity


class Fulfillment(Obj):
    TYPENAME = "Fulfillment"

    def __init__(self, shop, num, now, order, location, name):
        super().__init__(shop, num, now)
        self.order = order
        self.location = location
        self.name = name
        self.status = "SUCCESS"
        self.tracking = []
        self.fli = []
        self.fo_list = []
        self.notify = False

    @property
    def service(self):
        return self.location.fulfillmentService if self.location else None

    @property
    def totalQuantity(self):  # noqa: N802
        return sum(x.quantity for x in self.fli)

    def trackingInfo(self, info, first=None):  # noqa: N802
        return self.tracking[:first] if first is not None else self.tracking

    def fulfillmentLineItems(self, info, **page):  # noqa: N802
        return connection(self.fli, **page)

    def plain(self):
        return {"id": self.id, "name": self.name, "status": self.status, "trackingInfo": list(self.tracking),
                "notifyCustomer": self.notify,
                "lineItems": [{"lineItem": x.lineItem.id, "quantity": x.quantity} for x in self.fli]}

    def rest(self):
        t = self.tracking[0] if self.tracking else {}
        return {
            "id": self.num, "admin_graphql_api_id": self.id, "order_id": self.order.num, "name": self.name,
            "status": self.status.lower(), "created_at": self.createdAt, "updated_at": self.updatedAt,
            "tracking_company": t.get("company"), "tracking_number": t.get("number"), "tracking_url": t.get("url"),
            "tracking_numbers": [x.get("number") for x in self.tracking if x.get("number")],
            "line_items": [dict(x.lineItem.rest(), quantity=x.quantity) for x in self.fli],
            "location_id": self.location.num if self.location else None,
        }


class WebhookSubscription(Obj):
    TYPENAME = "WebhookSubscription"

    def __init__(self, shop, num, now, topic, uri, app, fmt="JSON", include_fields=None, filter_=None, name=None):
        super().__init__(shop, num, now)
        self.topic = topic
        self.uri = uri
        self.app = app
        self.format = fmt
        self.includeFields = include_fields or []
        self.filter = filter_
        self.name = name

    @property
    def apiVersion(self):  # noqa: N802
        return {"handle": "2026-04", "displayName": "2026-04", "supported": True}

    def plain(self):
        return {"id": self.id, "topic": self.topic, "uri": self.uri, "format": self.format}


class AdjustmentGroup(Obj):
    TYPENAME = "InventoryAdjustmentGroup"

    def __init__(self, shop, num, now, reason, uri, change_list):
        super().__init__(shop, num, now)
        self.reason = reason
        self.referenceDocumentUri = uri
        self.change_list = change_list  # dicts: name, delta, item, location, quantityAfterChange

    def changes(self, info, inventoryItemIds=None, locationIds=None, quantityNames=None):  # noqa: N803
        out = []
        for c in self.change_list:
            if inventoryItemIds is not None and c["item"].id not in inventoryItemIds:
                continue
            if locationIds is not None and c["location"].id not in locationIds:
                continue
            if quantityNames is not None and c["name"] not in quantityNames:
                continue
            out.append(c)
        return out


# search fields per resource
def _time(attr):
    return (lambda o: getattr(o, attr)), "time"


PRODUCT_SEARCH = {
    "title": ((lambda p: p.title), "str"),
    "handle": ((lambda p: p.handle), "str"),
    "status": ((lambda p: p.status), "str"),
    "vendor": ((lambda p: p.vendor), "str"),
    "product_type": ((lambda p: p.productType), "str"),
    "tag": ((lambda p: p.tags), "str"),
    "sku": ((lambda p: [v.sku for v in p.variant_list]), "str"),
    "barcode": ((lambda p: [v.barcode for v in p.variant_list]), "str"),
    "id": ((lambda p: p.num), "num"),
    "updated_at": _time("updated"),
    "created_at": _time("created"),
}
VARIANT_SEARCH = {
    "title": ((lambda v: v.title), "str"),
    "sku": ((lambda v: v.sku), "str"),
    "barcode": ((lambda v: v.barcode), "str"),
    "product_id": ((lambda v: v.product.num), "num"),
    "id": ((lambda v: v.num), "num"),
    "product_status": ((lambda v: v.product.status), "str"),
    "updated_at": _time("updated"),
    "created_at": _time("created"),
}
ITEM_SEARCH = {
    "sku": ((lambda i: i.sku), "str"),
    "id": ((lambda i: i.num), "num"),
    "updated_at": _time("updated"),
    "created_at": _time("created"),
}


def _order_status(o):
    out = ["any"]
    out.append("cancelled" if o.cancelled else ("closed" if o.closed else "open"))
    return out


ORDER_SEARCH = {
    "name": ((lambda o: [o.name, o.name.lstrip("#")]), "str"),
    "email": ((lambda o: o.email), "str"),
    "status": (_order_status, "str"),
    "fulfillment_status": ((lambda o: {"FULFILLED": "shipped", "PARTIALLY_FULFILLED": "partial"}.get(
        o.displayFulfillmentStatus, "unshipped")), "str"),
    "sku": ((lambda o: [li.sku for li in o.line_list]), "str"),
    "id": ((lambda o: o.num), "num"),
    "tag": ((lambda o: o.tags), "str"),
    "updated_at": _time("updated"),
    "created_at": _time("created"),
    "processed_at": _time("processed"),
}
LOCATION_SEARCH = {"name": ((lambda l: l.name), "str"), "id": ((lambda l: l.num), "num")}


def search(items, query, fields, default_field="title"):
    if not query:
        return list(items)
    terms = parse_search(query)
    return [o for o in items if matches(o, terms, fields, default_field)]


__all__ = [name for name in dir() if not name.startswith("_")] + ["MAX_PAGE"]
