import time

from odoo import fields, models

from ..tools import seller_delay


class SaleOrder(models.Model):
    _inherit = "sale.order"

    seller_store_id = fields.Many2one("seller.store", string="Retailer Store", index=True, readonly=True, copy=False)
    seller_remote_order_id = fields.Char(string="Store Order ID", readonly=True, copy=False)
    seller_remote_order_name = fields.Char(string="Store Order", readonly=True, copy=False)
    seller_ordered_at = fields.Datetime(string="Ordered in Store", readonly=True, copy=False)
    seller_payload = fields.Text(string="Store Order Data", readonly=True, copy=False,
                                 help="The order as the store sent it, kept so nothing is lost.")
    seller_exception = fields.Text(string="Import Problem", readonly=True, copy=False)
    seller_cancel_notified = fields.Boolean(readonly=True, copy=False)

    _seller_store_order_unique = models.Constraint(
        "UNIQUE(seller_store_id, seller_remote_order_id)", "A store's order is imported once."
    )

    def action_seller_process_again(self):
        """After fixing what blocked the import (a product, a share, an
        address): read the stored order again."""
        for order in self.filtered(lambda o: o.seller_store_id and o.state == "draft"):
            order.seller_store_id._seller_reimport_order(order)
        return True

    def _action_cancel(self):
        result = super()._action_cancel()
        to_notify = self.filtered(
            lambda o: o.seller_store_id and not o.seller_cancel_notified and not self.env.context.get("seller_from_store")
        )
        for order in to_notify:
            seller_delay(
                order, "orders", "order_cancel.%d" % order.id,
                "Tell %s that order %s is cancelled" % (order.seller_store_id.name, order.name),
            )._seller_job_notify_cancel()
        return result

    def _seller_job_notify_cancel(self):
        """Job: we cannot serve this order: tell the store."""
        self.ensure_one()
        if self.seller_cancel_notified:
            return "already told"
        store = self.seller_store_id
        return store._seller_with_adapter("order", lambda adapter: self._seller_notify_cancel(adapter),
                                          reference=self.seller_remote_order_name)

    def _seller_notify_cancel(self, adapter):
        order_payload = adapter.fetch_order(self.seller_remote_order_id)
        if order_payload is not None:
            adapter.cancel(order_payload, self.env._("The supplier cannot serve this order."))
        self.seller_cancel_notified = True
        return "store told"

    def _seller_flag(self, message):
        """Ask Seller Mode users to look at this order."""
        self.ensure_one()
        self.message_post(body=message)
        user = self.env.ref("seller_mode.group_seller_user").user_ids.filtered(lambda u: not u.share)[:1]
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Retailer order needs a look"),
            note=message,
            user_id=(user or self.env.user).id,
        )

    def _seller_job_reprocess(self):
        """Job: map the store's order again (after a fix) and confirm it."""
        self.ensure_one()
        store = self.seller_store_id
        if self.state != "draft":
            return "already %s" % self.state
        started = time.monotonic()

        def work(adapter):
            payload = adapter.fetch_order(self.seller_remote_order_id)
            if payload is None:
                return "the store no longer has this order for us"
            lines, problems = store._seller_order_lines(payload)
            shipping, address_problem = store._seller_delivery_contact(payload.shipping_address)
            if address_problem:
                problems.append(address_problem)
            self.order_line.unlink()
            self.write({
                "order_line": lines or [],
                "partner_shipping_id": (shipping or self.partner_id).id,
                "seller_exception": "\n".join(problems) or False,
            })
            if not problems:
                self.activity_ids.action_done()
            return store._seller_confirm_order(adapter, self, payload, started)

        return store._seller_with_adapter("order", work, reference=self.seller_remote_order_name)
