from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SellerShare(models.Model):
    _name = "seller.share"
    _description = "Product Shared with a Retailer Store"
    _order = "store_id, product_tmpl_id"
    _rec_name = "product_tmpl_id"

    store_id = fields.Many2one("seller.store", required=True, ondelete="cascade", index=True)
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="store_id.partner_id", string="Retailer", store=True, index=True)
    platform = fields.Selection(related="store_id.platform")
    active = fields.Boolean(default=True)
    origin = fields.Selection(
        [("manual", "Shared Explicitly"), ("rule", "Shared by Rule")],
        default="manual",
        required=True,
        help="Shares made by the store's rule are removed when the product stops matching it; "
        "explicit shares stay until someone stops them.",
    )
    state = fields.Selection(
        [("pending", "Pending"), ("synced", "Synced"), ("error", "Error"), ("removed", "Removed")],
        default="pending",
        required=True,
        index=True,
        copy=False,
    )
    error_message = fields.Text(copy=False, readonly=True)
    remote_product_id = fields.Char(copy=False, readonly=True, index=True)
    last_push_at = fields.Datetime(copy=False, readonly=True)
    excluded_product_ids = fields.Many2many(
        "product.product",
        string="Excluded Variants",
        domain="[('product_tmpl_id', '=', product_tmpl_id)]",
        help="Variants of this product that are not offered to this store.",
    )
    variant_ids = fields.One2many("seller.share.variant", "share_id", string="Variants")
    override_stock_max = fields.Boolean(string="Own Stock Maximum")
    stock_max = fields.Integer(
        string="Stock Maximum", help="Most units shown per variant of this product; 0 means no maximum."
    )

    _store_product_unique = models.Constraint(
        "UNIQUE(store_id, product_tmpl_id)", "A product is shared at most once with a store."
    )

    # ------------------------------------------------------------ constraints
    @api.constrains("stock_max")
    def _check_stock_max(self):
        if any(share.stock_max < 0 for share in self):
            raise ValidationError(self.env._("A stock maximum cannot be negative."))

    # ------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        shares = super().create(vals_list)
        shares._seller_sync_variants()
        return shares

    def write(self, vals):
        result = super().write(vals)
        if {"excluded_product_ids", "active"} & vals.keys():
            self._seller_sync_variants()
        return result

    # ------------------------------------------------------------ actions
    def action_stop_sharing(self):
        self._seller_unshare()

    def action_reshare(self):
        self.filtered(lambda s: not s.active)._seller_reshare()

    # ------------------------------------------------------------ business
    def _seller_offered_variants(self):
        """The variants of this share offered to the store."""
        self.ensure_one()
        return self.product_tmpl_id.product_variant_ids - self.excluded_product_ids

    def _seller_sync_variants(self):
        """Keep one variant line per offered variant; a variant no longer
        offered keeps its line, archived, so a push can remove it remotely."""
        Line = self.env["seller.share.variant"].with_context(active_test=False)
        for share in self:
            offered = share._seller_offered_variants() if share.active else self.env["product.product"]
            lines = Line.search([("share_id", "=", share.id)])
            known = lines.product_id
            Line.create([{"share_id": share.id, "product_id": p.id} for p in offered - known])
            lines.filtered(lambda l: l.product_id in offered and not l.active).write({"active": True})
            lines.filtered(lambda l: l.product_id not in offered and l.active).write({"active": False})

    def _seller_unshare(self):
        """Stop offering these products; the record stays so that the
        catalog push can take the product down in the store."""
        self.write({"active": False, "state": "removed"})
        self._seller_sync_variants()

    def _seller_reshare(self):
        self.write({"active": True, "state": "pending", "error_message": False})
