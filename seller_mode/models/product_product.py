from odoo import api, fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    seller_variant_map_price = fields.Float(
        string="Variant MAP",
        digits="Product Price",
        help="Minimum advertised price of this variant; 0 uses the product's.",
    )
    seller_map_price = fields.Float(
        string="Effective MAP", compute="_compute_seller_map_price", digits="Product Price"
    )

    @api.depends("seller_variant_map_price", "product_tmpl_id.seller_map_price")
    def _compute_seller_map_price(self):
        for product in self:
            product.seller_map_price = product.seller_variant_map_price or product.product_tmpl_id.seller_map_price

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        products.product_tmpl_id.seller_share_ids._seller_sync_variants()
        return products

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals:
            self.product_tmpl_id.seller_share_ids._seller_sync_variants()
        return result
