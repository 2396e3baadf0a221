import json
import time

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .common import StoreCase
from .retailer import WOO_SHIPPING, ShopifyRetailer, WooRetailer, shopify_place_order

FULFILLMENT_ORDERS = """
query($id: ID!) { order(id: $id) { id displayFulfillmentStatus cancelledAt
  fulfillments(first: 10) { trackingInfo { company number url } }
  fulfillmentOrders(first: 10) { nodes { id status requestStatus } } } }
"""


@tagged("post_install", "-at_install")
class TestOrders(StoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mug = cls.make_product("Mug, «Crème»", price=20.0, default_code="123456789012")
        cls.tee = cls.make_product("Tee", price=30.0, default_code="TEE-1")
        cls.set_stock(cls.mug, 50)
        cls.set_stock(cls.tee, 50)
        cls.carrier_product = cls.env["product.product"].create({"name": "Shipping", "type": "service"})
        cls.carrier = cls.env["delivery.carrier"].create({
            "name": "ParcelCo", "product_id": cls.carrier_product.id,
            "tracking_url": "https://track.parcel.example/<shipmenttrackingnumber>",
        })
        cls.shopify_retailer = ShopifyRetailer(cls.shopify, "retailer-a", cls.shop_token)
        cls.woo_retailer = WooRetailer(cls.woo, "retailer-b", cls.woo_key, cls.woo_secret)

    def setUp(self):
        super().setUp()
        self.connect()
        self.share(self.shop_store, self.mug, self.tee)
        self.share(self.woo_store, self.mug, self.tee)
        self.run_jobs()

    # ------------------------------------------------------------ helpers
    def line_of(self, store, product):
        return self.env["seller.share.variant"].search([("store_id", "=", store.id), ("product_id", "=", product.id)])

    def orders_of(self, store):
        return self.env["sale.order"].search([("seller_store_id", "=", store.id)])

    def ship(self, order, quantities=None, tracking="TRACK-1"):
        picking = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = (quantities or {}).get(move.product_id, move.product_uom_qty)
        result = picking.button_validate()
        if isinstance(result, dict) and result.get("res_model") == "stock.backorder.confirmation":
            wizard = self.env["stock.backorder.confirmation"].with_context(result["context"]).create({})
            wizard.process()
        return picking

    def shopify_order_state(self, gid):
        return self.shopify_retailer.graphql(FULFILLMENT_ORDERS, id=gid)["order"]

    def woo_order(self, order_id):
        return self.woo_retailer.api.get("orders/%s" % order_id).json()

    def woo_notes(self, order_id):
        return self.woo_retailer.api.get("orders/%s/notes" % order_id).json()

    # ------------------------------------------------------------ Shopify
    def test_shopify_order_to_tracking(self):
        mug_line = self.line_of(self.shop_store, self.mug)
        placed = shopify_place_order(self.shopify_retailer, [(mug_line.remote_variant_id, 2)])
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count([]) > 0, what="the webhook")
        self.run_jobs()
        order = self.orders_of(self.shop_store)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.partner_id, self.retailer)
        self.assertEqual(order.client_order_ref, placed["name"])
        self.assertEqual(order.partner_shipping_id.parent_id, self.retailer)
        self.assertEqual(order.partner_shipping_id.city, "Paris")
        self.assertEqual(order.order_line.price_unit, 10.0)  # wholesale: 50 % off 20
        self.assertEqual(order.order_line.product_uom_qty, 2)
        requests = {fo["requestStatus"] for fo in self.shopify_order_state(placed["id"])["fulfillmentOrders"]["nodes"]}
        self.assertEqual(requests, {"ACCEPTED"})
        self.ship(order, tracking="1Z999")
        self.run_jobs()
        state = self.shopify_order_state(placed["id"])
        self.assertEqual(state["fulfillments"][0]["trackingInfo"][0]["number"], "1Z999")
        self.assertIn("1Z999", state["fulfillments"][0]["trackingInfo"][0]["url"])
        fulfillments = self.shopify.state_snapshot("retailer-a")["fulfillments"]
        self.assertTrue(fulfillments and all(f["notifyCustomer"] for f in fulfillments))
        self.assertEqual(order.picking_ids.seller_tracking_state, "sent")
        event = self.env["seller.sync.event"].search([("kind", "=", "order"), ("store_id", "=", self.shop_store.id)])
        self.assertEqual(len(event), 1)

    def test_shopify_order_accepted_by_an_import_that_rolled_back_is_imported(self):
        mug_line = self.line_of(self.shop_store, self.mug)
        placed = shopify_place_order(self.shopify_retailer, [(mug_line.remote_variant_id, 1)])
        remote_id = placed["id"]
        adapter = self.shop_store._seller_adapter()
        # An import accepted the request, then its transaction failed to commit.
        adapter.accept(adapter.fetch_order(remote_id))
        self.assertEqual(adapter.fetch_order(remote_id).status, "accepted")
        result = self.shop_store._seller_job_import_order(remote_id)
        order = self.orders_of(self.shop_store)
        self.assertEqual(len(order), 1, result)
        self.assertEqual(order.state, "sale")
        self.assertIn("already imported", self.shop_store._seller_job_import_order(remote_id))

    def test_shopify_partial_shipment_then_backorder(self):
        placed = shopify_place_order(self.shopify_retailer, [
            (self.line_of(self.shop_store, self.mug).remote_variant_id, 3),
            (self.line_of(self.shop_store, self.tee).remote_variant_id, 1),
        ])
        self.shop_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.shop_store)
        self.ship(order, {self.mug: 1, self.tee: 1}, tracking="PART-1")
        self.run_jobs()
        self.ship(order, tracking="PART-2")
        self.run_jobs()
        state = self.shopify_order_state(placed["id"])
        numbers = sorted(t["number"] for f in state["fulfillments"] for t in f["trackingInfo"])
        self.assertEqual(numbers, ["PART-1", "PART-2"])
        self.assertEqual(state["displayFulfillmentStatus"], "FULFILLED")

    def test_duplicate_webhook_and_poller_make_one_order(self):
        self.shopify.set_faults("retailer-a", webhook_duplicate_rate=1.0)
        shopify_place_order(self.shopify_retailer, [(self.line_of(self.shop_store, self.mug).remote_variant_id, 1)])
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count([]) > 0, what="the webhook")
        time.sleep(0.5)  # the duplicate delivery
        self.shop_store._seller_enqueue_poll()
        self.run_jobs()
        self.shop_store._seller_enqueue_poll()
        self.run_jobs()
        self.assertEqual(len(self.orders_of(self.shop_store)), 1)

    def test_dropped_webhook_is_found_by_the_poller(self):
        self.shopify.set_faults("retailer-a", webhook_drop_rate=1.0)
        shopify_place_order(self.shopify_retailer, [(self.line_of(self.shop_store, self.tee).remote_variant_id, 1)])
        time.sleep(0.3)
        self.assertFalse(self.env["seller.webhook.event"].search([]))
        self.env["seller.store"]._cron_poll_orders()
        self.run_jobs()
        self.assertEqual(self.orders_of(self.shop_store).state, "sale")

    def test_shopify_cancellation_before_shipping(self):
        placed = shopify_place_order(self.shopify_retailer, [(self.line_of(self.shop_store, self.mug).remote_variant_id, 1)])
        self.shop_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.shop_store)
        self.assertEqual(order.state, "sale")
        cancel = """mutation($id: ID!) { orderCancel(orderId: $id, restock: true, reason: CUSTOMER, refund: false) {
                    orderCancelUserErrors { message } } }"""
        answer = self.shopify_retailer.graphql(cancel, id=placed["id"])
        self.assertFalse(answer["orderCancel"]["orderCancelUserErrors"])
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count(
            [("topic", "in", ("order_cancelled", "cancellation_request"))]) > 0, what="the cancellation webhook")
        self.run_jobs()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.picking_ids.state, "cancel")

    # ------------------------------------------------------------ WooCommerce
    def woo_place(self, lines, status="processing", shipping=None):
        return self.woo.place_order("retailer-b", line_items=lines, shipping=shipping or WOO_SHIPPING, status=status)

    def woo_line(self, product):
        line = self.line_of(self.woo_store, product)
        return {"product_id": int(line.share_id.remote_product_id), "quantity": 1}

    def test_woocommerce_order_to_completion(self):
        placed = self.woo_place([dict(self.woo_line(self.mug), quantity=2)])
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count([("topic", "=", "order")]) > 0,
                      what="the order webhook")
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.price_unit, 10.0)
        self.ship(order, tracking="WOO-77")
        self.run_jobs()
        notes = self.woo_notes(placed["id"])
        customer_notes = [n for n in notes if n["customer_note"]]
        self.assertTrue(any("WOO-77" in n["note"] for n in customer_notes), notes)
        self.assertEqual(self.woo_order(placed["id"])["status"], "completed")

    def test_woocommerce_mixed_order_takes_only_our_lines(self):
        theirs = self.woo_retailer.api.post("products", {"name": "Retailer's own candle", "regular_price": "9.00",
                                                         "sku": "OWN-1"}).json()
        self.woo_place([self.woo_line(self.tee), {"product_id": theirs["id"], "quantity": 4}])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        self.assertEqual(order.order_line.product_id, self.tee)
        self.assertFalse(order.seller_exception)

    def test_woocommerce_cancelled_in_store(self):
        placed = self.woo_place([self.woo_line(self.mug)])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        self.woo_retailer.api.put("orders/%s" % placed["id"], {"status": "cancelled"})
        self.woo_store._seller_enqueue_poll()
        time.sleep(0.3)
        self.run_jobs()
        self.assertEqual(self.orders_of(self.woo_store).state, "cancel")

    def test_woocommerce_cancelled_after_shipping_is_flagged(self):
        placed = self.woo_place([self.woo_line(self.mug)])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        self.ship(order)
        self.run_jobs()
        self.woo_retailer.api.put("orders/%s" % placed["id"], {"status": "cancelled"})
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.activity_ids)
        self.assertIn("after it shipped", order.activity_ids.note)

    def test_supplier_cancel_tells_the_store(self):
        placed = self.woo_place([self.woo_line(self.mug)])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        order._action_cancel()
        self.run_jobs()
        self.assertEqual(self.woo_order(placed["id"])["status"], "cancelled")

    # ------------------------------------------------------------ bad input
    def test_unknown_sku_is_kept_flagged_and_processed_again(self):
        stranger = self.make_product("Not shared yet", price=40.0, default_code="LATER-1")
        self.set_stock(stranger, 10)
        self.share(self.woo_store, stranger)
        self.run_jobs()
        stranger_line = self.line_of(self.woo_store, stranger)
        stranger_line.share_id._seller_unshare()
        self.run_jobs()
        self.woo_place([self.woo_line(self.mug), {"product_id": int(stranger_line.share_id.remote_product_id),
                                                 "quantity": 1}])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        self.assertEqual(order.state, "draft")
        self.assertIn("LATER-1", order.seller_exception)
        self.assertTrue(order.activity_ids)
        self.assertTrue(json.loads(order.seller_payload))
        stranger_line.share_id._seller_reshare()
        order.action_seller_process_again()
        self.run_jobs()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.seller_exception)
        self.assertEqual(set(order.order_line.product_id.ids), {self.mug.id, stranger.id})

    def test_missing_address_is_flagged(self):
        self.woo_place([self.woo_line(self.mug)], shipping={"first_name": "", "address_1": ""})
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        order = self.orders_of(self.woo_store)
        self.assertEqual(order.state, "draft")
        self.assertIn("address", order.seller_exception)

    def test_forged_and_malformed_webhooks(self):
        body = json.dumps({"id": 1}).encode()
        forged = self.url_open("/seller_mode/webhook/shopify", data=body, headers={
            "X-Shopify-Shop-Domain": "retailer-a.myshopify.com", "X-Shopify-Hmac-Sha256": "AAAA",
            "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1", "Content-Type": "application/json"})
        self.assertEqual(forged.status_code, 401)
        import base64
        import hashlib
        import hmac

        bad = b"{not json"
        signature = base64.b64encode(hmac.new(b"sm-test-secret", bad, hashlib.sha256).digest()).decode()
        malformed = self.url_open("/seller_mode/webhook/shopify", data=bad, headers={
            "X-Shopify-Shop-Domain": "retailer-a.myshopify.com", "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-2", "Content-Type": "application/json"})
        self.assertEqual(malformed.status_code, 400)
        self.assertFalse(self.env["seller.webhook.event"].search([]))

    # ------------------------------------------------------------ blind shipping
    def test_blind_delivery_slip(self):
        self.woo_place([self.woo_line(self.mug)])
        self.woo_store._seller_enqueue_poll()
        self.run_jobs()
        picking = self.orders_of(self.woo_store).picking_ids
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("stock.action_report_delivery", picking.ids)
        html = html.decode() if isinstance(html, bytes) else html
        self.assertIn(self.retailer.name, html)
        self.assertIn("Paris", html)
        self.assertNotIn(self.company.name, html)
        self.assertNotIn("20.00", html)  # no prices

    def test_a_rate_limit_spends_no_retry_a_fault_does(self):
        self.shopify.set_faults("retailer-a", throttle_next=4)  # every attempt the adapter makes
        with self.assertRaises(RetryableJobError) as caught:
            self.shop_store._seller_job_poll_orders()
        self.assertTrue(caught.exception.ignore_retry)
        self.shopify.set_faults("retailer-a", throttle_next=0, error_rate=1.0)
        with self.assertRaises(RetryableJobError) as caught:
            self.shop_store._seller_job_poll_orders()
        self.assertFalse(caught.exception.ignore_retry)
        self.shopify.set_faults("retailer-a", error_rate=0.0)
        self.assertIn("queued", self.shop_store._seller_job_poll_orders())
