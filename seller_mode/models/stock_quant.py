from odoo import api, models

# Fields whose change can alter a variant's free stock at some location.
FREE_STOCK_FIELDS = {"quantity", "reserved_quantity", "location_id", "product_id"}
# Where stock a store may show can lie (a store's locations are internal);
# quants elsewhere (customers, suppliers, inventory loss) only keep history.
STOCK_USAGES = {"internal", "transit"}


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        quants._seller_tally_free_stock(1)
        return quants

    def write(self, vals):
        if not FREE_STOCK_FIELDS & vals.keys():
            return super().write(vals)
        self._seller_tally_free_stock(-1)
        result = super().write(vals)
        self._seller_tally_free_stock(1)
        return result

    def unlink(self):
        self._seller_tally_free_stock(-1)
        return super().unlink()

    def _seller_tally_free_stock(self, sign):
        """Add (sign 1) or take off (sign -1) the free quantity of these
        quants to the current transaction's tally, per variant and location:
        the journal then keeps only the variants whose free stock really
        moved (validating a reserved delivery takes the same units off the
        quantity and the reservation, and changes nothing a store shows)."""
        deltas = {}
        for quant in self:
            if quant.location_id.usage not in STOCK_USAGES:
                continue
            key = (quant.product_id.id, quant.location_id.id)
            deltas[key] = deltas.get(key, 0.0) + sign * ((quant.quantity or 0.0) - (quant.reserved_quantity or 0.0))
        self.env["seller.stock.change"]._seller_tally(deltas)
