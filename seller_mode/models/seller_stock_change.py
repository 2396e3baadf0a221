import logging
from functools import partial

from odoo import SUPERUSER_ID, api, fields, models
from odoo.modules.registry import Registry

from ..fields import BigInteger
from ..tools import seller_delay, seller_identity_key

_logger = logging.getLogger(__name__)

PRECOMMIT_KEY = "seller_mode.free_stock_tally"
# A store's stock job is keyed STOCK_JOB_KEY % store id (see seller_delay).
STOCK_JOB_KEY = "stock.%d"
# Below this, a change of free quantity is rounding noise (quantities are rounded to the UoM far above it).
FREE_QTY_EPSILON = 1e-6

# Stores' last pushes, as ``st`` (id, cursor, snapshot) in UNSEEN: each
# snapshot is parsed once per query, not once per journal row it is checked
# against (that was most of the dispatcher's time).
PUSHED = """SELECT id, COALESCE(stock_cursor, 0) AS cursor, stock_snapshot::pg_snapshot AS snapshot
              FROM seller_store"""

# Journal rows (c) a store's (st) last push did not see: written by a
# transaction outside its snapshot, that is not finished then or later.
UNSEEN = """c.transaction_id >= st.cursor
            AND (st.snapshot IS NULL
                 OR NOT pg_visible_in_snapshot(c.transaction_id::text::xid8, st.snapshot))"""


