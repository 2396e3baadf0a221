"""Shopify Admin GraphQL 2026-04 emulator (pure Python, no Odoo).

Usage::

    from emulators.shopify import ShopifyEmulator
    emu = ShopifyEmulator(host="127.0.0.1", port=0, seed=0, api_key="seller-mode-app",
                          api_secret="seller-mode-secret", round_trip_ms=100)
    emu.start()
    token = emu.add_shop("demo-a", plan="standard", auto_submit_fulfillment_requests=True)
    emu.shop_url("demo-a")   # http://127.0.0.1:PORT/shops/demo-a

URL layout (one server, many shops; ``{shop_url}`` = ``{base_url}/shops/{name}``):

* ``POST {shop_url}/admin/api/2026-04/graphql.json`` - Admin GraphQL, header
  ``X-Shopify-Access-Token``; body JSON ``{query, variables, operationName}``
  (or ``application/graphql``). Any other version (or ``unstable``) answers
  404 ``{"errors": "Not Found"}``. A bad, expired or revoked token answers 401
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
* ``GET {shop_url}/admin/oauth/authorize?client_id=&scope=&redirect_uri=&state=``
  - 302 to ``redirect_uri?code=&host=&shop=<name>.myshopify.com&state=&timestamp=&hmac=``
  (hmac: hex HMAC-SHA256 of the sorted parameters without hmac, app secret).
* ``POST {shop_url}/admin/oauth/access_token`` (JSON or form): ``client_id``,
  ``client_secret``, ``code`` -> ``{access_token, scope, expires_in,
  refresh_token, refresh_token_expires_in}`` (expiring offline tokens, one
  hour / 90 days by default); ``grant_type=refresh_token`` + ``refresh_token``
  -> a new pair (the refresh token is single-use; the old access token stays
  valid until it expires).
* ``GET {shop_url}/admin/oauth/access_scopes.json`` - the token's scopes.
* ``/_emulator/`` (HTML page), ``/_emulator/state?tenant=``, ``/_emulator/log``,
  ``POST /_emulator/reset``, ``POST /_emulator/faults`` - from the core.

Behaviour worth knowing:

* The schema (``schema.graphql``) is a subset of the real 2026-04 Admin schema
  (same names and types, proven by tests/emulators/test_shopify.py). Documents
  are parsed and validated against it (LRU cache per query text).
* Cost: scalars 0, objects 1, connections 2 + first x node cost, mutations 10;
  ``extensions.cost`` on every GraphQL answer; leaky bucket per shop for the
  app (standard 2000 @ 100/s, advanced 4000 @ 200/s, plus 20000 @ 1000/s,
  enterprise 40000 @ 2000/s); THROTTLED (HTTP 200) when the bucket cannot pay
  the requested cost; requested cost > 1000 -> MAX_COST_EXCEEDED; any input
  list longer than 250 -> MAX_INPUT_SIZE_EXCEEDED. Connections need first or
  last (<= 250).
* ``inventorySetQuantities`` needs ``@idempotent(key:)`` on the field (a
  top-level error BAD_REQUEST otherwise); a repeated key answers the first
  result without applying it again (different input with the same key ->
  userError IDEMPOTENCY_KEY_PARAMETER_MISMATCH). Every quantity needs
  ``changeFromQuantity`` (omitted -> userError COMPARE_QUANTITY_REQUIRED; an
  integer that differs from the current value -> CHANGE_FROM_QUANTITY_STALE
  and nothing of the call is applied; explicit null skips the check).
* ``productSet`` is synchronous; list fields (variants, metafields, files)
  are replaced wholesale (omitted variants leave one "Default Title"
  variant); variants without id are matched to existing ones by option
  values (so inventory items stay); ``inventoryQuantities`` are applied on
  every call; a new variant without them is stocked at the default location.
* ``orderCreate``: with no ``options`` the order claims stock like a checkout
  (``available`` down, ``committed`` up, at the first location stocking the
  item with enough stock); with ``options`` the real default ``BYPASS``
  applies (no stock change) unless DECREMENT_* is asked. One fulfillment
  order per location; fulfillment orders at a fulfillment service location
  are submitted automatically when the shop has
  ``auto_submit_fulfillment_requests`` (FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED).
* Fulfillment order life cycle: UNSUBMITTED -submit-> SUBMITTED -accept->
  ACCEPTED (status IN_PROGRESS) / -reject-> REJECTED; cancellation request
  (SUBMITTED or ACCEPTED) -> CANCELLATION_REQUESTED -accept-> CANCELLATION_ACCEPTED
  (status CLOSED when the order is cancelled, OPEN otherwise) / -reject->
  CANCELLATION_REJECTED. ``fulfillmentCreate`` takes whole or partial
  quantities; a fully fulfilled fulfillment order is CLOSED. ``orderCancel``
  cancels open fulfillment orders (restock gives committed stock back) and
  sends a cancellation request for those a fulfillment service accepted.
  ``assignedFulfillmentOrders`` lists those of the calling app's services.
* Webhooks: JSON REST-style payloads POSTed to the subscription ``uri`` with
  X-Shopify-Topic / -Hmac-Sha256 (base64, app secret) / -Shop-Domain /
  -API-Version / -Webhook-Id / -Event-Id / -Triggered-At; retried by the
  core's WebhookSender; drop/duplicate faults apply (duplicates share the
  webhook id).
* Latency: ``round_trip_ms`` per GraphQL call (off with faults
  ``latency_model=False``) plus the injected latency/jitter. Faults (core
  ``FaultState.draw()``): revoked -> 401, hang -> sleep hang_seconds then the
  connection closes, throttle -> HTTP 429 with Retry-After, error -> 502/503.

Python API (besides the core's start/stop/reset/set_faults/log/state_snapshot):

* ``add_shop(name, plan="standard", auto_submit_fulfillment_requests=True, scope=None) -> token``
* ``shop_url(name)``, ``graphql_url(name)``, ``domain(name)``
* ``available(name, inventory_item_gid, location_gid) -> int``;
  ``quantity(name, item_gid, location_gid, quantity_name="available")``
* ``default_location_id(name)``, ``fulfillment_service_location_id(name, service_name=None)``
* ``revoke_token(name, token)`` (APP_UNINSTALLED), ``expire_token(name, token)``,
  ``advance_time(seconds)`` (emulator wall clock: token expiry, timestamps)
* ``set_plan(name, plan)``, ``set_auto_submit(name, enabled)``
* ``run_graphql(shop_state, query, variables=None, operation_name=None)`` (in-process, no HTTP)
* ``oauth_hmac(params)`` (the signature the OAuth redirect carries)
* ``state_snapshot(name)``, ``admin_page()``; ``log.rows(tenant=, kind=)`` kinds:
  shop_create, token_issue, token_refresh, token_revoke, app_uninstalled,
  oauth_authorize, product_set, product_update, product_delete, inventory_set,
  inventory_set_replay, inventory_adjust, order_create, order_cancel,
  fulfillment_service_create, fulfillment_request_submit/accept/reject,
  cancellation_request_submit/accept/reject, fulfillment_create,
  webhook_subscription_create/delete, webhook_send, webhook_delivery, throttled.
"""

from .emulator import API_VERSION, ShopifyEmulator, load_schema  # noqa: F401
