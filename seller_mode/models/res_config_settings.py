from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    seller_default_pricelist_id = fields.Many2one(
        related="company_id.seller_default_pricelist_id", readonly=False
    )
    seller_default_stock_share_percent = fields.Float(
        related="company_id.seller_default_stock_share_percent", readonly=False
    )
    seller_default_stock_buffer = fields.Integer(related="company_id.seller_default_stock_buffer", readonly=False)
    seller_default_stock_max = fields.Integer(related="company_id.seller_default_stock_max", readonly=False)
