"""The routes and arguments the WooCommerce emulator accepts, written in the
same terms as WordPress' REST index (`GET /wp-json/wc/v3`): route patterns are
the exact WordPress regular expressions, argument types are JSON-schema types.

`tests/emulators/test_woocommerce_schema.py` checks every route, method and
argument here against the index measured on a real WooCommerce 9.2.5, so this
table must only ever name things that exist there.

It is also what the emulator validates query and body parameters with
(`validate`), reproducing WordPress' `rest_invalid_param` answers.
"""

import re

S, I, B, A, O = "string", "integer", "boolean", "array", "object"
DATE = "date"  # a string with format date-time
NULLABLE_STRING = "null|string"  # date_on_sale_* and friends: ["null", "string"]
NULLABLE_INT = "integer|null"

PRODUCT_STATUSES = ["draft", "pending", "private", "publish", "future", "auto-draft", "trash"]
VARIATION_STATUSES = ["draft", "pending", "private", "publish"]
STOCK_STATUSES = ["instock", "outofstock", "onbackorder"]
BACKORDERS = ["no", "notify", "yes"]
TAX_STATUSES = ["taxable", "shipping", "none"]
ORDER_STATUSES = [
    "auto-draft", "pending", "processing", "on-hold", "completed",
    "cancelled", "refunded", "failed", "checkout-draft",
]
WEBHOOK_STATUSES = ["active", "paused", "disabled"]
CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "DKK", "NOK", "PLN", "CZK", "NZD", "INR", "BRL", "MXN"]

COLLECTION = {
    "context": ("enum", ["view", "edit"]),
    "page": I,
    "per_page": I,
    "offset": I,
    "search": S,
    "include": (A, I),
    "exclude": (A, I),
    "order": ("enum", ["asc", "desc"]),
}

PRODUCT_QUERY = dict(
    COLLECTION,
    after=DATE,
    before=DATE,
    modified_after=DATE,
    modified_before=DATE,
    dates_are_gmt=B,
    orderby=("enum", ["date", "id", "include", "title", "slug", "modified", "menu_order", "price"]),
    status=("enum", ["any", "future", "trash", "draft", "pending", "private", "publish"]),
    sku=S,
    search_sku=S,
    slug=S,
    type=("enum", ["simple", "grouped", "external", "variable"]),
    stock_status=("enum", STOCK_STATUSES),
    category=S,
    parent=(A, I),
)

VARIATION_QUERY = dict(
    COLLECTION,
    after=DATE,
    before=DATE,
    modified_after=DATE,
    modified_before=DATE,
    dates_are_gmt=B,
    orderby=("enum", ["date", "id", "include", "title", "slug", "modified", "menu_order"]),
    status=("enum", ["any", "future", "trash", "draft", "pending", "private", "publish"]),
    sku=S,
    stock_status=("enum", STOCK_STATUSES),
    product_id=I,
)

COMMON_PRODUCT_BODY = {
    "sku": S,
    "regular_price": S,
    "sale_price": S,
    "description": S,
    "date_on_sale_from": NULLABLE_STRING,
    "date_on_sale_from_gmt": NULLABLE_STRING,
    "date_on_sale_to": NULLABLE_STRING,
    "date_on_sale_to_gmt": NULLABLE_STRING,
    "virtual": B,
    "downloadable": B,
    "tax_status": ("enum", TAX_STATUSES),
    "tax_class": S,
    "manage_stock": B,
    "stock_quantity": I,
    "stock_status": ("enum", STOCK_STATUSES),
    "backorders": ("enum", BACKORDERS),
    "low_stock_amount": NULLABLE_INT,
    "weight": S,
    "dimensions": O,
    "shipping_class": S,
    "attributes": A,
    "menu_order": I,
    "meta_data": A,
    "global_unique_id": S,
}

PRODUCT_BODY = dict(
    COMMON_PRODUCT_BODY,
    name=S,
    slug=S,
    type=("enum", ["simple", "grouped", "external", "variable"]),
    status=("enum", PRODUCT_STATUSES),
    featured=B,
    catalog_visibility=("enum", ["visible", "catalog", "search", "hidden"]),
    short_description=S,
    sold_individually=B,
    reviews_allowed=B,
    upsell_ids=(A, I),
    cross_sell_ids=(A, I),
    parent_id=I,
    purchase_note=S,
    categories=A,
    tags=A,
    images=A,
    default_attributes=A,
    date_created=NULLABLE_STRING,
    date_created_gmt=NULLABLE_STRING,
    external_url=S,
    button_text=S,
    post_password=S,
)

VARIATION_BODY = dict(
    COMMON_PRODUCT_BODY,
    status=("enum", VARIATION_STATUSES),
    image=O,
)

