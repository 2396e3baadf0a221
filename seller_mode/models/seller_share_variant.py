import hashlib
import uuid

from odoo import fields, models

from ..adapters.base import QtyItem

# Items per request each platform takes.
BATCH_SIZE = {"shopify": 250, "woocommerce": 100}


class SellerShareVariant(models.Model):
    _name = "seller.share.variant"
    _description = "Variant of a Shared Product"
    _order = "share_id, product_id"
    _rec_name = "product_id"

    share_id = fields.Many2one("seller.share", required=True, ondelete="cascade", index=True)
    store_id = fields.Many2one(related="share_id.store_id", store=True, index=True)
    company_id = fields.Many2one(related="share_id.company_id", store=True)
    product_id = fields.Many2one("product.product", string="Variant", required=True, ondelete="cascade", index=True)
    active = fields.Boolean(default=True)
    remote_variant_id = fields.Char(copy=False, readonly=True)
    remote_inventory_item_id = fields.Char(copy=False, readonly=True)
    last_pushed_qty = fields.Integer(copy=False, readonly=True)
    qty_known = fields.Boolean(
        copy=False, readonly=True, help="The store holds last_pushed_qty (set by us and acknowledged)."
    )
    last_pushed_price = fields.Float(copy=False, readonly=True, digits="Product Price")
    last_pushed_at = fields.Datetime(copy=False, readonly=True)
    retailer_price = fields.Float(
        copy=False, readonly=True, digits="Product Price",
        help="A price the retailer set in its store within the allowed range: kept by later pushes.",
    )

    _share_product_unique = models.Constraint(
        "UNIQUE(share_id, product_id)", "A variant appears once in a shared product."
    )
    # Stock jobs go from a changed variant to the store's line: one probe each.
    _product_store_index = models.Index("(product_id, store_id) WHERE active")

    def _seller_price_ref(self):
        """How the store's adapter names this variant's price."""
        self.ensure_one()
        if self.share_id.store_id.platform == "woocommerce":
            return self.remote_inventory_item_id
        return self.remote_variant_id

    def _seller_push_quantities(self, adapter, key_prefix):
        """Send the allocation of these variants to their store, never
        resurrecting units the store sold meanwhile: each quantity is sent
        with the value we last set; where the store's value moved (a sale
        there, not yet imported), the units sold are taken off ours.
        Returns (quantities acknowledged, requests, failures, stale)."""
        if not self:
            return 0, 0, [], 0
        store = self.store_id
        store.ensure_one()
        wanted = store._seller_available_qty(self.product_id)
        todo = self.filtered(
            lambda l: l.product_id.id in wanted and not (l.qty_known and l.last_pushed_qty == wanted[l.product_id.id])
        )
        if not todo:
            return 0, 0, [], 0
        by_ref = {line.remote_inventory_item_id: line for line in todo}
        items = [
            QtyItem(ref=line.remote_inventory_item_id, qty=wanted[line.product_id.id],
                    expected_previous=line.last_pushed_qty if line.qty_known else None)
            for line in todo
        ]
        # A retried job sends the same quantities under the same key, so the
        # store applies them once; another job, or other quantities, get another.
        key_prefix = "%s-%s" % (key_prefix, self.env.context.get("job_uuid") or uuid.uuid4().hex)
        requests = -(-len(items) // BATCH_SIZE[store.platform])
        results = adapter.set_quantities(items, idempotency_key=_idempotency_key(key_prefix, items))
        retry = []
        for result in results:
            line = by_ref[result.ref]
            if result.stale:
                sold = max((line.last_pushed_qty if line.qty_known else 0) - (result.store_value or 0), 0)
                target = max(wanted[line.product_id.id] - sold, 0)
                retry.append(QtyItem(ref=result.ref, qty=target, expected_previous=result.store_value))
        stale = len(retry)
        if retry:
            requests += -(-len(retry) // BATCH_SIZE[store.platform])
            results = [r for r in results if not r.stale] + adapter.set_quantities(
                retry, idempotency_key=_idempotency_key(key_prefix, retry))
        acknowledged, failed = {}, []
        for result in results:
            line = by_ref[result.ref]
            if result.ok:
                acknowledged[line.id] = result.value
            else:
                # Moved again (another sale): keep what we last set, so the next
                # try counts every unit sold since.
                failed.append("%s: %s" % (line.product_id._seller_sku(), result.error or "stale"))
        self._seller_note_acknowledged(acknowledged)
        return len(acknowledged), requests, failed, stale

    def _seller_note_acknowledged(self, values):
        """Remember what the store acknowledged: {line id: quantity}. One
        plain statement: every stock job of every store ends here, and these
        fields trigger nothing."""
        if not values:
            return
        lines = self.browse(values)
        now = fields.Datetime.now()
        lines.flush_recordset(["last_pushed_qty", "qty_known", "last_pushed_at"])  # a write pending would undo ours
        self.env.cr.execute(
            """
            UPDATE seller_share_variant v
               SET last_pushed_qty = acknowledged.qty, qty_known = TRUE,
                   last_pushed_at = %s, write_date = %s, write_uid = %s
              FROM unnest(%s::int[], %s::int[]) AS acknowledged(id, qty)
             WHERE v.id = acknowledged.id
            """,
            [now, now, self.env.uid, list(values), list(values.values())],
        )
        lines.invalidate_recordset(["last_pushed_qty", "qty_known", "last_pushed_at", "write_date", "write_uid"])


def _idempotency_key(prefix, items):
    digest = hashlib.sha256(repr([(i.ref, i.qty, i.expected_previous) for i in items]).encode()).hexdigest()
    return "%s-%s" % (prefix, digest[:24])
