from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    seller_default_pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Default Wholesale Pricelist",
        help="Pricelist given to new retailer stores: the prices retailers pay.",
    )
    seller_default_stock_share_percent = fields.Float(string="Default Stock Share (%)", default=100.0)
    seller_default_stock_buffer = fields.Integer(string="Default Stock Buffer")
    seller_default_stock_max = fields.Integer(string="Default Stock Maximum", help="0 means no maximum.")
