from odoo import fields, models

from ..adapters import PLATFORMS


class SellerSyncEvent(models.Model):
    """The sync log: one row per piece of work done with a store."""

    _name = "seller.sync.event"
    _description = "Seller Mode Sync Event"
    _order = "started_at desc, id desc"

    store_id = fields.Many2one("seller.store", required=True, ondelete="cascade", index=True)
    # The store's, as they were when the event happened; set by the store
    # (not related fields: their recomputation doubled the cost of a stock job's log line).
    company_id = fields.Many2one("res.company", required=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Retailer")
    platform = fields.Selection(PLATFORMS)
    kind = fields.Selection(
        [
            ("connect", "Connection"),
            ("catalog", "Catalog"),
            ("stock", "Stock"),
            ("order", "Order"),
            ("tracking", "Tracking"),
            ("reconcile", "Reconciliation"),
            ("price", "Price Enforcement"),
        ],
        required=True,
        index=True,
    )
    count = fields.Integer(help="Items sent or received.")
    batches = fields.Integer(help="Requests made to the store.")
    changed_at = fields.Datetime(string="Change Made", help="When the oldest change this event carried was made.")
    started_at = fields.Datetime(default=fields.Datetime.now, required=True)
    acknowledged_at = fields.Datetime(help="When the store acknowledged the work.")
    lag_seconds = fields.Float(
        string="Lag (s)",
        aggregator="avg",
        help="From the change in Odoo to the store's acknowledgement, measured to the millisecond "
        "(the date fields above keep whole seconds only).",
    )
    duration_seconds = fields.Float(string="Duration (s)", aggregator="avg")
    result = fields.Selection(
        [("ok", "Done"), ("partial", "Partly Done"), ("error", "Failed")], default="ok", required=True, index=True
    )
    message = fields.Text(help="What went wrong, in the platform's own words where it gave any.")
    reference = fields.Char(help="The record the event is about (a share, an order, a delivery).")
