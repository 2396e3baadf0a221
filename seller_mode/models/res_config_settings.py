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

    seller_shopify_api_key = fields.Char(
        string="Shopify App Client ID", config_parameter="seller_mode.shopify_api_key"
    )
    seller_shopify_api_secret = fields.Char(
        string="Shopify App Client Secret", config_parameter="seller_mode.shopify_api_secret"
    )
    seller_callback_base_url = fields.Char(
        string="Public Address of Odoo",
        config_parameter="seller_mode.callback_base_url",
        help="Where stores send webhooks and fetch images; defaults to the web.base.url parameter.",
    )
