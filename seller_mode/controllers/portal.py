"""The retailer portal: catalog, orders, stores, self-service connection and
catalog feeds.

Portal users get no access rights on Seller Mode's models: every page reads
with sudo, after checking that what it shows belongs to the user's company
(its commercial partner). Credentials are never put in a rendering context."""

import csv
import io
import json
import logging
import re
from urllib.parse import urlsplit

from werkzeug.exceptions import Forbidden, NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

_logger = logging.getLogger(__name__)

FEED_COLUMNS = ["store", "product", "variant", "sku", "barcode", "wholesale", "retail", "retail_min", "retail_max",
                "map", "currency", "quantity", "sync_state"]
SHOP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SellerPortal(CustomerPortal):

    # ------------------------------------------------------------ helpers
    def _seller_partner(self):
        return request.env.user.partner_id.commercial_partner_id

    def _seller_stores(self):
        return request.env["seller.store"]._seller_portal_stores(request.env.user.partner_id)

    def _seller_store(self, store_id):
        """The user's store, or 404 (another retailer's store is not found)."""
        store = self._seller_stores().filtered(lambda s: s.id == store_id)
        if not store:
            raise NotFound()
        return store

    def _seller_lines_domain(self, stores):
        return [("store_id", "in", stores.ids), ("share_id.active", "=", True)]

    def _seller_orders_domain(self, stores):
        return [
            ("seller_store_id", "in", stores.ids),
            ("partner_id", "child_of", [self._seller_partner().id]),
        ]

    def _seller_self_service(self):
        return bool(self._seller_partner().sudo().seller_self_service)

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        wanted = {"seller_catalog_count", "seller_order_count", "seller_store_count"} & set(counters)
        if wanted:
            stores = self._seller_stores()
            if "seller_store_count" in counters:
                values["seller_store_count"] = len(stores)
            if "seller_catalog_count" in counters:
                values["seller_catalog_count"] = request.env["seller.share.variant"].sudo().search_count(
                    self._seller_lines_domain(stores)) if stores else 0
            if "seller_order_count" in counters:
                values["seller_order_count"] = request.env["sale.order"].sudo().search_count(
                    self._seller_orders_domain(stores)) if stores else 0
        return values

    def _prepare_portal_layout_values(self):
        values = super()._prepare_portal_layout_values()
        values["seller_self_service"] = self._seller_self_service()
        return values

    # ------------------------------------------------------------ catalog
    def _seller_catalog_sortings(self):
        return {
            "product": {"label": request.env._("Product"), "order": "product_id, store_id"},
            "store": {"label": request.env._("Store"), "order": "store_id, product_id"},
            "sync": {"label": request.env._("Sync State"), "order": "share_id, product_id"},
        }

    def _seller_catalog_search(self, search):
        if not search:
            return Domain.TRUE
        return Domain.OR([
            Domain("product_id.name", "ilike", search),
            Domain("product_id.default_code", "ilike", search),
            Domain("product_id.barcode", "ilike", search),
            Domain("store_id.name", "ilike", search),
        ])

    @http.route(["/my/seller/catalog", "/my/seller/catalog/page/<int:page>"], type="http", auth="user",
                website=True)
    def seller_catalog(self, page=1, sortby="product", search="", search_in="all", store=None, feed_renewed=None,
                       **kw):
        stores = self._seller_stores()
        sortings = self._seller_catalog_sortings()
        sortby = sortby if sortby in sortings else "product"
        domain = Domain(self._seller_lines_domain(stores)) & self._seller_catalog_search(search)
        if store and str(store).isdigit() and int(store) in stores.ids:
            domain &= Domain("store_id", "=", int(store))
        Line = request.env["seller.share.variant"].sudo()
        total = Line.search_count(domain) if stores else 0
        pager = portal_pager(url="/my/seller/catalog", total=total, page=page, step=self._items_per_page,
                             url_args={"sortby": sortby, "search": search, "store": store})
        lines = Line.search(domain, order=sortings[sortby]["order"], limit=self._items_per_page,
                            offset=pager["offset"]) if stores else Line
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_catalog",
            "rows": request.env["seller.store"]._seller_portal_rows(lines),
            "stores": stores,
            "store_filter": int(store) if store and str(store).isdigit() else None,
            "pager": pager,
            "default_url": "/my/seller/catalog",
            "searchbar_sortings": sortings,
            "sortby": sortby,
            "searchbar_inputs": {"all": {"input": "all", "label": request.env._("Search in products"),
                                         "sequence": 1}},
            "search_in": "all",
            "search": search,
            "feed_url": self._seller_feed_url(),
            "feed_renewed": feed_renewed == "1",
        })
        return request.render("seller_mode.portal_seller_catalog", values)

    # ------------------------------------------------------------ feeds
    def _seller_feed_url(self):
        token = request.env.user.partner_id._seller_feed_token()
        return "%s/seller_mode/feed/%s.json" % (request.env.user.get_base_url(), token)

    def _seller_feed_rows(self, partner):
        stores = request.env["seller.store"]._seller_portal_stores(partner)
        lines = request.env["seller.share.variant"].sudo().search(
            self._seller_lines_domain(stores), order="store_id, product_id") if stores else []
        rows = request.env["seller.store"]._seller_portal_rows(lines) if stores else []
        return [{
            "store": row["store"], "product": row["product_name"], "variant": row["variant"], "sku": row["sku"],
            "barcode": row["barcode"], "wholesale": row["wholesale"], "retail": row["retail"],
            "retail_min": row["retail_min"], "retail_max": row["retail_max"], "map": row["map"],
            "currency": row["currency"], "quantity": row["quantity"], "sync_state": row["sync_state"],
        } for row in rows]

    @http.route("/my/seller/feed.csv", type="http", auth="user", readonly=True)
    def seller_feed_csv(self, **kw):
        """The catalog as CSV: UTF-8 with a BOM (spreadsheets read accents
        right), every value written as text and quoted, so that SKUs and
        barcodes stay text in a CSV reader."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(FEED_COLUMNS)
        for row in self._seller_feed_rows(request.env.user.partner_id):
            writer.writerow([_feed_text(row[column]) for column in FEED_COLUMNS])
        body = "\ufeff" + buffer.getvalue()
        filename = "catalog-%s.csv" % fields.Date.context_today(request.env.user)
        return request.make_response(body.encode("utf-8"), headers=[
            ("Content-Type", "text/csv; charset=utf-8"),
            ("Content-Disposition", 'attachment; filename="%s"' % filename),
            ("Cache-Control", "no-store"),
        ])

    @http.route("/seller_mode/feed/<string:token>.json", type="http", auth="public", readonly=True,
                save_session=False)
    def seller_feed_json(self, token, **kw):
        partner = request.env["res.partner"]._seller_from_feed_token(token)
        if not partner:
            raise NotFound()
        payload = {
            "retailer": partner.name,
            "generated_at": fields.Datetime.now().isoformat() + "Z",
            "columns": FEED_COLUMNS,
            "products": self._seller_feed_rows(partner),
        }
        return request.make_response(json.dumps(payload, ensure_ascii=False), headers=[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ])

    @http.route("/my/seller/feed/renew", type="http", auth="user", methods=["POST"], website=True)
    def seller_feed_renew(self, **kw):
        request.env.user.partner_id.commercial_partner_id.sudo().action_seller_new_feed_token()
        return request.redirect("/my/seller/catalog?feed_renewed=1")

    # ------------------------------------------------------------ orders
    def _seller_order_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "date_order desc, id desc"},
            "name": {"label": request.env._("Reference"), "order": "name desc"},
            "store": {"label": request.env._("Store"), "order": "seller_store_id, date_order desc"},
        }

    @http.route(["/my/seller/orders", "/my/seller/orders/page/<int:page>"], type="http", auth="user",
                website=True, readonly=True)
    def seller_orders(self, page=1, sortby="date", search="", search_in="all", **kw):
        stores = self._seller_stores()
        sortings = self._seller_order_sortings()
        sortby = sortby if sortby in sortings else "date"
        domain = Domain(self._seller_orders_domain(stores))
        if search:
            domain &= Domain.OR([
                Domain("name", "ilike", search),
                Domain("seller_remote_order_name", "ilike", search),
                Domain("client_order_ref", "ilike", search),
                Domain("partner_shipping_id.name", "ilike", search),
            ])
        Order = request.env["sale.order"].sudo()
        total = Order.search_count(domain) if stores else 0
        pager = portal_pager(url="/my/seller/orders", total=total, page=page, step=self._items_per_page,
                             url_args={"sortby": sortby, "search": search})
        orders = Order.search(domain, order=sortings[sortby]["order"], limit=self._items_per_page,
                              offset=pager["offset"]) if stores else Order
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_orders",
            "orders": orders,
            "pager": pager,
            "default_url": "/my/seller/orders",
            "searchbar_sortings": sortings,
            "sortby": sortby,
            "searchbar_inputs": {"all": {"input": "all", "label": request.env._("Search in orders"), "sequence": 1}},
            "search_in": "all",
            "search": search,
        })
        return request.render("seller_mode.portal_seller_orders", values)

    @http.route("/my/seller/orders/<int:order_id>", type="http", auth="user", website=True, readonly=True)
    def seller_order(self, order_id, **kw):
        stores = self._seller_stores()
        order = request.env["sale.order"].sudo().search(
            Domain(self._seller_orders_domain(stores)) & Domain("id", "=", order_id), limit=1) if stores else None
        if not order:
            raise NotFound()
        shipments = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_order",
            "order": order,
            "lines": order.order_line.filtered(lambda l: not l.display_type or l.display_type == "line_note"),
            "shipments": shipments,
        })
        return request.render("seller_mode.portal_seller_order", values)

    # ------------------------------------------------------------ stores
    @http.route(["/my/seller/stores", "/my/seller/stores/page/<int:page>"], type="http", auth="user",
                website=True, readonly=True)
    def seller_stores(self, page=1, sortby="name", search="", search_in="all", **kw):
        sortings = {
            "name": {"label": request.env._("Name"), "order": "name, id"},
            "state": {"label": request.env._("Status"), "order": "state, name"},
        }
        sortby = sortby if sortby in sortings else "name"
        stores = self._seller_stores()
        domain = Domain("id", "in", stores.ids)
        if search:
            domain &= Domain.OR([Domain("name", "ilike", search), Domain("url", "ilike", search)])
        Store = request.env["seller.store"].sudo()
        total = Store.search_count(domain)
        pager = portal_pager(url="/my/seller/stores", total=total, page=page, step=self._items_per_page,
                             url_args={"sortby": sortby, "search": search})
        page_stores = Store.search(domain, order=sortings[sortby]["order"], limit=self._items_per_page,
                                   offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_stores",
            "stores": page_stores,
            "health": {store.id: store._seller_portal_health() for store in page_stores},
            "pager": pager,
            "default_url": "/my/seller/stores",
            "searchbar_sortings": sortings,
            "sortby": sortby,
            "searchbar_inputs": {"all": {"input": "all", "label": request.env._("Search in stores"), "sequence": 1}},
            "search_in": "all",
            "search": search,
        })
        return request.render("seller_mode.portal_seller_stores", values)

    @http.route("/my/seller/stores/<int:store_id>", type="http", auth="user", website=True, readonly=True)
    def seller_store_page(self, store_id, connected=None, success=None, **kw):
        store = self._seller_store(store_id)
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_store",
            "store": store,
            "health": store._seller_portal_health(),
            "connected": connected == "1" and success != "0",
            "refused": success == "0",
        })
        return request.render("seller_mode.portal_seller_store", values)

    @http.route("/my/seller/stores/<int:store_id>/pause", type="http", auth="user", methods=["POST"], website=True)
    def seller_store_pause(self, store_id, **kw):
        self._seller_store(store_id).action_pause()
        return request.redirect("/my/seller/stores/%d" % store_id)

    @http.route("/my/seller/stores/<int:store_id>/resume", type="http", auth="user", methods=["POST"], website=True)
    def seller_store_resume(self, store_id, **kw):
        self._seller_store(store_id).action_resume()
        return request.redirect("/my/seller/stores/%d" % store_id)

    # ------------------------------------------------------------ self-service connection
    @http.route("/my/seller/connect", type="http", auth="user", website=True, readonly=True)
    def seller_connect(self, platform="shopify", error=None, url="", **kw):
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "seller_connect",
            "platform": platform if platform in ("shopify", "woocommerce") else "shopify",
            "error": error,
            "url": url,
            "allowed": self._seller_self_service(),
        })
        return request.render("seller_mode.portal_seller_connect", values,
                              status=200 if values["allowed"] else 403)

    @http.route("/my/seller/connect/<string:platform>", type="http", auth="user", methods=["POST"], website=True)
    def seller_connect_start(self, platform, url="", name="", **kw):
        if platform not in ("shopify", "woocommerce"):
            raise NotFound()
        if not self._seller_self_service():
            raise Forbidden(request.env._("Your supplier has not enabled self-service store connection for you."))
        try:
            store_url = _normalize_store_url(platform, url)
        except ValueError as exc:
            return self.seller_connect(platform=platform, error=str(exc), url=url)
        partner = self._seller_partner()
        Store = request.env["seller.store"].sudo()
        store = Store.search([
            ("partner_id", "child_of", partner.id), ("platform", "=", platform), ("url", "=", store_url),
        ], limit=1)
        if store and store.state in ("connected", "paused"):
            return request.redirect("/my/seller/stores/%d" % store.id)
        try:
            if not store:
                values = partner._seller_new_store_values()
                if not values["pricelist_id"]:
                    raise UserError(request.env._("Your supplier has not chosen your prices yet: please contact them."))
                store = Store.with_context(tracking_disable=True).create({
                    **values,
                    "name": (name or "").strip() or _default_store_name(platform, store_url),
                    "partner_id": partner.id,
                    "platform": platform,
                    "url": store_url,
                })
                store.message_post(body=request.env._("Store added by %s in the portal.", request.env.user.name))
            if platform == "shopify":
                target = store._seller_shopify_authorize_url(origin="portal")
            else:
                target = store._seller_woocommerce_authorize_url(origin="portal")
        except (UserError, ValidationError, ValueError) as exc:
            request.env.cr.rollback()
            return self.seller_connect(platform=platform, error=str(exc.args[0] if exc.args else exc), url=url)
        return request.redirect(target, local=False)


def _feed_text(value):
    if isinstance(value, float):
        return "%.2f" % value
    return "" if value is None or value is False else str(value)


def _normalize_store_url(platform, text):
    """The store's address from what the retailer typed: a Shopify shop name,
    name.myshopify.com or a URL; a WooCommerce site URL."""
    text = (text or "").strip()
    if not text:
        raise ValueError(request.env._("Enter your store's address."))
    if platform == "shopify" and SHOP_NAME.match(text.lower()):
        return "https://%s.myshopify.com" % text.lower()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError(request.env._("%s is not a web address.", text))
    host = parts.hostname.lower()
    if platform == "shopify" and host.endswith(".myshopify.com"):
        return "https://%s" % host
    path = parts.path.rstrip("/")
    port = ":%d" % parts.port if parts.port else ""
    return "%s://%s%s%s" % (parts.scheme, host, port, path)


def _default_store_name(platform, url):
    parts = urlsplit(url)
    label = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.path.strip("/") else parts.hostname
    if label and label.endswith(".myshopify.com"):
        label = label[: -len(".myshopify.com")]
    return "%s - %s" % (label, "Shopify" if platform == "shopify" else "WooCommerce")
