from odoo import api, fields, models

# Variant fields whose change alters what a store shows.
CATALOG_FIELDS = {"active", "default_code", "barcode", "weight", "seller_variant_map_price", "image_variant_1920",
                  "product_template_attribute_value_ids"}


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
        shares = products.product_tmpl_id._seller_shares()
        shares._seller_sync_variants()
        shares._seller_mark_dirty()
        return products

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals:
            self.product_tmpl_id._seller_shares()._seller_sync_variants()
        if CATALOG_FIELDS & vals.keys():
            self.product_tmpl_id._seller_shares()._seller_mark_dirty()
        return result

    def _seller_sku(self):
        """The SKU stores know this variant by: always text, never a number."""
        self.ensure_one()
        return str(self.default_code or "SM-%d" % self.id)
