"""WooCommerce store adapter (REST API wc/v3, through the ``woocommerce`` client).

Plain Python (no Odoo import). One ``woocommerce.API`` per adapter object;
every call has the adapter's timeout and goes through ``_request``, which
maps the platform's answers to the typed errors of ``base``:

- 401/403 (``woocommerce_rest_authentication_error``, ``..._cannot_view`` ...)
  -> ``AuthError``;
- 429, 5xx, connection errors and timeouts -> retried here a few times with a
  backoff honouring ``Retry-After``, then ``RetryableError(message, wait)``;
- other 4xx ``{code, message}`` -> ``PermanentError`` (``.code``, ``.data``,
  ``.status`` set on the exception), or a per-item error inside batches.

OAuth 1.0a (plain http): the ``woocommerce`` 3.0.0 client does not encode
"/" (and decodes "%xx") in query values when it signs, so such a query value
(an SKU "A/B" in ``?sku=``) fails authentication. ``_API`` below keeps the
client and only replaces its signing with one that encodes like PHP's
``rawurlencode`` (what WooCommerce compares with).

References: a product is "<product_id>"; a variation "<product_id>/<variation_id>"
(inventory and price refs alike).

Also here, as plain functions: the key-authorization flow helpers
``authorize_url`` and ``parse_key_callback``.
"""

import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
import urllib.parse
from decimal import Decimal, InvalidOperation

import requests
from woocommerce import API

from .base import (
    Address,
    AuthError,
    OrderLine,
    OrderPayload,
    PermanentError,
    PushResult,
    QtyResult,
    RemoteVariant,
    RetryableError,
    StoreAdapter,
    ThrottledError,
    WebhookEvent,
)

_logger = logging.getLogger(__name__)

MAX_BATCH = 100  # WooCommerce: at most 100 items (create + update + delete) per batch request
PER_PAGE = 100
SKU_URL_BUDGET = 1500  # characters of SKUs per ?sku= lookup
WEBHOOK_PATH = "/seller_mode/webhook/woocommerce"
WEBHOOK_NAME = "Seller Mode: %s"
META_KEY = "_seller_mode_key"
META_IMAGES = "_seller_mode_images"
SCOPES = ("read", "write", "read_write")


# ---------------------------------------------------------------- OAuth signing
def _rawurlencode(text):
    return urllib.parse.quote(str(text), safe="")  # keeps A-Z a-z 0-9 - _ . ~ like PHP's rawurlencode


def _oauth_url(url, method, consumer_key, consumer_secret):
    """``url`` with a one-legged OAuth 1.0a signature (HMAC-SHA256) over its
    query, encoded as WooCommerce's WC_REST_Authentication does."""
    base, _, query = url.partition("?")
    params = {}
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params[key] = value  # a repeated key: the last one wins, as in PHP's $_GET
    params.update({
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA256",
    })
    parts = [
        _rawurlencode("%s=%s" % (_rawurlencode(k), _rawurlencode(v)))
        for k, v in sorted(params.items(), key=lambda kv: kv[0].encode())
    ]
    string_to_sign = "%s&%s&%s" % (method.upper(), _rawurlencode(base), "%26".join(parts))
    digest = hmac.new(("%s&" % consumer_secret).encode(), string_to_sign.encode(), hashlib.sha256).digest()
    params["oauth_signature"] = base64.b64encode(digest).decode()
    return "%s?%s" % (base, urllib.parse.urlencode(params, quote_via=urllib.parse.quote))


class _API(API):
    """The ``woocommerce`` client with a correct OAuth signature (see the
    module docstring); everything else is the client's own."""

    def _API__get_oauth_url(self, url, method, **kwargs):  # overrides API.__get_oauth_url
        return _oauth_url(url, method, self.consumer_key, self.consumer_secret)


# ---------------------------------------------------------------- key authorization
def authorize_url(site_url, app_name, user_id, return_url, callback_url, scope="read_write"):
    """The URL to send the shop owner to so that WooCommerce creates a REST
    key for us and POSTs it to ``callback_url`` (``/wc-auth/v1/authorize``)."""
    if scope not in SCOPES:
        raise ValueError("scope must be one of %s" % ", ".join(SCOPES))
    for name, value in (("site_url", site_url), ("return_url", return_url), ("callback_url", callback_url)):
        if not str(value or "").startswith(("http://", "https://")):
            raise ValueError("%s must be an http(s) URL" % name)
    if not app_name or user_id in (None, ""):
        raise ValueError("app_name and user_id are required")
    query = urllib.parse.urlencode({
        "app_name": app_name, "scope": scope, "user_id": str(user_id),
        "return_url": return_url, "callback_url": callback_url,
    })
    return "%s/wc-auth/v1/authorize?%s" % (str(site_url).rstrip("/"), query)


def parse_key_callback(raw_body):
    """The JSON WooCommerce POSTs to the callback URL ->
    {key_id, user_id, consumer_key, consumer_secret, key_permissions}.
    Raises PermanentError when it is not such a body."""
    if isinstance(raw_body, (bytes, bytearray)):
        try:
            raw_body = bytes(raw_body).decode("utf-8")
        except UnicodeDecodeError:
            raise PermanentError("key callback: body is not UTF-8")
    try:
        data = json.loads(raw_body or "")
    except (TypeError, ValueError):
        raise PermanentError("key callback: body is not JSON")
    if not isinstance(data, dict):
        raise PermanentError("key callback: body is not a JSON object")
    missing = [k for k in ("key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions") if data.get(k) in (None, "")]
    if missing:
        raise PermanentError("key callback: missing %s" % ", ".join(missing))
    ck, cs = str(data["consumer_key"]), str(data["consumer_secret"])
    if not (ck.startswith("ck_") and len(ck) > 10 and ck[3:].isalnum()):
        raise PermanentError("key callback: malformed consumer_key")
    if not (cs.startswith("cs_") and len(cs) > 10 and cs[3:].isalnum()):
        raise PermanentError("key callback: malformed consumer_secret")
    if data["key_permissions"] not in SCOPES:
        raise PermanentError("key callback: unknown key_permissions %r" % data["key_permissions"])
    try:
        key_id = int(data["key_id"])
    except (TypeError, ValueError):
        raise PermanentError("key callback: malformed key_id")
    return {
        "key_id": key_id, "user_id": str(data["user_id"]), "consumer_key": ck,
        "consumer_secret": cs, "key_permissions": data["key_permissions"],
    }


