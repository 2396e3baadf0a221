"""The Shopify emulator: HTTP routing, access tokens and OAuth, cost and
throttling, faults and latency, webhooks. See the package docstring."""

import hashlib
import hmac
import html
import json
import os
import random
import threading
import time
import urllib.parse
import uuid
from collections import OrderedDict

from graphql import GraphQLError, build_schema, execute, parse, validate
from graphql.language import ListValueNode, OperationDefinitionNode, FragmentDefinitionNode, visit, Visitor

from ..core import Emulator, Response, WebhookDelivery, hmac_sha256_base64, json_response, redirect
from .cost import operation_cost
from .shop import PLANS, ShopState

API_VERSION = "2026-04"
MAX_QUERY_COST = 1000
MAX_INPUT_ARRAY = 250
DOC_URL = "https://shopify.dev/api/usage/rate-limits"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
TOPIC_NAMES = {
    "APP_UNINSTALLED": "app/uninstalled",
    "ORDERS_CREATE": "orders/create",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_PARTIALLY_FULFILLED": "orders/partially_fulfilled",
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "FULFILLMENTS_CREATE": "fulfillments/create",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED": "fulfillment_orders/fulfillment_request_submitted",
    "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED": "fulfillment_orders/cancellation_request_submitted",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_ACCEPTED": "fulfillment_orders/fulfillment_request_accepted",
    "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_ACCEPTED": "fulfillment_orders/cancellation_request_accepted",
}
SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "schema.graphql")
_SCHEMA = None
_SCHEMA_LOCK = threading.Lock()


def load_schema():
    """The emulator's schema (built once per process)."""
    global _SCHEMA
    with _SCHEMA_LOCK:
        if _SCHEMA is None:
            with open(SCHEMA_PATH) as f:
                schema = build_schema(f.read())
            for name in ("Node", "Media", "DisplayableError"):
                t = schema.get_type(name)
                if t is not None:
                    t.resolve_type = lambda value, info, abstract: getattr(value, "TYPENAME", None)
            _SCHEMA = schema
        return _SCHEMA


class _Doc:
    __slots__ = ("document", "errors", "operations", "fragments", "big_lists")

    def __init__(self, document, errors):
        self.document = document
        self.errors = errors
        self.operations = {}
        self.fragments = {}
        self.big_lists = 0
        if document is not None:
            for d in document.definitions:
                if isinstance(d, OperationDefinitionNode):
                    self.operations[d.name.value if d.name else None] = d
                elif isinstance(d, FragmentDefinitionNode):
                    self.fragments[d.name.value] = d
            sizes = []

            class _Lists(Visitor):
                def enter_list_value(self, node, *_):
                    sizes.append(len(node.values))

            visit(document, _Lists())
            self.big_lists = max(sizes) if sizes else 0


def _largest_list(value):
    if isinstance(value, list):
        return max([len(value)] + [_largest_list(v) for v in value])
    if isinstance(value, dict):
        return max([0] + [_largest_list(v) for v in value.values()])
    return 0


