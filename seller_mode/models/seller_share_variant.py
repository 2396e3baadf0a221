from odoo import fields, models


class SellerShareVariant(models.Model):
    _name = "seller.share.variant"
    _description = "Variant of a Shared Product"
    _order = "share_id, product_id"
    _rec_name = "product_id"

    share_id = fields.Many2one("seller.share", required=True, ondelete="cascade", index=True)
    store_id = fields.Many2one(related="share_id.store_id", store=True, index=True)
    company_id = fields.Many2one(related="share_id.company_id", store=True)
    product_id = fields.Many2one("product.product", string="Variant", required=True, ondelete="cascade", index=True)
    active = fields.Boolean(default=True)
    remote_variant_id = fields.Char(copy=False, readonly=True)
    remote_inventory_item_id = fields.Char(copy=False, readonly=True)
    last_pushed_qty = fields.Integer(copy=False, readonly=True)
    last_pushed_price = fields.Float(copy=False, readonly=True, digits="Product Price")
    last_pushed_at = fields.Datetime(copy=False, readonly=True)

    _share_product_unique = models.Constraint(
        "UNIQUE(share_id, product_id)", "A variant appears once in a shared product."
    )