ORDER_QUERY = dict(
    COLLECTION,
    after=DATE,
    before=DATE,
    modified_after=DATE,
    modified_before=DATE,
    dates_are_gmt=B,
    orderby=("enum", ["date", "id", "include", "title", "slug", "modified"]),
    status=(A, ("enum", ["any", "trash", "auto-draft"] + ORDER_STATUSES[1:])),
    customer=I,
    product=I,
    parent=(A, I),
    dp=I,
)

ORDER_BODY = {
    "parent_id": I,
    "status": ("enum", ORDER_STATUSES),
    "currency": ("enum", CURRENCIES),  # WooCommerce lists ~160 codes; a common subset here
    "customer_id": I,
    "customer_note": S,
    "billing": O,
    "shipping": O,
    "payment_method": S,
    "payment_method_title": S,
    "transaction_id": S,
    "meta_data": A,
    "line_items": A,
    "shipping_lines": A,
    "fee_lines": A,
    "set_paid": B,
}

WEBHOOK_QUERY = dict(
    COLLECTION,
    after=DATE,
    before=DATE,
    orderby=("enum", ["date", "id", "title"]),
    status=("enum", ["all", "active", "paused", "disabled"]),
)

CATEGORY_QUERY = dict(
    COLLECTION,
    orderby=("enum", ["id", "include", "name", "slug", "term_group", "description", "count"]),
    hide_empty=B,
    parent=I,
    product=I,
    slug=S,
)
CATEGORY_BODY = {"name": S, "slug": S, "parent": I, "description": S, "display": ("enum", ["default", "products", "subcategories", "both"]), "menu_order": I}

ID = {"id": I}
FORCE = {"id": I, "force": B}
CONTEXT = {"id": I, "context": ("enum", ["view", "edit"])}

P = r"/wc/v3/products"
# route pattern -> {method: (handler name, args)}. PUT/PATCH/POST on an item
# are one endpoint in WordPress; we accept all three.
ROUTES = {
    "/wc/v3": {"GET": ("index", {})},
    P: {"GET": ("list_products", PRODUCT_QUERY), "POST": ("create_product", PRODUCT_BODY)},
    P + r"/(?P<id>[\d]+)": {
        "GET": ("get_product", CONTEXT),
        "PUT": ("update_product", dict(PRODUCT_BODY, id=I)),
        "DELETE": ("delete_product", FORCE),
    },
    P + "/batch": {"POST": ("batch_products", PRODUCT_BODY)},
    P + r"/(?P<product_id>[\d]+)/variations": {
        "GET": ("list_variations", VARIATION_QUERY),
        "POST": ("create_variation", dict(VARIATION_BODY, product_id=I)),
    },
    P + r"/(?P<product_id>[\d]+)/variations/(?P<id>[\d]+)": {
        "GET": ("get_variation", dict(CONTEXT, product_id=I)),
        "PUT": ("update_variation", dict(VARIATION_BODY, id=I, product_id=I)),
        "DELETE": ("delete_variation", dict(FORCE, product_id=I)),
    },
    P + r"/(?P<product_id>[\d]+)/variations/batch": {"POST": ("batch_variations", dict(VARIATION_BODY, product_id=I))},
    P + "/categories": {"GET": ("list_categories", CATEGORY_QUERY), "POST": ("create_category", CATEGORY_BODY)},
    P + r"/categories/(?P<id>[\d]+)": {
        "GET": ("get_category", CONTEXT),
        "PUT": ("update_category", dict(CATEGORY_BODY, id=I)),
        "DELETE": ("delete_category", FORCE),
    },
    "/wc/v3/orders": {"GET": ("list_orders", ORDER_QUERY), "POST": ("create_order", ORDER_BODY)},
    r"/wc/v3/orders/(?P<id>[\d]+)": {
        "GET": ("get_order", CONTEXT),
        "PUT": ("update_order", dict(ORDER_BODY, id=I)),
        "DELETE": ("delete_order", FORCE),
    },
    r"/wc/v3/orders/(?P<order_id>[\d]+)/notes": {
        "GET": ("list_notes", {"context": ("enum", ["view", "edit"]), "order_id": I, "type": ("enum", ["any", "customer", "internal"])}),
        "POST": ("create_note", {"note": S, "customer_note": B, "added_by_user": B, "order_id": I}),
    },
    r"/wc/v3/orders/(?P<order_id>[\d]+)/notes/(?P<id>[\d]+)": {
        "GET": ("get_note", dict(CONTEXT, order_id=I)),
        "DELETE": ("delete_note", dict(FORCE, order_id=I)),
    },
    "/wc/v3/webhooks": {
        "GET": ("list_webhooks", WEBHOOK_QUERY),
        "POST": ("create_webhook", {"name": S, "status": ("enum", WEBHOOK_STATUSES), "topic": S, "secret": S, "delivery_url": S}),
    },
    r"/wc/v3/webhooks/(?P<id>[\d]+)": {
        "GET": ("get_webhook", CONTEXT),
        "PUT": ("update_webhook", {"id": I, "name": S, "status": ("enum", WEBHOOK_STATUSES), "topic": S, "secret": S}),
        "DELETE": ("delete_webhook", FORCE),
    },
}

