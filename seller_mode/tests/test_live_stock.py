from odoo.tests import tagged

from .common import StoreCase
from .retailer import WOO_SHIPPING, ShopifyRetailer, shopify_place_order


@tagged("post_install", "-at_install")
class TestLiveStock(StoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mug = cls.make_product("Mug", price=20.0, default_code="MUG-1")
        cls.tee = cls.make_product("Tee", price=30.0, default_code="TEE-1")
        cls.set_stock(cls.mug, 40)
        cls.set_stock(cls.tee, 12)
        cls.shopify_retailer = ShopifyRetailer(cls.shopify, "retailer-a", cls.shop_token)

    def setUp(self):
        super().setUp()
        self.shop_store.write({"stock_share_percent": 50, "stock_buffer": 1})
        self.connect()
        self.share(self.shop_store, self.mug, self.tee)
        self.share(self.woo_store, self.mug, self.tee)
        self.run_jobs()
        self.push_stock()

    # ------------------------------------------------------------ helpers
    def push_stock(self):
        """What a commit does: the journal is written, the dispatcher queued."""
        self.env.cr.flush()
        self.env["seller.stock.change"]._seller_enqueue_dispatch()
        return self.run_jobs()

    def line_of(self, store, product):
        return self.env["seller.share.variant"].search([("store_id", "=", store.id), ("product_id", "=", product.id)])

    def in_store(self, store, product):
        line = self.line_of(store, product)
        if store.platform == "shopify":
            return self.shopify.available("retailer-a", line.remote_inventory_item_id, store.remote_location_id)
        return self.woo.stock("retailer-b", int(line.remote_variant_id))

    def expected(self, store, product):
        self.env.invalidate_all()
        free = product.with_context(location=self.stock_location.id).free_qty
        value = int(free * store.stock_share_percent / 100 + 1e-9) - store.stock_buffer
        if store.stock_max:
            value = min(value, store.stock_max)
        return max(value, 0)

    def assert_stores_right(self, *products):
        for product in products or (self.mug, self.tee):
            product.invalidate_recordset()
            for store in (self.shop_store, self.woo_store):
                self.assertEqual(self.in_store(store, product), self.expected(store, product),
                                 "%s in %s" % (product.name, store.name))

    def inventory_sets(self):
        return len(self.shopify.log.rows(tenant="retailer-a", kind="inventory_set")) + len(
            self.woo.log.rows(tenant="retailer-b", kind="stock_set"))

    # ------------------------------------------------------------ sources of change
    def test_initial_quantities(self):
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.shop_store, self.mug), 19)  # 40 x 50 % - 1

    def test_receipt_delivery_and_adjustment(self):
        self.make_picking("in", {self.mug: 10})
        self.push_stock()
        self.assert_stores_right()
        self.make_picking("out", {self.tee: 5})
        self.push_stock()
        self.assert_stores_right()
        quant = self.env["stock.quant"].search([("product_id", "=", self.mug.id), ("location_id", "=", self.stock_location.id)])
        quant.inventory_quantity = 3
        quant.action_apply_inventory()
        self.push_stock()
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.woo_store, self.mug), 3)

    def test_reservation_unreservation_return_and_scrap(self):
        picking = self.make_picking("out", {self.mug: 6}, validate=False)
        self.push_stock()
        self.assert_stores_right()
        picking.action_cancel()
        self.push_stock()
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.woo_store, self.mug), 40)
        delivery = self.make_picking("out", {self.tee: 4})
        self.push_stock()
        wizard = self.env["stock.return.picking"].with_context(active_id=delivery.id, active_model="stock.picking").create({})
        wizard.product_return_moves.quantity = 2
        returned = wizard._create_return()
        for move in returned.move_ids:
            move.quantity = move.product_uom_qty
        returned.button_validate()
        self.push_stock()
        self.assert_stores_right()
        scrap = self.env["stock.scrap"].create({"product_id": self.mug.id, "scrap_qty": 5,
                                               "location_id": self.stock_location.id})
        scrap.action_validate()
        self.push_stock()
        self.assert_stores_right()

    def test_sale_order_on_another_channel(self):
        order = self.env["sale.order"].create({
            "partner_id": self.env["res.partner"].create({"name": "Walk-in"}).id,
            "order_line": [(0, 0, {"product_id": self.tee.id, "product_uom_qty": 7})],
        })
        order.action_confirm()
        self.push_stock()
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.woo_store, self.tee), 5)

    def test_moves_out_of_the_store_locations(self):
        elsewhere = self.env["stock.location"].create(
            {"name": "Showroom", "usage": "internal", "location_id": self.stock_location.location_id.id})
        move = self.env["stock.move"].create({
            "product_id": self.mug.id, "product_uom_qty": 15, "location_id": self.stock_location.id,
            "location_dest_id": elsewhere.id,
        })
        move._action_confirm()
        move._action_assign()
        move.quantity = 15
        move.picked = True
        move._action_done()
        self.push_stock()
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.woo_store, self.mug), 25)

    def test_allocation_settings_repush(self):
        self.woo_store.write({"stock_share_percent": 25, "stock_max": 7})
        self.push_stock()
        self.assert_stores_right()
        self.assertEqual(self.in_store(self.woo_store, self.mug), 7)
        self.assertEqual(self.in_store(self.woo_store, self.tee), 3)

    def test_burst_sends_the_last_value_once(self):
        before = self.inventory_sets()
        for _ in range(100):
            self.env["stock.quant"]._update_available_quantity(self.mug, self.stock_location, quantity=-1)
            self.env["stock.quant"]._update_available_quantity(self.mug, self.stock_location, quantity=1)
            self.env.cr.flush()
        self.env["stock.quant"]._update_available_quantity(self.mug, self.stock_location, quantity=-2)
        self.push_stock()
        self.assert_stores_right()
        self.assertLessEqual(self.inventory_sets() - before, 2)  # one per store at most

    def test_a_store_whose_job_runs_is_left_to_its_follow_up(self):
        self.make_picking("in", {self.mug: 10})
        self.env.cr.flush()
        self.shop_store._seller_enqueue_stock()
        running = self.env["queue.job"].search(
            [("identity_key", "=", "seller_mode.stock.%d" % self.shop_store.id), ("state", "=", "pending")])
        Change = self.env["seller.stock.change"]
        self.assertEqual(Change._seller_stores_to_push(), self.woo_store)  # the waiting job will do
        running.state = "started"
        # The dispatcher leaves the store to its running job...
        self.assertEqual(Change._seller_stores_to_push(skip_running=True), self.woo_store)
        # ...whose follow-up, once it committed, finds what is still to send.
        self.assertEqual(Change._seller_stores_to_push(store_ids=self.shop_store.ids), self.shop_store)
        running.state = "done"
        self.assertEqual(set(Change._seller_stores_to_push(skip_running=True)), {self.shop_store, self.woo_store})

    # ------------------------------------------------------------ no resurrected stock
    def test_sale_in_store_while_we_update_shopify(self):
        line = self.line_of(self.shop_store, self.mug)
        self.assertEqual(self.in_store(self.shop_store, self.mug), 19)
        self.shopify.set_faults("retailer-a", webhook_drop_rate=1.0)  # the order reaches us later
        shopify_place_order(self.shopify_retailer, [(line.remote_variant_id, 3)])
        self.assertEqual(self.in_store(self.shop_store, self.mug), 16)
        self.make_picking("in", {self.mug: 10})  # allocation 50 x 50 % - 1 = 24
        self.push_stock()
        # 24 allotted, 3 already sold there and not imported: never more than 21.
        self.assertEqual(self.in_store(self.shop_store, self.mug), 21)
        # The order arrives: its reservation lowers the allocation, and the store stays right.
        self.shop_store._seller_enqueue_poll()
        self.run_jobs()
        self.push_stock()
        self.assertEqual(self.in_store(self.shop_store, self.mug), self.expected(self.shop_store, self.mug))

    def test_sale_in_store_while_we_update_woocommerce(self):
        line = self.line_of(self.woo_store, self.tee)
        self.woo.set_webhook_delay("retailer-b", 3600)
        self.woo.place_order("retailer-b", line_items=[{"product_id": int(line.share_id.remote_product_id),
                                                         "quantity": 2}], shipping=WOO_SHIPPING)
        self.assertEqual(self.in_store(self.woo_store, self.tee), 10)
        self.make_picking("in", {self.tee: 8})
        self.push_stock()
        self.assertEqual(self.in_store(self.woo_store, self.tee), 20 - 2)

    # ------------------------------------------------------------ faults
    def test_store_faults_delay_but_never_lose(self):
        self.shopify.set_faults("retailer-a", throttle_next=2)
        self.woo.set_faults("retailer-b", error_rate=1.0)
        self.make_picking("in", {self.tee: 6})
        self.env.cr.flush()
        self.env["seller.stock.change"]._seller_enqueue_dispatch()
        with self.assertRaises(AssertionError):  # WooCommerce keeps failing: its job waits to retry
            self.run_jobs(max_seconds=3)
        self.assertNotEqual(self.in_store(self.woo_store, self.tee), self.expected(self.woo_store, self.tee))
        self.woo.set_faults("retailer-b", error_rate=0.0)
        self.run_jobs(max_seconds=60)
        self.assert_stores_right()

    # ------------------------------------------------------------ reconciliation
    def test_reconciliation_repairs_drift(self):
        line = self.line_of(self.shop_store, self.tee)
        self.shopify_retailer.graphql(
            """mutation($input: InventorySetQuantitiesInput!) {
                 inventorySetQuantities(input: $input) @idempotent(key: "retailer-fix-1") { userErrors { message } } }""",
            input={"name": "available", "reason": "correction", "quantities": [{
                "inventoryItemId": line.remote_inventory_item_id, "locationId": self.shop_store.remote_location_id,
                "quantity": 99, "changeFromQuantity": None}]},
        )
        self.assertEqual(self.in_store(self.shop_store, self.tee), 99)
        self.shop_store._seller_job_reconcile()
        self.assert_stores_right()
        event = self.env["seller.sync.event"].search([("kind", "=", "reconcile"), ("store_id", "=", self.shop_store.id)])
        self.assertIn("off by %d" % (99 - self.expected(self.shop_store, self.tee)), event.message)

    def test_sync_log_has_lag(self):
        self.make_picking("in", {self.mug: 1})
        self.push_stock()
        events = self.env["seller.sync.event"].search([("kind", "=", "stock")], limit=2)
        self.assertTrue(events)
        self.assertTrue(all(e.lag_seconds >= 0 and e.count >= 1 for e in events))