class SellerStockChange(models.Model):
    """The stock change journal: one row per variant whose free stock
    changed, upserted in the transaction that changed it.

    Rows carry the id of the transaction that last wrote them
    (``pg_current_xact_id()``), not a sequence number: sequence numbers are
    drawn before commit and commit out of order, so a reader could move past a
    number whose transaction is still running and lose it. A store's stock
    job remembers the snapshot it pushed from (``stock_snapshot``): a change is
    pushed once it is visible in that snapshot, and pending while it is not
    (made later, or still running then). ``stock_cursor``, the snapshot's
    ``xmin``, only narrows the search: every older transaction was visible.
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
    def _seller_tally(self, deltas):
        """Add {(variant id, location id): change of free quantity} to the
        current transaction's tally. At its end, the variants with a change
        left anywhere are journaled, in one statement, whatever the number of
        quants touched or of stores."""
        if not deltas:
            return
        cr = self.env.cr
        tally = cr.precommit.data.get(PRECOMMIT_KEY)
        if tally is None:
            tally = cr.precommit.data[PRECOMMIT_KEY] = {}
            cr.precommit.add(self._seller_flush)
        for key, delta in deltas.items():
            tally[key] = tally.get(key, 0.0) + delta

    @api.model
    def _seller_flush(self):
        tally = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, None) or {}
        product_ids = {product_id for (product_id, _location_id), delta in tally.items() if abs(delta) > FREE_QTY_EPSILON}
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
            postcommit.add(partial(_queue_after_commit, self.env.cr.dbname))

    @api.model
    def _cron_dispatch(self):
        """Catch-up: changes are dispatched after each commit; this only
        matters when that dispatch, or a failed push's follow-up, was lost."""
        self._seller_enqueue_dispatch()

    @api.model
    def _seller_enqueue_dispatch(self):
        seller_delay(
            self, "stock", "stock.dispatch",
            "Dispatch stock changes to stores", priority=5,
        )._seller_job_dispatch()

    @api.model
    def _seller_job_dispatch(self):
        """Job: one stock job per connected store with changes it has not
        pushed (or asking for a full push). A store whose stock job is
        running is left to it: that job looks again once it committed
        (``_queue_after_commit``), so the follow-up cannot collide with it."""
        stores = self._seller_stores_to_push(skip_running=True)
        stores._seller_enqueue_stock()
        return "%d store(s)" % len(stores)

    @api.model
    def _seller_stores_to_push(self, store_ids=None, skip_running=False):
        """Connected stores with a full push asked, or a shared variant whose
        change their last push did not see; and no stock job waiting (it
        would absorb a new one: leaving them out here saves building it)."""
        self.env.flush_all()
        # Driven from the journal rows newer than the oldest cursor (a few,
        # by the transaction id's index), not from each store's variants
        # (thousands, mostly unchanged). The cursor goes in as a value: as a
        # subquery's result, the planner guessed a third of the journal and
        # read every shared variant.
        stores = """state = 'connected' AND active AND (%(all)s OR id = ANY(%(store_ids)s))"""
        params = {"all": store_ids is None, "store_ids": list(store_ids or []), "skip_running": skip_running,
                  "stock_key": seller_identity_key(STOCK_JOB_KEY.replace("%d", ""))}  # the key, less the store id
        self.env.cr.execute("SELECT min(COALESCE(stock_cursor, 0)) FROM seller_store WHERE " + stores, params)
        params["since"] = self.env.cr.fetchone()[0] or 0
        self.env.cr.execute(
            """
            WITH st AS MATERIALIZED (""" + PUSHED + """ WHERE """ + stores + """)
            SELECT store.id
              FROM seller_store store
             WHERE store.id IN (SELECT id FROM st)
               AND (store.stock_revision > store.stock_pushed_revision
                    OR store.id IN (
                        SELECT v.store_id
                          FROM st
                          JOIN seller_stock_change c ON c.transaction_id >= %(since)s AND """ + UNSEEN + """
                          JOIN seller_share_variant v ON v.product_id = c.product_id AND v.store_id = st.id AND v.active
                          JOIN seller_share s ON s.id = v.share_id AND s.active))
               -- each test fits one of queue_job's indexes (identity key of waiting jobs; state)
               AND NOT EXISTS (SELECT 1
                                 FROM queue_job job
                                WHERE job.identity_key = %(stock_key)s || store.id
                                  AND job.state IN ('pending', 'enqueued', 'wait_dependencies'))
               AND NOT (%(skip_running)s AND EXISTS (SELECT 1
                                                      FROM queue_job job
                                                     WHERE job.state = 'started'
                                                       AND job.identity_key = %(stock_key)s || store.id))
            """,
            params,
        )
        return self.env["seller.store"].browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _seller_snapshot(self):
        """The current transaction's snapshot: what a push made now has seen."""
        self.env.cr.execute("SELECT pg_current_snapshot()::text")
        return self.env.cr.fetchone()[0]

    @api.model
    def _seller_changed_lines(self, store):
        """Active shared variant lines of ``store`` whose change its last
        push did not see, and when the oldest of those
        changes was made: (seller.share.variant, datetime or None)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            WITH st AS MATERIALIZED (""" + PUSHED + """ WHERE id = %s)
            SELECT v.id, c.changed_at
              FROM st
              JOIN seller_stock_change c ON c.transaction_id >= %s AND """ + UNSEEN + """
              JOIN seller_share_variant v ON v.product_id = c.product_id AND v.store_id = st.id AND v.active
              JOIN seller_share s ON s.id = v.share_id AND s.active
             ORDER BY v.id
            """,
            [store.id, store.stock_cursor or 0],  # the cursor as a value: see _seller_stores_to_push
        )
        rows = self.env.cr.fetchall()
        oldest = min((row[1] for row in rows if row[1]), default=None)
        return self.env["seller.share.variant"].browse([row[0] for row in rows]), oldest


def _queue_after_commit(dbname, store_id=None):
    """After a commit, in a transaction of its own: queue the dispatcher
    (after a stock change; absorbed by one already waiting), or a store's
    follow-up stock job (after its push, for what changed while it ran).
    A failure here loses nothing: the changes are journaled, and the next
    change or the catch-up cron sends them."""
    try:
        with Registry(dbname).cursor() as cr:
            journal = api.Environment(cr, SUPERUSER_ID, {})["seller.stock.change"]
            if store_id is None:
                journal._seller_enqueue_dispatch()
            else:
                journal._seller_stores_to_push(store_ids=[store_id])._seller_enqueue_stock()
    except Exception:
        _logger.exception("seller_mode: could not queue stock work after commit (store %s)", store_id)