class ShopifyEmulator(Emulator):
    name = "shopify"

    def __init__(self, host="127.0.0.1", port=0, seed=0, api_key="seller-mode-app", api_secret="seller-mode-secret",
                 round_trip_ms=100, token_ttl_s=3600, refresh_token_ttl_s=90 * 86400, webhook_delay_s=0.0,
                 doc_cache_size=512):
        super().__init__(host=host, port=port, seed=seed)
        self.api_key = api_key
        self.api_secret = api_secret
        self.round_trip_ms = round_trip_ms
        self.token_ttl_s = token_ttl_s
        self.refresh_token_ttl_s = refresh_token_ttl_s
        self.webhook_delay_s = webhook_delay_s
        self.schema = load_schema()
        self._doc_cache = OrderedDict()
        self._doc_cache_size = doc_cache_size
        self._doc_lock = threading.Lock()
        self._time_offset = 0.0
        self._init_state()

    def _init_state(self):
        self.random = random.Random(self.seed)
        self._next_id = 1000000000 + 1000 * (self.seed % 1000)
        self._id_lock = threading.Lock()
        self.shops = OrderedDict()
        self.tokens = {}  # access token -> {shop, app, scope, expires_at (None: never), revoked}
        self.refresh_tokens = {}  # refresh token -> {shop, app, scope, expires_at}
        self.codes = {}  # authorization code -> {shop, scope, expires_at}
        self._shop_options = {}

    # ------------------------------------------------------------ clocks and ids
    def now(self):
        return time.time() + self._time_offset

    def monotonic(self):
        return time.monotonic()

    def advance_time(self, seconds):
        """Move the emulator's wall clock (token expiry, timestamps) forward."""
        self._time_offset += seconds

    def new_id(self):
        with self._id_lock:
            self._next_id += 1
            return self._next_id

    def _secret_token(self, prefix):
        with self._id_lock:
            return prefix + "%032x" % self.random.getrandbits(128)

    # ------------------------------------------------------------ shops
    def add_shop(self, name, plan="standard", auto_submit_fulfillment_requests=True, scope=None):
        """Create a shop (one default location "Shop location") with the app
        installed; returns an offline, non-expiring access token (as a custom
        app's Admin API token)."""
        if plan not in PLANS:
            raise ValueError("unknown plan %r (one of %s)" % (plan, ", ".join(PLANS)))
        with self.lock:
            self._shop_options[name] = (plan, auto_submit_fulfillment_requests)
            if name not in self.shops:
                self.shops[name] = ShopState(self, name, plan, auto_submit_fulfillment_requests)
                self.log.record(name, "shop_create", name, {"plan": plan})
            token = self._secret_token("shpat_")
            self.tokens[token] = {"shop": name, "app": self.api_key, "scope": scope or self.default_scope(),
                                  "expires_at": None, "revoked": False}
            self.log.record(name, "token_issue", token[:12], {"kind": "offline"})
            return token

    @staticmethod
    def default_scope():
        return ("read_products,write_products,read_inventory,write_inventory,read_orders,write_orders,"
                "read_fulfillments,write_fulfillments,read_assigned_fulfillment_orders,"
                "write_assigned_fulfillment_orders,read_merchant_managed_fulfillment_orders,"
                "write_merchant_managed_fulfillment_orders,read_locations")

    def shop(self, name):
        return self.shops[name]

    def shop_url(self, name):
        return "%s/shops/%s" % (self.base_url, name)

    def graphql_url(self, name):
        return "%s/admin/api/%s/graphql.json" % (self.shop_url(name), API_VERSION)

    def domain(self, name):
        return "%s.myshopify.com" % name

    def set_plan(self, name, plan):
        s = self.shops[name]
        size, rate, _ = PLANS[plan]
        with s.lock:
            s.plan = plan
            s.bucket.update(maximumAvailable=float(size), currentlyAvailable=float(size), restoreRate=float(rate),
                            at=self.monotonic())

    def set_auto_submit(self, name, enabled):
        self.shops[name].auto_submit = bool(enabled)

    def revoke_token(self, name, token):
        """Revoke a token as an uninstall would: the token answers 401 from
        now on; APP_UNINSTALLED goes to the shop's subscriptions; when no
        valid token is left the app's webhook subscriptions are removed."""
        with self.lock:
            info = self.tokens.get(token)
            if info is None or info["shop"] != name:
                raise KeyError("no such token for %s" % name)
            info["revoked"] = True
            for rt, r in list(self.refresh_tokens.items()):
                if r.get("access_token") == token:
                    del self.refresh_tokens[rt]
            s = self.shops[name]
            self.log.record(name, "token_revoke", token[:12])
            with s.lock:
                self.send_webhook(s, "APP_UNINSTALLED", {"id": s.num, "name": s.name, "domain": s.domain,
                                                         "myshopify_domain": s.domain})
                if not any(t["shop"] == name and not t["revoked"] for t in self.tokens.values()):
                    s.webhooks.clear()
                    self.log.record(name, "app_uninstalled", name)

    def expire_token(self, name, token):
        """Make an access token expired now (as time passing would)."""
        info = self.tokens[token]
        assert info["shop"] == name
        info["expires_at"] = self.now() - 1

    def available(self, name, inventory_item_gid, location_gid):
        s = self.shops[name]
        with s.lock:
            item = int(str(inventory_item_gid).rsplit("/", 1)[-1])
            loc = int(str(location_gid).rsplit("/", 1)[-1])
            lv = s.levels.get((item, loc))
            if lv is None:
                raise KeyError("item %s is not stocked at %s" % (inventory_item_gid, location_gid))
            return lv.available

    def quantity(self, name, inventory_item_gid, location_gid, quantity_name="available"):
        s = self.shops[name]
        with s.lock:
            item = int(str(inventory_item_gid).rsplit("/", 1)[-1])
            loc = int(str(location_gid).rsplit("/", 1)[-1])
            return s.levels[(item, loc)].value(quantity_name)

    def default_location_id(self, name):
        return self.shops[name].default_location.id

    def fulfillment_service_location_id(self, name, service_name=None):
        s = self.shops[name]
        for svc in s.services.values():
            if service_name is None or svc.serviceName == service_name:
                return svc.location.id
        return None

    def bucket_status(self, s):
        self._refill(s)
        b = s.bucket
        return {"maximumAvailable": b["maximumAvailable"], "currentlyAvailable": int(b["currentlyAvailable"]),
                "restoreRate": b["restoreRate"]}

    # ------------------------------------------------------------ reset / snapshot / admin page
    def reset_state(self):
        options = dict(self._shop_options)
        tokens = {t: info for t, info in self.tokens.items() if info["expires_at"] is None and not info["revoked"]}
        self._init_state()
        self.tokens.update(tokens)
        self._time_offset = 0.0
        self._doc_cache.clear()
        for name, (plan, auto) in options.items():
            self.shops[name] = ShopState(self, name, plan, auto)
            self._shop_options[name] = (plan, auto)

    def reset(self):
        """Clear everything: shops are recreated empty (same names, plans and
        options, one default location), faults, the log and pending webhooks
        are cleared; the tokens add_shop gave stay valid (OAuth tokens go)."""
        super().reset()

    def state_snapshot(self, tenant=None):
        if tenant is None:
            return {name: self.state_snapshot(name) for name in list(self.shops)}
        s = self.shops.get(tenant)
        if s is None:
            return {"error": "unknown shop %s" % tenant}
        with s.lock:
            snap = s.snapshot()
        snap["faults"] = self.set_faults(tenant)
        snap["url"] = self.shop_url(tenant)
        return snap

    def admin_page(self):
        esc = html.escape
        parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Shopify emulator</title>",
                 "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0}"
                 "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}h2{margin-top:1.5em}</style></head><body>",
                 "<h1>Shopify Admin GraphQL %s emulator</h1><p>%d shop(s) at %s</p>" % (API_VERSION, len(self.shops), esc(self.base_url))]
        for name, s in list(self.shops.items()):
            with s.lock:
                st = self.bucket_status(s)
                parts.append("<h2>%s <small>(%s, plan %s, bucket %d/%d)</small></h2>" % (
                    esc(s.domain), esc(self.shop_url(name)), esc(s.plan), st["currentlyAvailable"], st["maximumAvailable"]))
                parts.append("<p>Locations: %s</p>" % ", ".join(esc("%s (%s)" % (l.name, l.id)) for l in s.loc_table.values()))
                parts.append("<table><tr><th>Product</th><th>Status</th><th>Variant</th><th>SKU</th><th>Price</th>"
                             + "".join("<th>%s</th>" % esc(l.name) for l in s.loc_table.values()) + "</tr>")
                for p in s.product_table.values():
                    for v in p.variant_list:
                        cells = []
                        for l in s.loc_table.values():
                            lv = s.levels.get((v.inventoryItem.num, l.num))
                            cells.append("<td>%s</td>" % ("" if lv is None else "%d" % lv.available))
                        parts.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>%s</tr>" % (
                            esc(p.title), esc(p.status), esc(v.title), esc(v.sku or ""), esc(v.price), "".join(cells)))
                parts.append("</table><table><tr><th>Order</th><th>Created</th><th>Lines</th><th>Fulfillment</th>"
                             "<th>Fulfillment orders</th><th>Cancelled</th></tr>")
                for o in s.order_table.values():
                    parts.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                        esc(o.name), esc(o.createdAt), esc(", ".join("%s x%d" % (li.sku or li.title, li.quantity) for li in o.line_list)),
                        esc(o.displayFulfillmentStatus),
                        esc(", ".join("%s@%s %s/%s" % (fo.num, fo.location.name, fo.status, fo.requestStatus) for fo in o.fo_list)),
                        esc(o.cancelledAt or "")))
                parts.append("</table><p>Webhooks: %s</p>" % esc(", ".join("%s → %s" % (w.topic, w.uri) for w in s.webhooks.values()) or "none"))
        parts.append("</body></html>")
        return "".join(parts)

    # ------------------------------------------------------------ webhooks
    def send_webhook(self, s, topic, payload):
        subs = [w for w in s.webhooks.values() if w.topic == topic]
        if not subs:
            return
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        signature = hmac_sha256_base64(self.api_secret, body)
        triggered = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.now())) + ".000Z"
        faults = self.faults(s.name)
        for w in subs:
            with self._id_lock:
                webhook_id = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
                event_id = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": TOPIC_NAMES.get(topic, topic.lower()),
                "X-Shopify-Hmac-Sha256": signature,
                "X-Shopify-Shop-Domain": s.domain,
                "X-Shopify-API-Version": API_VERSION,
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": triggered,
                "User-Agent": "Shopify-Captain-Hook",
            }
            copies = faults.webhook_copies()
            self.log.record(s.name, "webhook_send", topic, {"uri": w.uri, "webhook_id": webhook_id, "copies": copies})
            for _ in range(copies):
                self.webhooks.enqueue(WebhookDelivery(url=w.uri, headers=dict(headers), build_body=(lambda b=body: b),
                                                      tenant=s.name, due=time.monotonic() + self.webhook_delay_s))

    # ------------------------------------------------------------ HTTP
    def dispatch(self, request):
        parts = request.path.split("/")
        # "", "shops", name, "admin", ...
        if len(parts) < 4 or parts[1] != "shops" or parts[3] != "admin":
            return json_response({"errors": "Not Found"}, 404)
        s = self.shops.get(parts[2])
        if s is None:
            return json_response({"errors": "Not Found"}, 404)
        rest = parts[4:]
        if rest[:1] == ["api"] and len(rest) == 3 and rest[2] == "graphql.json":
            if rest[1] != API_VERSION:
                return json_response({"errors": "Not Found"}, 404)
            if request.method != "POST":
                return json_response({"errors": "Not Found"}, 404)
            return self.graphql_http(s, request)
        if rest[:1] == ["oauth"]:
            if rest[1:] == ["authorize"] and request.method == "GET":
                return self.oauth_authorize(s, request)
            if rest[1:] == ["access_token"] and request.method == "POST":
                return self.oauth_access_token(s, request)
            if rest[1:] == ["access_scopes.json"] and request.method == "GET":
                info, error = self._auth(s, request)
                if error:
                    return error
                return json_response({"access_scopes": [{"handle": h} for h in info["scope"].split(",") if h]})
        return json_response({"errors": "Not Found"}, 404)

    def _auth(self, s, request):
        token = request.headers.get("x-shopify-access-token")
        info = self.tokens.get(token) if token else None
        if info is None or info["shop"] != s.name or info["revoked"] or (
                info["expires_at"] is not None and info["expires_at"] <= self.now()):
            return None, json_response(INVALID_TOKEN, 401)
        return info, None

    def _headers(self):
        with self._id_lock:
            rid = "%032x" % self.random.getrandbits(128)
        return {"X-Shopify-API-Version": API_VERSION, "X-Request-Id": rid}

    def graphql_http(self, s, request):
        started = time.monotonic()
        fault, extra = self.faults(s.name).draw()
        if fault == "hang":
            time.sleep(extra)
            return None
        latency = extra
        if self.faults(s.name).latency_model:
            latency += self.round_trip_ms / 1000.0
        try:
            if fault == "revoked":
                return json_response(INVALID_TOKEN, 401)
            info, error = self._auth(s, request)
            if error:
                return error
            if fault == "throttle":
                return Response(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
                                headers=dict(self._headers(), **{"Retry-After": "2.0"}))
            if fault == "error":
                status = self.faults(s.name).random.choice([502, 503])
                return Response(status, {"errors": "Bad Gateway" if status == 502 else "Service Unavailable"},
                                headers=self._headers())
            payload = self._parse_body(request)
            if payload is None:
                return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
            body = self.run_graphql(s, payload.get("query"), payload.get("variables"), payload.get("operationName"),
                                    info["app"])
            return Response(200, body, headers=self._headers())
        finally:
            remaining = latency - (time.monotonic() - started)
            if remaining > 0:
                self.simulate_latency(s.name, remaining)

    @staticmethod
    def _parse_body(request):
        ctype = request.headers.get("content-type", "")
        try:
            if ctype.startswith("application/graphql"):
                return {"query": request.body.decode("utf-8")}
            data = request.json()
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("query"), str) or not data["query"].strip():
            return None
        if data.get("variables") is not None and not isinstance(data["variables"], dict):
            return None
        return data

    # ------------------------------------------------------------ GraphQL execution
    def document(self, query):
        """Parse and validate a query text once (LRU cache)."""
        with self._doc_lock:
            doc = self._doc_cache.get(query)
            if doc is not None:
                self._doc_cache.move_to_end(query)
                return doc
        try:
            document = parse(query)
        except GraphQLError as exc:
            doc = _Doc(None, [exc])
        else:
            errors = validate(self.schema, document)
            doc = _Doc(document if not errors else None, errors)
            if errors:
                doc.document = None
        with self._doc_lock:
            self._doc_cache[query] = doc
            while len(self._doc_cache) > self._doc_cache_size:
                self._doc_cache.popitem(last=False)
        return doc

    def _refill(self, s):
        b = s.bucket
        now = self.monotonic()
        b["currentlyAvailable"] = min(b["maximumAvailable"], b["currentlyAvailable"] + (now - b["at"]) * b["restoreRate"])
        b["at"] = now

    def _cost_ext(self, s, requested, actual):
        st = self.bucket_status(s)
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": st}}

    def run_graphql(self, s, query, variables=None, operation_name=None, app=None):
        """Execute one GraphQL request against shop ``s``; returns the JSON body."""
        app = app or self.api_key
        doc = self.document(query)
        if doc.errors:
            with s.lock:
                return {"errors": [_format_error(e) for e in doc.errors], "extensions": self._cost_ext(s, 0, 0)}
        if operation_name:
            operation = doc.operations.get(operation_name)
        elif len(doc.operations) == 1:
            operation = next(iter(doc.operations.values()))
        else:
            operation = None
        if operation is None:
            msg = ("Unknown operation named \"%s\"." % operation_name) if operation_name else \
                "An operation name is required"
            return {"errors": [{"message": msg}]}
        size = max(doc.big_lists, _largest_list(variables or {}))
        if size > MAX_INPUT_ARRAY:
            return {"errors": [{"message": "The input array size of %d is greater than the maximum allowed of %d." % (
                size, MAX_INPUT_ARRAY), "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}]}
        requested = operation_cost(self.schema, operation, doc.fragments, variables or {})
        if requested > MAX_QUERY_COST:
            return {"errors": [{
                "message": "Query cost is %d, which exceeds the single query max cost limit (%d).\n\n"
                           "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                           "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk "
                           "operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-"
                           "with-admin-api for usage details.\n" % (requested, MAX_QUERY_COST),
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST,
                               "documentation": DOC_URL}}]}
        with s.lock:
            self._refill(s)
            b = s.bucket
            if requested > b["currentlyAvailable"]:
                self.log.record(s.name, "throttled", operation.operation.value, {"requested": requested})
                return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": DOC_URL}}],
                        "extensions": self._cost_ext(s, requested, None)}
            b["currentlyAvailable"] -= requested
            result = execute(self.schema, doc.document, root_value=s, context_value={"app": app, "shop": s},
                             variable_values=variables, operation_name=operation_name)
            data = result.data
            if operation.operation.value == "mutation":
                actual = requested if data is not None else 0
            else:
                actual = operation_cost(self.schema, operation, doc.fragments, variables or {}, data or {}) if data else 0
            b["currentlyAvailable"] += max(0, requested - actual)
            body = {}
            if result.errors:
                body["errors"] = [_format_error(e) for e in result.errors]
            if data is not None or not result.errors:
                body["data"] = data
            body["extensions"] = self._cost_ext(s, requested, actual)
            return body

    # ------------------------------------------------------------ OAuth
    def oauth_hmac(self, params):
        """Hex HMAC-SHA256 of the sorted query parameters (without hmac), as
        Shopify signs the OAuth callback."""
        def pairs():
            for k, v in params.items():
                if k in ("hmac", "signature"):
                    continue
                k = str(k).replace("%", "%25").replace("=", "%3D")
                v = str(v).replace("%", "%25")
                yield ("%s=%s" % (k, v)).replace("&", "%26")

        message = "&".join(sorted(pairs()))
        return hmac.new(self.api_secret.encode(), message.encode(), hashlib.sha256).hexdigest()

    def oauth_authorize(self, s, request):
        client_id = request.arg("client_id")
        redirect_uri = request.arg("redirect_uri")
        if client_id != self.api_key:
            return json_response({"errors": "Oauth error invalid_request: The client_id is not valid"}, 400)
        if not redirect_uri or not redirect_uri.startswith(("http://", "https://")):
            return json_response({"errors": "Oauth error invalid_request: The redirect_uri is missing or not whitelisted"}, 400)
        scope = request.arg("scope") or self.default_scope()
        code = self._secret_token("")
        with self.lock:
            self.codes[code] = {"shop": s.name, "scope": scope, "expires_at": self.now() + 600}
        params = {
            "code": code,
            "host": __import__("base64").b64encode(("admin.shopify.com/store/%s" % s.name).encode()).decode().rstrip("="),
            "shop": s.domain,
            "timestamp": str(int(self.now())),
        }
        if request.arg("state") is not None:
            params["state"] = request.arg("state")
        params["hmac"] = self.oauth_hmac(params)
        self.log.record(s.name, "oauth_authorize", redirect_uri, {"scope": scope})
        sep = "&" if "?" in redirect_uri else "?"
        return redirect(redirect_uri + sep + urllib.parse.urlencode(params))

    def oauth_access_token(self, s, request):
        ctype = request.headers.get("content-type", "")
        try:
            if ctype.startswith("application/json"):
                data = request.json() or {}
            else:
                data = {k: v[-1] for k, v in urllib.parse.parse_qs(request.body.decode("utf-8")).items()}
                data.update({k: v[-1] for k, v in request.query.items() if k not in data})
        except (ValueError, UnicodeDecodeError):
            return json_response({"error": "invalid_request", "error_description": "Malformed body"}, 400)
        if data.get("client_id") != self.api_key or data.get("client_secret") != self.api_secret:
            return json_response({"error": "invalid_client",
                                  "error_description": "Client authentication failed due to unknown client, no client "
                                                       "authentication included, or unsupported authentication method."}, 401)
        now = self.now()
        with self.lock:
            if data.get("grant_type") == "refresh_token":
                rt = self.refresh_tokens.pop(data.get("refresh_token") or "", None)
                if rt is None or rt["shop"] != s.name or rt["expires_at"] <= now:
                    return json_response({"error": "invalid_grant",
                                          "error_description": "The refresh token is invalid or expired."}, 400)
                scope = rt["scope"]
                kind = "token_refresh"
            else:
                code = self.codes.pop(data.get("code") or "", None)
                if code is None or code["shop"] != s.name or code["expires_at"] <= now:
                    return json_response({"error": "invalid_request",
                                          "error_description": "The authorization code was not found or was already used"}, 400)
                scope = code["scope"]
                kind = "token_issue"
            access = self._secret_token("shpua_")
            refresh = self._secret_token("shprt_")
            self.tokens[access] = {"shop": s.name, "app": self.api_key, "scope": scope,
                                   "expires_at": now + self.token_ttl_s, "revoked": False}
            self.refresh_tokens[refresh] = {"shop": s.name, "scope": scope, "expires_at": now + self.refresh_token_ttl_s,
                                            "access_token": access}
        self.log.record(s.name, kind, access[:12], {"expires_in": self.token_ttl_s})
        return json_response({"access_token": access, "scope": scope, "expires_in": int(self.token_ttl_s),
                              "refresh_token": refresh, "refresh_token_expires_in": int(self.refresh_token_ttl_s)})


def _format_error(error):
    out = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": l.line, "column": l.column} for l in error.locations]
    if error.path:
        out["path"] = list(error.path)
    ext = dict(error.extensions or {})
    if not ext and error.path is None:
        ext = {"code": "GRAPHQL_VALIDATION_FAILED"} if error.locations else {}
    if ext:
        out["extensions"] = ext
    return out


_ = (ListValueNode,)
