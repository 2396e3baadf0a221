import logging

from odoo import http
from odoo.http import request

from ..adapters.base import PermanentError

_logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 2 * 1024 * 1024


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
        store = self._find_store(platform, headers, raw)
        if not store:
            _logger.warning("seller_mode webhook from an unknown %s store refused", platform)
            return self._answer(401, "unknown store")
        adapter = store._seller_adapter(refresh=False)
        if not adapter.verify_webhook(headers, raw):
            try:
                event = adapter.parse_webhook(headers, raw)
            except PermanentError:
                event = None
            if event is not None and event.topic == "ping":
                return self._answer(200, "pong")  # WooCommerce's unsigned creation ping
            _logger.warning("seller_mode webhook with a bad signature refused (store %s)", store.id)
            return self._answer(401, "bad signature")
        try:
            event = adapter.parse_webhook(headers, raw)
        except PermanentError as exc:
            _logger.warning("seller_mode webhook refused (store %s): %s", store.id, exc)
            return self._answer(400, "malformed body")
        request.env["seller.webhook.event"].sudo()._seller_receive(store, event)
        return self._answer(200, "ok")

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