# ---------------------------------------------------------------- helpers
def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _header(headers, name):
    """A header from a dict-like with any key case."""
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is not None:
        value = getter(name)
        if value is not None:
            return value
    wanted = name.lower()
    for key, value in dict(headers).items():
        if str(key).lower() == wanted:
            return value
    return None


def _parse_utc(text):
    """ISO 8601 -> naive UTC datetime (no offset: UTC)."""
    if not text:
        return None
    if isinstance(text, dt.datetime):
        value = text
    else:
        text = str(text).strip().replace(" ", "T")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _gmt(text):
    """A WooCommerce *_gmt date ("2024-05-01T10:00:00") -> ISO 8601 UTC with Z."""
    try:
        return _iso(_parse_utc(text))
    except ValueError:
        return text or ""


def _money(value):
    try:
        return str(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _weight(value):
    if not value:
        return ""
    return ("%.4f" % float(value)).rstrip("0").rstrip(".")


def _int_id(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _split_ref(ref):
    """"12" -> (12, None); "12/34" -> (12, 34); malformed -> (None, None)."""
    parent, _, child = str(ref).partition("/")
    pid = _int_id(parent)
    if not child:
        return pid, None
    vid = _int_id(child)
    return (pid, vid) if vid else (None, None)


def _item_error(item):
    error = item.get("error") if isinstance(item, dict) else None
    if not error:
        return None
    return "%s [%s]" % (error.get("message") or "error", error.get("code") or "unknown")


def _order_ref(order):
    return str(getattr(order, "remote_id", order))


class WooCommerceAdapter(StoreAdapter):
    platform = "woocommerce"

    # Retries inside one call (429 / 5xx / network): attempts and backoff (seconds).
    max_attempts = 3
    backoff = 1.0
    max_sleep = 10.0

    def __init__(self, url, credentials, timeout=10.0):
        super().__init__(url, credentials, timeout=timeout)
        verify_ssl = self.credentials.get("verify_ssl", True)
        if verify_ssl in (None, ""):
            verify_ssl = True
        self.api = _API(
            url=self.url, consumer_key=self.credentials.get("consumer_key") or "",
            consumer_secret=self.credentials.get("consumer_secret") or "",
            version="wc/v3", timeout=self.timeout, verify_ssl=verify_ssl,
        )
        self._categories = {}  # lower-case name -> id (this adapter's lifetime)

    # ============================================================ HTTP
    def _request(self, method, endpoint, params=None, data=None):
        """One REST call with retries; returns the requests.Response (2xx/3xx)."""
        last_message, wait, rate_limited = "", 5.0, False
        for attempt in range(self.max_attempts):
            rate_limited = False
            kwargs = {"params": dict(params)} if params else {}
            try:
                if method in ("post", "put"):
                    response = getattr(self.api, method)(endpoint, data, **kwargs)
                else:
                    response = getattr(self.api, method)(endpoint, **kwargs)
            except requests.Timeout as exc:
                last_message, wait = "WooCommerce timed out (%s %s): %s" % (method.upper(), endpoint, exc), self.backoff * 2 ** attempt
            except requests.RequestException as exc:
                last_message, wait = "WooCommerce unreachable (%s %s): %s" % (method.upper(), endpoint, exc), self.backoff * 2 ** attempt
            else:
                status = response.status_code
                if status < 400:
                    return response
                code, message, data_ = self._error_of(response)
                if status in (401, 403):
                    raise AuthError("%s [%s]" % (message, code))
                if status == 429 or status >= 500:
                    rate_limited = status == 429
                    retry_after = _header(response.headers, "Retry-After")
                    try:
                        wait = max(float(retry_after), 0.0)
                    except (TypeError, ValueError):
                        wait = self.backoff * 2 ** attempt
                    last_message = "WooCommerce answered %d (%s %s): %s [%s]" % (status, method.upper(), endpoint, message, code)
                else:
                    exc = PermanentError("%s [%s]" % (message, code))
                    exc.code, exc.data, exc.status = code, data_, status
                    raise exc
            if attempt + 1 < self.max_attempts and wait <= self.max_sleep:
                time.sleep(wait)
            elif wait > self.max_sleep:
                break
        raise (ThrottledError if rate_limited else RetryableError)(last_message, wait=max(wait, 1.0))

    @staticmethod
    def _error_of(response):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("code"):
            message = html.unescape(str(body.get("message") or ""))
            data = body.get("data") if isinstance(body.get("data"), dict) else {}
            return str(body["code"]), message, data
        return "http_%d" % response.status_code, "HTTP %d %s" % (response.status_code, response.reason or ""), {}

    def _json(self, method, endpoint, params=None, data=None):
        response = self._request(method, endpoint, params=params, data=data)
        try:
            return response.json()
        except ValueError:
            raise RetryableError("WooCommerce answered something else than JSON (%s %s)" % (method.upper(), endpoint))

    def _list(self, endpoint, params=None):
        """Every page of a collection (per_page=100)."""
        out, page = [], 1
        while True:
            query = dict(params or {}, per_page=PER_PAGE, page=page)
            response = self._request("get", endpoint, params=query)
            items = response.json()
            if not isinstance(items, list):
                break
            out.extend(items)
            try:
                pages = int(response.headers.get("X-WP-TotalPages") or 0)
            except ValueError:
                pages = 0
            if page >= pages or len(items) < PER_PAGE:
                break
            page += 1
        return out

    def _batch(self, endpoint, create=(), update=(), delete=()):
        """Batch requests of at most 100 items in total; returns the merged
        {create: [...], update: [...], delete: [...]} in the order given."""
        jobs = [("delete", x) for x in delete] + [("create", x) for x in create] + [("update", x) for x in update]
        out = {"create": [], "update": [], "delete": []}
        for chunk in _chunks(jobs, MAX_BATCH):
            body = {}
            for kind, item in chunk:
                body.setdefault(kind, []).append(item)
            answer = self._json("post", endpoint, data=body)
            for kind in ("create", "update", "delete"):
                sent = body.get(kind, [])
                got = answer.get(kind, []) if isinstance(answer, dict) else []
                for n in range(len(sent)):
                    item = got[n] if n < len(got) else {"id": 0, "error": {"code": "no_answer", "message": "No answer for this item."}}
                    out[kind].append(item)
        return out

    # ============================================================ connection
    def verify(self):
        """Checks the key (one authenticated read), then reads the site's
        name from the WordPress index and its currency from the settings
        (when the key may read them)."""
        self._request("get", "products", params={"per_page": 1})
        info = {"name": self.url, "domain": urllib.parse.urlsplit(self.url).netloc, "url": self.url,
                "currency": None, "plan": None}
        try:
            root = requests.get(self.url + "/wp-json/", timeout=self.timeout, verify=self.api.verify_ssl)
            if root.ok and isinstance(root.json(), dict) and root.json().get("name"):
                info["name"] = root.json()["name"]
        except (requests.RequestException, ValueError):
            pass
        try:
            setting = self._json("get", "settings/general/woocommerce_currency")
            if isinstance(setting, dict) and setting.get("value"):
                info["currency"] = setting["value"]
        except (PermanentError, RetryableError, AuthError):  # not every key may read the settings
            pass
        return info

    def _delivery_url(self, callback_base_url):
        return callback_base_url.rstrip("/") + WEBHOOK_PATH

    def _our_webhooks(self, delivery_url=None):
        hooks = self._list("webhooks", {"context": "edit"})
        out = []
        for hook in hooks:
            url = hook.get("delivery_url") or ""
            if delivery_url is not None:
                if url == delivery_url:
                    out.append(hook)
            elif url.endswith(WEBHOOK_PATH) and str(hook.get("name") or "").startswith("Seller Mode"):
                out.append(hook)
        return out

    def setup(self, callback_base_url, webhook_topics):
        """Creates the webhooks that are missing (ours: our delivery URL),
        re-activates ours when WooCommerce disabled them and keeps their
        secret ours. Idempotent."""
        delivery_url = self._delivery_url(callback_base_url)
        secret = self.credentials.get("webhook_secret") or ""
        existing = {}
        for hook in self._our_webhooks(delivery_url):
            existing.setdefault(hook["topic"], hook)
        ids = []
        for topic in webhook_topics:
            hook = existing.get(topic)
            if hook is None:
                hook = self._json("post", "webhooks", data={
                    "name": WEBHOOK_NAME % topic, "topic": topic, "delivery_url": delivery_url,
                    "secret": secret, "status": "active",
                })
            elif hook.get("status") != "active" or (secret and hook.get("secret") not in (None, secret)):
                hook = self._json("put", "webhooks/%d" % hook["id"], data={"status": "active", "secret": secret})
            ids.append(str(hook["id"]))
        return {"location_id": None, "webhook_ids": ids}

    def teardown(self):
        """Deletes our webhooks (recognised by their name and delivery path)."""
        for hook in self._our_webhooks():
            try:
                self._request("delete", "webhooks/%d" % hook["id"], params={"force": "true"})
            except PermanentError as exc:
                if getattr(exc, "status", None) != 404:
                    raise
        return True

    # ============================================================ catalog: reads
    def _read_products(self, ids):
        """{id: product} for existing (non-trashed) product ids, 100 per request."""
        found = {}
        ids = sorted({i for i in ids if i})
        for chunk in _chunks(ids, PER_PAGE):
            items = self._json("get", "products", params={
                "include": ",".join(str(i) for i in chunk), "per_page": PER_PAGE, "context": "edit"})
            for item in items or []:
                found[int(item["id"])] = item
        return found

    def _read_variations(self, pid, ids=None):
        params = {"context": "edit"}
        if ids:
            out = []
            for chunk in _chunks(sorted(set(ids)), PER_PAGE):
                out += self._json("get", "products/%d/variations" % pid, params=dict(
                    params, include=",".join(str(i) for i in chunk), per_page=PER_PAGE)) or []
            return out
        return self._list("products/%d/variations" % pid, params)

    def _lookup_skus(self, skus):
        """{lower-case sku: product or variation record} for the SKUs that exist."""
        wanted = []
        for sku in skus:
            sku = (sku or "").strip()
            if sku and sku.lower() not in {w.lower() for w in wanted}:
                wanted.append(sku)
        found = {}
        plain = [s for s in wanted if "," not in s]
        odd = [s for s in wanted if "," in s]  # a comma separates SKUs in ?sku=
        batch, size = [], 0
        groups = []
        for sku in plain:
            if batch and (size + len(sku) + 1 > SKU_URL_BUDGET or len(batch) >= PER_PAGE):
                groups.append(batch)
                batch, size = [], 0
            batch.append(sku)
            size += len(sku) + 1
        if batch:
            groups.append(batch)
        for group in groups:
            items = self._json("get", "products", params={"sku": ",".join(group), "per_page": PER_PAGE, "context": "edit"})
            for item in items or []:
                found[(item.get("sku") or "").strip().lower()] = item
        for sku in odd:
            items = self._json("get", "products", params={"search_sku": sku, "per_page": PER_PAGE, "context": "edit"})
            for item in items or []:
                if (item.get("sku") or "").strip().lower() == sku.lower():
                    found[sku.lower()] = item
        return found

    # ============================================================ catalog: push
    @staticmethod
    def _is_simple(payload):
        return len(payload.variants) == 1 and not payload.options and not payload.variants[0].options

    @staticmethod
    def _option_names(payload):
        if payload.options:
            return list(payload.options)
        return ["Option"]  # variants without options: one synthetic attribute (their SKU)

    def _variant_options(self, payload, variant):
        if payload.options:
            return [str(o) for o in variant.options]
        return [variant.sku or variant.key]

    @staticmethod
    def _prices(variant):
        price = _money(variant.price)
        compare = variant.compare_at_price
        if compare not in (None, "") and Decimal(_money(compare)) > Decimal(price):
            return {"regular_price": _money(compare), "sale_price": price}
        return {"regular_price": price, "sale_price": ""}

    @staticmethod
    def _meta(key, metafields=None):
        meta = [{"key": META_KEY, "value": str(key)}]
        for name, value in (metafields or {}).items():
            meta.append({"key": "seller_mode_%s" % name, "value": "" if value is None else str(value)})
        return meta

    def _parent_sku(self, payload):
        sku = (payload.sku or "").strip()
        if not sku or sku.lower() in {(v.sku or "").strip().lower() for v in payload.variants}:
            return ""
        return sku

    def _skus_of(self, payload):
        skus = [v.sku for v in payload.variants if v.sku]
        if payload.sku:
            skus.append(payload.sku)
        return skus

    def _category_id(self, name):
        name = (name or "").strip()
        if not name:
            return None
        key = name.lower()
        if key in self._categories:
            return self._categories[key]
        found = None
        for cat in self._json("get", "products/categories", params={"search": name, "per_page": PER_PAGE}) or []:
            if html.unescape(cat.get("name") or "").strip().lower() == key:
                if found is None or cat.get("parent") == 0:
                    found = cat["id"]
        if found is None:
            try:
                found = self._json("post", "products/categories", data={"name": name})["id"]
            except PermanentError as exc:
                found = (getattr(exc, "data", None) or {}).get("resource_id")
                if getattr(exc, "code", "") != "term_exists" or not found:
                    raise
        self._categories[key] = int(found)
        return int(found)

    def _images(self, payload, remote):
        """Images by src; an image sent before (same URL, remembered in a
        meta of the product) is sent by id so that WooCommerce does not
        download it again."""
        known = {}
        if remote:
            meta = {m.get("key"): m.get("value") for m in remote.get("meta_data") or []}
            try:
                urls = json.loads(meta.get(META_IMAGES) or "[]")
            except (TypeError, ValueError):
                urls = []
            ids = [img.get("id") for img in remote.get("images") or []]
            if isinstance(urls, list) and len(urls) == len(ids):
                known = dict(zip(urls, ids))
        out = []
        for image in payload.images:
            entry = {"id": known[image.url]} if known.get(image.url) else {"src": image.url}
            if image.alt:
                entry["alt"] = image.alt
            out.append(entry)
        return out

    def _product_body(self, payload, remote, creating):
        body = {"status": "publish" if payload.status == "active" else "draft",
                "meta_data": self._meta(payload.key, payload.metafields)}
        if self._is_simple(payload):
            variant = payload.variants[0]
            body.update(type="simple", sku=str(variant.sku or payload.sku or ""), manage_stock=True,
                        weight=_weight(variant.weight), **self._prices(variant))
            if creating and variant.quantity is not None:
                body["stock_quantity"] = int(variant.quantity)
        else:
            names = self._option_names(payload)
            attributes = []
            for n, name in enumerate(names):
                values = []
                for variant in payload.variants:
                    options = self._variant_options(payload, variant)
                    value = options[n] if n < len(options) else ""
                    if value not in values:
                        values.append(value)
                attributes.append({"name": str(name), "options": values, "variation": True, "visible": True, "position": n})
            body.update(type="variable", sku=self._parent_sku(payload), manage_stock=False, attributes=attributes)
        if creating or payload.include_content:
            body["name"] = payload.title or payload.sku or payload.key
            body["description"] = payload.description_html or ""
            body["tags"] = [{"name": str(t)} for t in payload.tags]
            if payload.images or not creating:
                body["images"] = self._images(payload, None if creating else remote)
                body["meta_data"].append({"key": META_IMAGES, "value": json.dumps([i.url for i in payload.images])})
            category = self._category_id(payload.product_type)
            if category:
                body["categories"] = [{"id": category}]
        return body

    def _variation_body(self, payload, variant, creating):
        names = self._option_names(payload)
        options = self._variant_options(payload, variant)
        body = dict(
            sku=str(variant.sku or ""), manage_stock=True, status="publish", weight=_weight(variant.weight),
            attributes=[{"name": str(name), "option": options[n] if n < len(options) else ""} for n, name in enumerate(names)],
            meta_data=self._meta(variant.key), **self._prices(variant),
        )
        if creating and variant.quantity is not None:
            body["stock_quantity"] = int(variant.quantity)
        return body

    def push_products(self, payloads):
        """Create or update products (see the module docstring). Requests: a
        read of the stored remote ids (100 per request), a ?sku= lookup of
        the others, the product batches (100 per request) and, for each
        variable product, one variations batch (100 variations)."""
        payloads = list(payloads)
        results = [PushResult(key=p.key) for p in payloads]
        state = [{"pid": None, "remote": None, "created": False} for _ in payloads]
        # 1. stored remote ids that still exist
        stored = {n: _int_id(p.remote_id) for n, p in enumerate(payloads) if _int_id(p.remote_id)}
        existing = self._read_products(stored.values()) if stored else {}
        for n, pid in stored.items():
            if pid in existing:
                state[n].update(pid=pid, remote=existing[pid])
        # 2. the others by SKU (a push that died half-way: no second product)
        self._resolve_by_sku(payloads, state, [n for n in range(len(payloads)) if state[n]["pid"] is None], existing)
        # 3. a simple payload over a variable product: drop its variations first (their SKUs)
        for n, payload in enumerate(payloads):
            remote = state[n]["remote"]
            if remote and self._is_simple(payload) and remote.get("type") == "variable" and remote.get("variations"):
                self._batch("products/%d/variations/batch" % state[n]["pid"], delete=list(remote["variations"]))
                remote["variations"] = []
        # 4. product batches
        self._push_round(payloads, results, state, range(len(payloads)), retry_sku=True)
        # 5. variations
        for n, payload in enumerate(payloads):
            if results[n].error or state[n]["pid"] is None:
                continue
            results[n].remote_id = str(state[n]["pid"])
            results[n].created = state[n]["created"]
            pid = state[n]["pid"]
            if self._is_simple(payload):
                results[n].variants = {payload.variants[0].key: RemoteVariant(str(pid), str(pid))}
            else:
                try:
                    self._push_variations(payload, state[n], results[n])
                except PermanentError as exc:
                    results[n].error = str(exc)
        return results

    def _resolve_by_sku(self, payloads, state, indexes, existing):
        if not indexes:
            return
        hits = self._lookup_skus([s for n in indexes for s in self._skus_of(payloads[n])])
        parents = {}
        for n in indexes:
            payload = payloads[n]
            product = parent = None
            for sku in self._skus_of(payload):
                record = hits.get(sku.strip().lower())
                if not record:
                    continue
                if record.get("type") == "variation" or record.get("parent_id"):
                    parent = parent or int(record["parent_id"])
                elif product is None and self._adoptable(payload, record):
                    product = record
            if product is not None:
                state[n].update(pid=int(product["id"]), remote=product)
                existing[int(product["id"])] = product
            elif parent:
                parents[n] = parent
        missing = {p for p in parents.values() if p not in existing}
        if missing:
            existing.update(self._read_products(missing))
        for n, parent in parents.items():
            if parent in existing and self._adoptable(payloads[n], existing[parent], via_variation=True):
                state[n].update(pid=parent, remote=existing[parent])
        for n in indexes:  # the variations the lookup found: no listing of them later
            pid = state[n]["pid"]
            state[n]["variation_skus"] = {
                sku.strip().lower(): int(hits[sku.strip().lower()]["id"])
                for sku in self._skus_of(payloads[n])
                if pid and sku.strip().lower() in hits and hits[sku.strip().lower()].get("parent_id") == pid
            }

    def _adoptable(self, payload, record, via_variation=False):
        """Whether a product found by SKU is this payload's: it carries our
        key, or it is of the payload's kind under the payload's own SKU (a
        product the shop already lists under the supplier's reference). A
        shop's simple product that merely holds one of our variant SKUs is
        not turned into our variable product."""
        keys = [m.get("value") for m in record.get("meta_data") or [] if m.get("key") == META_KEY]
        if keys:
            return str(keys[0]) == str(payload.key)
        sku = (record.get("sku") or "").strip().lower()
        if self._is_simple(payload):
            return record.get("type") in ("simple", None) and sku in {
                (payload.variants[0].sku or "").strip().lower(), (payload.sku or "").strip().lower()}
        if record.get("type") != "variable":
            return False
        return via_variation or sku == (payload.sku or "").strip().lower()

    def _push_round(self, payloads, results, state, indexes, retry_sku):
        creates, updates = [], []
        for n in indexes:
            try:
                body = self._product_body(payloads[n], state[n]["remote"], creating=state[n]["pid"] is None)
            except PermanentError as exc:  # a category the store refused
                results[n].error = str(exc)
                continue
            if state[n]["pid"] is None:
                creates.append((n, body))
            else:
                updates.append((n, dict(body, id=state[n]["pid"])))
        if not creates and not updates:
            return
        answer = self._batch("products/batch", create=[b for _n, b in creates], update=[b for _n, b in updates])
        again = []
        for (n, _body), item in list(zip(creates, answer["create"])) + list(zip(updates, answer["update"])):
            error = _item_error(item)
            code = (item.get("error") or {}).get("code") if isinstance(item, dict) else None
            if error is None:
                if state[n]["pid"] is None:
                    state[n]["created"] = True
                state[n].update(pid=int(item["id"]), remote=item)
            elif retry_sku and code in ("product_invalid_sku", "woocommerce_rest_product_invalid_id"):
                state[n].update(pid=None, remote=None)
                again.append(n)
            else:
                results[n].error = error
        if again:
            # Duplicate SKU (the product exists already: an earlier push that
            # died, or a retried batch) or a product deleted meanwhile.
            self._resolve_by_sku(payloads, state, again, {})
            self._push_round(payloads, results, state, again, retry_sku=False)

    def _push_variations(self, payload, st, result):
        pid, remote = st["pid"], st["remote"] or {}
        current = set(int(v) for v in remote.get("variations") or [])
        mapped = {}  # variant key -> variation id
        for variant in payload.variants:
            vid = _int_id(variant.remote_variant_id)
            if vid is None and variant.remote_inventory_item_id and "/" in str(variant.remote_inventory_item_id):
                vid = _split_ref(variant.remote_inventory_item_id)[1]
            if vid in current and vid not in mapped.values():
                mapped[variant.key] = vid
        unmatched = current - set(mapped.values())
        for variant in payload.variants:
            vid = (st.get("variation_skus") or {}).get((variant.sku or "").strip().lower())
            if variant.key not in mapped and vid in unmatched:
                mapped[variant.key] = vid
                unmatched.discard(vid)
        if unmatched and len(mapped) < len(payload.variants):
            by_sku = {(v.get("sku") or "").strip().lower(): v["id"] for v in self._read_variations(pid) if v.get("sku")}
            for variant in payload.variants:
                vid = by_sku.get((variant.sku or "").strip().lower())
                if variant.key not in mapped and vid in unmatched:
                    mapped[variant.key] = vid
                    unmatched.discard(vid)
        creates = [(v, self._variation_body(payload, v, True)) for v in payload.variants if v.key not in mapped]
        updates = [(v, dict(self._variation_body(payload, v, False), id=mapped[v.key])) for v in payload.variants if v.key in mapped]
        endpoint = "products/%d/variations/batch" % pid
        answer = self._batch(endpoint, create=[b for _v, b in creates], update=[b for _v, b in updates], delete=sorted(unmatched))
        errors, dup = [], []
        for (variant, body), item in list(zip(creates, answer["create"])) + list(zip(updates, answer["update"])):
            error = _item_error(item)
            if error is None:
                result.variants[variant.key] = RemoteVariant(str(item["id"]), "%d/%d" % (pid, int(item["id"])))
            elif (item.get("error") or {}).get("code") == "product_invalid_sku" and "id" not in body:
                dup.append((variant, error))
            else:
                errors.append("%s: %s" % (variant.sku or variant.key, error))
        if dup:  # created by an earlier (retried) request: find it under this product
            by_sku = {(v.get("sku") or "").strip().lower(): v["id"] for v in self._read_variations(pid) if v.get("sku")}
            retry = []
            for variant, error in dup:
                vid = by_sku.get((variant.sku or "").strip().lower())
                if vid:
                    retry.append((variant, dict(self._variation_body(payload, variant, False), id=vid)))
                else:
                    errors.append("%s: %s" % (variant.sku or variant.key, error))
            if retry:
                again = self._batch(endpoint, update=[b for _v, b in retry])
                for (variant, _b), item in zip(retry, again["update"]):
                    error = _item_error(item)
                    if error is None:
                        result.variants[variant.key] = RemoteVariant(str(item["id"]), "%d/%d" % (pid, int(item["id"])))
                    else:
                        errors.append("%s: %s" % (variant.sku or variant.key, error))
        if errors:
            result.error = "; ".join(errors)

    def unpublish(self, remote_ids, delete=False):
        """Draft (batch update) or delete (batch delete, i.e. force) products.
        Deleting a product that is already gone counts as done."""
        ids = [(rid, _int_id(rid)) for rid in remote_ids]
        out = {rid: ("invalid product id %r" % rid) for rid, pid in ids if pid is None}
        valid = [(rid, pid) for rid, pid in ids if pid is not None]
        if delete:
            answer = self._batch("products/batch", delete=[pid for _r, pid in valid])["delete"]
        else:
            answer = self._batch("products/batch", update=[{"id": pid, "status": "draft"} for _r, pid in valid])["update"]
        for (rid, _pid), item in zip(valid, answer):
            error = _item_error(item)
            if error and delete and "invalid_id" in ((item.get("error") or {}).get("code") or ""):
                error = None
            out[rid] = error
        return out

    # ============================================================ prices
    def _read_refs(self, refs):
        """{ref: record} for "pid" and "pid/vid" refs: one request per 100
        products, one per parent for variations."""
        simple, variations = {}, {}
        for ref in refs:
            pid, vid = _split_ref(ref)
            if pid is None:
                continue
            if vid is None:
                simple.setdefault(pid, []).append(ref)
            else:
                variations.setdefault(pid, {}).setdefault(vid, []).append(ref)
        out = {}
        if simple:
            found = self._read_products(simple)
            for pid, rs in simple.items():
                if pid in found:
                    for ref in rs:
                        out[ref] = found[pid]
        for pid, vids in variations.items():
            try:
                items = self._read_variations(pid, list(vids))
            except PermanentError as exc:
                if getattr(exc, "status", None) == 404:  # the parent is gone
                    continue
                raise
            for item in items:
                for ref in vids.get(int(item["id"]), []):
                    out[ref] = item
        return out

    def read_prices(self, refs):
        """{ref: price the customer pays now (WooCommerce's ``price``)}."""
        return {ref: str(rec.get("price") or rec.get("regular_price") or "") for ref, rec in self._read_refs(refs).items()}

    def webhook_prices(self, payload):
        if not isinstance(payload, dict) or not payload.get("id"):
            return {}
        kind = payload.get("type")
        price = payload.get("price")
        if price in (None, ""):
            price = payload.get("regular_price")
        if price in (None, ""):
            return {}
        if kind == "variation" and payload.get("parent_id"):
            return {"%d/%d" % (int(payload["parent_id"]), int(payload["id"])): str(price)}
        if kind == "variable":
            return {}
        return {str(int(payload["id"])): str(price)}

    def set_prices(self, prices):
        """Sets ``regular_price`` and clears ``sale_price``."""
        out, simple, variations = {}, [], {}
        for ref, price in prices.items():
            pid, vid = _split_ref(ref)
            if pid is None:
                out[ref] = "invalid price ref %r" % ref
            elif vid is None:
                simple.append((ref, {"id": pid, "regular_price": _money(price), "sale_price": ""}))
            else:
                variations.setdefault(pid, []).append((ref, {"id": vid, "regular_price": _money(price), "sale_price": ""}))
        if simple:
            answer = self._batch("products/batch", update=[b for _r, b in simple])["update"]
            for (ref, _b), item in zip(simple, answer):
                out[ref] = _item_error(item)
        for pid, items in variations.items():
            try:
                answer = self._batch("products/%d/variations/batch" % pid, update=[b for _r, b in items])["update"]
            except PermanentError as exc:
                for ref, _b in items:
                    out[ref] = str(exc)
                continue
            for (ref, _b), item in zip(items, answer):
                out[ref] = _item_error(item)
        return out

    # ============================================================ stock
    def set_quantities(self, items, idempotency_key=None):
        """WooCommerce has no compare-and-set: for the items with an
        ``expected_previous``, the current stock is read first (one request
        per 100 products, one per parent for variations) and the stale ones
        are reported, not written. The rest is written with products/batch
        and one variations batch per parent (100 items per request). The
        value returned is what the store's answer says. A sale between our
        read and our write is not detected (no CAS on WooCommerce)."""
        items = list(items)
        results = [None] * len(items)
        checks = [it.ref for it in items if it.expected_previous is not None]
        current = self._read_refs(checks) if checks else {}
        simple, variations = [], {}
        for n, item in enumerate(items):
            pid, vid = _split_ref(item.ref)
            if pid is None:
                results[n] = QtyResult(item.ref, ok=False, error="invalid stock ref %r" % item.ref)
                continue
            if item.expected_previous is not None:
                record = current.get(item.ref)
                if record is None:
                    results[n] = QtyResult(item.ref, ok=False, error="not found in the store")
                    continue
                store = record.get("stock_quantity") if record.get("manage_stock") else None
                if store is None or int(store) != int(item.expected_previous):
                    results[n] = QtyResult(item.ref, ok=False, stale=True, store_value=None if store is None else int(store))
                    continue
            body = {"id": vid or pid, "manage_stock": True, "stock_quantity": int(item.qty)}
            if vid is None:
                simple.append((n, body))
            else:
                variations.setdefault(pid, []).append((n, body))
        writes = [("products/batch", simple)] + [("products/%d/variations/batch" % pid, v) for pid, v in variations.items()]
        for endpoint, batch in writes:
            if not batch:
                continue
            try:
                answer = self._batch(endpoint, update=[b for _n, b in batch])["update"]
            except PermanentError as exc:
                for n, _b in batch:
                    results[n] = QtyResult(items[n].ref, ok=False, error=str(exc))
                continue
            for (n, _b), got in zip(batch, answer):
                error = _item_error(got)
                if error:
                    results[n] = QtyResult(items[n].ref, ok=False, error=error)
                else:
                    value = got.get("stock_quantity")
                    results[n] = QtyResult(items[n].ref, ok=True, value=None if value is None else int(value))
        return results

    def read_quantities(self, refs):
        """{ref: stock_quantity} (None when the store does not manage its stock);
        refs the store does not know are left out."""
        out = {}
        for ref, record in self._read_refs(refs).items():
            value = record.get("stock_quantity") if record.get("manage_stock") else None
            out[ref] = None if value is None else int(value)
        return out

    # ============================================================ orders
    STATUS = {"processing": "requested", "cancelled": "cancelled", "refunded": "cancelled"}

    def _address(self, order):
        shipping = order.get("shipping") or {}
        billing = order.get("billing") or {}
        source = shipping if (shipping.get("address_1") or shipping.get("city")) else billing
        name = " ".join(x for x in (source.get("first_name"), source.get("last_name")) if x)
        return Address(
            name=name, company=source.get("company") or "", street=source.get("address_1") or "",
            street2=source.get("address_2") or "", city=source.get("city") or "", zip=source.get("postcode") or "",
            state_code=source.get("state") or "", country_code=source.get("country") or "",
            phone=shipping.get("phone") or billing.get("phone") or "", email=billing.get("email") or "",
        )

    def _order(self, order):
        lines = []
        for item in order.get("line_items") or []:
            quantity = int(item.get("quantity") or 0)
            try:
                unit = (Decimal(str(item.get("total") or "0")) / quantity).quantize(Decimal("0.01")) if quantity else Decimal("0")
            except InvalidOperation:
                unit = Decimal("0")
            variation = item.get("variation_id") or 0
            product = item.get("product_id") or 0
            lines.append(OrderLine(
                remote_line_id=str(item["id"]), sku=str(item.get("sku") or ""), quantity=quantity, price=str(unit),
                title=html.unescape(str(item.get("name") or "")),
                remote_variant_id=str(variation or product) if (variation or product) else None,
                remote_product_id=str(product) if product else None,
            ))
        return OrderPayload(
            remote_id=str(order["id"]), name="#%s" % (order.get("number") or order["id"]),
            status=self.STATUS.get(order.get("status"), "other"),
            created_at=_gmt(order.get("date_created_gmt")), updated_at=_gmt(order.get("date_modified_gmt")),
            currency=order.get("currency") or "", email=(order.get("billing") or {}).get("email") or "",
            shipping_address=self._address(order), lines=lines, raw=order,
        )

    def fetch_orders(self, since=None):
        """Orders modified after ``since`` (all statuses), oldest change
        first; without ``since``: the orders in processing. Returns
        ([OrderPayload], cursor).

        WooCommerce compares modification dates to the second and
        ``modified_after`` is strict, so the cursor is held one second back
        when the newest order seen was modified less than 2 s before the
        store's clock (Date header): an order changed in that same second
        after our read is not lost (it may come twice; callers de-duplicate).
        Pages are read with an overlap of 10 orders and an upper bound
        (``modified_before`` = the store's time at the first page), so an
        order that changes while we page does not shift another one out of
        sight; the changed one comes with the next poll."""
        since_dt = _parse_utc(since) if since else None
        base = {"orderby": "modified", "order": "asc", "per_page": PER_PAGE, "dates_are_gmt": "true"}
        if since_dt:
            base["modified_after"] = since_dt.strftime("%Y-%m-%dT%H:%M:%S")
        else:
            base["status"] = "processing"
        overlap, offset, seen, out = 10, 0, set(), []
        server_now = None
        max_seen = since_dt
        rewinds = 0
        while True:
            query = dict(base, offset=offset)
            response = self._request("get", "orders", params=query)
            items = response.json() or []
            if server_now is None:
                server_now = self._server_time(response)
                if server_now is not None:
                    base["modified_before"] = (server_now + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
            if offset and items and items[0]["id"] not in seen and rewinds < 20:
                # more orders left the set than the overlap: step back
                rewinds += 1
                offset = max(0, offset - PER_PAGE + overlap)
                continue
            for order in items:
                if order["id"] in seen:
                    continue
                seen.add(order["id"])
                out.append(self._order(order))
                try:
                    modified = _parse_utc(order.get("date_modified_gmt"))
                except ValueError:
                    modified = None
                if modified and (max_seen is None or modified > max_seen):
                    max_seen = modified
            if len(items) < PER_PAGE:
                break
            offset += PER_PAGE - overlap
        cursor = max_seen
        if cursor is not None and (server_now is None or (server_now - cursor).total_seconds() < 2):
            cursor = cursor - dt.timedelta(seconds=1)
            if since_dt and cursor < since_dt:
                cursor = since_dt
        return out, (_iso(cursor) if cursor else since)

    @staticmethod
    def _server_time(response):
        value = _header(response.headers, "Date")
        if not value:
            return None
        try:
            from email.utils import parsedate_to_datetime

            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return _parse_utc(moment)

    def fetch_order(self, remote_id):
        try:
            order = self._json("get", "orders/%d" % int(_order_ref(remote_id)))
        except PermanentError as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise
        return self._order(order)

    def _note(self, order, text, customer_note=False):
        return self._json("post", "orders/%d/notes" % int(_order_ref(order)), data={"note": text, "customer_note": bool(customer_note)})

    def _status(self, order, status):
        return self._json("put", "orders/%d" % int(_order_ref(order)), data={"status": status})

    def accept(self, order):
        """A private note: the order stays in processing."""
        self._note(order, "Accepted by supplier")
        return True

    def reject(self, order, reason):
        """A private note with the reason and the order put on hold, so that
        the shop owner sees it needs them (refund or another source); the
        customer is not told by us."""
        self._note(order, "Rejected by supplier: %s" % (reason or "no reason given"))
        self._status(order, "on-hold")
        return True

    def fulfil(self, order, lines, tracking, notify_customer=True):
        """A note with the carrier, the tracking number and link (a customer
        note, e-mailed by WooCommerce, when notify_customer). Completing the
        order is the caller's decision: ``complete(order)``."""
        parts = []
        titles = {}
        for line in getattr(order, "lines", None) or []:
            titles[str(line.remote_line_id)] = line.title or line.sku
        shipped = ["%s x %s" % (qty, titles.get(str(lid), lid)) for lid, qty in (lines or [])]
        parts.append("Your order has been shipped")
        if tracking is not None and tracking.company:
            parts[-1] += " with %s" % tracking.company
        parts[-1] += "."
        if shipped and titles:
            parts.append("Items: %s." % ", ".join(shipped))
        if tracking is not None and tracking.number:
            parts.append("Tracking number: %s." % tracking.number)
        if tracking is not None and tracking.url:
            parts.append("Track it: %s" % tracking.url)
        note = self._note(order, " ".join(parts), customer_note=notify_customer)
        return {"note_id": str(note.get("id")) if isinstance(note, dict) else None}

    def complete(self, order):
        """Extra (WooCommerce): status completed, once everything is shipped."""
        self._status(order, "completed")
        return True

    def cancel(self, order, reason):
        """A private note with the reason, then status cancelled (WooCommerce
        restores the stock and tells the customer by its own e-mail)."""
        self._note(order, "Cancelled by supplier: %s" % (reason or "no reason given"))
        self._status(order, "cancelled")
        return True

    def answer_cancellation(self, order, accept, reason=""):
        """WooCommerce has no cancellation request: a private note only."""
        text = "Cancellation %s by supplier" % ("accepted" if accept else "refused")
        if reason:
            text += ": %s" % reason
        self._note(order, text)
        return True

    # ============================================================ webhooks
    def verify_webhook(self, headers, raw_body):
        signature = _header(headers, "X-WC-Webhook-Signature")
        secret = self.credentials.get("webhook_secret") or ""
        if not signature or not secret:
            return False
        if isinstance(raw_body, str):
            raw_body = raw_body.encode("utf-8")
        expected = base64.b64encode(hmac.new(secret.encode(), raw_body or b"", hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected.encode(), str(signature).strip().encode())

    def parse_webhook(self, headers, raw_body):
        if isinstance(raw_body, str):
            raw_body = raw_body.encode("utf-8")
        raw_body = raw_body or b""
        topic = (_header(headers, "X-WC-Webhook-Topic") or "").strip().lower()
        delivery = _header(headers, "X-WC-Webhook-Delivery-ID") or ""
        if raw_body.startswith(b"webhook_id=") and not raw_body.lstrip().startswith((b"{", b"[")):
            fields = urllib.parse.parse_qs(raw_body.decode("utf-8", "replace"))
            hook = (fields.get("webhook_id") or [""])[0]
            return WebhookEvent(topic="ping", delivery_id=delivery or "ping-%s" % hook, remote_id=hook or None,
                                payload={"webhook_id": hook})
        try:
            payload = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PermanentError("webhook body is not JSON")
        if not isinstance(payload, dict):
            raise PermanentError("webhook body is not a JSON object")
        if not delivery:
            delivery = hashlib.sha256(topic.encode() + b":" + raw_body).hexdigest()
        rid = payload.get("id")
        rid = str(rid) if rid not in (None, "") else None
        resource = topic.split(".", 1)[0]
        if topic in ("order.created", "order.updated", "order.restored"):
            kind = "order_cancelled" if payload.get("status") in ("cancelled", "refunded") else "order"
        elif topic in ("product.updated", "product.created"):
            kind = "product_updated"
        else:
            kind = "other"
        if resource == "order" and topic == "order.deleted":
            kind = "other"
        return WebhookEvent(topic=kind, delivery_id=str(delivery), remote_id=rid, payload=payload)
