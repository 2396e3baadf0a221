"""Shopify store adapter (Admin GraphQL 2026-04), plain Python.

One ``requests.Session`` per adapter object, every call with ``timeout``;
nothing process-wide (ShopifyAPI's ``Session``/``ShopifyResource`` class
state is never touched), so adapters of different stores run in parallel
threads safely.

Cost-aware pacing: every answer's ``extensions.cost.throttleStatus`` updates
a per-adapter estimate of the leaky bucket; a document whose requested cost
(computed from its ``first:`` sizes, or learnt from the previous answer of
the same document) the bucket cannot pay waits for the restore time instead
of being sent. THROTTLED answers, 429, 5xx and timeouts are retried here
with backoff (``Retry-After`` honoured), then ``RetryableError``.
"""

import base64
import datetime
import decimal
import hashlib
import hmac
import json
import logging
import random
import threading
import time
import urllib.parse
import uuid

import requests

from . import shopify_queries as Q
from .base import (
    Address, AuthError, OrderLine, OrderPayload, PermanentError, PushResult, QtyResult, RemoteVariant, RetryableError,
    StoreAdapter, ThrottledError, WebhookEvent,
)

_logger = logging.getLogger(__name__)

API_VERSION = Q.API_VERSION
MAX_QUERY_COST = 1000
MAX_INPUT = 250
WEBHOOK_PATH = "/seller_mode/webhook/shopify"
FULFILLMENT_PATH = "/seller_mode/shopify/fulfillment"

TOPICS = {
    "orders/create": "order",
    "orders/updated": "order",
    "orders/cancelled": "order_cancelled",
    "fulfillment_orders/fulfillment_request_submitted": "fulfillment_request",
    "fulfillment_orders/cancellation_request_submitted": "cancellation_request",
    "products/update": "product_updated",
    "app/uninstalled": "app_uninstalled",
}


class _Refused(PermanentError):
    """Top-level GraphQL errors about the document or its variables."""


class _Ambiguous(Exception):
    """A non-idempotent call may or may not have been applied."""


def _gid(kind, value):
    if value is None or value == "":
        return None
    value = str(value)
    if value.startswith("gid://"):
        return value
    return "gid://shopify/%s/%s" % (kind, value)


