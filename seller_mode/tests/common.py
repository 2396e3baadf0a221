import time

from odoo import Command, fields
from odoo.tests import HttpCase, TransactionCase


class SellerModeCase(TransactionCase):
    """Products, a warehouse, a retailer with a store: what most tests need."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer_location = cls.env.ref("stock.stock_location_customers")
        cls.supplier_location = cls.env.ref("stock.stock_location_suppliers")
        cls.categ_apparel = cls.env["product.category"].create({"name": "Apparel (test)"})
        cls.categ_home = cls.env["product.category"].create({"name": "Home (test)"})
        cls.retailer = cls.env["res.partner"].create({
            "name": "Retailer Test", "is_company": True, "street": "1 Shop Street", "city": "Lyon", "zip": "69001",
            "country_id": cls.env.ref("base.fr").id,
        })
        cls.pricelist = cls.env["product.pricelist"].create(
            {
                "name": "Wholesale 50 %",
                "currency_id": cls.company.currency_id.id,
                "item_ids": [Command.create({"applied_on": "3_global", "compute_price": "percentage", "percent_price": 50})],
            }
        )
        cls.store = cls.env["seller.store"].create(
            {
                "name": "Test Store",
                "partner_id": cls.retailer.id,
                "platform": "shopify",
                "url": "https://test-store.myshopify.com",
                "pricelist_id": cls.pricelist.id,
                "location_ids": [Command.set(cls.stock_location.ids)],
                "stock_share_percent": 100,
                "stock_buffer": 0,
                "stock_max": 0,
            }
        )

    @classmethod
    def make_product(cls, name, price=100.0, categ=None, storable=True, **vals):
        return cls.env["product.product"].create(
            {
                "name": name,
                "list_price": price,
                "is_storable": storable,
                "type": "consu",
                "categ_id": (categ or cls.categ_apparel).id,
                **vals,
            }
        )

    @classmethod
    def set_stock(cls, product, qty, location=None):
        cls.env["stock.quant"]._update_available_quantity(product, location or cls.stock_location, quantity=qty)

    def make_picking(self, kind, lines, validate=True):
        """A receipt ('in') or a delivery ('out') of {product: qty}."""
        picking_type = self.warehouse.in_type_id if kind == "in" else self.warehouse.out_type_id
        source, dest = (
            (self.supplier_location, self.stock_location) if kind == "in" else (self.stock_location, self.customer_location)
        )
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "location_id": source.id,
                            "location_dest_id": dest.id,
                        }
                    )
                    for product, qty in lines.items()
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        if validate:
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.button_validate()
        return picking

    @classmethod
    def share(cls, store, *products, **vals):
        return cls.env["seller.share"].create(
            [{"store_id": store.id, "product_tmpl_id": t.id, **vals} for t in {p.product_tmpl_id for p in products}]
        )


class StoreCase(HttpCase, SellerModeCase):
    """Real Odoo against emulated stores over HTTP: one Shopify shop and one
    WooCommerce site, connected. Jobs run in the test thread, one by one,
    as the job runner would run them."""

    shopify_plan = "plus"  # a big cost bucket: tests that need throttling make their own shop

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from emulators.shopify import ShopifyEmulator
        from emulators.woocommerce import WooCommerceEmulator

        cls.shopify = ShopifyEmulator(api_key="sm-test-app", api_secret="sm-test-secret").start()
        cls.addClassCleanup(cls.shopify.stop)
        cls.woo = WooCommerceEmulator().start()
        cls.addClassCleanup(cls.woo.stop)
        cls.shop_token = cls.shopify.add_shop("retailer-a", plan=cls.shopify_plan)
        cls.woo_key, cls.woo_secret = cls.woo.add_site("retailer-b")
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("seller_mode.shopify_api_key", "sm-test-app")
        params.set_param("seller_mode.shopify_api_secret", "sm-test-secret")
        params.set_param("seller_mode.callback_base_url", cls.base_url())
        cls.shop_store = cls.store
        cls.shop_store.sudo().write({"url": cls.shopify.shop_url("retailer-a"), "access_token": cls.shop_token})
        cls.woo_store = cls.env["seller.store"].create({
            "name": "Woo Store",
            "partner_id": cls.retailer.id,
            "platform": "woocommerce",
            "url": cls.woo.site_url("retailer-b"),
            "pricelist_id": cls.pricelist.id,
            "location_ids": [Command.set(cls.stock_location.ids)],
        })
        cls.woo_store.sudo().write({"consumer_key": cls.woo_key, "consumer_secret": cls.woo_secret})

    def setUp(self):
        super().setUp()
        # Each test starts with empty stores (the database is rolled back too).
        for tenant, emulator in (("retailer-a", self.shopify), ("retailer-b", self.woo)):
            emulator.reset()
            emulator.set_faults(tenant, latency_model=False)
        # Odoo's test server only serves requests while the test waits for
        # them (wait_for): a short delay lets webhooks arrive then.
        self.woo.set_webhook_delay("retailer-b", 0.3)

    def wait_for(self, condition, timeout=15, what="condition"):
        """Let the stores' webhooks in until ``condition()`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Requests use the test transaction: the test thread writes what
            # it holds, then keeps off it meanwhile.
            self.env.flush_all()
            with self.allow_requests(all_requests=True):
                time.sleep(0.5)
            self.env.invalidate_all()
            if condition():
                return
        self.fail("timed out waiting for %s" % what)

    def run_jobs(self, max_seconds=60):
        """Run every pending job, including the ones they enqueue, until none
        is left; a job asking to be retried runs again once its delay is over."""
        from odoo.addons.queue_job.exception import RetryableJobError
        from odoo.addons.queue_job.job import Job

        deadline = time.monotonic() + max_seconds
        results = []
        while time.monotonic() < deadline:
            record = self.env["queue.job"].search([("state", "in", ("pending", "enqueued"))], order="eta, id", limit=1)
            if not record:
                return results
            if record.eta and record.eta > fields.Datetime.now():
                time.sleep(min((record.eta - fields.Datetime.now()).total_seconds(), 1.0))
                continue
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()  # as the runner does: a job enqueued meanwhile is not absorbed by this one
            try:
                result = job.perform()
            except RetryableJobError as exc:
                job.postpone(result=str(exc), seconds=exc.seconds)
                job.set_pending(reset_retry=False)
                job.store()
                results.append(("retry", str(exc)))
                continue
            job.set_done(result=result)
            job.store()
            results.append(("done", result))
        raise AssertionError("jobs still pending after %s s: %s" % (max_seconds, results[-5:]))

    def connect(self, *stores):
        for store in stores or (self.shop_store, self.woo_store):
            store.action_connect()
        self.run_jobs()
        for store in stores or (self.shop_store, self.woo_store):
            self.assertEqual(store.state, "connected", store.state_message)
