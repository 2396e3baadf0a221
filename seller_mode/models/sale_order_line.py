from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    seller_remote_line_id = fields.Char(
        string="Store Line ID", readonly=True, copy=False,
        help="Shopify: the fulfillment order line; WooCommerce: the order line item.",
    )
