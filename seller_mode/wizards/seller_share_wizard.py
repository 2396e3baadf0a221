from odoo import fields, models
from odoo.exceptions import UserError


class SellerShareWizard(models.TransientModel):
    _name = "seller.share.wizard"
    _description = "Share Products with Retailers"

    mode = fields.Selection([("share", "Share"), ("stop", "Stop Sharing")], default="share", required=True)
    product_tmpl_ids = fields.Many2many("product.template", string="Products", required=True)
    store_ids = fields.Many2many("seller.store", string="Stores", domain="[('state', '!=', 'disconnected')]")

    def action_apply(self):
        self.ensure_one()
        if not self.store_ids:
            raise UserError(self.env._("Choose at least one store."))
        Share = self.env["seller.share"].with_context(active_test=False)
        existing = Share.search(
            [("store_id", "in", self.store_ids.ids), ("product_tmpl_id", "in", self.product_tmpl_ids.ids)]
        )
        if self.mode == "stop":
            existing.filtered("active")._seller_unshare()
            return {"type": "ir.actions.act_window_close"}
        archived = self.product_tmpl_ids.filtered(lambda t: not t.active)
        if archived:
            raise UserError(
                self.env._("Archived products cannot be shared: %s", ", ".join(archived.mapped("display_name")))
            )
        done = {(s.store_id.id, s.product_tmpl_id.id) for s in existing}
        # Sharing explicitly makes a rule-made share explicit, so the rule can no longer remove it.
        existing.write({"origin": "manual"})
        existing.filtered(lambda s: not s.active)._seller_reshare()
        Share.create(
            [
                {"store_id": store.id, "product_tmpl_id": template.id, "origin": "manual"}
                for store in self.store_ids
                for template in self.product_tmpl_ids
                if (store.id, template.id) not in done
            ]
        )
        return {"type": "ir.actions.act_window_close"}
