import json
import logging
import secrets
from urllib.parse import urlencode

from werkzeug.utils import redirect

from odoo import http
from odoo.http import request

from ..adapters.base import AdapterError

_logger = logging.getLogger(__name__)


class SellerConnectController(http.Controller):
    """Connecting a store: Shopify's OAuth install of our app, WooCommerce's
    key authorization. Both start from a store record that holds a one-time
    token; the platform sends the retailer back with it."""

    # ------------------------------------------------------------ Shopify
    @http.route("/seller_mode/shopify/install/<int:store_id>", type="http", auth="user")
    def shopify_install(self, store_id, **kwargs):
        store = request.env["seller.store"].browse(store_id)
        store.check_access("write")
        return redirect(store.sudo()._seller_shopify_authorize_url(), local=False)

    @http.route("/seller_mode/shopify/callback", type="http", auth="public", save_session=False)
    def shopify_callback(self, **params):
        from ..adapters import shopify as shopify_adapter

        params_secret = request.env["ir.config_parameter"].sudo().get_param("seller_mode.shopify_api_secret")
        if not params_secret or not shopify_adapter.verify_oauth_callback(params, params_secret):
            _logger.warning("seller_mode: Shopify OAuth callback with a bad hmac refused")
            return request.make_response("Invalid signature", status=403)
        store = request.env["seller.store"].sudo()._seller_from_connect_token(params.get("state"))
        if not store or not store._seller_shop_matches(params.get("shop")):
            _logger.warning("seller_mode: Shopify OAuth callback with an unknown state or shop refused")
            return request.make_response("Unknown or expired installation request", status=403)
        try:
            answer = shopify_adapter.exchange_code(
                store.url,
                request.env["ir.config_parameter"].sudo().get_param("seller_mode.shopify_api_key"),
                params_secret,
                params.get("code"),
                timeout=20,
            )
        except AdapterError as exc:
            store._seller_set_error(request.env._("The Shopify installation failed: %s", exc))
            return redirect(store._seller_after_connect_url())
        store._seller_store_token(answer)
        store.write({"connect_token": False, "shop_domain": params.get("shop"), "state_message": False})
        store._seller_enqueue_connect()
        return redirect(store._seller_after_connect_url())

    # ------------------------------------------------------------ WooCommerce
    @http.route("/seller_mode/woocommerce/authorize/<int:store_id>", type="http", auth="user")
    def woocommerce_authorize(self, store_id, **kwargs):
        store = request.env["seller.store"].browse(store_id)
        store.check_access("write")
        return redirect(store.sudo()._seller_woocommerce_authorize_url(), local=False)

    @http.route("/seller_mode/woocommerce/keys/<string:token>", type="http", auth="public", methods=["POST"],
                csrf=False, save_session=False)
    def woocommerce_keys(self, token, **kwargs):
        from ..adapters import woocommerce as woocommerce_adapter

        store = request.env["seller.store"].sudo()._seller_from_connect_token(token)
        if not store:
            _logger.warning("seller_mode: WooCommerce keys posted without a valid token refused")
            return request.make_response("Unknown or expired token", status=403)
        try:
            keys = woocommerce_adapter.parse_key_callback(request.httprequest.get_data(cache=False))
        except AdapterError as exc:
            return request.make_response("Malformed keys: %s" % exc, status=400)
        store.write({
            "consumer_key": keys["consumer_key"],
            "consumer_secret": keys["consumer_secret"],
            "webhook_secret": store.webhook_secret or secrets.token_urlsafe(24),
            "connect_token": False,
            "state_message": False,
        })
        store._seller_enqueue_connect()
        return request.make_response(json.dumps({"ok": True}), headers=[("Content-Type", "application/json")])

    @http.route("/seller_mode/woocommerce/return/<int:store_id>", type="http", auth="public", save_session=False)
    def woocommerce_return(self, store_id, success="0", **kwargs):
        store = request.env["seller.store"].sudo().browse(store_id).exists()
        if not store:
            raise request.not_found()
        if success != "1":
            store.write({"state_message": request.env._("The retailer did not approve the WooCommerce keys.")})
        return redirect(store._seller_after_connect_url() + "&" + urlencode({"success": success}))
