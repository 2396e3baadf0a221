from odoo import sql_db
from odoo.tests import tagged

from ..models.seller_store import STOCK_LOCK
from .common import SellerModeCase


@tagged("post_install", "-at_install")
class TestStockChange(SellerModeCase):
    """Every free-stock change is journaled in its own transaction, and each
    store sees exactly the changed variants it shares."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p1, cls.p2, cls.p3, cls.unshared = (cls.make_product(n) for n in ("P1", "P2", "P3", "Unshared"))
        cls.other_store = cls.store.copy({"name": "Other store"})
        cls.share(cls.store, cls.p1, cls.p2)
        cls.share(cls.other_store, cls.p3)
        for product in (cls.p1, cls.p2, cls.p3, cls.unshared):
            cls.env["stock.quant"]._update_available_quantity(product, cls.stock_location, quantity=20)

    def setUp(self):
        super().setUp()
        self.forget_changes()

    def forget_changes(self):
        self.env.cr.flush()
        self.env.cr.execute("DELETE FROM seller_stock_change")
        self.env.invalidate_all()

    def pending(self):
        self.env.cr.flush()  # runs the journal's pre-commit write, as a commit would
        return {
            store: set(store._seller_changed_lines()[0].product_id.mapped("name"))
            for store in (self.store, self.other_store)
        }

    def test_receipt_delivery_and_adjustment(self):
        self.make_picking("in", {self.p1: 5})
        self.assertEqual(self.pending(), {self.store: {"P1"}, self.other_store: set()})

        self.forget_changes()
        self.make_picking("out", {self.p3: 2, self.unshared: 1})
        self.assertEqual(self.pending(), {self.store: set(), self.other_store: {"P3"}})

        self.forget_changes()
        quant = self.env["stock.quant"].search([("product_id", "=", self.p2.id), ("location_id", "=", self.stock_location.id)])
        quant.inventory_quantity = 13
        self.assertEqual(self.pending(), {self.store: set(), self.other_store: set()})  # counted, not applied
        quant.action_apply_inventory()
        self.assertEqual(self.pending(), {self.store: {"P2"}, self.other_store: set()})

    def test_reservation_counts_and_journal_has_one_row_per_variant(self):
        picking = self.make_picking("out", {self.p1: 3, self.p2: 1}, validate=False)
        self.assertEqual(self.pending()[self.store], {"P1", "P2"})
        picking.action_cancel()  # unreserve
        self.assertEqual(self.pending()[self.store], {"P1", "P2"})
        self.env.cr.execute("SELECT product_id, count(*) FROM seller_stock_change GROUP BY product_id HAVING count(*) > 1")
        self.assertFalse(self.env.cr.fetchall())

    def test_validating_a_reserved_delivery_journals_nothing(self):
        free_before = self.store._seller_available_qty(self.p1)[self.p1.id]
        picking = self.make_picking("out", {self.p1: 2}, validate=False)
        self.assertEqual(self.pending()[self.store], {"P1"})  # reserved: two units less to show
        self.assertEqual(self.store._seller_available_qty(self.p1)[self.p1.id], free_before - 2)
        self.forget_changes()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        # The units left the quantity and the reservation together: nothing a store shows moved.
        self.assertEqual(self.pending()[self.store], set())
        self.assertEqual(self.store._seller_available_qty(self.p1)[self.p1.id], free_before - 2)
        # Reserved and validated in one transaction: the units leave free stock.
        self.make_picking("out", {self.p2: 1})
        self.assertEqual(self.pending()[self.store], {"P2"})

    def test_unlink_of_a_quant_counts(self):
        quant = self.env["stock.quant"].search([("product_id", "=", self.p1.id)])
        self.forget_changes()
        quant.sudo().unlink()
        self.assertEqual(self.pending()[self.store], {"P1"})

    def test_cursor_hides_what_was_pushed(self):
        self.make_picking("in", {self.p1: 1, self.p3: 1})
        self.assertEqual(self.pending(), {self.store: {"P1"}, self.other_store: {"P3"}})
        # Everything this transaction wrote carries its id; a cursor past it means "pushed".
        self.env.cr.execute("SELECT pg_current_xact_id()::text::bigint")
        self.store.stock_cursor = self.env.cr.fetchone()[0] + 1
        self.assertEqual(self.pending(), {self.store: set(), self.other_store: {"P3"}})

    def test_snapshot_hides_what_it_saw_and_nothing_else(self):
        self.make_picking("in", {self.p1: 1})
        self.env.cr.execute("SELECT pg_current_xact_id()::text::bigint")
        xid = self.env.cr.fetchone()[0]
        # Pushed from a snapshot where this transaction was still running: pending.
        self.store._seller_stock_done("%d:%d:%d" % (xid, xid + 1, xid), None)
        self.assertEqual(self.store.stock_cursor, xid)
        self.assertEqual(self.pending()[self.store], {"P1"})
        # Pushed from a snapshot that saw it: done.
        self.store._seller_stock_done("%d:%d:" % (xid, xid + 1), None)
        self.assertEqual(self.pending()[self.store], set())
        # An older snapshot (a late job) never moves the store back.
        self.store._seller_stock_done("%d:%d:" % (xid - 5, xid - 5), None)
        self.assertEqual(self.store.stock_snapshot, "%d:%d:" % (xid, xid + 1))

    def test_one_stock_push_per_store_at_a_time(self):
        self.store.state = "connected"
        # Another worker's stock push to this store holds its lock.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [STOCK_LOCK, self.store.id])
            self.assertFalse(self.store._seller_lock_for_stock())
            self.assertTrue(self.other_store._seller_lock_for_stock())
            # The push leaves, to that one's follow-up, without sending anything.
            self.assertIn("is running", self.store._seller_job_push_stock())
            other.rollback()
        self.assertTrue(self.store._seller_lock_for_stock())

    def test_unshared_or_excluded_variants_are_not_pending(self):
        share = self.store.share_ids.filtered(lambda s: s.product_tmpl_id == self.p2.product_tmpl_id)
        share._seller_unshare()
        self.make_picking("in", {self.p1: 1, self.p2: 1})
        self.assertEqual(self.pending()[self.store], {"P1"})

    def test_journal_write_does_not_grow_with_stores(self):
        """One statement per transaction, whatever the number of stores."""
        for index in range(30):
            self.share(self.store.copy({"name": "Store %s" % index}), self.p1)
        self.forget_changes()
        statements = []
        original = type(self.env.cr).execute

        def spy(cr, query, params=None, log_exceptions=True):
            text = str(query)
            if "seller_stock_change" in text or "seller_share" in text:
                statements.append(text)
            return original(cr, query, params, log_exceptions)

        type(self.env.cr).execute = spy
        try:
            self.make_picking("in", {self.p1: 1, self.p2: 1})
            self.env.cr.flush()
        finally:
            type(self.env.cr).execute = original
        self.assertEqual(len([s for s in statements if "INSERT INTO seller_stock_change" in s]), 1)
        self.assertFalse([s for s in statements if "seller_share" in s])
