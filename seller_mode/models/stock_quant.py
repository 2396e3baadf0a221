from odoo import api, models

# Fields whose change alters a variant's free stock at some location.
FREE_STOCK_FIELDS = {"quantity", "reserved_quantity", "location_id", "product_id"}


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        self.env["seller.stock.change"]._seller_record(quants.product_id.ids)
        return quants

    def write(self, vals):
        touched = FREE_STOCK_FIELDS & vals.keys()
        before = self.product_id.ids if touched else []
        result = super().write(vals)
        if touched:
            self.env["seller.stock.change"]._seller_record(before + self.product_id.ids)
        return result

    def unlink(self):
        product_ids = self.product_id.ids
        result = super().unlink()
        self.env["seller.stock.change"]._seller_record(product_ids)
        return result
