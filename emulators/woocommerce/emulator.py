"""HTTP layer of the WooCommerce emulator: routing under /sites/<name>/,
authentication as WooCommerce 9.2 does it, faults, the latency model, the
key-authorization flow (/wc-auth/v1/authorize) and webhook delivery."""

import base64
import hashlib
import hmac
import html
import json
import random
import re
import threading
import time
import urllib.parse

import requests

from ..core import (
    Emulator,
    WebhookDelivery,
    WebhookSender,
    hmac_sha256_base64,
    html_response,
    json_response,
    redirect,
)
from . import spec
from .site import Site, WCError, delivery_id, php_json, WC_VERSION

OAUTH_WINDOW = 15 * 60
MAX_BATCH = 100
USER_AGENT = "WooCommerce/%s Hookshot (WordPress/6.6.2)" % WC_VERSION

# Latency model (seconds), calibrated on a real WooCommerce 9.2.5 on loopback.
LATENCY = {
    "read": 0.050,  # one product / order / webhook
    "list_base": 0.020,
    "list_item": 0.0018,  # 100 products ~ 0.2 s
    "write": 0.060,  # one product / variation update or create
    "batch_base": 0.030,
    "batch_create": 0.036,  # 50-product batch create 1.6 to 2.2 s
    "batch_update": 0.019,  # 100-item batch update ~ 1.9 s
    "batch_delete": 0.015,
    "order_create": 0.100,
    "order_update": 0.080,
    "small": 0.040,  # notes, categories, webhooks, deletes
    "auth_error": 0.030,
}


def rawurlencode(text):
    return urllib.parse.quote(str(text), safe="")


def php_params(pairs):
    """Merge decoded (key, value) pairs as PHP fills $_GET: `a[]`/`a[x]`
    become arrays, a repeated plain key keeps its last value."""
    params = {}
    for key, value in pairs:
        found = re.match(r"^([^\[\]]+)\[([^\[\]]*)\]$", key)
        if found:
            base, inner = found.groups()
            current = params.get(base)
            if not isinstance(current, dict):
                current = params[base] = {}
            if inner == "":
                inner = str(len(current))
            current[inner] = value
        else:
            params[key] = value
    return params


def oauth_string_to_sign(method, base_url, params):
    parts = []
    for key in sorted(params, key=lambda k: k.encode()):
        value = params[key]
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                parts.append(rawurlencode("%s%%5B%s%%5D=%s" % (rawurlencode(key), rawurlencode(inner), rawurlencode(inner_value))))
        else:
            parts.append(rawurlencode("%s=%s" % (rawurlencode(key), rawurlencode(value))))
    return "%s&%s&%s" % (method, rawurlencode(base_url), "%26".join(parts))


class _WooSender(WebhookSender):
    """Core's sender without retries (WooCommerce counts failures instead),
    plus cancellation of deliveries whose webhook was deleted and a flush."""

    def _deliver(self, session, delivery):
        cancelled = getattr(delivery, "cancelled", None)
        if cancelled is not None and cancelled():
            return
        super()._deliver(session, delivery)

    def flush(self):
        """Make every queued delivery due now."""
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except Exception:
                break
        moment = time.monotonic()
        for _due, _n, delivery in items:
            delivery.due = moment
            self.enqueue(delivery)


