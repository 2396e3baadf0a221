import logging
import re

from odoo import http
from odoo.http import request

from ..adapters.base import PermanentError

_logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 2 * 1024 * 1024
PING = re.compile(rb"webhook_id=\d+")


class SellerWebhookController(http.Controller):
    """Receives the stores' webhooks: verify, store, answer at once; a job
    does the work."""

    @http.route(
        ["/seller_mode/webhook/shopify", "/seller_mode/webhook/woocommerce"],
        type="http", auth="public", methods=["POST"], csrf=False, save_session=False,
    )
    def seller_webhook(self, **kwargs):
        platform = request.httprequest.path.rstrip("/").rsplit("/", 1)[-1]
        length = request.httprequest.content_length or 0
        if length > MAX_WEBHOOK_BYTES:
            _logger.warning("seller_mode webhook refused: %d bytes", length)
            return self._answer(400, "body too large")
        raw = request.httprequest.get_data(cache=False)
        headers = {k.lower(): v for k, v in request.httprequest.headers.items()}
        if platform == "woocommerce" and PING.fullmatch(raw or b""):
            # WooCommerce checks a new webhook's URL with an unsigned ping that
            # names no store; it must get a 2xx or the webhook is not created.
            return self._answer(200, "pong")
        store = self._find_store(platform, headers, raw)
        if not store:
            _logger.warning("seller_mode webhook from an unknown %s store refused", platform)
            return self._answer(401, "unknown store")
        adapter = store._seller_adapter(refresh=False)
        if not adapter.verify_webhook(headers, raw):
            _logger.warning("seller_mode webhook with a bad signature refused (store %s)", store.id)
            return self._answer(401, "bad signature")
        try:
            event = adapter.parse_webhook(headers, raw)
        except PermanentError as exc:
            _logger.warning("seller_mode webhook refused (store %s): %s", store.id, exc)
            return self._answer(400, "malformed body")
        if event.topic == "product_updated" and store._seller_is_price_echo(adapter, event):
            return self._answer(200, "nothing to do")
        request.env["seller.webhook.event"].sudo()._seller_receive(store, event)
        return self._answer(200, "ok")

    # ------------------------------------------------------------ Shopify fulfillment service callbacks
    @http.route("/seller_mode/shopify/fulfillment/fulfillment_order_notification", type="http", auth="public",
                methods=["POST"], csrf=False, save_session=False)
    def shopify_fulfillment_notification(self, **kwargs):
        """Shopify tells our fulfillment service that a request (or a
        cancellation request) waits: look for it at once."""
        raw = request.httprequest.get_data(cache=False)
        headers = {k.lower(): v for k, v in request.httprequest.headers.items()}
        store = self._find_store("shopify", headers, raw)
        if not store or not store._seller_adapter(refresh=False).verify_webhook(headers, raw):
            return self._answer(401, "unknown store or bad signature")
        store._seller_enqueue_poll()
        return self._answer(200, "ok")

    @http.route(["/seller_mode/shopify/fulfillment/fetch_stock.json",
                 "/seller_mode/shopify/fulfillment/fetch_tracking_numbers.json"],
                type="http", auth="public", methods=["GET"], save_session=False)
    def shopify_fulfillment_fetch(self, shop=None, sku=None, **kwargs):
        """Shopify asks a fulfillment service that manages inventory for its
        stock: answer what we last set (pushes keep it current)."""
        store = request.env["seller.store"].sudo().search(
            [("platform", "=", "shopify"), ("shop_domain", "=", shop or "")], limit=1)
        if not store or not self._shopify_query_signed(request.httprequest.args):
            return self._answer(401, "unknown store or bad signature")
        if request.httprequest.path.endswith("fetch_tracking_numbers.json"):
            return request.make_json_response({"tracking_numbers": {}, "message": "Tracking is pushed", "success": True})
        lines = request.env["seller.share.variant"].sudo().search([("store_id", "=", store.id), ("qty_known", "=", True)])
        stock = {line.product_id._seller_sku(): line.last_pushed_qty for line in lines}
        if sku:
            stock = {sku: stock.get(sku, 0)}
        return request.make_json_response(stock)

    def _shopify_query_signed(self, args):
        from ..adapters import shopify as shopify_adapter

        secret = request.env["ir.config_parameter"].sudo().get_param("seller_mode.shopify_api_secret")
        return bool(secret) and shopify_adapter.verify_oauth_callback(dict(args.items()), secret)

    def _find_store(self, platform, headers, raw):
        Store = request.env["seller.store"].sudo()
        if platform == "shopify":
            domain = headers.get("x-shopify-shop-domain")
            return domain and Store.search([("platform", "=", "shopify"), ("shop_domain", "=", domain)], limit=1)
        source = (headers.get("x-wc-webhook-source") or "").rstrip("/")
        if not source:
            return Store.browse()
        return Store.search(
            [("platform", "=", "woocommerce"), ("url", "in", [source, source + "/"])], limit=1
        )

    def _answer(self, status, text):
        return request.make_response(text, headers=[("Content-Type", "text/plain")], status=status)
