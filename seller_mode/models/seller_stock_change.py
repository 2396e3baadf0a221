import logging
from functools import partial

from odoo import SUPERUSER_ID, api, fields, models
from odoo.modules.registry import Registry

from ..fields import BigInteger

_logger = logging.getLogger(__name__)

PRECOMMIT_KEY = "seller_mode.changed_product_ids"


class SellerStockChange(models.Model):
    """The stock change journal: one row per variant whose free stock
    changed, upserted in the transaction that changed it.

    Rows are ordered by the id of the transaction that last wrote them
    (``pg_current_xact_id()``), not by a sequence: sequence numbers are drawn
    before commit and commit out of order, so a reader could move past a
    number whose transaction is still running and lose it. A transaction id
    below the reader's snapshot ``xmin`` is finished, so a store's cursor can
    safely move to that ``xmin`` after a push, whatever runs concurrently.
    """

    _name = "seller.stock.change"
    _description = "Stock Change Journal"
    _order = "transaction_id desc"
    _rec_name = "product_id"
    _log_access = False

    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", readonly=True)
    transaction_id = BigInteger(readonly=True, index=True)
    changed_at = fields.Datetime(readonly=True, help="When the free stock last changed.")

    _product_unique = models.Constraint("UNIQUE(product_id)", "One journal row per variant.")

    @api.model
    def _seller_record(self, product_ids):
        """Note, for the end of the current transaction, that the free stock
        of these variants changed. Written once per transaction, in one
        statement, whatever the number of quants touched or of stores."""
        if not product_ids:
            return
        cr = self.env.cr
        pending = cr.precommit.data.get(PRECOMMIT_KEY)
        if pending is None:
            pending = cr.precommit.data[PRECOMMIT_KEY] = set()
            cr.precommit.add(self._seller_flush)
        pending.update(product_ids)

    @api.model
    def _seller_flush(self):
        product_ids = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, None)
        if not product_ids:
            return
        self.env.cr.execute(
            """
            INSERT INTO seller_stock_change (product_id, transaction_id, changed_at)
                 SELECT unnest(%s::int[]), pg_current_xact_id()::text::bigint, (clock_timestamp() at time zone 'UTC')
            ON CONFLICT (product_id) DO UPDATE
                    SET transaction_id = EXCLUDED.transaction_id, changed_at = EXCLUDED.changed_at
            """,
            [sorted(product_ids)],
        )
        self.invalidate_model(["transaction_id", "changed_at"])
        # Dispatch only once the rows are committed: a dispatcher that ran
        # before would not see them, and would absorb nothing.
        postcommit = self.env.cr.postcommit
        if not postcommit.data.get(PRECOMMIT_KEY):
            postcommit.data[PRECOMMIT_KEY] = True
            postcommit.add(partial(_enqueue_dispatch, self.env.cr.dbname))

    @api.model
    def _seller_enqueue_dispatch(self):
        self.with_delay(
            channel="root.seller_mode.stock",
            identity_key="seller_mode.stock.dispatch",
            description="Dispatch stock changes to stores",
            priority=5,
        )._seller_job_dispatch()

    @api.model
    def _seller_job_dispatch(self):
        """Job: one stock job per connected store with changes past its
        cursor (or asking for a full push). The stores' own jobs do the work."""
        self.env.cr.execute(
            """
            SELECT st.id
              FROM seller_store st
             WHERE st.state = 'connected' AND st.active
               AND (st.stock_revision > st.stock_pushed_revision
                    OR EXISTS (SELECT 1
                                 FROM seller_stock_change c
                                 JOIN seller_share_variant v ON v.product_id = c.product_id AND v.active
                                 JOIN seller_share s ON s.id = v.share_id AND s.active
                                WHERE s.store_id = st.id AND c.transaction_id >= COALESCE(st.stock_cursor, 0)))
            """
        )
        stores = self.env["seller.store"].browse([row[0] for row in self.env.cr.fetchall()])
        stores._seller_enqueue_stock()
        return "%d store(s)" % len(stores)

    @api.model
    def _seller_horizon(self):
        """Every transaction with an id below this one has finished."""
        self.env.cr.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return self.env.cr.fetchone()[0]

    @api.model
    def _seller_changed_variants(self, store):
        """Active shared variants of ``store`` changed at or after its cursor."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT c.product_id
              FROM seller_stock_change c
              JOIN seller_share_variant v ON v.product_id = c.product_id AND v.active
              JOIN seller_share s ON s.id = v.share_id AND s.active
             WHERE s.store_id = %s AND c.transaction_id >= %s
            """,
            [store.id, store.stock_cursor or 0],
        )
        return self.env["product.product"].browse(sorted(r[0] for r in self.env.cr.fetchall()))

    @api.model
    def _seller_oldest_change(self, store, products):
        """When the oldest pending change among ``products`` was made."""
        self.env.cr.execute(
            "SELECT min(changed_at) FROM seller_stock_change WHERE product_id = ANY(%s) AND transaction_id >= %s",
            [products.ids, store.stock_cursor or 0],
        )
        return self.env.cr.fetchone()[0]


def _enqueue_dispatch(dbname):
    """After a stock transaction committed: queue the dispatcher, in a
    transaction of its own (absorbed by a dispatcher already waiting)."""
    try:
        with Registry(dbname).cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["seller.stock.change"]._seller_enqueue_dispatch()
    except Exception:  # the change is journaled: reconciliation and the next change catch up
        _logger.exception("seller_mode: could not queue the stock dispatcher")
