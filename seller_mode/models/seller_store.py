import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval

from ..fields import BigInteger

MANAGER_GROUP = "seller_mode.group_seller_manager"


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
    platform = fields.Selection(
        [("shopify", "Shopify"), ("woocommerce", "WooCommerce")], required=True, tracking=True
    )
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
    stock_cursor = BigInteger(
        copy=False,
        readonly=True,
        help="Stock changes made by transactions older than this id have been pushed.",
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
    share_count = fields.Integer(compute="_compute_share_counts")
    share_error_count = fields.Integer(compute="_compute_share_counts")
    sync_event_count = fields.Integer(compute="_compute_sync_event_count")
    last_sync_at = fields.Datetime(compute="_compute_last_sync", string="Last Successful Sync")
    color = fields.Integer(compute="_compute_color")

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
        return result

    # ------------------------------------------------------------ actions
    def action_pause(self):
        self.filtered(lambda s: s.state == "connected").write({"state": "paused"})

    def action_resume(self):
        self.filtered(lambda s: s.state == "paused").write({"state": "connected"})

    def action_apply_share_rules(self):
        self._seller_apply_share_rules()

    def action_view_shares(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("seller_mode.seller_share_action")
        action["domain"] = [("store_id", "=", self.id)]
        action["context"] = {"default_store_id": self.id, "active_test": False}
        return action

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
        left out. Returns {product id: int}."""
        self.ensure_one()
        caps = self._seller_stock_caps(products)
        storable = products.filtered("is_storable")
        free = {}
        if storable and self.location_ids:
            groups = self.env["stock.quant"].sudo()._read_group(
                [("product_id", "in", storable.ids), ("location_id", "child_of", self.location_ids.ids)],
                ["product_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
            free = {product.id: quantity - reserved for product, quantity, reserved in groups}
        result = {}
        for product in products:
            if not product.is_storable:
                if self.untracked_policy == "fixed":
                    result[product.id] = self.untracked_qty
                continue
            qty = math.floor(max(free.get(product.id, 0.0), 0.0) * self.stock_share_percent / 100.0 + 1e-9)
            qty -= self.stock_buffer
            cap = caps.get(product.product_tmpl_id.id, self.stock_max)
            if cap:
                qty = min(qty, cap)
            result[product.id] = max(qty, 0)
        return result

    def _seller_stock_caps(self, products):
        """Per template, the maximum that applies where a share overrides it."""
        shares = self.env["seller.share"].search(
            [
                ("store_id", "=", self.id),
                ("product_tmpl_id", "in", products.product_tmpl_id.ids),
                ("override_stock_max", "=", True),
            ]
        )
        return {share.product_tmpl_id.id: share.stock_max for share in shares}

    # ------------------------------------------------------------ stock changes
    def _seller_changed_variants(self):
        """Variants this store shares whose free stock changed since its
        cursor: the stock job pushes these."""
        self.ensure_one()
        return self.env["seller.stock.change"]._seller_changed_variants(self)

    def _seller_stock_horizon(self):
        """The cursor to store once the current changes are pushed."""
        return self.env["seller.stock.change"]._seller_horizon()
