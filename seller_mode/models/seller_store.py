import json
import logging
import math
import secrets
import time
from datetime import timedelta
from functools import partial

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.exception import RetryableJobError

from .. import adapters
from ..adapters.base import AdapterError, AuthError, RetryableError, ThrottledError
from ..fields import BigInteger
from ..tools import parse_time, plain_words, seller_delay, utcnow
from .seller_stock_change import STOCK_JOB_KEY, _queue_after_commit

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "seller_mode.group_seller_manager"
SHOPIFY_TOPICS = [
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "PRODUCTS_UPDATE",
    "APP_UNINSTALLED",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED",
    "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED",
]
WOOCOMMERCE_TOPICS = ["order.created", "order.updated", "product.updated"]
SHOPIFY_SCOPES = (
    "read_products,write_products,read_inventory,write_inventory,read_locations,"
    "read_assigned_fulfillment_orders,write_assigned_fulfillment_orders,read_orders,"
    "read_merchant_managed_fulfillment_orders,write_fulfillments"
)
# Products pushed per catalog job: one job is one short transaction, and a
# store with thousands of shares drains them job after job (resumable).
# Advisory lock class of a store's stock pushes (any constant int4).
STOCK_LOCK = 0x5E11

CATALOG_BATCH = {"shopify": 25, "woocommerce": 100}
# An order not ready for us yet is looked at again this many times (5, 10, 15 s later).
ORDER_LOOK_AGAIN = 3
NOT_READY = "not ready"
# Store fields whose change alters every shared variant's quantity.
STOCK_FIELDS = {"location_ids", "stock_share_percent", "stock_buffer", "stock_max", "untracked_policy",
                "untracked_qty"}
# Store fields whose change alters the prices or content every share shows.
PRICE_FIELDS = {"pricelist_id", "retail_pricelist_id", "retail_range_down_percent", "retail_range_up_percent",
                "content_policy"}


