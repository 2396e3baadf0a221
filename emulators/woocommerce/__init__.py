"""WooCommerce REST wc/v3 emulator (behaves like a real WooCommerce 9.2.5).

Usage::

    from emulators.woocommerce import WooCommerceEmulator
    emu = WooCommerceEmulator(host="127.0.0.1", port=0, seed=0, tls_port=0).start()
    key, secret = emu.add_site("demo-w")          # one read_write key pair
    url = emu.site_url("demo-w")                  # http://127.0.0.1:PORT/sites/demo-w
    woocommerce.API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3")

URL layout (one server, many sites; HTTP on ``port`` and HTTPS with a
self-signed certificate, ``emu.tls_cert_path``, on ``tls_port``)::

    /sites/<name>/                               a tiny home page
    /sites/<name>/wp-json/wc/v3/...              the REST API (see spec.ROUTES)
    /sites/<name>/wc-auth/v1/authorize?...       the key-authorization flow
    /_emulator/  /_emulator/state?tenant=  /_emulator/log?tenant=&kind=&since=
    /_emulator/reset (POST)  /_emulator/faults (POST {"tenant":..., ...})

REST resources: products (simple, variable; ``sku=`` also finds variations,
as WooCommerce does), ``products/<id>/variations``, ``products/batch``,
``products/<id>/variations/batch``, ``products/categories``, orders (list
filters after/before/modified_after/modified_before/status/include/...),
``orders/<id>/notes``, webhooks. OPTIONS on a route lists its arguments.

Authentication, as WooCommerce 9.2 does it: over http only OAuth 1.0a
one-legged (HMAC-SHA1 or HMAC-SHA256, key ``consumer_secret&``, base string
from the method, the site's own URL + path and the PHP-normalised parameters;
nonces are single-use, timestamps outside +-15 minutes are refused); over https
basic auth or ``consumer_key``/``consumer_secret`` query parameters (OAuth is
tried after them). Errors: ``woocommerce_rest_authentication_error`` 401 for
a bad key, secret, signature, nonce or timestamp, or a read-only key writing;
with no accepted credentials the route's permission error:
``woocommerce_rest_cannot_view`` (GET), ``_cannot_create``, ``_cannot_edit``,
``_cannot_delete``, ``_cannot_batch`` (all 401).

Public Python API (besides the base class' start/stop/reset/set_faults/log):

    add_site(name, currency="USD") -> (consumer_key, consumer_secret)
        Idempotent; call after start() or the URLs are refreshed by start().
    add_key(name, permissions="read_write", description="") -> (ck, cs)
    site_url(name, tls=False) -> str
    revoke_keys(name)                      delete every key: 401 afterwards
    set_webhook_delay(name, seconds)       number, (low, high) range, or None
                                           (default: 20-60 s drawn from the seed)
    flush_webhooks()                       deliver everything queued now
    set_auth_mode(name, "auto"|"page"|"deny")   /wc-auth/v1/authorize behaviour
    stock(name, product_or_variation_id) -> int | None
    set_stock(name, id, qty)               as a shop owner in wp-admin (product.updated)
    place_order(name, line_items, shipping=None, status="processing",
                billing=None, customer_note="", payment_method="bacs",
                meta_data=None) -> order dict   (checkout: reduces stock, order.created)
    get_product(name, id) / get_order(name, id) -> REST-shaped dict or None
    state_snapshot(name=None) -> plain dict (products, variations, categories,
                                 orders, notes, webhooks, keys)
    admin_page() -> HTML
    reset()                                empties every site, keeps sites and
                                           their first key pair, clears the log

Change log kinds (``emu.log.rows(tenant=, kind=)``): product_create,
product_update, product_delete, variation_create, variation_update,
variation_delete, stock_set (key = product or variation id, value = new
quantity), category_create/update/delete, order_create, order_update,
order_delete, note_create, note_delete, webhook_create, webhook_update,
webhook_delete, webhook_ping, webhook_delivery (from core), webhook_failure,
webhook_disabled, webhook_dropped, key_create, key_revoke, auth_callback.

Webhooks: topics ``product.*`` (variations fire product.* with their id and a
product-shaped payload of type "variation") and ``order.*``; delivered by a
background thread (core's WebhookSender without retries) after the site's
delay; the payload is built at delivery time (deleted: ``{"id": N}``) and
encoded like wp_json_encode (``\\/``); signed ``X-WC-Webhook-Signature`` =
base64(HMAC-SHA256(body, secret)). While a delivery for (webhook, resource) is
queued, further events for it are merged into that one (Action Scheduler's
uniqueness). A failed delivery (not 2xx) increments ``failure_count``; a failure
when the count is already above 5 (the 7th in a row) disables the webhook, as
WC_Webhook::failed_delivery() does; a success resets the count. The creation
ping (form body ``webhook_id=N``, unsigned) is sent synchronously when an active
webhook is created. Stock reduced by an order saves the product, so it fires
product.updated too (as wc_update_product_stock does).

Key authorization: ``GET /sites/<n>/wc-auth/v1/authorize?app_name=&scope=
&user_id=&return_url=&callback_url=`` approves at once (mode "auto"), creates
a key, POSTs JSON {key_id, user_id, consumer_key, consumer_secret,
key_permissions} to callback_url, and redirects (302) to
return_url?success=1&user_id=.. when the callback answers 200 (real WooCommerce
requires exactly 200); otherwise the key is deleted and the redirect says
success=0 (real WooCommerce shows an "Access denied" error page instead). Mode
"page" shows an HTML page with Approve (``access_granted``) / Deny
(``access_denied``) links; "deny" redirects with success=0. The callback must
be https except on loopback hosts (real WooCommerce always requires https).

Faults (core's FaultState.draw()): revoked -> 401
``woocommerce_rest_authentication_error``; hang -> sleeps hang_seconds then
closes; throttle -> 429 ``woocommerce_rest_too_many_requests`` with
Retry-After: 2; error -> 500 (WordPress critical-error JSON) or 503 (HTML).
Latency model (off with ``latency_model=False``): see emulator.LATENCY.

Limitations: no taxes, coupons, refunds, customers, tags endpoints or global
attributes; images are not downloaded (each ``src`` gets an attachment id and
is kept as given); dates are UTC with second precision (``modified_after`` is
strictly after, like WordPress); a GET of /products/<variation id> works, but
PUT/DELETE there do not (use the variations route); webhooks are not limited
to ports 80/443/8080; https delivery URLs are verified by core's sender.
"""

from .emulator import LATENCY, WooCommerceEmulator  # noqa: F401