# Only these arguments are validated when they come in a batch item: real
# WooCommerce calls create_item/update_item directly for batch items, which
# skips WordPress' argument validation (a numeric price is then accepted).
BATCH_ROUTES = {P + "/batch", P + r"/(?P<product_id>[\d]+)/variations/batch"}

COMPILED = [
    (re.compile("^" + pattern + "$"), pattern, methods) for pattern, methods in ROUTES.items()
]

DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}(:?\d{2})?)?$")


def match(route, method):
    """(pattern, handler, args, path params) or (pattern, None, None, params)
    when the route exists but not for this method; None when unknown."""
    if method in ("PATCH",):
        method = "PUT"
    for regex, pattern, methods in COMPILED:
        found = regex.match(route)
        if not found:
            continue
        params = {k: int(v) for k, v in found.groupdict().items()}
        if method == "POST" and "POST" not in methods and "PUT" in methods:
            method = "PUT"  # WordPress: POST on an item route is an update
        if method == "PUT" and "PUT" not in methods and "POST" in methods and pattern.endswith("batch"):
            method = "POST"
        if method not in methods:
            return pattern, None, None, params
        handler, args = methods[method]
        return pattern, handler, args, params
    return None


# ---------------------------------------------------------------- validation
class InvalidParam(Exception):
    def __init__(self, errors):
        super().__init__("invalid params")
        self.errors = errors  # name -> (message, detail code)


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value == int(value)
    if isinstance(value, str):
        return re.fullmatch(r"-?\d+", value.strip()) is not None
    return False


def _coerce_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
        return value.lower() in ("true", "1")
    raise ValueError


def coerce(name, value, spec):
    """Validate and sanitize one value like rest_validate/sanitize_value_from_schema.
    Raises InvalidParam."""
    if isinstance(spec, tuple) and spec[0] == "enum":
        if not isinstance(value, str) or value not in spec[1]:
            raise InvalidParam({name: ("%s is not one of %s." % (name, ", ".join(spec[1])), "rest_not_in_enum")})
        return value
    if isinstance(spec, tuple) and spec[0] == A:
        if isinstance(value, str):
            value = [v for v in re.split(r"[,\s]+", value) if v != ""]
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            raise InvalidParam({name: ("%s is not of type array." % name, "rest_invalid_type")})
        return [coerce("%s[%d]" % (name, i), v, spec[1]) for i, v in enumerate(value)]
    if spec == A:
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            raise InvalidParam({name: ("%s is not of type array." % name, "rest_invalid_type")})
        return value
    if spec == O:
        if value == [] or value == "":
            return {}
        if not isinstance(value, dict):
            raise InvalidParam({name: ("%s is not of type object." % name, "rest_invalid_type")})
        return value
    if spec == I or spec == NULLABLE_INT:
        if value is None and spec == NULLABLE_INT:
            return None
        if not _is_int(value):
            raise InvalidParam({name: ("%s is not of type integer." % name, "rest_invalid_type")})
        return int(float(value)) if not isinstance(value, str) else int(value.strip())
    if spec == B:
        try:
            return _coerce_bool(value)
        except ValueError:
            raise InvalidParam({name: ("%s is not of type boolean." % name, "rest_invalid_type")})
    if spec == DATE:
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise InvalidParam({name: ("Invalid date.", "rest_invalid_date")})
        return value
    if spec == NULLABLE_STRING:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidParam({name: ("%s is not of type null,string." % name, "rest_invalid_type")})
        return value
    if spec == S:
        if not isinstance(value, str):
            raise InvalidParam({name: ("%s is not of type string." % name, "rest_invalid_type")})
        return value
    return value


def validate(params, args):
    """Validate a dict of parameters against an args table; returns the
    sanitized dict (unknown names pass through untouched, as in WordPress)."""
    out = dict(params)
    errors = {}
    for name, value in params.items():
        spec = args.get(name)
        if spec is None:
            continue
        try:
            out[name] = coerce(name, value, spec)
        except InvalidParam as exc:
            errors.update(exc.errors)
    if "per_page" in out and "per_page" in args and "per_page" not in errors:
        if not 1 <= out["per_page"] <= 100:
            errors["per_page"] = ("per_page must be between 1 (inclusive) and 100 (inclusive)", "rest_out_of_bounds")
    if "page" in out and "page" in args and "page" not in errors and out["page"] < 1:
        errors["page"] = ("page must be greater than or equal to 1", "rest_out_of_bounds")
    if errors:
        raise InvalidParam(errors)
    return out
