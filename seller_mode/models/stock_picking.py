from odoo import fields, models

from ..adapters.base import Tracking
from ..tools import seller_delay


class StockPicking(models.Model):
    _inherit = "stock.picking"

    seller_store_id = fields.Many2one(related="sale_id.seller_store_id", string="Retailer Store")
    seller_tracking_state = fields.Selection(
        [("pending", "To Send"), ("sent", "Sent"), ("error", "Failed")],
        string="Tracking to Store", readonly=True, copy=False,
    )
    seller_tracking_message = fields.Text(readonly=True, copy=False)

    def _action_done(self):
        result = super()._action_done()
        shipped = self.filtered(
            lambda p: p.seller_store_id and p.picking_type_code == "outgoing" and p.state == "done"
        )
        if shipped:
            shipped.write({"seller_tracking_state": "pending"})
            for picking in shipped:
                seller_delay(
                    picking, "orders", "tracking.%d" % picking.id,
                    "Send tracking of %s to %s" % (picking.name, picking.seller_store_id.name),
                )._seller_job_push_tracking()
        return result

    def _seller_job_push_tracking(self):
        """Job: create the fulfillment in the store (with tracking, notifying
        the customer), for what this delivery shipped."""
        self.ensure_one()
        if self.seller_tracking_state == "sent":
            return "already sent"
        return self.seller_store_id._seller_with_adapter(
            "tracking", self._seller_push_tracking, reference=self.name,
            on_error=lambda message: self.write({"seller_tracking_state": "error", "seller_tracking_message": message}),
        )

    def _seller_push_tracking(self, adapter):
        order = self.sale_id
        payload = adapter.fetch_order(order.seller_remote_order_id)
        if payload is None:
            raise ValueError("The store no longer knows order %s" % order.seller_remote_order_name)
        shipped = {}
        for move in self.move_ids.filtered(lambda m: m.state == "done" and m.sale_line_id.seller_remote_line_id):
            remote = move.sale_line_id.seller_remote_line_id
            shipped[remote] = shipped.get(remote, 0) + int(move.quantity)
        tracking = Tracking(
            company=self.carrier_id.name or "",
            number=self.carrier_tracking_ref or "",
            url=self.carrier_tracking_url or "",
        )
        adapter.fulfil(payload, sorted(shipped.items()), tracking, notify_customer=True)
        fully_shipped = all(
            line.qty_delivered >= line.product_uom_qty
            for line in order.order_line.filtered("seller_remote_line_id")
        )
        if fully_shipped and hasattr(adapter, "complete"):
            adapter.complete(payload)
        self.write({"seller_tracking_state": "sent", "seller_tracking_message": False})
        return "%d line(s) fulfilled" % len(shipped)
