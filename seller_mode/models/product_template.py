from odoo import api, fields, models
from odoo.tools import hmac as odoo_hmac

# Fields whose change alters what a store shows.
CATALOG_FIELDS = {
    "name", "description", "description_sale", "list_price", "image_1920", "default_code", "barcode", "weight",
    "seller_map_price", "categ_id", "product_tag_ids", "attribute_line_ids", "active",
}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    seller_map_price = fields.Float(
        string="MAP",
        digits="Product Price",
        help="Minimum advertised price: retailers may not sell below it. Variants may override it.",
    )
    seller_share_ids = fields.One2many("seller.share", "product_tmpl_id", string="Retailer Shares")
    seller_share_count = fields.Integer(compute="_compute_seller_share_count", string="Retailers")

    @api.depends("seller_share_ids.active")
    def _compute_seller_share_count(self):
        counts = dict(
            self.env["seller.share"]._read_group([("product_tmpl_id", "in", self.ids)], ["product_tmpl_id"], ["__count"])
        )
        for template in self:
            template.seller_share_count = counts.get(template, 0)

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates._seller_apply_share_rules()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if vals.get("active") is False:
            self.env["seller.share"].search([("product_tmpl_id", "in", self.ids)])._seller_unshare()
        # Any field may appear in a store's rule, but only stores with a rule care.
        self._seller_apply_share_rules()
        if "product_variant_ids" in vals or "attribute_line_ids" in vals:
            self.seller_share_ids._seller_sync_variants()
        if CATALOG_FIELDS & vals.keys():
            self._seller_shares(with_removed=True)._seller_mark_dirty()
        return result

    def action_view_seller_shares(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("seller_mode.seller_share_action")
        action["domain"] = [("product_tmpl_id", "=", self.id)]
        action["context"] = {"default_product_tmpl_id": self.id, "active_test": False}
        return action

    def action_open_seller_share_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "seller.share.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_product_tmpl_ids": self.ids},
        }

    def _seller_shares(self, with_removed=False):
        domain = [("product_tmpl_id", "in", self.ids)]
        Share = self.env["seller.share"].sudo()
        return Share.with_context(active_test=False).search(domain) if with_removed else Share.search(domain)

    def _seller_image_token(self):
        """A signed, stable reference of this product's image: stores fetch
        it from a public URL without guessing others."""
        self.ensure_one()
        signature = odoo_hmac(self.env(su=True), "seller_mode.image", str(self.id))[:20]
        return "%d-%s" % (self.id, signature)

    def _seller_image_checksum(self):
        attachment = self.env["ir.attachment"].sudo().search(
            [("res_model", "=", "product.template"), ("res_field", "=", "image_1920"), ("res_id", "=", self.id)],
            limit=1,
        )
        return attachment.checksum or "none"

    def _seller_image_url(self):
        """Public URL of the image; a changed image gets a new URL (its checksum)."""
        self.ensure_one()
        base = self.env["seller.store"]._seller_callback_base_url()
        return "%s/seller_mode/image/%s/%s" % (base, self._seller_image_token(), self._seller_image_checksum())

    def _seller_apply_share_rules(self):
        if not self:
            return
        stores = self.env["seller.store"].sudo().search([("share_rule_active", "=", True)])
        stores._seller_apply_share_rules(self.sudo())