class SellerStore(models.Model):
    _name = "seller.store"
    _description = "Retailer Store"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"

    # -- identity
    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Retailer",
        required=True,
        index=True,
        tracking=True,
        help="The retailer: it buys from us at wholesale prices and sells in this store.",
    )
    platform = fields.Selection(adapters.PLATFORMS, required=True, tracking=True)
    url = fields.Char(
        string="Store URL",
        tracking=True,
        help="Shopify: the shop's address (https://name.myshopify.com). WooCommerce: the site's address.",
    )
    state = fields.Selection(
        [
            ("draft", "Not Connected"),
            ("connected", "Connected"),
            ("paused", "Paused"),
            ("error", "Error"),
            ("disconnected", "Disconnected"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    state_message = fields.Text(string="Connection Problem", copy=False, readonly=True)

    # -- credentials: managers only, never logged (no tracking)
    access_token = fields.Char(groups=MANAGER_GROUP, copy=False, help="Shopify offline access token.")
    refresh_token = fields.Char(groups=MANAGER_GROUP, copy=False)
    token_expires_at = fields.Datetime(groups=MANAGER_GROUP, copy=False)
    consumer_key = fields.Char(groups=MANAGER_GROUP, copy=False, help="WooCommerce REST consumer key.")
    consumer_secret = fields.Char(groups=MANAGER_GROUP, copy=False)
    webhook_secret = fields.Char(groups=MANAGER_GROUP, copy=False)
    connect_token = fields.Char(
        groups=MANAGER_GROUP, copy=False, help="One-time token of a pending self-service connection."
    )
    connect_origin = fields.Selection(
        [("backend", "Backend"), ("portal", "Portal")], copy=False, readonly=True,
        help="Where the last connection was started: the person comes back there.",
    )

    # -- what the store told us when it was connected
    shop_domain = fields.Char(copy=False, readonly=True, index=True, help="Shopify: name.myshopify.com.")
    remote_location_id = fields.Char(
        copy=False, readonly=True, help="Shopify: the location of our fulfillment service, where our stock lives."
    )
    remote_currency = fields.Char(copy=False, readonly=True)
    connected_at = fields.Datetime(copy=False, readonly=True)
    order_cursor = fields.Char(copy=False, readonly=True, help="Where the order poller resumes.")

    # -- prices
    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Wholesale Pricelist",
        required=True,
        default=lambda self: self.env.company.seller_default_pricelist_id,
        tracking=True,
        help="What the retailer pays us.",
    )
    currency_id = fields.Many2one(related="pricelist_id.currency_id", string="Currency")
    retail_pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Retail Pricelist",
        tracking=True,
        help="Suggested retail prices. Without one, the product's sales price is the suggested retail price.",
    )
    retail_range_down_percent = fields.Float(
        string="Allowed Below Retail (%)",
        default=10.0,
        help="How far below the suggested retail price the retailer may sell (never below MAP).",
    )
    retail_range_up_percent = fields.Float(
        string="Allowed Above Retail (%)", default=30.0, help="How far above the suggested retail price."
    )

    # -- stock allocation
    location_ids = fields.Many2many(
        "stock.location",
        string="Stock Locations",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', [company_id, False])]",
        default=lambda self: self._default_location_ids(),
        help="Where this store's stock comes from (child locations included).",
    )
    stock_share_percent = fields.Float(
        string="Stock Share (%)",
        default=lambda self: self.env.company.seller_default_stock_share_percent or 100.0,
        tracking=True,
    )
    stock_buffer = fields.Integer(
        default=lambda self: self.env.company.seller_default_stock_buffer,
        tracking=True,
        help="Units held back from this store.",
    )
    stock_max = fields.Integer(
        string="Stock Maximum",
        default=lambda self: self.env.company.seller_default_stock_max,
        tracking=True,
        help="Most units shown per variant; 0 means no maximum.",
    )
    untracked_policy = fields.Selection(
        [("skip", "Leave Out"), ("fixed", "Fixed Quantity")],
        string="Products Without Stock",
        default="skip",
        required=True,
        help="Quantity sent for products whose stock Odoo does not track.",
    )
    untracked_qty = fields.Integer(string="Fixed Quantity", default=0)
    stock_revision = fields.Integer(default=1, copy=False, readonly=True,
                                    help="Bumped when every shared variant's quantity must be sent again.")
    stock_pushed_revision = fields.Integer(copy=False, readonly=True)
    stock_pushed_at = fields.Datetime(string="Last Stock Push", copy=False, readonly=True)
    stock_snapshot = fields.Char(
        copy=False, readonly=True,
        help="The database snapshot the last stock push was made from: changes visible in it are pushed.",
    )
    stock_cursor = BigInteger(
        copy=False,
        readonly=True,
        help="Stock changes made by transactions older than this id have been pushed (the snapshot's xmin).",
    )

    # -- catalog
    content_policy = fields.Selection(
        [("create_only", "Retailer Owns Content"), ("keep_in_sync", "Keep Content in Sync")],
        default="create_only",
        required=True,
        help="Retailer Owns Content: title, description, images, tags and type are written only "
        "when the product is created; later pushes send prices, variants and stock facts only.",
    )
    delete_on_unshare = fields.Boolean(
        help="Delete the product from the store when it stops being shared, instead of setting it to draft."
    )
    share_domain = fields.Char(
        string="Share Rule",
        default="[]",
        help="Products matching this rule are shared automatically, including ones created later.",
    )
    share_rule_active = fields.Boolean(string="Share by Rule", tracking=True)
    auto_confirm_orders = fields.Boolean(default=True, help="Confirm sale orders imported from this store.")

    # -- relations and counters
    share_ids = fields.One2many("seller.share", "store_id", string="Shared Products")
    sync_event_ids = fields.One2many("seller.sync.event", "store_id", string="Sync Events")
    sale_order_ids = fields.One2many("sale.order", "seller_store_id", string="Orders")
    order_count = fields.Integer(compute="_compute_order_count")
    share_count = fields.Integer(compute="_compute_share_counts")
    share_error_count = fields.Integer(compute="_compute_share_counts")
    sync_event_count = fields.Integer(compute="_compute_sync_event_count")
    last_sync_at = fields.Datetime(compute="_compute_last_sync", string="Last Successful Sync")
    color = fields.Integer(compute="_compute_color")
    catalog_done = fields.Integer(compute="_compute_catalog_progress", string="Products Pushed")
    catalog_total = fields.Integer(compute="_compute_catalog_progress", string="Products Shared")
    catalog_progress = fields.Float(compute="_compute_catalog_progress", string="Catalog Progress (%)")
    catalog_eta_minutes = fields.Float(compute="_compute_catalog_progress", string="Time Left (min)")

    # ------------------------------------------------------------ computes
    def _default_location_ids(self):
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        return warehouse.lot_stock_id

    @api.depends("share_ids.state", "share_ids.active")
    def _compute_share_counts(self):
        groups = self.env["seller.share"]._read_group(
            [("store_id", "in", self.ids)], ["store_id", "state"], ["__count"]
        )
        totals, errors = {}, {}
        for store, state, count in groups:
            totals[store] = totals.get(store, 0) + count
            if state == "error":
                errors[store] = count
        for store in self:
            store.share_count = totals.get(store, 0)
            store.share_error_count = errors.get(store, 0)

    def _compute_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group([("seller_store_id", "in", self.ids)], ["seller_store_id"], ["__count"])
        )
        for store in self:
            store.order_count = counts.get(store, 0)

    def _compute_sync_event_count(self):
        counts = dict(
            self.env["seller.sync.event"]._read_group([("store_id", "in", self.ids)], ["store_id"], ["__count"])
        )
        for store in self:
            store.sync_event_count = counts.get(store, 0)

    def _compute_last_sync(self):
        last = dict(
            self.env["seller.sync.event"]._read_group(
                [("store_id", "in", self.ids), ("result", "=", "ok")], ["store_id"], ["acknowledged_at:max"]
            )
        )
        for store in self:
            store.last_sync_at = last.get(store)

    def _compute_catalog_progress(self):
        Share = self.env["seller.share"]
        for store in self:
            total = Share.search_count([("store_id", "=", store.id)])
            waiting = Share.search_count([("store_id", "=", store.id), ("push_pending", "=", True)])
            store.catalog_total = total
            store.catalog_done = total - waiting
            store.catalog_progress = 100.0 * (total - waiting) / total if total else 100.0
            recent = self.env["seller.sync.event"].search(
                [("store_id", "=", store.id), ("kind", "=", "catalog"), ("count", ">", 0)], limit=5
            )
            per_product = sum(recent.mapped("duration_seconds")) / max(sum(recent.mapped("count")), 1)
            store.catalog_eta_minutes = waiting * per_product / 60.0

    @api.depends("state")
    def _compute_color(self):
        colors = {"draft": 0, "connected": 10, "paused": 3, "error": 1, "disconnected": 4}
        for store in self:
            store.color = colors.get(store.state, 0)

    # ------------------------------------------------------------ constraints
    @api.constrains("stock_share_percent", "stock_buffer", "stock_max", "untracked_qty")
    def _check_allocation(self):
        for store in self:
            if not 0 <= store.stock_share_percent <= 100:
                raise ValidationError(self.env._("The stock share of %s must be between 0 and 100 %%.", store.name))
            if store.stock_buffer < 0 or store.stock_max < 0 or store.untracked_qty < 0:
                raise ValidationError(
                    self.env._("Buffer, maximum and fixed quantity of %s cannot be negative.", store.name)
                )

    @api.constrains("retail_range_down_percent", "retail_range_up_percent")
    def _check_retail_range(self):
        for store in self:
            if not 0 <= store.retail_range_down_percent <= 100 or store.retail_range_up_percent < 0:
                raise ValidationError(
                    self.env._("The allowed retail range of %s must be 0-100 %% below and 0 %% or more above.", store.name)
                )

    @api.constrains("share_domain")
    def _check_share_domain(self):
        for store in self:
            try:
                self.env["product.template"].search_count(store._seller_share_rule_domain(), limit=1)
            except Exception as exc:
                raise ValidationError(
                    self.env._("The share rule of %(store)s is not a valid product filter: %(error)s",
                               store=store.name, error=exc)
                ) from exc

    # ------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        stores = super().create(vals_list)
        stores.filtered("share_rule_active")._seller_apply_share_rules()
        return stores

    def write(self, vals):
        result = super().write(vals)
        if {"share_domain", "share_rule_active", "active"} & vals.keys():
            self._seller_apply_share_rules()
        if PRICE_FIELDS & vals.keys():
            self.env["seller.share"].search([("store_id", "in", self.ids)])._seller_mark_dirty()
        if STOCK_FIELDS & vals.keys() or vals.get("state") == "connected":
            self._seller_request_full_stock_push()
        return result

    # ------------------------------------------------------------ actions
    def action_pause(self):
        self.filtered(lambda s: s.state == "connected").write({"state": "paused"})

    def action_resume(self):
        self.filtered(lambda s: s.state == "paused").write({"state": "connected"})

    def action_connect(self):
        """Check the credentials and prepare the store (fulfillment service,
        webhooks) in a job; the catalog push follows."""
        for store in self:
            if not store.url:
                raise UserError(self.env._("Give %s its address first.", store.name))
            store._seller_enqueue_connect()
        return True

    def action_test_connection(self):
        return self.action_connect()

    def action_push_catalog(self):
        """Push every shared product again (e.g. after a manual change in the store)."""
        self.env["seller.share"].search([("store_id", "in", self.ids)])._seller_mark_dirty()
        return True

    def action_retry_failed(self):
        self.env["seller.share"].search([("store_id", "in", self.ids), ("state", "=", "error")])._seller_mark_dirty()
        return True

    def action_install_app(self):
        """Shopify: install our app in the store (OAuth); WooCommerce: ask
        the store for REST keys (key authorization)."""
        self.ensure_one()
        if not self.url:
            raise UserError(self.env._("Give %s its address first.", self.name))
        route = "shopify/install" if self.platform == "shopify" else "woocommerce/authorize"
        return {"type": "ir.actions.act_url", "url": "/seller_mode/%s/%d" % (route, self.id), "target": "self"}

    def action_disconnect(self):
        self.write({"state": "disconnected"})

    def action_apply_share_rules(self):
        self._seller_apply_share_rules()

    def action_view_shares(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("seller_mode.seller_share_action")
        action["domain"] = [("store_id", "=", self.id)]
        action["context"] = {"default_store_id": self.id, "active_test": False}
        return action

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("seller_store_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_poll_orders(self):
        self._seller_enqueue_poll()
        return True

    def action_view_sync_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("seller_mode.seller_sync_event_action")
        action["domain"] = [("store_id", "=", self.id)]
        return action

    def _cron_apply_share_rules(self):
        """Catch products that entered or left a rule without being written
        (e.g. a rule on a related record's field)."""
        self.search([("share_rule_active", "=", True)])._seller_apply_share_rules()

    # ------------------------------------------------------------ sharing
    def _seller_share_rule_domain(self):
        self.ensure_one()
        rule = safe_eval(self.share_domain or "[]")
        return Domain.AND([Domain(rule), Domain("sale_ok", "=", True)])

    def _seller_apply_share_rules(self, templates=None):
        """Share the products matching each store's rule and unshare the
        rule-made shares that no longer match. Explicit shares are left alone.
        With ``templates``, only those products are considered (a product was
        created or changed); otherwise the whole catalog is."""
        Share = self.env["seller.share"].with_context(active_test=False)
        for store in self:
            scope = Domain("company_id", "in", [store.company_id.id, False])
            if templates is not None:
                scope &= Domain("id", "in", templates.ids)
            matching = self.env["product.template"]
            if store.active and store.share_rule_active:
                matching = self.env["product.template"].search(scope & store._seller_share_rule_domain())
            existing = Share.search(
                [("store_id", "=", store.id)]
                + ([("product_tmpl_id", "in", templates.ids)] if templates is not None else [])
            )
            by_template = {share.product_tmpl_id: share for share in existing}
            to_create = []
            for template in matching:
                share = by_template.get(template)
                if not share:
                    to_create.append({"store_id": store.id, "product_tmpl_id": template.id, "origin": "rule"})
                elif not share.active and share.origin == "rule":
                    share._seller_reshare()
            if to_create:
                Share.create(to_create)
            stale = existing.filtered(lambda s: s.origin == "rule" and s.active and s.product_tmpl_id not in matching)
            stale._seller_unshare()

    # ------------------------------------------------------------ prices
    def _seller_prices(self, products):
        """Prices of ``products`` (product.product) for this store's retailer,
        in the wholesale pricelist's currency: {product id: {wholesale,
        retail, compare_at, map, retail_min, retail_max, currency}}."""
        self.ensure_one()
        currency = self.pricelist_id.currency_id
        company = self.company_id
        today = fields.Date.context_today(self)
        wholesale = self.pricelist_id._get_products_price(products, quantity=1.0, currency=currency)
        if self.retail_pricelist_id:
            retail = self.retail_pricelist_id._get_products_price(products, quantity=1.0, currency=currency)
        else:
            retail = {}
        result = {}
        for product in products:
            list_price = product.currency_id._convert(product.lst_price, currency, company, today)
            suggested = retail.get(product.id, list_price)
            map_price = product.currency_id._convert(product.seller_map_price, currency, company, today)
            low = max(suggested * (1 - self.retail_range_down_percent / 100.0), map_price)
            high = max(suggested * (1 + self.retail_range_up_percent / 100.0), low)
            clamped = min(max(suggested, low), high)
            compare_at = list_price if currency.compare_amounts(list_price, clamped) > 0 else False
            result[product.id] = {
                "wholesale": currency.round(wholesale.get(product.id, 0.0)),
                "retail": currency.round(clamped),
                "compare_at": compare_at and currency.round(compare_at),
                "map": currency.round(map_price),
                "retail_min": currency.round(low),
                "retail_max": currency.round(high),
                "currency": currency.name,
            }
        return result

    # ------------------------------------------------------------ allocation
    def _seller_available_qty(self, products):
        """Whole units of each variant this store may show: free quantity
        (on hand minus reserved) at its locations and their children, times
        the share percent (rounded down), minus the buffer, capped by the
        maximum (the share's if it overrides it), never below zero.
        Products whose stock is not tracked get the fixed quantity or are
        left out. Returns {product id: int}.

        Two plain queries whatever the number of products: every stock job
        runs this, for every store, and the ORM's per-record reads were most
        of a job's time."""
        self.ensure_one()
        if not products:
            return {}
        self.env["stock.quant"].flush_model(["product_id", "location_id", "quantity", "reserved_quantity"])
        self.env["product.template"].flush_model(["is_storable"])
        self.env["seller.share"].flush_model(["store_id", "product_tmpl_id", "override_stock_max", "stock_max"])
        self.flush_recordset(["location_ids"])
        self.env["stock.location"].flush_model(["parent_path"])
        cr = self.env.cr
        cr.execute(
            """
            SELECT pp.id, pt.is_storable, share.stock_max
              FROM product_product pp
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
         LEFT JOIN seller_share share ON share.store_id = %s AND share.product_tmpl_id = pt.id
                                     AND share.override_stock_max
             WHERE pp.id = ANY(%s)
            """,
            [self.id, products.ids],
        )
        facts = {product_id: (storable, cap) for product_id, storable, cap in cr.fetchall()}
        storable_ids = [product_id for product_id, (storable, _cap) in facts.items() if storable]
        free = {}
        if storable_ids:
            locations = self._fields["location_ids"]
            cr.execute(
                SQL(
                    """
                    SELECT q.product_id, sum(COALESCE(q.quantity, 0) - COALESCE(q.reserved_quantity, 0))
                      FROM stock_quant q
                      JOIN stock_location l ON l.id = q.location_id
                     WHERE q.product_id = ANY(%s)
                       AND l.parent_path LIKE ANY(ARRAY(
                               SELECT store_location.parent_path || '%%'
                                 FROM %s rel
                                 JOIN stock_location store_location ON store_location.id = rel.%s
                                WHERE rel.%s = %s))
                  GROUP BY q.product_id
                    """,
                    storable_ids, SQL.identifier(locations.relation), SQL.identifier(locations.column2),
                    SQL.identifier(locations.column1), self.id,
                )
            )
            free = dict(cr.fetchall())
        result = {}
        for product_id in products.ids:
            storable, cap = facts.get(product_id, (False, None))
            if not storable:
                if self.untracked_policy == "fixed":
                    result[product_id] = self.untracked_qty
                continue
            qty = math.floor(max(free.get(product_id, 0.0), 0.0) * self.stock_share_percent / 100.0 + 1e-9)
            qty -= self.stock_buffer
            cap = cap if cap is not None else self.stock_max
            if cap:
                qty = min(qty, cap)
            result[product_id] = max(qty, 0)
        return result

    # ------------------------------------------------------------ stock changes
    def _seller_changed_lines(self):
        """Shared variant lines whose free stock changed since this store's
        last push, and when the oldest of those changes was made."""
        self.ensure_one()
        return self.env["seller.stock.change"]._seller_changed_lines(self)

    # ------------------------------------------------------------ platform
    def _seller_adapter(self, refresh=True):
        """The store's adapter: the only place credentials are read. With
        ``refresh``, an expiring Shopify token is renewed first (network I/O:
        jobs only; webhook checks pass refresh=False)."""
        self.ensure_one()
        store = self.sudo()
        if store.platform == "shopify":
            if refresh:
                store._seller_refresh_token_if_needed()
            params = self.env["ir.config_parameter"].sudo()
            credentials = {
                "access_token": store.access_token,
                "api_key": params.get_param("seller_mode.shopify_api_key"),
                "api_secret": params.get_param("seller_mode.shopify_api_secret"),
                "location_id": store.remote_location_id,
            }
        else:
            credentials = {
                "consumer_key": store.consumer_key,
                "consumer_secret": store.consumer_secret,
                "webhook_secret": store.webhook_secret,
                "verify_ssl": store._seller_verify_ssl(),
            }
        timeout = float(self.env["ir.config_parameter"].sudo().get_param("seller_mode.http_timeout", 20))
        return adapters.get_adapter(store.platform, store.url, credentials, timeout=timeout)

    def _seller_verify_ssl(self):
        """A CA bundle for stores with a private certificate (e.g. an emulator)."""
        return self.env["ir.config_parameter"].sudo().get_param("seller_mode.ca_bundle") or True

    def _seller_refresh_token_if_needed(self):
        """Shopify expiring offline tokens: refresh a few minutes before they expire."""
        store = self.sudo()
        if not (store.refresh_token and store.token_expires_at):
            return
        if store.token_expires_at > fields.Datetime.now() + timedelta(minutes=5):
            return
        from ..adapters import shopify as shopify_adapter

        params = self.env["ir.config_parameter"].sudo()
        answer = shopify_adapter.refresh_token(
            store.url,
            params.get_param("seller_mode.shopify_api_key"),
            params.get_param("seller_mode.shopify_api_secret"),
            store.refresh_token,
            timeout=20,
        )
        store._seller_store_token(answer)

    def _seller_store_token(self, answer):
        """Keep a Shopify token answer (code exchange or refresh)."""
        vals = {"access_token": answer["access_token"]}
        if answer.get("refresh_token"):
            vals["refresh_token"] = answer["refresh_token"]
        if answer.get("expires_in"):
            vals["token_expires_at"] = fields.Datetime.now() + timedelta(seconds=int(answer["expires_in"]))
        self.sudo().write(vals)

    def _seller_new_connect_token(self, origin="backend"):
        self.ensure_one()
        token = "%s.%d.%s" % (origin, self.id, secrets.token_urlsafe(24))
        self.sudo().write({"connect_token": token, "connect_origin": origin})
        return token

    @api.model
    def _seller_from_connect_token(self, token):
        """The store a one-time connection token was issued for."""
        if not token or token.count(".") < 2:
            return self.browse()
        store_id = token.split(".")[1]
        if not store_id.isdigit():
            return self.browse()
        store = self.sudo().browse(int(store_id)).exists()
        if not store or not store.connect_token or not secrets.compare_digest(store.connect_token, token):
            return self.browse()
        return store

    def _seller_after_connect_url(self):
        """Where the person who started the connection comes back to."""
        if self.connect_origin == "portal":
            return "/my/seller/stores/%d?connected=1" % self.id
        return "/odoo/action-seller_mode.seller_store_action/%d?connected=1" % self.id

    def _seller_shop_matches(self, shop):
        """The shop Shopify names in the callback is this store's."""
        if not shop:
            return False
        expected = self.shop_domain or self._seller_expected_shop_domain()
        return secrets.compare_digest(shop, expected)

    def _seller_expected_shop_domain(self):
        from urllib.parse import urlsplit

        parts = urlsplit(self.url or "")
        if parts.hostname and parts.hostname.endswith(".myshopify.com"):
            return parts.hostname
        # A shop served under a path (an emulator or a proxy): /.../<name>
        return "%s.myshopify.com" % parts.path.rstrip("/").rsplit("/", 1)[-1]

    def _seller_shopify_authorize_url(self, origin="backend"):
        from ..adapters import shopify as shopify_adapter

        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        api_key = params.get_param("seller_mode.shopify_api_key")
        if not (api_key and params.get_param("seller_mode.shopify_api_secret")):
            raise UserError(self.env._("Enter the Seller Mode Shopify app's client id and secret in the settings first."))
        token = self._seller_new_connect_token(origin)
        return shopify_adapter.authorize_url(
            self.url, api_key, params.get_param("seller_mode.shopify_scopes", SHOPIFY_SCOPES),
            self._seller_callback_base_url() + "/seller_mode/shopify/callback", token,
        )

    def _seller_woocommerce_authorize_url(self, origin="backend"):
        from ..adapters import woocommerce as woocommerce_adapter

        self.ensure_one()
        token = self._seller_new_connect_token(origin)
        base = self._seller_callback_base_url()
        return woocommerce_adapter.authorize_url(
            self.url, self.company_id.name + " (Seller Mode)", str(self.id),
            "%s/seller_mode/woocommerce/return/%d" % (base, self.id),
            "%s/seller_mode/woocommerce/keys/%s" % (base, token),
        )

    def _seller_callback_base_url(self):
        params = self.env["ir.config_parameter"].sudo()
        return (params.get_param("seller_mode.callback_base_url") or self.get_base_url()).rstrip("/")

    def _seller_enqueue_connect(self):
        self.ensure_one()
        seller_delay(
            self, "catalog", "connect.%d" % self.id,
            "Connect store %s" % self.name,
        )._seller_job_connect()

    def _seller_job_connect(self):
        """Job: verify the credentials, prepare the store, start the catalog push."""
        self.ensure_one()
        started = time.monotonic()
        if self.platform == "woocommerce" and not self.sudo().webhook_secret:
            self.sudo().webhook_secret = secrets.token_urlsafe(24)
        try:
            adapter = self._seller_adapter()
            facts = adapter.verify()
            topics = SHOPIFY_TOPICS if self.platform == "shopify" else WOOCOMMERCE_TOPICS
            prepared = adapter.setup(self._seller_callback_base_url(), topics)
        except AdapterError as exc:
            return self._seller_handle_adapter_error(exc, "connect", started)
        self.write({
            "state": "connected",
            "state_message": False,
            "shop_domain": facts.get("domain") or self.shop_domain,
            "remote_currency": facts.get("currency"),
            "remote_location_id": prepared.get("location_id") or self.remote_location_id,
            "connected_at": fields.Datetime.now(),
        })
        self._seller_log_event("connect", count=1, started=started, message=facts.get("name"))
        self.message_post(body=self.env._("Connected to %s.", facts.get("name") or self.url))
        self.env["seller.share"].search([("store_id", "=", self.id)])._seller_mark_dirty()
        return "connected"

    def _seller_handle_adapter_error(self, exc, kind, started, reference=None):
        """What a job does when the store refuses: retry later, or put the store in error."""
        if isinstance(exc, RetryableError):
            # A rate limit is the store saying "later", not a failure: it spends no retry.
            raise RetryableJobError(str(exc), seconds=max(int(exc.wait), 1),
                                    ignore_retry=isinstance(exc, ThrottledError)) from exc
        message = str(exc)
        if isinstance(exc, AuthError):
            self._seller_set_error(self.env._("The store refused our credentials: %s", message))
        self._seller_log_event(kind, started=started, result="error", message=message, reference=reference)
        return message

    def _seller_set_error(self, message):
        """Put the store in error and ask a manager to look; its jobs stop until then."""
        for store in self:
            already = store.state == "error"
            store.write({"state": "error", "state_message": message})
            if not already:
                store.message_post(body=message)
                manager = self.env.ref(MANAGER_GROUP).user_ids[:1]
                store.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Store connection broken"),
                    note=message,
                    user_id=(manager or self.env.user).id,
                )

    def _seller_log_event(self, kind, count=0, batches=0, started=None, result="ok", message=None,
                          reference=None, changed_at=None, lag_seconds=None):
        """One line of the sync log. ``started`` is a time.monotonic() value."""
        self.ensure_one()
        now = fields.Datetime.now()
        duration = time.monotonic() - started if started is not None else 0.0
        return self.env["seller.sync.event"].sudo().create({
            "store_id": self.id,
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.id,
            "platform": self.platform,
            "kind": kind,
            "count": count,
            "batches": batches,
            "started_at": now - timedelta(seconds=duration),
            "acknowledged_at": now if result != "error" else False,
            "duration_seconds": duration,
            "changed_at": changed_at,
            "lag_seconds": lag_seconds if lag_seconds is not None else 0.0,
            "result": result,
            "message": message,
            "reference": reference,
        })

    # ------------------------------------------------------------ catalog push
    def _seller_enqueue_catalog(self):
        for store in self.filtered(lambda s: s.state == "connected"):
            seller_delay(
                store, "catalog", "catalog.%d" % store.id,
                "Push catalog to %s" % store.name,
            )._seller_job_push_catalog()

    def _seller_job_push_catalog(self):
        """Job: push the next batch of this store's changed shares; enqueue
        the next batch while some are left. Safe to run twice: a share is
        marked done only for the revision that was pushed."""
        self.ensure_one()
        if self.state != "connected":
            return "store is %s" % self.state
        Share = self.env["seller.share"].with_context(active_test=False)
        batch = Share.search(
            [("store_id", "=", self.id), ("push_pending", "=", True), ("state", "!=", "error")],
            limit=CATALOG_BATCH[self.platform],
            order="id",
        )
        if not batch:
            return "nothing to push"
        started = time.monotonic()
        revisions = {share.id: share.revision for share in batch}
        changed_at = min(batch.mapped("changed_at"))
        try:
            adapter = self._seller_adapter()
            pushed = batch.filtered("active")._seller_push(adapter)
            removed = (batch - batch.filtered("active"))._seller_take_down(adapter)
        except AdapterError as exc:
            return self._seller_handle_adapter_error(exc, "catalog", started)
        errors = [m for m in (pushed + removed) if m]
        done = batch._seller_mark_pushed(revisions)
        now = utcnow()
        self._seller_log_event(
            "catalog", count=len(batch), batches=1, started=started,
            result="ok" if not errors else ("partial" if len(errors) < len(batch) else "error"),
            message="\n".join(errors[:10]) or None, changed_at=changed_at,
            lag_seconds=(now - changed_at).total_seconds() if changed_at else None,
        )
        if Share.search_count([("store_id", "=", self.id), ("push_pending", "=", True), ("state", "!=", "error")], limit=1):
            self._seller_enqueue_catalog()
        return "%d pushed, %d errors" % (len(done), len(errors))

    # ------------------------------------------------------------ live stock
    def _seller_request_full_stock_push(self):
        """Send every shared variant's quantity again (allocation, locations
        or shares changed)."""
        if not self:
            return
        self.env.cr.execute(
            "UPDATE seller_store SET stock_revision = stock_revision + 1 WHERE id = ANY(%s)", [self.ids]
        )
        self.invalidate_recordset(["stock_revision"])
        self._seller_enqueue_stock()

    def _seller_enqueue_stock(self, eta=None):
        for store in self.filtered(lambda s: s.state == "connected"):
            seller_delay(
                store, "stock", STOCK_JOB_KEY % store.id,
                "Push stock to %s" % store.name, eta=eta, priority=5,
            )._seller_job_push_stock()

    def _seller_job_push_stock(self):
        """Job: send the quantities of the variants that changed since this
        store's last push (or of all, on a full push), in the largest batches
        the platform takes. The store's snapshot moves only when the store
        acknowledged all; what changes meanwhile gets a follow-up job."""
        self.ensure_one()
        if self.state != "connected":
            return "store is %s" % self.state
        if not self._seller_lock_for_stock():
            # The running push (or reconciliation) sends these: it queues a
            # follow-up once it committed, for all its snapshot did not see.
            return "another stock push to %s is running: its follow-up sends these" % self.name
        started = time.monotonic()
        snapshot = self.env["seller.stock.change"]._seller_snapshot()
        full_revision = self.stock_revision if self.stock_revision > self.stock_pushed_revision else None
        if full_revision is None:
            lines, changed_at = self._seller_changed_lines()
            lines = lines.filtered("remote_inventory_item_id")  # the others are not in the store yet
        else:
            lines, changed_at = self.env["seller.share.variant"].search(
                [("store_id", "=", self.id), ("share_id.active", "=", True), ("remote_inventory_item_id", "!=", False)],
                order="id",
            ), None
        if not lines:
            self._seller_stock_done(snapshot, full_revision)
            return "nothing to push"
        try:
            pushed, batches, failed, stale = lines._seller_push_quantities(self._seller_adapter(), "sm-%d" % self.id)
        except AdapterError as exc:
            return self._seller_handle_adapter_error(exc, "stock", started)
        now = utcnow()
        if failed:
            # Not acknowledged: the snapshot stays, and a later job sends them again.
            self._seller_stock_done(None, None)
            self._seller_enqueue_stock(eta=5)
        else:
            self._seller_stock_done(snapshot, full_revision)
        if pushed or failed:
            self._seller_log_event(
                "stock", count=pushed, batches=batches, started=started,
                result="ok" if not failed else ("partial" if pushed else "error"),
                message="; ".join(filter(None, [
                    ("%d quantities not acknowledged: %s" % (len(failed), "; ".join(failed[:5]))) if failed else "",
                    ("%d variant(s) sold in the store meanwhile" % stale) if stale else "",
                ])) or None,
                changed_at=changed_at,
                lag_seconds=(now - changed_at).total_seconds() if changed_at else None,
            )
        return "%d quantities pushed in %d request(s), %d failed" % (pushed, batches, len(failed))

    def _cron_reconcile_stock(self):
        for store in self.search([("state", "=", "connected")]):
            seller_delay(
                store, "stock", "reconcile.%d" % store.id,
                "Reconcile the quantities of %s" % store.name,
            )._seller_job_reconcile()

    def _seller_job_reconcile(self):
        """Job: read every shared variant's quantity in the store, compare it
        with its allocation and repair the drift. Orders waiting in the store
        are imported first, so units sold there are not given back."""
        self.ensure_one()
        if self.state != "connected":
            return "store is %s" % self.state
        if not self._seller_lock_for_stock():
            raise RetryableJobError("a stock push to %s is running" % self.name, seconds=5, ignore_retry=True)
        started = time.monotonic()

        def reconcile(adapter):
            orders, _cursor = adapter.fetch_orders(since=None)
            for order in orders:
                if order.status == "requested":
                    self._seller_apply_order(adapter, order, started)
            lines = self.env["seller.share.variant"].search(
                [("store_id", "=", self.id), ("share_id.active", "=", True), ("remote_inventory_item_id", "!=", False)]
            )
            if not lines:
                return "nothing shared"
            in_store = adapter.read_quantities(lines.mapped("remote_inventory_item_id"))
            wanted = self._seller_available_qty(lines.product_id)
            drifted = lines.filtered(
                lambda l: l.product_id.id in wanted and in_store.get(l.remote_inventory_item_id) is not None
                and in_store[l.remote_inventory_item_id] != wanted[l.product_id.id]
            )
            drift = sum(abs(in_store[l.remote_inventory_item_id] - wanted[l.product_id.id]) for l in drifted)
            # What the store holds now is the reference for compare-and-set.
            for line in drifted:
                line.write({"last_pushed_qty": in_store[line.remote_inventory_item_id], "qty_known": True})
            pushed, batches, failed, _stale = drifted._seller_push_quantities(adapter, "sm-%d" % self.id)
            self._seller_log_event(
                "reconcile", count=len(drifted), batches=batches + 1, started=started,
                result="ok" if not failed else "partial",
                message="%d variant(s) off by %d unit(s) in all; %d repaired" % (len(drifted), drift, pushed),
            )
            return "drift %d on %d variant(s)" % (drift, len(drifted))

        return self._seller_with_adapter("reconcile", reconcile)

    def _seller_lock_for_stock(self):
        """One stock push (or reconciliation) per store at a time: a second
        one would send quantities the first is about to change, and read its
        writes as sales in the store. A transaction-level advisory lock, not
        the store's row, which order polls and users write. Whoever holds it
        queues a follow-up job after commit for what it did not see, so a
        push that finds it taken can leave. False when taken.

        Holding it is not enough: a push that committed after this job's
        snapshot was taken wrote quantities this job cannot see, and comparing
        the store's values with them would count our own writes as sales.
        Every push ends by writing the store's row (``_seller_stock_done``),
        so locking that row fails to serialize exactly then: retry, on a
        snapshot that sees it."""
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [STOCK_LOCK, self.id])
        if not self.env.cr.fetchone()[0]:
            return False
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM seller_store WHERE id = %s FOR NO KEY UPDATE", [self.id])
        except psycopg2.errors.SerializationFailure as exc:
            raise RetryableJobError("a stock push to %s ended meanwhile" % self.name, seconds=1,
                                    ignore_retry=True) from exc
        self.env.cr.postcommit.add(partial(_queue_after_commit, self.env.cr.dbname, self.id))
        return True

    def _seller_stock_done(self, snapshot, full_revision):
        """End of a push: everything visible in ``snapshot`` is in the store
        (None: not all was acknowledged, only the end of the push is noted).
        Plain SQL: this runs once per stock job, and the store's write()
        (tracking, share rules, price and stock triggers) has nothing to do here."""
        self.env.cr.execute(
            """
            WITH pushed AS (
                SELECT %(snapshot)s::pg_snapshot AS snapshot,
                       pg_snapshot_xmin(%(snapshot)s::pg_snapshot)::text::bigint AS xmin)
            UPDATE seller_store
               SET stock_pushed_at = (now() at time zone 'UTC'),
                   -- never back to an older snapshot (a late job)
                   stock_snapshot = CASE WHEN pushed.xmin >= COALESCE(stock_cursor, 0)
                                         THEN pushed.snapshot::text ELSE stock_snapshot END,
                   stock_cursor = GREATEST(pushed.xmin, stock_cursor),
                   stock_pushed_revision = COALESCE(%(revision)s, stock_pushed_revision)
              FROM pushed
             WHERE id = %(id)s
            """,
            {"snapshot": snapshot, "revision": full_revision, "id": self.id},
        )
        self.invalidate_recordset(["stock_pushed_at", "stock_snapshot", "stock_cursor", "stock_pushed_revision"])

    # ------------------------------------------------------------ orders
    def _seller_with_adapter(self, kind, work, reference=None, on_error=None):
        """Run ``work(adapter)`` in a job, turning the store's refusals into
        retries, or into an error state with a readable message."""
        self.ensure_one()
        started = time.monotonic()
        try:
            return work(self._seller_adapter())
        except AdapterError as exc:
            message = self._seller_handle_adapter_error(exc, kind, started, reference=reference)
            if on_error:
                on_error(message)
            return message

    def _cron_poll_orders(self):
        self.search([("state", "in", ("connected", "paused"))])._seller_enqueue_poll()

    def _seller_enqueue_poll(self):
        for store in self:
            seller_delay(
                store, "poll", "poll.%d" % store.id,
                "Look for new orders in %s" % store.name,
            )._seller_job_poll_orders()

    def _seller_job_poll_orders(self):
        """Job: find the orders webhooks did not bring (or brought late)."""
        self.ensure_one()
        if self.state not in ("connected", "paused"):
            return "store is %s" % self.state

        def poll(adapter):
            orders, cursor = adapter.fetch_orders(since=self.order_cursor or None)
            known = {
                record["seller_remote_order_id"]: record["state"]
                for record in self.env["sale.order"].search_read(
                    [("seller_store_id", "=", self.id),
                     ("seller_remote_order_id", "in", [o.remote_id for o in orders])],
                    ["seller_remote_order_id", "state"],
                )
            }
            queued = 0
            for order in orders:
                imported = order.remote_id in known
                if (order.status == "requested" and not imported) or (
                    order.status in ("cancelled", "cancel_requested") and known.get(order.remote_id) != "cancel"
                ):
                    self._seller_enqueue_order(order.remote_id)
                    queued += 1
            if cursor != self.order_cursor:  # no row write (and no lock) for nothing
                self.order_cursor = cursor
            return "%d order(s) queued" % queued

        return self._seller_with_adapter("order", poll)

    def _seller_is_price_echo(self, adapter, event):
        """A product webhook that only repeats the prices we last pushed
        (our own stock or price writes coming back): nothing to do, no job."""
        share = self.env["seller.share"].sudo().search(
            [("store_id", "=", self.id), ("remote_product_id", "=", event.remote_id)], limit=1)
        if not share:
            return True  # not one of our products
        seen = adapter.webhook_prices(event.payload)
        lines = share.variant_ids.filtered("remote_variant_id")
        currency = self.pricelist_id.currency_id
        return bool(lines) and all(
            line._seller_price_ref() in seen
            and currency.compare_amounts(float(seen[line._seller_price_ref()]), line.last_pushed_price) == 0
            for line in lines
        )

    def _seller_is_order_id(self, remote_id):
        if self.platform == "shopify":
            return remote_id.startswith("gid://shopify/Order/")
        return remote_id.isdigit()

    def _seller_enqueue_order(self, remote_id, look_again=0, eta=None):
        self.ensure_one()
        seller_delay(
            self, "orders", "order.%d.%s" % (self.id, remote_id),
            "Import order %s from %s" % (remote_id, self.name), eta=eta,
        )._seller_job_import_order(remote_id, look_again=look_again)

    def _seller_job_import_order(self, remote_id, look_again=0):
        """Job: make the store's order ours, exactly once; or follow its
        cancellation. Safe to run twice. An order not ready yet (its
        fulfillment request not submitted when its first webhook came) is
        looked at again a few times, without waiting for the poller."""
        self.ensure_one()
        if self.state not in ("connected", "paused"):
            return "store is %s" % self.state
        started = time.monotonic()

        def work(adapter):
            payload = adapter.fetch_order(remote_id)
            if payload is None:
                return "not an order for us"
            outcome = self._seller_apply_order(adapter, payload, started)
            if outcome.startswith(NOT_READY) and look_again < ORDER_LOOK_AGAIN:
                self._seller_enqueue_order(remote_id, look_again + 1, eta=5 * (look_again + 1))
            return outcome

        return self._seller_with_adapter("order", work, reference=str(remote_id))

    def _seller_apply_order(self, adapter, payload, started):
        SaleOrder = self.env["sale.order"]
        order = SaleOrder.search(
            [("seller_store_id", "=", self.id), ("seller_remote_order_id", "=", payload.remote_id)], limit=1
        )
        if payload.status in ("cancelled", "cancel_requested"):
            return self._seller_store_cancelled(adapter, order, payload)
        if order:
            return "already imported as %s" % order.name
        # "accepted" with no sale order: accepted in the store by an import
        # whose transaction then failed; importing it now loses nothing.
        if payload.status not in ("requested", "accepted"):
            return "%s (%s)" % (NOT_READY, payload.status)
        order = self._seller_create_order(payload)
        if not order:
            return "none of our products"
        return self._seller_confirm_order(adapter, order, payload, started)

    def _seller_confirm_order(self, adapter, order, payload, started):
        if order.seller_exception:
            order._seller_flag(order.seller_exception)
            self._seller_log_event("order", count=1, started=started, result="error",
                                   message=order.seller_exception, reference=payload.name)
            return "recorded with problems: %s" % order.seller_exception
        if not self.auto_confirm_orders:
            return "recorded as %s, to confirm" % order.name
        order.action_confirm()
        if payload.status == "requested":
            adapter.accept(payload)
        now = utcnow()
        ordered_at = order.seller_ordered_at
        self._seller_log_event(
            "order", count=len(order.order_line), batches=1, started=started, reference=payload.name,
            changed_at=ordered_at, lag_seconds=(now - ordered_at).total_seconds() if ordered_at else None,
        )
        return "imported as %s" % order.name

    def _seller_create_order(self, payload):
        """The sale order for a store order, at the retailer's wholesale
        prices, shipped to the end customer. Problems are recorded on it."""
        lines, problems = self._seller_order_lines(payload)
        if lines is None:
            return self.env["sale.order"]
        retailer = self.partner_id.commercial_partner_id
        shipping, address_problem = self._seller_delivery_contact(payload.shipping_address)
        if address_problem:
            problems.append(address_problem)
        currency = self.pricelist_id.currency_id.name
        if payload.currency and payload.currency != currency:
            problems.append(self.env._("The store's order is in %(theirs)s, our prices for this store are in %(ours)s.",
                                       theirs=payload.currency, ours=currency))
        vals = {
            "partner_id": retailer.id,
            "partner_invoice_id": retailer.id,
            "partner_shipping_id": (shipping or retailer).id,
            "pricelist_id": self.pricelist_id.id,
            "company_id": self.company_id.id,
            "client_order_ref": payload.name,
            "origin": "%s %s" % (self.name, payload.name),
            "seller_store_id": self.id,
            "seller_remote_order_id": payload.remote_id,
            "seller_remote_order_name": payload.name,
            "seller_ordered_at": parse_time(payload.created_at),
            "seller_payload": json.dumps(payload.raw or {}, default=str),
            "seller_exception": "\n".join(problems) or False,
            "order_line": lines,
        }
        if self.location_ids[:1].warehouse_id:
            vals["warehouse_id"] = self.location_ids[:1].warehouse_id.id
        try:
            with self.env.cr.savepoint():
                return self.env["sale.order"].sudo().create(vals)
        except psycopg2.errors.UniqueViolation as exc:
            # Imported by a concurrent job (webhook and poller racing): once
            # it commits, a retry finds it.
            raise RetryableJobError("order %s is being imported by another job" % payload.name, seconds=2) from exc

    def _seller_order_lines(self, payload):
        """Sale order line commands for the lines that are ours, and the
        problems found. None when no line of the order is ours."""
        Line = self.env["seller.share.variant"].with_context(active_test=False)
        known = Line.search([("store_id", "=", self.id)])
        by_variant = {l.remote_variant_id: l for l in known if l.remote_variant_id}
        by_sku = {l.product_id._seller_sku(): l for l in known}
        our_products = set(known.share_id.mapped("remote_product_id"))
        commands, problems, ours = [], [], False
        for remote in payload.lines:
            line = by_variant.get(remote.remote_variant_id) or by_sku.get(remote.sku or "")
            if self.platform == "woocommerce" and not line and str(remote.remote_product_id) not in our_products:
                continue  # the retailer's own item
            ours = True
            if not line or not line.active or not line.share_id.active or not line.product_id.active:
                problems.append(self.env._("Line %(sku)s × %(qty)s (%(title)s): unknown or no longer shared.",
                                           sku=remote.sku or "?", qty=remote.quantity, title=remote.title))
                commands.append(Command.create({
                    "display_type": "line_note",
                    "name": self.env._("Not imported: %(title)s, SKU %(sku)s, quantity %(qty)s",
                                       title=remote.title, sku=remote.sku or "?", qty=remote.quantity),
                }))
                continue
            commands.append(Command.create({
                "product_id": line.product_id.id,
                "product_uom_qty": remote.quantity,
                "seller_remote_line_id": remote.remote_line_id,
            }))
        return (commands, problems) if ours else (None, problems)

    def _seller_delivery_contact(self, address):
        """The end customer as a delivery contact under the retailer, reused
        when the same address comes again."""
        if not address or not (address.name and address.street and address.city and address.country_code):
            return None, self.env._("The order has no complete shipping address.")
        retailer = self.partner_id.commercial_partner_id
        country = self.env["res.country"].search([("code", "=", address.country_code.upper())], limit=1)
        if not country:
            return None, self.env._("Unknown country %s in the shipping address.", address.country_code)
        Partner = self.env["res.partner"].sudo()
        values = {
            "type": "delivery", "parent_id": retailer.id, "name": address.name, "street": address.street,
            "street2": address.street2 or False, "city": address.city, "zip": address.zip or False,
            "country_id": country.id, "phone": address.phone or False, "email": address.email or False,
        }
        state = address.state_code and self.env["res.country.state"].search(
            [("country_id", "=", country.id), ("code", "=", address.state_code)], limit=1)
        if state:
            values["state_id"] = state.id
        same = Partner.search([(k, "=", v) for k, v in values.items() if k not in ("phone", "email")], limit=1)
        return same or Partner.create(values), None

    def _seller_store_cancelled(self, adapter, order, payload):
        """The store cancels: cancel ours if nothing shipped, else say no."""
        asked = payload.status == "cancel_requested"
        if not order:
            if asked:
                adapter.answer_cancellation(payload, True)
            return "cancelled before import"
        if order.state == "cancel":
            return "already cancelled"
        shipped = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state == "done")
        if shipped:
            reason = self.env._("Already shipped (%s).", ", ".join(shipped.mapped("name")))
            if asked:
                adapter.answer_cancellation(payload, False, reason)
            order._seller_flag(self.env._("The store cancelled this order after it shipped: %s", reason))
            return "refused: " + reason
        order.with_context(seller_from_store=True, disable_cancel_warning=True)._action_cancel()
        order.seller_cancel_notified = True
        if asked:
            adapter.answer_cancellation(payload, True)
        self._seller_log_event("order", count=1, reference=payload.name, message="cancelled by the store")
        return "cancelled"

    def _seller_reimport_order(self, order):
        seller_delay(
            order, "orders", "reimport.%d" % order.id,
            "Process order %s again" % order.name,
        )._seller_job_reprocess()

    # ------------------------------------------------------------ portal
    @api.model
    def _seller_portal_stores(self, partner):
        """The stores of ``partner``'s company (the retailer), sudo."""
        commercial = partner.commercial_partner_id
        return self.sudo().search([("partner_id", "child_of", commercial.id)])

    @api.model
    def _seller_portal_rows(self, lines):
        """One plain row per shared variant (seller.share.variant records):
        product, SKU, barcode, prices in the store's currency, the quantity the
        store may sell now (live) and the sync state."""
        lines = lines.sudo()
        share_states = dict(self.env["seller.share"]._fields["state"]._description_selection(self.env))
        prices, quantities = {}, {}
        for store in lines.store_id:
            products = lines.filtered(lambda l, s=store: l.store_id == s).product_id
            prices[store.id] = store._seller_prices(products)
            quantities[store.id] = store._seller_available_qty(products)
        rows = []
        for line in lines:
            store, product, share = line.store_id, line.product_id, line.share_id
            price = prices[store.id].get(product.id, {})
            quantity = quantities[store.id].get(product.id)
            variant = ", ".join(product.product_template_attribute_value_ids.mapped("name"))
            rows.append({
                "line": line,
                "product": product,
                "store": store.name,
                "store_id": store.id,
                "product_name": product.product_tmpl_id.name,
                "variant": variant,
                "sku": product._seller_sku() or "",
                "barcode": product.barcode or "",
                "wholesale": price.get("wholesale", 0.0),
                "retail": price.get("retail", 0.0),
                "retail_min": price.get("retail_min", 0.0),
                "retail_max": price.get("retail_max", 0.0),
                "map": price.get("map", 0.0),
                "currency": price.get("currency") or store.currency_id.name,
                "currency_record": store.currency_id,
                "quantity": quantity if quantity is not None else "",
                "sync_state": share.state,
                "sync_state_label": share_states.get(share.state, share.state),
                "sync_error": share.error_message or "",
            })
        return rows

    def _seller_portal_health(self):
        """The store's health in plain words: last successful sync, lag,
        recent problems."""
        self.ensure_one()
        Event = self.env["seller.sync.event"].sudo()
        store = self.sudo()
        lagged = Event.search([("store_id", "=", store.id), ("result", "!=", "error"), ("lag_seconds", ">", 0)],
                              limit=20)
        errors = Event.search([("store_id", "=", store.id), ("result", "in", ("error", "partial"))], limit=5)
        kinds = dict(Event._fields["kind"]._description_selection(self.env))
        return {
            "last_sync_at": store.last_sync_at,
            "last_lag": lagged[:1].lag_seconds if lagged else None,
            "avg_lag": (sum(lagged.mapped("lag_seconds")) / len(lagged)) if lagged else None,
            "errors": [{
                "when": event.started_at,
                "what": kinds.get(event.kind, event.kind),
                "message": plain_words(event.message or ""),
                "partial": event.result == "partial",
            } for event in errors],
            "state_message": plain_words(store.state_message or ""),
            "share_errors": store.share_error_count,
            "catalog_done": store.catalog_done,
            "catalog_total": store.catalog_total,
            "catalog_progress": store.catalog_progress,
            "catalog_eta_minutes": store.catalog_eta_minutes,
        }