class WooCommerceEmulator(Emulator):
    name = "woocommerce"

    def __init__(self, host="127.0.0.1", port=0, seed=0, tls_port=0, tls=True):
        super().__init__(host=host, port=port, seed=seed, tls=tls, tls_port=tls_port)
        self.webhooks = _WooSender(self.log, max_attempts=1)
        self.sites = {}
        self._webhook_delay = {}
        self._pending = {}  # (site, webhook id, resource id) -> True while a delivery is queued
        self._delivery_counter = 0
        self._random = random.Random("%s:woocommerce" % seed)
        # Guards _pending, _random and _delivery_counter. Taken while a site
        # lock may be held, so it must never wait for a site lock itself
        # (self.lock, held by reset(), does).
        self._wlock = threading.Lock()

    # ================================================================ public API
    def start(self):
        super().start()
        for name, site in self.sites.items():
            site.url, site.tls_url = self.site_url(name), self.site_url(name, tls=True)
        return self

    def add_site(self, name, currency="USD"):
        """Create a site (idempotent) with one read_write REST key; returns (key, secret)."""
        with self.lock:
            site = self.sites.get(name)
            if site is None:
                seed = int(hashlib.sha256(("%s:%s" % (self.seed, name)).encode()).hexdigest()[:12], 16)
                site = Site(name, self.site_url(name), self.site_url(name, tls=True), seed, currency)
                self.sites[name] = site
                self.faults(name)
                with site.lock:
                    site.create_key("read_write", "Seller Mode (emulator)", initial=True)
                    self._flush(site)
            key = site.initial_keys[0]
            return key["consumer_key"], key["consumer_secret"]

    def add_key(self, name, permissions="read_write", description=""):
        """Another REST key pair for a site ('read', 'write' or 'read_write')."""
        site = self._site(name)
        with site.lock:
            record = site.create_key(permissions, description)
            self._flush(site)
        return record["consumer_key"], record["consumer_secret"]

    def site_url(self, name, tls=False):
        return "%s/sites/%s" % (self.tls_base_url if tls else self.base_url, name)

    def revoke_keys(self, name):
        """Delete every REST key of the site: all calls answer 401 afterwards."""
        site = self._site(name)
        with site.lock:
            for ck in list(site.keys):
                site.delete_key(ck)
            self._flush(site)

    def set_webhook_delay(self, name, seconds):
        """Delay between an event and its webhook delivery: a number of seconds
        (0 = immediate), a (low, high) range drawn from the seed, or None for
        the default Action Scheduler-like 20 to 60 s."""
        self._site(name)
        self._webhook_delay[name] = seconds

    def set_auth_mode(self, name, mode):
        """/wc-auth/v1/authorize behaviour: 'auto' (approve at once, the
        default), 'page' (show an Approve/Deny page) or 'deny'."""
        if mode not in ("auto", "page", "deny"):
            raise ValueError(mode)
        self._site(name).auth_mode = mode

    def flush_webhooks(self):
        """Deliver every queued webhook now instead of at its due time."""
        self.webhooks.flush()

    def stock(self, name, product_id):
        site = self._site(name)
        with site.lock:
            record = site.any_product(int(product_id))
            if record is None or not record["manage_stock"]:
                return None
            return record["stock_quantity"]

    def set_stock(self, name, product_id, quantity):
        """Change a managed stock quantity as the shop owner would in wp-admin
        (fires product.updated)."""
        site = self._site(name)
        with site.lock:
            record = site.any_product(int(product_id))
            if record is None:
                raise KeyError(product_id)
            record["manage_stock"] = True
            site.set_stock(record, int(quantity))
            site.event("product", "updated", record["id"])
            self._flush(site)

    def place_order(self, name, line_items, shipping=None, status="processing", billing=None,
                    customer_note="", payment_method="bacs", meta_data=None):
        """An order placed at the shop's checkout: stock of managed items is
        decremented (for processing/completed/on-hold), order.created fires."""
        site = self._site(name)
        data = {
            "line_items": line_items, "shipping": shipping or {}, "billing": billing or {},
            "status": status, "customer_note": customer_note, "payment_method": payment_method,
            "payment_method_title": {"bacs": "Direct bank transfer", "cod": "Cash on delivery"}.get(payment_method, payment_method),
            "meta_data": meta_data or [],
        }
        with site.lock:
            order = site.create_order(data, created_via="checkout")
            out = site.serialize_order(order)
            self._flush(site)
        return out

    def get_product(self, name, product_id):
        site = self._site(name)
        with site.lock:
            record = site.any_product(int(product_id))
            return site.serialize_product(record) if record else None

    def get_order(self, name, order_id):
        site = self._site(name)
        with site.lock:
            record = site.orders.get(int(order_id))
            return site.serialize_order(record) if record else None

    def state_snapshot(self, tenant=None):
        if tenant is None:
            return {name: self.state_snapshot(name) for name in list(self.sites)}
        site = self._site(tenant)
        with site.lock:
            return site.snapshot()

    def reset_state(self):
        """Empty every site (keeping the sites and their first key pair)."""
        with self.lock:
            with self._wlock:
                self._pending.clear()
            self._webhook_delay.clear()
            for site in self.sites.values():
                with site.lock:
                    site.clear()
                    site.drain()

    def admin_page(self):
        rows = []
        for name, site in sorted(self.sites.items()):
            with site.lock:
                products = "".join(
                    "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                        r["id"], html.escape(r["_kind"] if r["_kind"] == "variation" else r["type"]),
                        html.escape(r["sku"]), html.escape(site.serialize_product(r)["name"]),
                        "" if not r["manage_stock"] else r["stock_quantity"], r["stock_status"])
                    for r in sorted(list(site.products.values()) + list(site.variations.values()), key=lambda r: r["id"])
                )
                orders = "".join(
                    "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                        o["id"], o["status"], site.serialize_order(o)["total"], o["created_via"],
                        html.escape(", ".join("%s x%d" % (i["sku"] or i["name"], i["quantity"]) for i in o["line_items"])))
                    for o in sorted(site.orders.values(), key=lambda r: r["id"])
                )
                hooks = "".join(
                    "<li>#%d %s &rarr; %s (%s, failures %d)</li>" % (
                        w["id"], w["topic"], html.escape(w["delivery_url"]), w["status"], w["failure_count"])
                    for w in site.webhooks.values()
                )
                keys = "".join("<li>%s (%s)</li>" % (k["consumer_key"], k["permissions"]) for k in site.keys.values())
            rows.append(
                "<h2>%s</h2><p><a href='%s'>%s</a> &middot; https: %s</p><h3>Keys</h3><ul>%s</ul>"
                "<h3>Products</h3><table border=1 cellpadding=3><tr><th>id</th><th>type</th><th>SKU</th><th>name</th>"
                "<th>stock</th><th>status</th></tr>%s</table><h3>Orders</h3><table border=1 cellpadding=3><tr><th>id</th>"
                "<th>status</th><th>total</th><th>via</th><th>lines</th></tr>%s</table><h3>Webhooks</h3><ul>%s</ul>" % (
                    html.escape(name), site.url, site.url, site.tls_url, keys, products, orders, hooks)
            )
        return "<!doctype html><html><head><title>WooCommerce emulator</title></head><body><h1>WooCommerce emulator</h1>%s</body></html>" % "".join(rows)

    # ================================================================ helpers
    def _fault_state(self, name):
        state = self._faults.get(name)
        return state if state is not None else self.faults(name)

    def _site(self, name):
        site = self.sites.get(name)
        if site is None:
            raise KeyError("unknown site %r" % name)
        return site

    def _flush(self, site):
        """Record the site's pending changes and schedule its webhooks.
        Called with the site lock held."""
        changes, events = site.drain()
        for kind, key, value in changes:
            self.log.record(site.name, kind, key, value)
        seen = set()
        for resource, event, rid in events:
            if (resource, event, rid) in seen:
                continue
            seen.add((resource, event, rid))
            topic = "%s.%s" % (resource, event)
            for hook in list(site.webhooks.values()):
                if hook["status"] != "active" or hook["topic"] != topic:
                    continue
                self._schedule(site, hook, rid)

    def _delay(self, site):
        setting = self._webhook_delay.get(site.name)
        if setting is None:
            setting = (20.0, 60.0)
        if isinstance(setting, (tuple, list)):
            with self._wlock:
                return self._random.uniform(float(setting[0]), float(setting[1]))
        return float(setting)

    def _schedule(self, site, hook, rid):
        pending_key = (site.name, hook["id"], rid)
        with self._wlock:
            # WooCommerce schedules one async delivery per (webhook, resource)
            # while one is already pending.
            if self._pending.get(pending_key):
                return
            self._pending[pending_key] = True
        copies = self._fault_state(site.name).webhook_copies()
        if copies == 0:
            with self._wlock:
                self._pending.pop(pending_key, None)
            self.log.record(site.name, "webhook_dropped", hook["id"], {"topic": hook["topic"], "resource_id": rid})
            return
        due = time.monotonic() + self._delay(site)
        wid, topic, resource, event = hook["id"], hook["topic"], hook["resource"], hook["event"]
        for _ in range(copies):
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-WC-Webhook-Source": site.url + "/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-ID": str(wid),
            }
            delivery = WebhookDelivery(
                url=hook["delivery_url"], headers=headers, build_body=None, tenant=site.name, due=due,
                on_result=lambda ok, wid=wid: self._delivery_result(site, wid, ok),
            )
            delivery.build_body = self._body_builder(site, wid, resource, event, rid, headers, delivery, pending_key)
            delivery.cancelled = lambda wid=wid: wid not in site.webhooks
            self.webhooks.enqueue(delivery)

    def _body_builder(self, site, wid, resource, event, rid, headers, delivery, pending_key):
        def build():
            with self._wlock:
                self._pending.pop(pending_key, None)
                self._delivery_counter += 1
                counter = self._delivery_counter
            with site.lock:
                hook = site.webhooks.get(wid)
                if hook is not None:
                    delivery.url = hook["delivery_url"]
                secret = hook["secret"] if hook else ""
                if event == "deleted":
                    payload = {"id": rid}
                elif resource == "product":
                    record = site.any_product(rid)
                    payload = site.serialize_product(record) if record else WCError(
                        "woocommerce_rest_product_invalid_id", "Invalid ID.", 404).body()
                elif resource == "order":
                    record = site.orders.get(rid)
                    payload = site.serialize_order(record) if record else WCError(
                        "woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404).body()
                else:
                    payload = {"id": rid}
            body = php_json(payload).encode("utf-8")
            headers["X-WC-Webhook-Signature"] = hmac_sha256_base64(secret, body)
            headers["X-WC-Webhook-Delivery-ID"] = delivery_id(site.seed, counter)
            return body

        return build

    def _delivery_result(self, site, wid, ok):
        with site.lock:
            hook = site.webhooks.get(wid)
            if hook is None:
                return
            if ok:
                hook["failure_count"] = 0
                return
            # WC_Webhook::failed_delivery(): disable once the count is above 5.
            if hook["failure_count"] > 5:
                hook["status"] = "disabled"
                site.change("webhook_disabled", wid, {"failure_count": hook["failure_count"]})
            else:
                hook["failure_count"] += 1
                site.change("webhook_failure", wid, {"failure_count": hook["failure_count"]})
            self._flush(site)

    def _ping(self, site, hook):
        try:
            response = requests.post(
                hook["delivery_url"], data="webhook_id=%d" % hook["id"], timeout=5, verify=False,
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
            )
            status = response.status_code
        except requests.RequestException:
            status = 0
        self.log.record(site.name, "webhook_ping", hook["id"], {"status": status})

    def _sleep(self, site, cost, extra):
        seconds = extra
        if cost and self._fault_state(site.name).latency_model:
            with self._wlock:
                seconds += cost * self._random.uniform(0.95, 1.05)
        self.simulate_latency(site.name, seconds)

    # ================================================================ HTTP
    def dispatch(self, request):
        parts = request.path.split("/")
        if len(parts) < 3 or parts[1] != "sites" or parts[2] not in self.sites:
            return html_response("<h1>Not Found</h1>", 404)
        site = self.sites[parts[2]]
        rest = "/" + "/".join(parts[3:])
        if rest.startswith("/wp-json"):
            route = rest[len("/wp-json"):].rstrip("/") or "/"
            return self._rest(site, request, route)
        if rest.startswith("/wc-auth/v1/"):
            return self._wc_auth(site, request, rest[len("/wc-auth/v1/"):].strip("/"))
        return html_response(
            "<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1><p>WooCommerce %s (emulated).</p></body></html>"
            % (html.escape(site.name), html.escape(site.name), WC_VERSION)
        )

    @staticmethod
    def _error(exc, headers=None):
        return json_response(exc.body(), status=exc.status, headers=headers)

    def _rest(self, site, request, route):
        fault, extra = self._fault_state(site.name).draw()
        if fault == "hang":
            time.sleep(extra)
            return None
        if fault is not None:
            self._sleep(site, LATENCY["auth_error"], extra)
        if fault == "revoked":
            return self._error(WCError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401))
        if fault == "throttle":
            return json_response(
                {"code": "woocommerce_rest_too_many_requests", "message": "Too many requests. Please wait and try again.",
                 "data": {"status": 429}}, status=429, headers={"Retry-After": "2"})
        if fault == "error":
            with self._wlock:
                pick = self._random.random()
            if pick < 0.5:
                return json_response({
                    "code": "internal_server_error",
                    "message": "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
                    "data": {"status": 500}, "additional_errors": []}, status=500)
            return html_response("<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>", 503)

        if route in ("/", ""):
            return json_response({"name": site.name, "url": site.url, "home": site.url, "namespaces": ["wc/v3", "wc-auth/v1"]})

        with site.lock:
            key, auth_error = self._authenticate(site, request)
        if auth_error is not None:
            self._sleep(site, LATENCY["auth_error"], extra)
            return self._error(auth_error)

        method = request.method
        if method == "HEAD":
            method = "GET"
        found = spec.match(route, method if method != "OPTIONS" else "GET")
        if found is None or (found[1] is None and method != "OPTIONS"):
            self._sleep(site, LATENCY["auth_error"], extra)
            return self._error(WCError("rest_no_route", "No route was found matching the URL and request method.", 404))
        pattern, handler, args, path_params = found
        if method == "OPTIONS":
            return json_response(self._options(pattern))

        query = php_params(urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True))
        body = {}
        content_type = request.headers.get("content-type", "")
        if request.body:
            if "json" in content_type or request.body[:1] in (b"{", b"["):
                try:
                    body = json.loads(request.body.decode("utf-8"))
                except ValueError:
                    return self._error(WCError("rest_invalid_json", "Invalid JSON body passed.", 400, json_error_code=4,
                                               json_error_message="Syntax error"))
            elif "x-www-form-urlencoded" in content_type:
                body = php_params(urllib.parse.parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        if not isinstance(body, dict):
            body = {}
        params = dict(query)
        for name in ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                     "oauth_signature_method", "oauth_version", "consumer_key", "consumer_secret", "_method"):
            params.pop(name, None)
        batch = pattern in spec.BATCH_ROUTES
        merged = dict(params)
        if not batch:
            merged.update(body)
        try:
            merged = spec.validate(merged, args)
        except spec.InvalidParam as exc:
            self._sleep(site, LATENCY["auth_error"], extra)
            return json_response({
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): %s" % ", ".join(exc.errors),
                "data": {
                    "status": 400,
                    "params": {n: m for n, (m, _c) in exc.errors.items()},
                    "details": {n: {"code": c, "message": m, "data": None} for n, (m, c) in exc.errors.items()},
                },
            }, status=400)

        if key is None:
            self._sleep(site, LATENCY["auth_error"], extra)
            return self._error(self._cannot(handler))

        func = getattr(self, "_h_" + handler)
        with site.lock:
            try:
                status, payload, headers, cost = func(site, merged, body, path_params, request)
            except WCError as exc:
                status, payload, headers, cost = exc.status, exc.body(), {}, LATENCY["small"]
            self._flush(site)
        self._sleep(site, cost, extra)
        return json_response(payload, status=status, headers=headers)

    @staticmethod
    def _cannot(handler):
        if handler.startswith("batch_"):
            return WCError("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource.", 401)
        if handler.startswith("create_"):
            return WCError("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.", 401)
        if handler.startswith("update_"):
            return WCError("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 401)
        if handler.startswith("delete_"):
            return WCError("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.", 401)
        if handler.startswith("list_"):
            return WCError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        return WCError("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)

    def _options(self, pattern):
        methods = spec.ROUTES[pattern]
        endpoints = []
        for method, (_h, args) in methods.items():
            names = [method] + (["POST", "PATCH"] if method == "PUT" else [])
            endpoints.append({"methods": names, "args": {n: {"required": False} for n in args}})
        return {"namespace": "wc/v3", "methods": sorted({m for e in endpoints for m in e["methods"]}), "endpoints": endpoints}

    # ---------------------------------------------------------------- auth
    def _authenticate(self, site, request):
        """(key record, None) when authenticated, (None, None) when no
        credentials were accepted, (None, WCError) on an authentication error."""
        key = None
        if request.scheme == "https":
            ck = request.arg("consumer_key")
            cs = request.arg("consumer_secret")
            if not (ck and cs):
                ck = cs = None
                header = request.headers.get("authorization", "")
                if header.lower().startswith("basic "):
                    try:
                        ck, _, cs = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
                    except (ValueError, UnicodeDecodeError):
                        ck = cs = None
            if ck and cs:
                record = site.keys.get(ck)
                if record is not None:
                    if not hmac.compare_digest(record["consumer_secret"], cs):
                        return None, WCError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
                    key = record
        if key is None:
            key, error = self._oauth(site, request)
            if error is not None:
                return None, error
        if key is None:
            return None, None
        method = request.method
        if key["permissions"] == "read" and method not in ("HEAD", "GET", "OPTIONS"):
            return None, WCError("woocommerce_rest_authentication_error", "The API key provided does not have write permissions.", 401)
        if key["permissions"] == "write" and method not in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            return None, WCError("woocommerce_rest_authentication_error", "The API key provided does not have read permissions.", 401)
        key["last_access"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        return key, None

    def _oauth(self, site, request):
        pairs = urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True)
        if request.body and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            pairs += urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        params = php_params(pairs)
        header = request.headers.get("authorization", "")
        if header.startswith("OAuth "):
            for name, value in re.findall(r'(\w+)="([^"]*)"', header):
                if name.startswith("oauth_"):
                    params[name] = urllib.parse.unquote(value)
        needed = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
        if any(not params.get(n) or isinstance(params.get(n), dict) for n in needed):
            return None, None
        record = site.keys.get(params["oauth_consumer_key"])
        if record is None:
            return None, WCError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        given = urllib.parse.unquote(params.pop("oauth_signature").replace(" ", "+"))
        method_name = params["oauth_signature_method"]
        if method_name not in ("HMAC-SHA1", "HMAC-SHA256"):
            return None, WCError("woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.", 401)
        base = self.tls_base_url if request.scheme == "https" else self.base_url
        string_to_sign = oauth_string_to_sign(request.method, base + request.path, params)
        digest = hashlib.sha1 if method_name == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(
            hmac.new((record["consumer_secret"] + "&").encode(), string_to_sign.encode(), digest).digest()).decode()
        if not hmac.compare_digest(expected, given):
            return None, WCError("woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.", 401)
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        moment = int(time.time())
        if stamp < moment - OAUTH_WINDOW or stamp > moment + OAUTH_WINDOW:
            return None, WCError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        nonces = record["nonces"]
        nonce = params["oauth_nonce"]
        if nonce in nonces:
            return None, WCError("woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", 401)
        nonces[nonce] = stamp
        for old in [n for n, t in nonces.items() if t < moment - OAUTH_WINDOW]:
            del nonces[old]
        return record, None

    # ---------------------------------------------------------------- wc-auth
    def _wc_auth(self, site, request, action):
        q = {k: request.arg(k) for k in ("app_name", "scope", "user_id", "return_url", "callback_url")}
        if action == "authorize":
            for name in ("app_name", "scope", "user_id", "return_url", "callback_url"):
                if not q[name]:
                    return self._die("Missing parameter %s" % name)
            if q["scope"] not in ("read", "write", "read_write"):
                return self._die("Invalid scope %s" % q["scope"])
            for name in ("return_url", "callback_url"):
                if not re.match(r"^https?://", q[name]):
                    return self._die("The %s is not a valid URL" % name)
            callback = urllib.parse.urlsplit(q["callback_url"])
            if callback.scheme != "https" and callback.hostname not in ("127.0.0.1", "localhost", "::1"):
                return self._die("The callback_url needs to be over SSL")
            mode = site.auth_mode
            if mode == "deny":
                return self._auth_return(q, success=0)
            if mode == "page":
                qs = urllib.parse.urlencode(q)
                return html_response(
                    "<!doctype html><html><head><title>Connect</title></head><body><h1>%s would like to connect to your store</h1>"
                    "<p>Scope: %s</p><p><a id='approve' href='%s/wc-auth/v1/access_granted?%s'>Approve</a> "
                    "<a id='deny' href='%s/wc-auth/v1/access_denied?%s'>Deny</a></p></body></html>" % (
                        html.escape(q["app_name"]), html.escape(q["scope"]), site.url, html.escape(qs), site.url, html.escape(qs)))
            return self._grant(site, q)
        if action == "access_granted":
            return self._grant(site, q)
        if action == "access_denied":
            return self._auth_return(q, success=0)
        return html_response("<h1>Not Found</h1>", 404)

    @staticmethod
    def _die(message, status=400):
        return html_response("<!doctype html><html><body><p>Error: %s.</p></body></html>" % html.escape(message), status)

    @staticmethod
    def _auth_return(q, success):
        url = q["return_url"] or "/"
        joiner = "&" if "?" in url else "?"
        return redirect(url + joiner + urllib.parse.urlencode({"success": success, "user_id": q["user_id"] or ""}))

    def _grant(self, site, q):
        if not all(q.values()):
            return self._die("Missing parameters")
        with site.lock:
            description = "%s - API (%s)" % (q["app_name"], time.strftime("%B %d, %Y at %H:%M", time.gmtime()))
            record = site.create_key(q["scope"], description, user_id=1)
            self._flush(site)
        payload = {
            "key_id": record["key_id"], "user_id": q["user_id"], "consumer_key": record["consumer_key"],
            "consumer_secret": record["consumer_secret"], "key_permissions": record["permissions"],
        }
        try:
            response = requests.post(q["callback_url"], data=json.dumps(payload), timeout=60, verify=False,
                                     headers={"Content-Type": "application/json;charset=UTF-8", "User-Agent": USER_AGENT})
            status = response.status_code
        except requests.RequestException:
            status = 0
        self.log.record(site.name, "auth_callback", q["callback_url"], {"status": status, "key_id": record["key_id"]})
        if status != 200:
            with site.lock:
                site.delete_key(record["consumer_key"])
                self._flush(site)
            return self._auth_return(q, success=0)
        return self._auth_return(q, success=1)

    # ================================================================ handlers
    # Each returns (status, payload, headers, latency cost in seconds).
    def _h_index(self, site, p, body, path, request):
        routes = {
            pattern: {"namespace": "wc/v3", "methods": sorted(methods), "endpoints": [
                {"methods": [m], "args": {n: {"required": False} for n in a}} for m, (_h, a) in methods.items()]}
            for pattern, methods in spec.ROUTES.items()
        }
        return 200, {"namespace": "wc/v3", "routes": routes}, {}, LATENCY["read"]

    def _paginate(self, site, request, collection, items, p, serialize):
        total = len(items)
        per_page = p.get("per_page", 10)
        page = p.get("page", 1)
        offset = p.get("offset")
        start = offset if offset is not None else (page - 1) * per_page
        chunk = items[start:start + per_page]
        pages = (total + per_page - 1) // per_page if total else 0
        base_params = {k: v for k, v in urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True)
                       if not k.startswith("oauth_") and k not in ("consumer_key", "consumer_secret", "page")}
        base = "%s/wp-json/wc/v3/%s" % (site.url, collection)
        links = []
        if page > 1 and total:
            prev_page = min(page - 1, pages)
            links.append('<%s?%s>; rel="prev"' % (base, urllib.parse.urlencode(dict(base_params, page=prev_page))))
        if page < pages:
            links.append('<%s?%s>; rel="next"' % (base, urllib.parse.urlencode(dict(base_params, page=page + 1))))
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        out = [serialize(r) for r in chunk]
        return 200, out, headers, LATENCY["list_base"] + LATENCY["list_item"] * len(out)

    @staticmethod
    def _date_filter(items, p, created="_created", modified="_modified"):
        from .site import parse_date

        for name, field, cmp in (("after", created, lambda a, b: a > b), ("before", created, lambda a, b: a < b),
                                 ("modified_after", modified, lambda a, b: a > b), ("modified_before", modified, lambda a, b: a < b)):
            if p.get(name):
                limit = parse_date(p[name])
                items = [r for r in items if cmp(r[field], limit)]
        return items

    @staticmethod
    def _sort(items, p, keys):
        orderby = p.get("orderby", "date")
        reverse = p.get("order", "desc") == "desc"
        if orderby == "include" and p.get("include"):
            order = {v: n for n, v in enumerate(p["include"])}
            return sorted(items, key=lambda r: order.get(r["id"], 0))
        getter = keys.get(orderby, keys["date"])
        return sorted(items, key=lambda r: (getter(r), r["id"]), reverse=reverse)

    def _product_filters(self, site, items, p):
        if p.get("include"):
            items = [r for r in items if r["id"] in p["include"]]
        if p.get("exclude"):
            items = [r for r in items if r["id"] not in p["exclude"]]
        status = p.get("status", "any")
        if status == "any":
            items = [r for r in items if r["status"] not in ("trash", "auto-draft")]
        else:
            items = [r for r in items if r["status"] == status]
        if p.get("search"):
            needle = p["search"].lower()
            items = [r for r in items if needle in site.serialize_product(r)["name"].lower()
                     or needle in r["description"].lower() or needle in r["short_description"].lower()]
        if p.get("search_sku"):
            needle = p["search_sku"].lower()
            items = [r for r in items if needle in r["sku"].lower()]
        if p.get("stock_status"):
            items = [r for r in items if r["stock_status"] == p["stock_status"]]
        return self._date_filter(items, p)

    def _h_list_products(self, site, p, body, path, request):
        items = list(site.products.values())
        if p.get("sku"):
            skus = {s.strip().lower() for s in p["sku"].split(",") if s.strip()}
            items = [r for r in items + list(site.variations.values()) if r["sku"].strip().lower() in skus]
        if p.get("type"):
            items = [r for r in items if r["type"] == p["type"]]
        if p.get("slug"):
            items = [r for r in items if r["slug"] == p["slug"]]
        if p.get("category"):
            wanted = {int(c) for c in str(p["category"]).split(",") if c.strip().isdigit()}
            items = [r for r in items if wanted & set(r["categories"])]
        if p.get("parent"):
            items = [r for r in items if r["parent_id"] in p["parent"]]
        items = self._product_filters(site, items, p)
        items = self._sort(items, p, {
            "date": lambda r: r["_created"], "id": lambda r: r["id"], "modified": lambda r: r["_modified"],
            "title": lambda r: site.serialize_product(r)["name"].lower(), "slug": lambda r: r["slug"],
            "menu_order": lambda r: r["menu_order"], "price": lambda r: float(site.price(r) or 0),
        })
        context = p.get("context", "view")
        return self._paginate(site, request, "products", items, p, lambda r: site.serialize_product(r, context))

    def _h_get_product(self, site, p, body, path, request):
        record = site.any_product(path["id"])
        if record is None:
            raise WCError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return 200, site.serialize_product(record, p.get("context", "view")), {}, LATENCY["read"]

    def _created(self, site, path, payload):
        return {"Location": "/wp-json/wc/v3/%s" % path}

    def _h_create_product(self, site, p, body, path, request):
        if p.get("id"):
            raise WCError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        record = site.create_product(p)
        return 201, site.serialize_product(record, "edit"), {"Location": "/wp-json/wc/v3/products/%d" % record["id"]}, LATENCY["write"]

    def _h_update_product(self, site, p, body, path, request):
        record = site.update_product(path["id"], p)
        return 200, site.serialize_product(record, "edit"), {}, LATENCY["write"]

    def _h_delete_product(self, site, p, body, path, request):
        return 200, site.delete_product(path["id"], p.get("force", False)), {}, LATENCY["small"]

    def _batch(self, site, body, create, update, delete, serialize):
        if not isinstance(body, dict):
            body = {}
        lists = {name: body.get(name) for name in ("create", "update", "delete")}
        count = sum(len(v) for v in lists.values() if isinstance(v, list))
        if count > MAX_BATCH:
            raise WCError("woocommerce_rest_request_entity_too_large",
                          "Unable to accept more than %d items for this request." % MAX_BATCH, 413)
        out = {}
        cost = LATENCY["batch_base"]
        if isinstance(lists["create"], list):
            out["create"] = []
            for item in lists["create"]:
                cost += LATENCY["batch_create"]
                try:
                    out["create"].append(serialize(create(item if isinstance(item, dict) else {})))
                except WCError as exc:
                    out["create"].append({"id": 0, "error": {"code": exc.code, "message": exc.message, "data": exc.body()["data"]}})
        if isinstance(lists["update"], list):
            out["update"] = []
            for item in lists["update"]:
                cost += LATENCY["batch_update"]
                item = item if isinstance(item, dict) else {}
                try:
                    item_id = int(item.get("id") or 0)
                    out["update"].append(serialize(update(item_id, item)))
                except (WCError, ValueError, TypeError) as exc:
                    if not isinstance(exc, WCError):
                        exc = WCError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
                    out["update"].append({"id": item.get("id", 0), "error": {"code": exc.code, "message": exc.message, "data": exc.body()["data"]}})
        if isinstance(lists["delete"], list):
            out["delete"] = []
            for item_id in lists["delete"]:
                cost += LATENCY["batch_delete"]
                try:
                    item_id = int(item_id.get("id") if isinstance(item_id, dict) else item_id)
                except (TypeError, ValueError):
                    continue
                if item_id == 0:
                    continue
                try:
                    out["delete"].append(delete(item_id))
                except WCError as exc:
                    out["delete"].append({"id": item_id, "error": {"code": exc.code, "message": exc.message, "data": exc.body()["data"]}})
        return 200, out, {}, cost

    def _h_batch_products(self, site, p, body, path, request):
        return self._batch(
            site, body, site.create_product, site.update_product,
            lambda pid: site.delete_product(pid, True), lambda r: site.serialize_product(r, "edit"))

    # variations
    def _parent(self, site, product_id):
        if product_id not in site.products:
            raise WCError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return site.products[product_id]

    def _h_list_variations(self, site, p, body, path, request):
        items = [v for v in site.variations.values() if v["parent_id"] == path["product_id"]]
        if p.get("sku"):
            skus = {s.strip().lower() for s in p["sku"].split(",") if s.strip()}
            items = [r for r in items if r["sku"].strip().lower() in skus]
        items = self._product_filters(site, items, p)
        items = self._sort(items, p, {
            "date": lambda r: r["_created"], "id": lambda r: r["id"], "modified": lambda r: r["_modified"],
            "title": lambda r: r["id"], "slug": lambda r: r["id"], "menu_order": lambda r: r["menu_order"],
        })
        return self._paginate(site, request, "products/%d/variations" % path["product_id"], items, p, site.serialize_variation)

    def _h_get_variation(self, site, p, body, path, request):
        return 200, site.serialize_variation(site.variation(path["product_id"], path["id"])), {}, LATENCY["read"]

    def _h_create_variation(self, site, p, body, path, request):
        record = site.create_variation(path["product_id"], p)
        headers = {"Location": "/wp-json/wc/v3/products/%d/variations/%d" % (path["product_id"], record["id"])}
        return 201, site.serialize_variation(record), headers, LATENCY["write"]

    def _h_update_variation(self, site, p, body, path, request):
        record = site.update_variation(path["product_id"], path["id"], p)
        return 200, site.serialize_variation(record), {}, LATENCY["write"]

    def _h_delete_variation(self, site, p, body, path, request):
        return 200, site.delete_variation(path["product_id"], path["id"], p.get("force", False)), {}, LATENCY["small"]

    def _h_batch_variations(self, site, p, body, path, request):
        pid = path["product_id"]
        self._parent(site, pid)
        return self._batch(
            site, body, lambda item: site.create_variation(pid, item),
            lambda vid, item: site.update_variation(pid, vid, item),
            lambda vid: site.delete_variation(pid, vid, True), site.serialize_variation)

    # categories
    def _h_list_categories(self, site, p, body, path, request):
        items = list(site.categories.values())
        if p.get("include"):
            items = [c for c in items if c["id"] in p["include"]]
        if p.get("exclude"):
            items = [c for c in items if c["id"] not in p["exclude"]]
        if p.get("search"):
            items = [c for c in items if p["search"].lower() in c["name"].lower() or p["search"].lower() in c["slug"]]
        if p.get("slug"):
            items = [c for c in items if c["slug"] == p["slug"]]
        if "parent" in p:
            items = [c for c in items if c["parent"] == p["parent"]]
        if p.get("product"):
            record = site.products.get(p["product"])
            items = [c for c in items if record and c["id"] in record["categories"]]
        if p.get("hide_empty"):
            items = [c for c in items if site.serialize_category(c)["count"] > 0]
        p = dict(p, order=p.get("order", "asc"), orderby=p.get("orderby", "name"))
        items = self._sort(items, p, {
            "date": lambda c: c["name"].lower(), "name": lambda c: c["name"].lower(), "id": lambda c: c["id"],
            "slug": lambda c: c["slug"], "description": lambda c: c["description"], "term_group": lambda c: 0,
            "count": lambda c: site.serialize_category(c)["count"],
        })
        return self._paginate(site, request, "products/categories", items, p, site.serialize_category)

    def _h_get_category(self, site, p, body, path, request):
        return 200, site.serialize_category(site.category(path["id"])), {}, LATENCY["small"]

    def _h_create_category(self, site, p, body, path, request):
        record = site.create_category(p)
        return 201, site.serialize_category(record), {"Location": "/wp-json/wc/v3/products/categories/%d" % record["id"]}, LATENCY["small"]

    def _h_update_category(self, site, p, body, path, request):
        return 200, site.serialize_category(site.update_category(path["id"], p)), {}, LATENCY["small"]

    def _h_delete_category(self, site, p, body, path, request):
        return 200, site.delete_category(path["id"], p.get("force", False)), {}, LATENCY["small"]

    # orders
    def _h_list_orders(self, site, p, body, path, request):
        items = list(site.orders.values())
        statuses = p.get("status") or ["any"]
        if isinstance(statuses, str):
            statuses = [statuses]
        if "any" in statuses:
            items = [o for o in items if o["status"] not in ("trash", "auto-draft", "checkout-draft")]
        else:
            items = [o for o in items if o["status"] in statuses]
        if p.get("include"):
            items = [o for o in items if o["id"] in p["include"]]
        if p.get("exclude"):
            items = [o for o in items if o["id"] not in p["exclude"]]
        if p.get("customer") is not None and "customer" in p:
            items = [o for o in items if o["customer_id"] == p["customer"]]
        if p.get("product"):
            items = [o for o in items if any(p["product"] in (i["product_id"], i["variation_id"]) for i in o["line_items"])]
        if p.get("parent"):
            items = [o for o in items if o["parent_id"] in p["parent"]]
        if p.get("search"):
            needle = p["search"].lower()
            items = [o for o in items if needle in json.dumps([o["billing"], o["shipping"], [i["name"] for i in o["line_items"]]]).lower()
                     or needle == str(o["id"])]
        items = self._date_filter(items, p)
        items = self._sort(items, p, {
            "date": lambda o: o["_created"], "id": lambda o: o["id"], "modified": lambda o: o["_modified"],
            "title": lambda o: o["id"], "slug": lambda o: o["id"],
        })
        return self._paginate(site, request, "orders", items, p, site.serialize_order)

    def _h_get_order(self, site, p, body, path, request):
        return 200, site.serialize_order(site.order(path["id"])), {}, LATENCY["read"]

    def _h_create_order(self, site, p, body, path, request):
        record = site.create_order(p)
        return 201, site.serialize_order(record), {"Location": "/wp-json/wc/v3/orders/%d" % record["id"]}, LATENCY["order_create"]

    def _h_update_order(self, site, p, body, path, request):
        return 200, site.serialize_order(site.update_order(path["id"], p)), {}, LATENCY["order_update"]

    def _h_delete_order(self, site, p, body, path, request):
        return 200, site.delete_order(path["id"], p.get("force", False)), {}, LATENCY["small"]

    # notes
    def _h_list_notes(self, site, p, body, path, request):
        site.order(path["order_id"])
        notes = sorted(site.notes.get(path["order_id"], []), key=lambda n: (n["_created"], n["id"]), reverse=True)
        kind = p.get("type", "any")
        if kind == "customer":
            notes = [n for n in notes if n["customer_note"]]
        elif kind == "internal":
            notes = [n for n in notes if not n["customer_note"]]
        return 200, [site.serialize_note(n) for n in notes], {}, LATENCY["list_base"] + LATENCY["list_item"] * len(notes)

    def _note(self, site, path):
        site.order(path["order_id"])
        for note in site.notes.get(path["order_id"], []):
            if note["id"] == path["id"]:
                return note
        raise WCError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)

    def _h_get_note(self, site, p, body, path, request):
        return 200, site.serialize_note(self._note(site, path)), {}, LATENCY["small"]

    def _h_create_note(self, site, p, body, path, request):
        order = site.orders.get(path["order_id"])
        if order is None:
            raise WCError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        if not p.get("note"):
            raise WCError("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])
        note = site.add_note(order["id"], str(p["note"]), p.get("customer_note", False), p.get("added_by_user", False))
        headers = {"Location": "/wp-json/wc/v3/orders/%d/notes/%d" % (order["id"], note["id"])}
        return 201, site.serialize_note(note), headers, LATENCY["small"]

    def _h_delete_note(self, site, p, body, path, request):
        note = self._note(site, path)
        if not p.get("force"):
            raise WCError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        site.notes[path["order_id"]].remove(note)
        site.change("note_delete", note["id"], {"order_id": path["order_id"]})
        return 200, site.serialize_note(note), {}, LATENCY["small"]

    # webhooks
    def _h_list_webhooks(self, site, p, body, path, request):
        items = list(site.webhooks.values())
        status = p.get("status", "all")
        if status != "all":
            items = [w for w in items if w["status"] == status]
        if p.get("include"):
            items = [w for w in items if w["id"] in p["include"]]
        if p.get("exclude"):
            items = [w for w in items if w["id"] not in p["exclude"]]
        if p.get("search"):
            items = [w for w in items if p["search"].lower() in w["name"].lower()]
        items = self._date_filter(items, p)
        items = self._sort(items, p, {"date": lambda w: w["_created"], "id": lambda w: w["id"], "title": lambda w: w["name"]})
        context = p.get("context", "view")
        return self._paginate(site, request, "webhooks", items, p, lambda w: site.serialize_webhook(w, context))

    def _h_get_webhook(self, site, p, body, path, request):
        return 200, site.serialize_webhook(site.webhook(path["id"]), p.get("context", "view")), {}, LATENCY["small"]

    def _h_create_webhook(self, site, p, body, path, request):
        record = site.create_webhook(p)
        out = site.serialize_webhook(record, "edit")
        if record["status"] == "active":
            # The ping goes out synchronously, like wp_safe_remote_post in
            # WC_Webhook::deliver_ping(); release the site lock meanwhile.
            site.lock.release()
            try:
                self._ping(site, record)
            finally:
                site.lock.acquire()
        return 201, out, {"Location": "/wp-json/wc/v3/webhooks/%d" % record["id"]}, LATENCY["small"]

    def _h_update_webhook(self, site, p, body, path, request):
        return 200, site.serialize_webhook(site.update_webhook(path["id"], p), "edit"), {}, LATENCY["small"]

    def _h_delete_webhook(self, site, p, body, path, request):
        record = site.webhook(path["id"])
        if not p.get("force"):
            raise WCError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        out = site.serialize_webhook(record, "edit")
        del site.webhooks[path["id"]]
        site.change("webhook_delete", path["id"])
        return 200, out, {}, LATENCY["small"]
