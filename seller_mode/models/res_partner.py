import secrets

from odoo import api, fields, models

MANAGER_GROUP = "seller_mode.group_seller_manager"


class ResPartner(models.Model):
    _inherit = "res.partner"

    seller_store_ids = fields.One2many("seller.store", "partner_id", string="Retailer Stores")
    seller_store_count = fields.Integer(compute="_compute_seller_store_count", string="Stores")

    # -- retailer self-service (portal): what the supplier allows and gives
    seller_self_service = fields.Boolean(
        string="Self-Service Store Connection",
        groups=MANAGER_GROUP,
        help="This retailer's portal users may connect their own Shopify or WooCommerce stores.",
    )
    seller_default_pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Wholesale Pricelist for New Stores",
        groups=MANAGER_GROUP,
        help="Empty: the company's default wholesale pricelist.",
    )
    seller_default_stock_share_percent = fields.Float(
        string="Stock Share for New Stores (%)",
        groups=MANAGER_GROUP,
        help="0: the company's default stock share.",
    )
    seller_default_stock_buffer = fields.Integer(
        string="Stock Buffer for New Stores", groups=MANAGER_GROUP, help="0: the company's default buffer."
    )
    seller_default_stock_max = fields.Integer(
        string="Stock Maximum for New Stores", groups=MANAGER_GROUP, help="0: the company's default maximum."
    )
    seller_feed_token = fields.Char(
        string="Catalog Feed Token",
        groups=MANAGER_GROUP,
        copy=False,
        help="Secret of the retailer's JSON catalog feed URL; a new one revokes the old URL.",
    )

    _seller_feed_token_unique = models.Constraint("UNIQUE(seller_feed_token)", "A feed token is unique.")

    @api.depends("seller_store_ids")
    def _compute_seller_store_count(self):
        counts = dict(
            self.env["seller.store"]._read_group([("partner_id", "in", self.ids)], ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.seller_store_count = counts.get(partner, 0)

    def action_view_seller_stores(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("seller_mode.seller_store_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------------ portal
    def action_seller_new_feed_token(self):
        """Issue a new catalog feed link: the previous one stops working."""
        for partner in self:
            partner.commercial_partner_id.sudo().seller_feed_token = secrets.token_urlsafe(24)
        return True

    def _seller_feed_token(self):
        """The retailer's feed token, issued on first use."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        if not partner.seller_feed_token:
            partner.seller_feed_token = secrets.token_urlsafe(24)
        return partner.seller_feed_token

    @api.model
    def _seller_from_feed_token(self, token):
        if not token or len(token) < 16:
            return self.browse()
        partner = self.sudo().search([("seller_feed_token", "=", token)], limit=1)
        if not partner or not secrets.compare_digest(partner.seller_feed_token, token):
            return self.browse()
        return partner

    def _seller_new_store_values(self):
        """Pricelist and allocation of a store the retailer connects itself:
        its own defaults, else the company's."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        company = partner.company_id or self.env.company
        return {
            "company_id": company.id,
            "pricelist_id": (partner.seller_default_pricelist_id or company.seller_default_pricelist_id
                             or partner.property_product_pricelist).id,
            "stock_share_percent": partner.seller_default_stock_share_percent
            or company.seller_default_stock_share_percent or 100.0,
            "stock_buffer": partner.seller_default_stock_buffer or company.seller_default_stock_buffer,
            "stock_max": partner.seller_default_stock_max or company.seller_default_stock_max,
        }
