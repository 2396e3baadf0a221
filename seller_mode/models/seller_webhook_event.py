import json
import time

from odoo import api, fields, models

from odoo.addons.queue_job.exception import RetryableJobError

from ..adapters.base import AdapterError, RetryableError
from ..tools import seller_delay


class SellerWebhookEvent(models.Model):
    """A webhook as received, stored before any work is done, so that the
    store gets its answer at once and nothing is lost if processing fails."""

    _name = "seller.webhook.event"
    _description = "Seller Mode Webhook Event"
    _order = "id desc"
    _rec_name = "topic"

    store_id = fields.Many2one("seller.store", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="store_id.company_id", store=True)
    topic = fields.Char(required=True, index=True)
    delivery_id = fields.Char(required=True)
    remote_id = fields.Char(index=True)
    payload = fields.Text()
    received_at = fields.Datetime(default=fields.Datetime.now, required=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("ignored", "Nothing To Do"), ("error", "Error")],
        default="pending",
        required=True,
        index=True,
    )
    message = fields.Text()

    _store_delivery_unique = models.Constraint(
        "UNIQUE(store_id, delivery_id)", "A webhook delivery is recorded once per store."
    )

    @api.model
    def _seller_receive(self, store, event):
        """Record a verified webhook (once per delivery id) and queue its
        processing. Returns the record, or nothing for a repeated delivery."""
        self.env.cr.execute(
            """
            INSERT INTO seller_webhook_event (store_id, company_id, topic, delivery_id, remote_id, payload,
                                              received_at, state, create_date, write_date, create_uid, write_uid)
                 VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC', 'pending',
                         now() at time zone 'UTC', now() at time zone 'UTC', %s, %s)
            ON CONFLICT (store_id, delivery_id) DO NOTHING
              RETURNING id
            """,
            [store.id, store.company_id.id, event.topic, event.delivery_id, event.remote_id,
             json.dumps(event.payload), self.env.uid, self.env.uid],
        )
        row = self.env.cr.fetchone()
        if not row:
            return self.browse()
        record = self.browse(row[0])
        seller_delay(
            record, self._seller_channel(event.topic), "webhook.%d" % record.id,
            "Webhook %s from %s" % (event.topic, store.name),
        )._seller_job_process()
        return record

    @api.model
    def _seller_channel(self, topic):
        return "catalog" if topic == "product_updated" else "orders"

    def _seller_job_process(self):
        """Job: act on the webhook. Safe to run twice."""
        self.ensure_one()
        if self.state != "pending":
            return "already %s" % self.state
        handler = getattr(self, "_seller_on_%s" % self.topic, None)
        if handler is None:
            self.write({"state": "ignored", "message": "No action for topic %s." % self.topic})
            return "ignored"
        started = time.monotonic()
        try:
            outcome = handler(json.loads(self.payload or "{}"))
        except RetryableError as exc:
            raise RetryableJobError(str(exc), seconds=max(int(exc.wait), 1)) from exc
        except AdapterError as exc:
            self.store_id._seller_handle_adapter_error(exc, "price", started, reference=self.remote_id)
            self.write({"state": "error", "message": str(exc)})
            return str(exc)
        self.write({"state": outcome[0], "message": outcome[1]})
        return outcome[1]

    # ------------------------------------------------------------ handlers
    def _seller_on_app_uninstalled(self, payload):
        self.store_id.sudo().write({"state": "disconnected", "state_message": self.env._("The app was uninstalled.")})
        self.store_id.message_post(body=self.env._("The retailer uninstalled the app: the store is disconnected."))
        return "done", "store disconnected"

    def _seller_on_product_updated(self, payload):
        share = self.env["seller.share"].search(
            [("store_id", "=", self.store_id.id), ("remote_product_id", "=", self.remote_id)], limit=1
        )
        if not share:
            return "ignored", "not one of our products"
        return share._seller_enforce_prices(payload)

    def _seller_on_order(self, payload):
        return self._seller_follow_order()

    def _seller_on_order_cancelled(self, payload):
        return self._seller_follow_order()

    def _seller_on_fulfillment_request(self, payload):
        return self._seller_follow_order()

    def _seller_on_cancellation_request(self, payload):
        return self._seller_follow_order()

    def _seller_follow_order(self):
        """An order event: import or update that order (its job reads the
        order afresh, so a late or out-of-order webhook does no harm). An
        event that does not name the order makes the store look for it."""
        store = self.store_id
        if self.remote_id and store._seller_is_order_id(self.remote_id):
            store._seller_enqueue_order(self.remote_id)
            return "done", "order %s queued" % self.remote_id
        store._seller_enqueue_poll()
        return "done", "order poll queued"