def _quote(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header(headers, name):
    name = name.lower()
    for k, v in (headers or {}).items():
        if str(k).lower() == name:
            return v
    return None


def _messages(errors):
    return "; ".join(str(e.get("message") or e) for e in errors or [])


# ---------------------------------------------------------------- OAuth helpers (stateless)
def authorize_url(shop_url, api_key, scopes, redirect_uri, state):
    """The URL to send the merchant to for installing the app."""
    if isinstance(scopes, (list, tuple, set)):
        scopes = ",".join(scopes)
    query = urllib.parse.urlencode({"client_id": api_key, "scope": scopes or "", "redirect_uri": redirect_uri,
                                    "state": state})
    return "%s/admin/oauth/authorize?%s" % (shop_url.rstrip("/"), query)


def _oauth_message(params):
    pairs = []
    for k, v in params.items():
        if k in ("hmac", "signature"):
            continue
        if isinstance(v, (list, tuple)):
            v = v[-1] if v else ""
        k = str(k).replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        v = str(v).replace("%", "%25").replace("&", "%26")
        pairs.append("%s=%s" % (k, v))
    return "&".join(sorted(pairs))


def verify_oauth_callback(params, api_secret):
    """True when ``params`` (the callback's query parameters) carry Shopify's
    hex HMAC-SHA256 of the sorted others, signed with the app secret."""
    params = dict(params or {})
    given = params.get("hmac")
    if isinstance(given, (list, tuple)):
        given = given[-1] if given else None
    if not given or not api_secret:
        return False
    digest = hmac.new(api_secret.encode(), _oauth_message(params).encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, str(given))


def _token_request(shop_url, data, timeout):
    url = "%s/admin/oauth/access_token" % shop_url.rstrip("/")
    try:
        r = requests.post(url, json=data, headers={"Accept": "application/json"}, timeout=timeout)
    except requests.RequestException as exc:
        raise RetryableError("Shopify OAuth: %s" % exc, 10.0) from exc
    if r.status_code == 429 or r.status_code >= 500:
        raise RetryableError("Shopify OAuth: HTTP %s" % r.status_code, float(r.headers.get("Retry-After") or 10))
    try:
        body = r.json()
    except ValueError:
        body = {}
    if r.status_code != 200:
        msg = body.get("error_description") or body.get("error") or body.get("errors") or r.text[:200]
        if r.status_code in (401, 403) or body.get("error") in ("invalid_client", "invalid_grant"):
            raise AuthError("Shopify OAuth refused: %s" % msg)
        raise PermanentError("Shopify OAuth refused: %s" % msg)
    return {
        "access_token": body.get("access_token"),
        "refresh_token": body.get("refresh_token"),
        "expires_in": body.get("expires_in"),
        "refresh_token_expires_in": body.get("refresh_token_expires_in"),
        "scope": body.get("scope"),
    }


def exchange_code(shop_url, api_key, api_secret, code, timeout=10.0):
    return _token_request(shop_url, {"client_id": api_key, "client_secret": api_secret, "code": code}, timeout)


def refresh_token(shop_url, api_key, api_secret, refresh_token, timeout=10.0):  # noqa: A002 - the name the interface asks
    return _token_request(shop_url, {"client_id": api_key, "client_secret": api_secret,
                                     "grant_type": "refresh_token", "refresh_token": refresh_token}, timeout)


# ---------------------------------------------------------------- the adapter
class ShopifyAdapter(StoreAdapter):
    platform = "shopify"

    # retry policy (instance attributes may be lowered, e.g. in tests)
    max_attempts = 4  # HTTP errors / timeouts
    max_throttled = 8  # THROTTLED answers (each waits the restore time)
    backoff = 0.5  # first backoff, doubled per attempt
    max_wait = 30.0  # longer Retry-After: give up at once with RetryableError(wait)
    products_per_call = 10  # productSet fields per mutation document

    def __init__(self, url, credentials, timeout=10.0):
        super().__init__(url, credentials, timeout)
        self.endpoint = "%s/admin/api/%s/graphql.json" % (self.url, API_VERSION)
        self.session = requests.Session()
        self.session.headers.update({
            "X-Shopify-Access-Token": self.credentials.get("access_token") or "",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "SellerMode/1.0",
        })
        self._lock = threading.Lock()
        self._bucket = None  # {max, available, rate, at}
        self._learned = {}  # query text -> last requestedQueryCost
        self.stats = {"calls": 0, "throttled": 0, "paced_sleeps": 0, "paced_seconds": 0.0, "retries": 0}

    @property
    def location_id(self):
        return self.credentials.get("location_id")

    @property
    def service_name(self):
        return self.credentials.get("fulfillment_service_name") or "Seller Mode"

    # ------------------------------------------------------------ transport
    def _reserve(self, cost):
        """Take ``cost`` from the estimated bucket; returns the seconds to
        wait before sending (0 when it can pay now)."""
        with self._lock:
            b = self._bucket
            if b is None or not cost:
                return 0.0
            now = time.monotonic()
            cost = min(cost, b["max"])
            avail = min(b["max"], b["available"] + (now - b["at"]) * b["rate"])
            need = cost + 0.02 * b["max"]  # a margin for the server's rounding and clock
            wait = 0.0 if need <= avail else (need - avail) / b["rate"] + 0.02
            b["available"] = avail - cost
            b["at"] = now
            return wait

    def _observe(self, body, query, sent_at):
        cost = ((body or {}).get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        requested = cost.get("requestedQueryCost")
        with self._lock:
            if requested is not None:
                self._learned[query] = requested
            if status.get("restoreRate"):
                self._bucket = {
                    "max": float(status.get("maximumAvailable") or 0) or 1000.0,
                    "available": float(status.get("currentlyAvailable") or 0),
                    "rate": float(status["restoreRate"]),
                    # the status is the server's once it answered: dated now, not when sent
                    "at": time.monotonic(),
                }
        return requested, status

    def _sleep(self, seconds):
        if seconds > 0:
            time.sleep(seconds)

    def _call(self, query, variables=None, cost=None, safe=True):
        """POST one document; returns ``data``. ``cost``: its requested cost
        (None: the learnt one). ``safe``: may be re-sent after an answer was
        lost (a timeout or 5xx); otherwise ``_Ambiguous`` is raised."""
        if cost is None:
            cost = self._learned.get(query, 50)
        if cost > MAX_QUERY_COST:
            raise PermanentError("internal: document cost %d exceeds Shopify's %d" % (cost, MAX_QUERY_COST))
        payload = {"query": query, "variables": variables or {}}
        attempts = throttled = 0
        last, wait = "no answer", self.backoff
        while True:
            pause = self._reserve(cost)
            if pause > 0:
                self.stats["paced_sleeps"] += 1
                self.stats["paced_seconds"] += pause
                self._sleep(pause)
            sent_at = time.monotonic()
            self.stats["calls"] += 1
            retry_after, rate_limited = None, False
            try:
                r = self.session.post(self.endpoint, json=payload, timeout=self.timeout)
            except requests.Timeout as exc:
                last = "Shopify did not answer in %ss (%s)" % (self.timeout, type(exc).__name__)
                if not safe:
                    raise _Ambiguous(last) from exc
            except requests.ConnectionError as exc:
                last = "Shopify connection failed: %s" % exc
                if not safe:
                    raise _Ambiguous(last) from exc
            else:
                if r.status_code in (401, 403):
                    raise AuthError("Shopify refused the credentials (HTTP %d): %s" % (r.status_code, r.text[:200]))
                if r.status_code == 429 or r.status_code >= 500:
                    rate_limited = r.status_code == 429
                    last = "Shopify HTTP %d: %s" % (r.status_code, r.text[:200])
                    retry_after = _float(r.headers.get("Retry-After"))
                    if r.status_code >= 500 and not safe:
                        raise _Ambiguous(last)
                elif r.status_code != 200:
                    raise PermanentError("Shopify HTTP %d: %s" % (r.status_code, r.text[:300]))
                else:
                    try:
                        body = r.json()
                    except ValueError:
                        body = None
                    if not isinstance(body, dict):
                        last = "Shopify answered something that is not JSON"
                        if not safe:
                            raise _Ambiguous(last)
                    else:
                        requested, status = self._observe(body, query, sent_at)
                        errors = body.get("errors")
                        if errors and isinstance(errors, list) and any(
                                (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                            throttled += 1
                            self.stats["throttled"] += 1
                            need = requested or cost
                            rate = float(status.get("restoreRate") or 50.0)
                            avail = float(status.get("currentlyAvailable") or 0)
                            pause = max(0.05, (need - avail) / rate + 0.05)
                            last = "Shopify THROTTLED (cost %s, available %s)" % (need, avail)
                            if throttled >= self.max_throttled:
                                raise ThrottledError(last, pause)
                            self._sleep(pause)
                            continue
                        if errors:
                            if isinstance(errors, list):
                                codes = {(e.get("extensions") or {}).get("code") for e in errors}
                                if "ACCESS_DENIED" in codes:
                                    raise AuthError("Shopify: %s" % _messages(errors))
                                if "INTERNAL_SERVER_ERROR" in codes and safe:
                                    last = "Shopify: %s" % _messages(errors)
                                    attempts += 1
                                    if attempts >= self.max_attempts:
                                        raise RetryableError(last, wait)
                                    self._sleep(wait)
                                    wait *= 2
                                    continue
                                raise _Refused("Shopify: %s" % _messages(errors))
                            raise _Refused("Shopify: %s" % errors)
                        return body.get("data") or {}
            # a retryable failure
            attempts += 1
            self.stats["retries"] += 1
            pause = retry_after if retry_after is not None else wait * (1 + random.random() * 0.2)
            if attempts >= self.max_attempts or pause > self.max_wait:
                raise (ThrottledError if rate_limited else RetryableError)(last, max(pause, 1.0))
            self._sleep(pause)
            wait = min(wait * 2, self.max_wait)

    # ------------------------------------------------------------ connection
    def verify(self):
        shop = self._call(Q.SHOP, cost=Q.SHOP_COST)["shop"]
        return {
            "name": shop["name"],
            "domain": shop["myshopifyDomain"],
            "currency": shop["currencyCode"],
            "plan": (shop.get("plan") or {}).get("publicDisplayName"),
            "shopify_plus": (shop.get("plan") or {}).get("shopifyPlus"),
        }

    def _webhooks(self):
        out, after = [], None
        while True:
            data = self._call(Q.WEBHOOKS, {"after": after}, cost=Q.WEBHOOKS_COST)["webhookSubscriptions"]
            out.extend(data["nodes"])
            if not data["pageInfo"]["hasNextPage"]:
                return out
            after = data["pageInfo"]["endCursor"]

    def setup(self, callback_base_url, webhook_topics):
        base = callback_base_url.rstrip("/")
        callback = base + FULFILLMENT_PATH
        shop = self._call(Q.SHOP, cost=Q.SHOP_COST)["shop"]
        name = self.service_name
        service = next((s for s in shop.get("fulfillmentServices") or []
                        if (s.get("serviceName") or "").lower() == name.lower()), None)
        if service is None:
            res = self._call(Q.FULFILLMENT_SERVICE_CREATE, {"name": name, "callbackUrl": callback}, cost=10)
            res = res["fulfillmentServiceCreate"]
            if res["userErrors"] or not res["fulfillmentService"]:
                raise PermanentError("Shopify refused the fulfillment service: %s" % _messages(res["userErrors"]))
            service = res["fulfillmentService"]
        location_id = (service.get("location") or {}).get("id")
        if not location_id:
            raise PermanentError("Shopify fulfillment service %r has no location" % name)
        uri = base + WEBHOOK_PATH
        existing = {(w["topic"], w["uri"]): w["id"] for w in self._webhooks()}
        ids = []
        for topic in webhook_topics or []:
            topic = str(topic).upper().replace("/", "_")
            wid = existing.get((topic, uri))
            if wid is None:
                res = self._call(Q.WEBHOOK_CREATE, {"topic": topic, "sub": {"uri": uri, "format": "JSON"}},
                                 cost=10)["webhookSubscriptionCreate"]
                if res["userErrors"] or not res["webhookSubscription"]:
                    raise PermanentError("Shopify refused the %s webhook: %s" % (topic, _messages(res["userErrors"])))
                wid = res["webhookSubscription"]["id"]
                existing[(topic, uri)] = wid
            ids.append(wid)
        self.credentials["location_id"] = location_id
        return {"location_id": location_id, "webhook_ids": ids, "fulfillment_service_id": service.get("id")}

    def teardown(self):
        """Delete our webhook subscriptions (those pointing at our webhook
        path). The 2026-04 subset has no fulfillmentServiceDelete: the
        fulfillment service stays (the app's uninstall removes it)."""
        deleted = []
        for w in self._webhooks():
            if (w.get("uri") or "").rstrip("/").endswith(WEBHOOK_PATH):
                res = self._call(Q.WEBHOOK_DELETE, {"id": w["id"]}, cost=10)["webhookSubscriptionDelete"]
                if not res["userErrors"]:
                    deleted.append(w["id"])
        return {"webhook_ids": deleted}

    # ------------------------------------------------------------ catalog
    def _read_products(self, wanted, nv):
        """wanted: [(alias, kind, value)] -> {alias: product dict or [candidates]}."""
        out = {}
        one = Q.product_read_cost(nv)
        per = {"id": one, "search": 2 + 3 * one}
        chunk, chunk_cost = [], 0
        chunks = []
        for spec in wanted:
            c = per[spec[1]]
            if chunk and chunk_cost + c > 900:
                chunks.append(chunk)
                chunk, chunk_cost = [], 0
            chunk.append(spec)
            chunk_cost += c
        if chunk:
            chunks.append(chunk)
        for chunk in chunks:
            specs = [(a, k) for a, k, _ in chunk]
            doc = Q.product_read_document(specs)
            variables = {"nv": nv}
            variables.update({a: v for a, _, v in chunk})
            data = self._call(doc, variables, cost=Q.product_read_document_cost(specs, nv))
            for a, k, _ in chunk:
                value = data.get(a)
                out[a] = (value or {}).get("nodes", []) if k == "search" else value
        return out

    def _locate(self, payloads, nv):
        """The existing product of each payload: by remote id, else by our
        handle, else by SKU when it carries our key metafield (a push that
        died after Shopify created the product is found again); or None."""
        found = {}
        by_id = [("r%d" % i, "id", _gid("Product", p.remote_id)) for i, p in enumerate(payloads) if p.remote_id]
        if by_id:
            found.update(self._read_products(by_id, nv))
        searches = []
        for i, p in enumerate(payloads):
            if found.get("r%d" % i):
                continue
            searches.append(("h%d" % i, "handle:%s" % _quote(self._handle(p))))
            # Shopify keeps SKUs on variants: search by the first variant's
            sku = next((v.sku for v in p.variants if v.sku), None) or p.sku
            if sku:
                searches.append(("s%d" % i, "sku:%s" % _quote(sku)))
        hits = {}
        for start in range(0, len(searches), 50):
            chunk = searches[start:start + 50]
            data = self._call(Q.product_search_document([a for a, _ in chunk]), dict(chunk),
                              cost=Q.PRODUCT_SEARCH_COST * len(chunk))
            for a, _ in chunk:
                hits[a] = (data.get(a) or {}).get("nodes") or []
        chosen = {}
        for i, p in enumerate(payloads):
            if found.get("r%d" % i):
                continue
            pid = None
            handle_hits = [n for n in hits.get("h%d" % i, []) if n.get("handle") == self._handle(p)]
            if handle_hits:
                pid = handle_hits[0]["id"]
            else:
                for cand in hits.get("s%d" % i, []):
                    if (cand.get("metafield") or {}).get("value") == str(p.key):
                        pid = cand["id"]
                        break
            if pid:
                chosen["f%d" % i] = pid
        if chosen:
            found.update(self._read_products([(a, "id", pid) for a, pid in chosen.items()], nv))
        out = []
        for i, p in enumerate(payloads):
            out.append(found.get("r%d" % i) or found.get("f%d" % i))
        return out

    @staticmethod
    def _handle(payload):
        return "sm-%s" % "".join(c if c.isalnum() else "-" for c in str(payload.key).lower())

    def _product_input(self, p, existing):
        """(input, identifier, variant_match) or raises ValueError with a message."""
        options = list(p.options or [])
        if len(options) > 3:
            raise ValueError("Shopify allows at most 3 options per product; %d given (%s)"
                             % (len(options), ", ".join(options)))
        if not p.variants:
            raise ValueError("A product needs at least one variant")
        if len(p.variants) > 2048:
            raise ValueError("Shopify allows at most 2048 variants per product")
        if not options:
            if len(p.variants) > 1:
                raise ValueError("Several variants need option names")
            options = ["Title"]
            values = [["Default Title"]]
        else:
            values = [[] for _ in options]
            for v in p.variants:
                if len(v.options or []) != len(options):
                    raise ValueError("Variant %s has %d option values for %d options"
                                     % (v.sku or v.key, len(v.options or []), len(options)))
                for j, val in enumerate(v.options):
                    if str(val) not in values[j]:
                        values[j].append(str(val))
        location = self.location_id
        old_variants = ((existing or {}).get("variants") or {}).get("nodes") or []
        by_id = {x["id"]: x for x in old_variants}
        by_sku = {}
        for x in old_variants:
            if x.get("sku"):
                by_sku.setdefault(x["sku"], x)
        by_opts = {tuple(o["value"] for o in x["selectedOptions"]): x for x in old_variants}
        variants = []
        used = set()
        for v in p.variants:
            opts = tuple(str(x) for x in v.options) if p.options else ("Default Title",)
            match = None
            for cand in (by_id.get(_gid("ProductVariant", v.remote_variant_id)), by_sku.get(v.sku), by_opts.get(opts)):
                if cand is not None and cand["id"] not in used:
                    match = cand
                    break
            for label, amount in (("price", v.price), ("compare at price", v.compare_at_price), ("cost", v.cost)):
                if amount not in (None, "", False) and not _is_decimal(amount):
                    raise ValueError("Variant %s: invalid %s %r" % (v.sku or v.key, label, amount))
            item = {"sku": str(v.sku) if v.sku is not None else None, "tracked": True,
                    "measurement": {"weight": {"value": float(v.weight or 0.0), "unit": "KILOGRAMS"}}}
            if v.cost is not None:
                item["cost"] = str(v.cost)
            vin = {
                "optionValues": [{"optionName": n, "name": val} for n, val in zip(options, opts)],
                "sku": str(v.sku) if v.sku is not None else None,
                "price": str(v.price),
                "compareAtPrice": str(v.compare_at_price) if v.compare_at_price not in (None, "", False) else None,
                "inventoryItem": item,
                "inventoryPolicy": "DENY",
            }
            if v.barcode not in (None, False):
                vin["barcode"] = str(v.barcode)
            if match is not None:
                used.add(match["id"])
                vin["id"] = match["id"]
            elif location:
                vin["inventoryQuantities"] = [{"locationId": location, "name": "available",
                                               "quantity": int(v.quantity or 0)}]
            variants.append(vin)
        metafields = []
        ours = {str(k): ("" if val is None else str(val)) for k, val in (p.metafields or {}).items()}
        ours.setdefault("key", str(p.key))
        if existing:
            for m in existing["metafields"]["nodes"]:
                if m["namespace"] != "seller_mode":
                    metafields.append({"namespace": m["namespace"], "key": m["key"], "value": m["value"],
                                       "type": m["type"]})
        for k, val in ours.items():
            metafields.append({"namespace": "seller_mode", "key": k, "value": val, "type": "single_line_text_field"})
        data = {
            "status": "DRAFT" if (p.status or "active").lower() == "draft" else "ACTIVE",
            "productOptions": [{"name": n, "values": [{"name": x} for x in vals]} for n, vals in zip(options, values)],
            "variants": variants,
            "metafields": metafields,
        }
        old_media = ((existing or {}).get("media") or {}).get("nodes") or []
        if p.include_content or existing is None:
            data.update({
                "title": p.title or p.sku or str(p.key),
                "descriptionHtml": p.description_html or "",
                "vendor": p.vendor or "",
                "productType": p.product_type or "",
                "tags": [str(t) for t in (p.tags or [])],
            })
            by_src = {((m.get("originalSource") or {}).get("url")): m["id"] for m in old_media}
            files = []
            for img in p.images or []:
                if by_src.get(img.url):
                    f = {"id": by_src[img.url]}
                else:
                    f = {"originalSource": img.url, "contentType": "IMAGE"}
                if img.alt:
                    f["alt"] = img.alt
                files.append(f)
            data["files"] = files
        elif old_media:
            # productSet replaces list fields: the retailer's media go back as they are
            data["files"] = [{"id": m["id"]} for m in old_media]
        if existing is not None:
            identifier = {"id": existing["id"]}
        else:
            identifier = {"handle": self._handle(p)}
        for big in ("variants", "metafields", "files"):
            if len(data.get(big) or []) > MAX_INPUT:
                raise ValueError("Too many %s for one Shopify call (%d > %d)" % (big, len(data[big]), MAX_INPUT))
        return data, identifier

    @staticmethod
    def _result(p, product, created):
        res = PushResult(key=p.key, remote_id=product["id"], created=created)
        nodes = product["variants"]["nodes"]
        by_sku = {}
        for n in nodes:
            if n.get("sku"):
                by_sku.setdefault(n["sku"], n)
        by_opts = {tuple(o["value"] for o in n["selectedOptions"]): n for n in nodes}
        for v in p.variants:
            opts = tuple(str(x) for x in v.options) if p.options else ("Default Title",)
            n = by_opts.get(opts) or by_sku.get(str(v.sku) if v.sku is not None else None)
            if n is not None:
                res.variants[v.key] = RemoteVariant(n["id"], n["inventoryItem"]["id"])
        return res

    def push_products(self, payloads):
        payloads = list(payloads)
        results = [None] * len(payloads)
        todo = []
        for i, p in enumerate(payloads):
            if len(p.options or []) > 3:
                results[i] = PushResult(key=p.key, remote_id=p.remote_id, error=(
                    "Shopify allows at most 3 options per product; %d given (%s)"
                    % (len(p.options), ", ".join(str(o) for o in p.options))))
            else:
                todo.append(i)
        step = max(1, int(self.products_per_call))
        for start in range(0, len(todo), step):
            idx = todo[start:start + step]
            group = [payloads[i] for i in idx]
            nv = min(250, max(10, max(len(p.variants) for p in group) + 5))
            existing = self._locate(group, nv)
            prepared = []
            for i, p, ex in zip(idx, group, existing):
                try:
                    data, ident = self._product_input(p, ex)
                except ValueError as exc:
                    results[i] = PushResult(key=p.key, remote_id=(ex or {}).get("id") or p.remote_id, error=str(exc))
                    continue
                prepared.append((i, p, ex, data, ident))
            if not prepared:
                continue
            try:
                self._product_set(prepared, results)
            except _Refused as exc:
                if len(prepared) == 1:
                    i, p, ex = prepared[0][:3]
                    results[i] = PushResult(key=p.key, remote_id=(ex or {}).get("id"), error=str(exc))
                    continue
                for one in prepared:  # isolate the product the platform refused
                    try:
                        self._product_set([one], results)
                    except _Refused as exc:
                        results[one[0]] = PushResult(key=one[1].key, remote_id=(one[2] or {}).get("id"), error=str(exc))
        return results

    def _product_set(self, prepared, results):
        aliases = ["p%d" % k for k in range(len(prepared))]
        variables = {}
        for a, (_, _, _, data, ident) in zip(aliases, prepared):
            variables[a + "_in"] = data
            variables[a + "_id"] = ident
        out = self._call(Q.product_set_document(aliases), variables, cost=10 * len(aliases))
        for a, (i, p, ex, _, _) in zip(aliases, prepared):
            r = out.get(a) or {}
            if r.get("userErrors"):
                results[i] = PushResult(key=p.key, remote_id=(ex or {}).get("id"), error=_messages(r["userErrors"]))
            elif r.get("product"):
                results[i] = self._result(p, r["product"], created=ex is None)
            else:
                results[i] = PushResult(key=p.key, remote_id=(ex or {}).get("id"), error="Shopify returned no product")

    def unpublish(self, remote_ids, delete=False):
        ids = [_gid("Product", x) for x in remote_ids]
        out = {}
        for start in range(0, len(ids), 20):
            chunk = ids[start:start + 20]
            aliases = ["u%d" % k for k in range(len(chunk))]
            data = self._call(Q.product_status_document(aliases, delete), dict(zip(aliases, chunk)), cost=10 * len(chunk))
            for a, rid, orig in zip(aliases, chunk, remote_ids[start:start + 20]):
                r = data.get(a) or {}
                errs = r.get("userErrors")
                if errs and delete and any("does not exist" in (e.get("message") or "") for e in errs):
                    errs = None  # already gone: what we wanted
                out[orig] = _messages(errs) if errs else None
        return out

    def read_prices(self, refs):
        refs = list(refs)
        out = {}
        for start in range(0, len(refs), 100):
            chunk = refs[start:start + 100]
            ids = [_gid("ProductVariant", r) for r in chunk]
            nodes = self._call(Q.VARIANT_PRICES, {"ids": ids}, cost=Q.variant_prices_cost(len(ids)))["nodes"]
            for ref, node in zip(chunk, nodes):
                if node and node.get("price") is not None:
                    out[ref] = str(node["price"])
        return out

    def webhook_prices(self, payload):
        out = {}
        for v in (payload or {}).get("variants") or []:
            ref = v.get("admin_graphql_api_id") or _gid("ProductVariant", v.get("id"))
            if ref and v.get("price") is not None:
                out[ref] = str(v["price"])
        return out

    def set_prices(self, prices):
        """The 2026-04 subset has no productVariantsBulkUpdate: each product
        is read and sent back whole through productSet (variants by id, the
        retailer's media and metafields kept), only prices changed."""
        prices = dict(prices)
        result = {ref: None for ref in prices}
        refs = list(prices)
        product_of = {}
        for start in range(0, len(refs), 100):
            chunk = refs[start:start + 100]
            nodes = self._call(Q.VARIANT_PRICES, {"ids": [_gid("ProductVariant", r) for r in chunk]},
                               cost=Q.variant_prices_cost(len(chunk)))["nodes"]
            for ref, node in zip(chunk, nodes):
                if not node or not node.get("product"):
                    result[ref] = "Shopify variant %s does not exist" % ref
                else:
                    product_of.setdefault(node["product"]["id"], []).append(ref)
        pids = list(product_of)
        for start in range(0, len(pids), 5):
            chunk = pids[start:start + 5]
            found = self._read_products([("r%d" % k, "id", pid) for k, pid in enumerate(chunk)], 250)
            prepared, aliases_refs = [], []
            for k, pid in enumerate(chunk):
                product = found.get("r%d" % k)
                if not product:
                    for ref in product_of[pid]:
                        result[ref] = "Shopify product %s does not exist" % pid
                    continue
                wanted = {_gid("ProductVariant", r): prices[r] for r in product_of[pid]}
                variants = []
                for n in product["variants"]["nodes"]:
                    vin = {"id": n["id"], "optionValues": [{"optionName": o["name"], "name": o["value"]}
                                                           for o in n["selectedOptions"]]}
                    if n["id"] in wanted:
                        vin["price"] = str(wanted[n["id"]])
                    variants.append(vin)
                data = {"variants": variants,
                        "metafields": [{"namespace": m["namespace"], "key": m["key"], "value": m["value"],
                                        "type": m["type"]} for m in product["metafields"]["nodes"]]}
                media = product["media"]["nodes"]
                if media:
                    data["files"] = [{"id": m["id"]} for m in media]
                prepared.append((len(aliases_refs), None, product, data, {"id": pid}))
                aliases_refs.append(product_of[pid])
            if not prepared:
                continue
            aliases = ["p%d" % k for k in range(len(prepared))]
            variables = {}
            for a, one in zip(aliases, prepared):
                variables[a + "_in"] = one[3]
                variables[a + "_id"] = one[4]
            out = self._call(Q.product_set_document(aliases), variables, cost=10 * len(aliases))
            for a, refs_of in zip(aliases, aliases_refs):
                errs = (out.get(a) or {}).get("userErrors")
                if errs:
                    for ref in refs_of:
                        result[ref] = _messages(errs)
        return result

    # ------------------------------------------------------------ stock
    def _require_location(self):
        if not self.location_id:
            raise PermanentError("Shopify: no fulfillment service location yet (run setup first)")
        return self.location_id

    def read_quantities(self, refs):
        location = self._require_location()
        refs = list(refs)
        out = {}
        for start in range(0, len(refs), 100):
            chunk = refs[start:start + 100]
            nodes = self._call(Q.INVENTORY_READ, {"ids": [_gid("InventoryItem", r) for r in chunk], "location": location},
                               cost=Q.inventory_read_cost(len(chunk)))["nodes"]
            for ref, node in zip(chunk, nodes):
                level = (node or {}).get("inventoryLevel")
                if level is None:
                    continue
                out[ref] = next((q["quantity"] for q in level["quantities"] if q["name"] == "available"), 0)
        return out

    def set_quantities(self, items, idempotency_key=None):
        location = self._require_location()
        items = list(items)
        base = idempotency_key or uuid.uuid4().hex
        results = [None] * len(items)
        for b, start in enumerate(range(0, len(items), MAX_INPUT)):
            batch = list(range(start, min(start + MAX_INPUT, len(items))))
            self._set_batch(items, batch, results, location, "%s-%d" % (base, b))
        return results

    def _set_batch(self, items, batch, results, location, key):
        rnd = 0
        while batch:
            quantities = [{"inventoryItemId": _gid("InventoryItem", items[i].ref), "locationId": location,
                           "quantity": int(items[i].qty),
                           "changeFromQuantity": None if items[i].expected_previous is None else int(items[i].expected_previous)}
                          for i in batch]
            variables = {"input": {"name": "available", "reason": "correction", "quantities": quantities},
                         "key": key if rnd == 0 else "%s-r%d" % (key, rnd)}
            res = self._call(Q.INVENTORY_SET, variables, cost=10)["inventorySetQuantities"]
            errors = res.get("userErrors") or []
            if not errors:
                after = {}
                for c in ((res.get("inventoryAdjustmentGroup") or {}).get("changes") or []):
                    if c.get("name") == "available" and c.get("item"):
                        after[c["item"]["id"]] = c.get("quantityAfterChange")
                for i in batch:
                    gid = _gid("InventoryItem", items[i].ref)
                    value = after.get(gid)
                    results[i] = QtyResult(ref=items[i].ref, ok=True, value=int(items[i].qty) if value is None else value)
                return
            failed = {}
            general = []
            for e in errors:
                field = e.get("field") or []
                pos = None
                if len(field) >= 3 and field[0] == "input" and field[1] == "quantities":
                    try:
                        pos = int(field[2])
                    except (TypeError, ValueError):
                        pos = None
                if pos is None or pos >= len(batch):
                    general.append(e)
                else:
                    failed[batch[pos]] = e
            if general or not failed:
                raise PermanentError("Shopify refused the quantities: %s" % _messages(general or errors))
            stale = [i for i, e in failed.items() if e.get("code") in ("CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE")]
            current = self.read_quantities([items[i].ref for i in stale]) if stale else {}
            for i, e in failed.items():
                if i in stale:
                    results[i] = QtyResult(ref=items[i].ref, ok=False, stale=True, store_value=current.get(items[i].ref),
                                           error=e.get("message"))
                else:
                    results[i] = QtyResult(ref=items[i].ref, ok=False, error=e.get("message"))
            batch = [i for i in batch if i not in failed]
            rnd += 1

    # ------------------------------------------------------------ orders
    @staticmethod
    def _address(fo):
        d = fo.get("destination") or {}
        o = (fo.get("order") or {}).get("shippingAddress") or {}
        src = d if (d.get("address1") or d.get("city")) else None
        if src is not None:
            name = " ".join(x for x in (d.get("firstName"), d.get("lastName")) if x)
            return Address(name=name, company=d.get("company") or "", street=d.get("address1") or "",
                           street2=d.get("address2") or "", city=d.get("city") or "", zip=d.get("zip") or "",
                           state_code=d.get("province") or "", country_code=d.get("countryCode") or "",
                           phone=d.get("phone") or "", email=d.get("email") or (fo.get("order") or {}).get("email") or "")
        if not o:
            return None
        name = o.get("name") or " ".join(x for x in (o.get("firstName"), o.get("lastName")) if x)
        return Address(name=name, company=o.get("company") or "", street=o.get("address1") or "",
                       street2=o.get("address2") or "", city=o.get("city") or "", zip=o.get("zip") or "",
                       state_code=o.get("provinceCode") or o.get("province") or "",
                       country_code=o.get("countryCodeV2") or "", phone=o.get("phone") or "",
                       email=(fo.get("order") or {}).get("email") or "")

    def _ours(self, fo):
        loc = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
        return self.location_id is None or loc == self.location_id

    def _group(self, fos):
        orders = {}
        for fo in fos:
            if not self._ours(fo):
                continue
            o = fo["order"]
            order = orders.get(o["id"])
            if order is None:
                order = OrderPayload(remote_id=o["id"], name=o["name"], status="other", created_at=o.get("createdAt") or "",
                                     updated_at=o.get("updatedAt") or "", currency=o.get("currencyCode") or "",
                                     email=o.get("email") or "", shipping_address=self._address(fo),
                                     raw={"fulfillment_orders": {}, "cancelled_at": o.get("cancelledAt")})
                orders[o["id"]] = order
            order.fulfillment_order_ids.append(fo["id"])
            order.raw["fulfillment_orders"][fo["id"]] = {"status": fo["status"], "requestStatus": fo["requestStatus"]}
            rs = fo["requestStatus"]
            if rs == "CANCELLATION_REQUESTED":
                order.status = "cancel_requested"
            elif rs == "SUBMITTED" and order.status != "cancel_requested" and fo["status"] not in ("CLOSED", "CANCELLED"):
                order.status = "requested"
            elif rs == "ACCEPTED" and order.status == "other" and fo["status"] not in ("CLOSED", "CANCELLED"):
                order.status = "accepted"
            for li in fo["lineItems"]["nodes"]:
                price = (((li.get("lineItem") or {}).get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
                variant = li.get("variant") or {}
                title = li.get("productTitle") or ""
                if li.get("variantTitle") and li["variantTitle"] != "Default Title":
                    title = "%s - %s" % (title, li["variantTitle"])
                qty = li.get("remainingQuantity")
                if qty is None:
                    qty = li.get("totalQuantity") or 0
                order.lines.append(OrderLine(remote_line_id=li["id"], sku=li.get("sku") or "", quantity=int(qty),
                                             price=str(price if price is not None else "0"), title=title,
                                             remote_variant_id=variant.get("id"),
                                             remote_product_id=(variant.get("product") or {}).get("id")))
        for order in orders.values():
            if order.raw.get("cancelled_at") and order.status == "other":
                order.status = "cancelled"
        return list(orders.values())

    def fetch_orders(self, since=None):
        cursor = _now_iso()
        fos = {}
        locations = [self.location_id] if self.location_id else None
        for status in ("FULFILLMENT_REQUESTED", "CANCELLATION_REQUESTED"):
            after = None
            while True:
                data = self._call(Q.ASSIGNED_FOS, {"status": status, "locations": locations, "after": after},
                                  cost=Q.ASSIGNED_FOS_COST)["assignedFulfillmentOrders"]
                for fo in data["nodes"]:
                    fos[fo["id"]] = fo
                if not data["pageInfo"]["hasNextPage"]:
                    break
                after = data["pageInfo"]["endCursor"]
        return self._group(list(fos.values())), cursor

    def fetch_order(self, remote_id):
        data = self._call(Q.ORDER_FOS, {"id": _gid("Order", remote_id)}, cost=Q.ORDER_FOS_COST)
        order = data.get("order")
        if not order:
            return None
        grouped = self._group(order["fulfillmentOrders"]["nodes"])
        return grouped[0] if grouped else None

    def _fo_ids(self, order):
        ids = list(order.fulfillment_order_ids or [])
        if not ids:
            fresh = self.fetch_order(order.remote_id)
            ids = list(fresh.fulfillment_order_ids) if fresh else []
        return ids

    def _fo_states(self, ids):
        out = {}
        for start in range(0, len(ids), 15):
            chunk = ids[start:start + 15]
            nodes = self._call(Q.FO_STATES, {"ids": chunk}, cost=Q.fo_states_cost(len(chunk)))["nodes"]
            for fid, node in zip(chunk, nodes):
                if node:
                    out[fid] = node
        return out

    def _fo_action(self, mutation, ids, message, reason=None, done_states=()):
        """Run one fulfillment-order mutation on each id; a refusal because
        the fulfillment order is already where we want it is no error."""
        if not ids:
            return {}
        out = {}
        for start in range(0, len(ids), 20):
            chunk = ids[start:start + 20]
            aliases = ["f%d" % k for k in range(len(chunk))]
            variables = dict(zip(aliases, chunk))
            variables["message"] = message or None
            if reason is not None:
                variables["reason"] = reason
            data = self._call(Q.fo_action_document(mutation, aliases, with_reason=reason is not None), variables,
                              cost=10 * len(chunk))
            refused = {}
            for a, fid in zip(aliases, chunk):
                r = data.get(a) or {}
                if r.get("userErrors"):
                    refused[fid] = _messages(r["userErrors"])
                else:
                    out[fid] = (r.get("fulfillmentOrder") or {}).get("requestStatus")
            if refused:
                states = self._fo_states(list(refused))
                bad = []
                for fid, msg in refused.items():
                    st = states.get(fid) or {}
                    if st.get("requestStatus") in done_states:
                        out[fid] = st["requestStatus"]
                    else:
                        bad.append("%s: %s" % (fid, msg))
                if bad:
                    raise PermanentError("Shopify refused %s: %s" % (mutation, "; ".join(bad)))
        return out

    def accept(self, order, message=None):
        return self._fo_action("fulfillmentOrderAcceptFulfillmentRequest", self._fo_ids(order), message,
                               done_states=("ACCEPTED", "CLOSED"))

    def reject(self, order, reason):
        return self._fo_action("fulfillmentOrderRejectFulfillmentRequest", self._fo_ids(order), reason or None,
                               reason="OTHER", done_states=("REJECTED",))

    def fulfil(self, order, lines, tracking, notify_customer=True):
        ids = self._fo_ids(order)
        states = self._fo_states(ids)
        fo_of = {}
        for fid, st in states.items():
            for li in st["lineItems"]["nodes"]:
                fo_of[li["id"]] = (fid, li["remainingQuantity"])
        groups = {}
        for line_id, qty in lines:
            if line_id not in fo_of:
                raise PermanentError("Shopify: fulfillment order line %s is not in order %s" % (line_id, order.name))
            groups.setdefault(fo_of[line_id][0], []).append({"id": line_id, "quantity": int(qty)})
        fulfillment = {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fid, "fulfillmentOrderLineItems": items}
                                            for fid, items in groups.items()],
            "notifyCustomer": bool(notify_customer),
        }
        if tracking and (tracking.number or tracking.company or tracking.url):
            info = {}
            if tracking.company:
                info["company"] = tracking.company
            if tracking.number:
                info["number"] = tracking.number
            if tracking.url:
                info["url"] = tracking.url
            fulfillment["trackingInfo"] = info
        try:
            res = self._call(Q.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, cost=10, safe=False)["fulfillmentCreate"]
        except _Ambiguous as exc:
            # the answer was lost: did it happen? (remaining quantities tell)
            after = self._fo_states(list(groups))
            applied = all(
                next((li["remainingQuantity"] for li in after.get(fid, {}).get("lineItems", {}).get("nodes", [])
                      if li["id"] == x["id"]), None) == fo_of[x["id"]][1] - x["quantity"]
                for fid, items in groups.items() for x in items)
            if not applied:
                raise RetryableError(str(exc), 5.0) from exc
            found = self._call(Q.FO_FULFILLMENTS, {"id": next(iter(groups))}, cost=Q.FO_FULFILLMENTS_COST)
            nodes = ((found.get("fulfillmentOrder") or {}).get("fulfillments") or {}).get("nodes") or []
            if not nodes:
                raise RetryableError(str(exc), 5.0) from exc
            return nodes[-1]["id"]
        if res["userErrors"] or not res.get("fulfillment"):
            raise PermanentError("Shopify refused the fulfillment: %s" % _messages(res["userErrors"]))
        return res["fulfillment"]["id"]

    def cancel(self, order, reason):
        """We cannot serve it: reject requests not accepted yet, accept a
        pending cancellation request. An accepted fulfillment order cannot be
        given back with the 2026-04 subset (no fulfillmentOrderClose)."""
        ids = self._fo_ids(order)
        states = self._fo_states(ids)
        submitted = [f for f, s in states.items() if s["requestStatus"] == "SUBMITTED"]
        cancel_requested = [f for f, s in states.items() if s["requestStatus"] == "CANCELLATION_REQUESTED"]
        accepted = [f for f, s in states.items() if s["requestStatus"] in ("ACCEPTED", "CANCELLATION_REJECTED")
                    and s["status"] not in ("CLOSED", "CANCELLED")]
        out = {}
        out.update(self._fo_action("fulfillmentOrderRejectFulfillmentRequest", submitted, reason or None, reason="OTHER",
                                   done_states=("REJECTED",)))
        out.update(self._fo_action("fulfillmentOrderAcceptCancellationRequest", cancel_requested, reason or None,
                                   done_states=("CANCELLATION_ACCEPTED",)))
        if accepted:
            raise PermanentError(
                "Shopify: fulfillment order(s) %s already accepted; closing them needs fulfillmentOrderClose, which this "
                "API subset does not offer: ask the retailer to cancel the order" % ", ".join(accepted))
        return out

    def answer_cancellation(self, order, accept, reason=""):
        ids = self._fo_ids(order)
        states = self._fo_states(ids)
        pending = [f for f, s in states.items() if s["requestStatus"] == "CANCELLATION_REQUESTED"]
        if accept:
            return self._fo_action("fulfillmentOrderAcceptCancellationRequest", pending, reason or None,
                                   done_states=("CANCELLATION_ACCEPTED",))
        return self._fo_action("fulfillmentOrderRejectCancellationRequest", pending, reason or None,
                               done_states=("CANCELLATION_REJECTED",))

    # ------------------------------------------------------------ webhooks
    def verify_webhook(self, headers, raw_body):
        secret = self.credentials.get("api_secret")
        given = _header(headers, "X-Shopify-Hmac-Sha256")
        if not secret or not given:
            return False
        if isinstance(raw_body, str):
            raw_body = raw_body.encode("utf-8")
        digest = base64.b64encode(hmac.new(secret.encode(), raw_body or b"", hashlib.sha256).digest()).decode()
        return hmac.compare_digest(digest.encode(), str(given).strip().encode())

    def parse_webhook(self, headers, raw_body):
        if isinstance(raw_body, bytes):
            try:
                raw_body = raw_body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PermanentError("Shopify webhook body is not UTF-8") from exc
        try:
            payload = json.loads(raw_body or "")
        except ValueError as exc:
            raise PermanentError("Shopify webhook body is not JSON: %s" % exc) from exc
        if not isinstance(payload, dict):
            raise PermanentError("Shopify webhook body is not a JSON object")
        raw_topic = (_header(headers, "X-Shopify-Topic") or "").strip().lower()
        topic = TOPICS.get(raw_topic, "other")
        delivery = _header(headers, "X-Shopify-Webhook-Id") or _header(headers, "X-Shopify-Event-Id") or ""
        remote_id = None
        if raw_topic.startswith("orders/"):
            remote_id = payload.get("admin_graphql_api_id") or _gid("Order", payload.get("id"))
        elif raw_topic.startswith("products/"):
            remote_id = payload.get("admin_graphql_api_id") or _gid("Product", payload.get("id"))
        elif raw_topic.startswith("fulfillment_orders/"):
            fo = (payload.get("fulfillment_order") or payload.get("submitted_fulfillment_order")
                  or payload.get("original_fulfillment_order") or {})
            remote_id = _gid("Order", fo.get("order_id")) if fo.get("order_id") else _gid("FulfillmentOrder", fo.get("id"))
        elif raw_topic == "app/uninstalled":
            remote_id = payload.get("myshopify_domain") or payload.get("domain")
        return WebhookEvent(topic=topic, delivery_id=str(delivery), remote_id=remote_id, payload=payload)


def _is_decimal(value):
    try:
        d = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return False
    return d.is_finite()


def _float(value):
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
