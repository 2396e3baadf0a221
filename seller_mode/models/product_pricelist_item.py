from odoo import api, models


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._seller_reprice()
        return items

    def write(self, vals):
        if "pricelist_id" in vals:
            self._seller_reprice()  # the stores of the pricelist it leaves
        result = super().write(vals)
        self._seller_reprice()
        return result

    def unlink(self):
        self._seller_reprice()
        return super().unlink()

    def _seller_reprice(self):
        """A rule changed: push the prices of every store using its pricelist."""
        pricelists = self.pricelist_id
        if not pricelists:
            return
        stores = self.env["seller.store"].sudo().search(
            ["|", ("pricelist_id", "in", pricelists.ids), ("retail_pricelist_id", "in", pricelists.ids)]
        )
        if stores:
            self.env["seller.share"].sudo().search([("store_id", "in", stores.ids)])._seller_mark_dirty()
