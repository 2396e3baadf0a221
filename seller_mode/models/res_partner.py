from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    seller_store_ids = fields.One2many("seller.store", "partner_id", string="Retailer Stores")
    seller_store_count = fields.Integer(compute="_compute_seller_store_count", string="Stores")

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
