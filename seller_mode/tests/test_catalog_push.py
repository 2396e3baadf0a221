from odoo import Command
from odoo.tests import tagged

from .common import StoreCase
from .retailer import ShopifyRetailer, WooRetailer

MUG_NAME = 'Crème "Brûlée" Mug, 350 ml'


@tagged("post_install", "-at_install")
class TestCatalogPush(StoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mug = cls.make_product(MUG_NAME, price=18.0, default_code="123456789012", barcode="5901234123457",
                                   weight=0.4, description_sale="Stoneware, dishwasher safe")
        cls.mug.product_tmpl_id.seller_map_price = 14.0
        cls.size = cls.env["product.attribute"].create({"name": "Size"})
        cls.colour = cls.env["product.attribute"].create({"name": "Colour"})
        cls.sizes = cls.env["product.attribute.value"].create(
            [{"name": n, "attribute_id": cls.size.id} for n in ("S", "M", "L")])
        cls.colours = cls.env["product.attribute.value"].create(
            [{"name": n, "attribute_id": cls.colour.id} for n in ("Red", "Blue")])
        cls.tee = cls.env["product.template"].create({
            "name": "Organic Tee", "list_price": 30.0, "is_storable": True, "categ_id": cls.categ_apparel.id,
            "attribute_line_ids": [
                Command.create({"attribute_id": cls.size.id, "value_ids": [Command.set(cls.sizes[:2].ids)]}),
                Command.create({"attribute_id": cls.colour.id, "value_ids": [Command.set(cls.colours.ids)]}),
            ],
        })
        for index, variant in enumerate(cls.tee.product_variant_ids):
            variant.default_code = "TEE-%d" % index
        cls.shopify_retailer = ShopifyRetailer(cls.shopify, "retailer-a", cls.shop_token)
        cls.woo_retailer = WooRetailer(cls.woo, "retailer-b", cls.woo_key, cls.woo_secret)

    def setUp(self):
        super().setUp()
        self.connect()
        self.shares = self.share(self.shop_store, self.mug, self.tee.product_variant_ids[0]) | self.share(
            self.woo_store, self.mug, self.tee.product_variant_ids[0])
        self.run_jobs()

    def shopify_product(self, sku):
        found = [p for p in self.shopify_retailer.products() if sku in [v["sku"] for v in p["variants"]["nodes"]]]
        self.assertEqual(len(found), 1, "exactly one product with %s in the shop" % sku)
        return found[0]

    def woo_product(self, sku):
        found = [p for p in self.woo_retailer.products()
                 if p["sku"] == sku or sku in [v["sku"] for v in self.woo_retailer.variations(p["id"])]]
        self.assertEqual(len(found), 1, "exactly one product with %s in the site" % sku)
        return found[0]

    def test_connect_prepares_the_stores(self):
        shop = self.shopify.state_snapshot("retailer-a")
        self.assertEqual(len(shop["fulfillmentServices"]), 1)
        self.assertTrue(self.shop_store.remote_location_id)
        self.assertEqual(self.shop_store.shop_domain, "retailer-a.myshopify.com")
        self.assertTrue(shop["webhooks"])
        self.assertTrue(self.woo.state_snapshot("retailer-b")["webhooks"])
        self.connect()  # twice: nothing doubled
        self.assertEqual(len(self.shopify.state_snapshot("retailer-a")["fulfillmentServices"]), 1)
        self.assertEqual(len(self.shopify.state_snapshot("retailer-a")["webhooks"]), len(shop["webhooks"]))

    def test_products_arrive_complete_on_shopify(self):
        mug = self.shopify_product("123456789012")
        self.assertEqual(mug["title"], MUG_NAME)
        variant = mug["variants"]["nodes"][0]
        self.assertIsInstance(variant["sku"], str)
        self.assertEqual(variant["barcode"], "5901234123457")
        self.assertEqual(float(variant["price"]), 18.0)  # retail = list price
        self.assertEqual(float(variant["inventoryItem"]["unitCost"]["amount"]), 9.0)  # 50 % wholesale
        self.assertEqual(mug["vendor"], self.company.name)
        self.assertIn("Stoneware", mug["descriptionHtml"])
        self.assertEqual({m["key"]: m["value"] for m in mug["metafields"]["nodes"]}.get("map"), "14.00")
        tee = self.shopify_product("TEE-0")
        self.assertEqual([o["name"] for o in tee["options"]], ["Size", "Colour"])
        self.assertEqual(sorted(v["sku"] for v in tee["variants"]["nodes"]), ["TEE-0", "TEE-1", "TEE-2", "TEE-3"])
        self.assertTrue(all(s.state == "synced" for s in self.shares), self.shares.mapped("error_message"))

    def test_products_arrive_complete_on_woocommerce(self):
        mug = self.woo_product("123456789012")
        self.assertEqual(mug["name"], MUG_NAME)
        self.assertEqual(mug["sku"], "123456789012")
        self.assertEqual(mug["regular_price"], "18.00")
        tee = self.woo_product("TEE-0")
        self.assertEqual(tee["type"], "variable")
        variations = self.woo_retailer.variations(tee["id"])
        self.assertEqual(sorted(v["sku"] for v in variations), ["TEE-0", "TEE-1", "TEE-2", "TEE-3"])
        self.assertTrue(all(v["regular_price"] == "30.00" for v in variations))

    def test_changes_propagate(self):
        self.mug.list_price = 20.0
        new_value = self.env["product.attribute.value"].create({"name": "XL", "attribute_id": self.size.id})
        self.tee.attribute_line_ids.filtered(lambda l: l.attribute_id == self.size).value_ids = [Command.link(new_value.id)]
        for variant in self.tee.product_variant_ids.filtered(lambda v: not v.default_code):
            variant.default_code = "TEE-XL-%s" % variant.id
        archived = self.tee.product_variant_ids.filtered(lambda v: v.default_code == "TEE-1")
        archived.active = False
        self.run_jobs()
        self.assertEqual(float(self.shopify_product("123456789012")["variants"]["nodes"][0]["price"]), 20.0)
        self.assertEqual(self.woo_product("123456789012")["regular_price"], "20.00")
        skus = sorted(v["sku"] for v in self.shopify_product("TEE-0")["variants"]["nodes"])
        self.assertEqual(len(skus), 5)  # 4 - 1 archived + 2 new
        self.assertNotIn("TEE-1", skus)
        woo_skus = [v["sku"] for v in self.woo_retailer.variations(self.woo_product("TEE-0")["id"])]
        self.assertNotIn("TEE-1", woo_skus)
        self.assertEqual(len(woo_skus), 5)

    def test_pricelist_rule_and_map_changes_propagate(self):
        self.pricelist.item_ids.percent_price = 40
        self.run_jobs()
        variant = self.shopify_product("123456789012")["variants"]["nodes"][0]
        self.assertAlmostEqual(float(variant["inventoryItem"]["unitCost"]["amount"]), 18.0 * 0.6)
        self.mug.product_tmpl_id.seller_map_price = 19.5  # above list price: retail lifted to MAP
        self.run_jobs()
        self.assertEqual(float(self.shopify_product("123456789012")["variants"]["nodes"][0]["price"]), 19.5)

    def test_archiving_and_unsharing_set_draft(self):
        self.mug.product_tmpl_id.active = False
        mug_share = self.shares.filtered(lambda s: s.store_id == self.woo_store and s.product_tmpl_id == self.mug.product_tmpl_id)
        tee_share = self.shares.filtered(lambda s: s.store_id == self.shop_store and s.product_tmpl_id == self.tee)
        tee_share.action_stop_sharing()
        self.run_jobs()
        self.assertEqual(self.shopify_product("TEE-0")["status"], "DRAFT")
        self.assertEqual(self.shopify_product("123456789012")["status"], "DRAFT")
        self.assertEqual(self.woo_product("123456789012")["status"], "draft")
        self.assertEqual(mug_share.state, "removed")

    def test_retailer_edits_survive(self):
        mug = self.shopify_product("123456789012")
        self.shopify_retailer.set_title(mug["id"], "Our favourite mug")
        woo_mug = self.woo_product("123456789012")
        self.woo_retailer.update_product(woo_mug["id"], name="Mug (house pick)")
        self.mug.write({"list_price": 22.0, "name": "Supplier renamed mug"})
        self.run_jobs()
        mug = self.shopify_product("123456789012")
        self.assertEqual(mug["title"], "Our favourite mug")
        self.assertEqual(float(mug["variants"]["nodes"][0]["price"]), 22.0)
        woo_mug = self.woo_product("123456789012")
        self.assertEqual(woo_mug["name"], "Mug (house pick)")
        self.assertEqual(woo_mug["regular_price"], "22.00")
        # A store that keeps content in sync gets the supplier's title.
        self.shop_store.content_policy = "keep_in_sync"
        self.run_jobs()
        self.assertEqual(self.shopify_product("123456789012")["title"], "Supplier renamed mug")

    def test_four_options_give_a_clear_error_and_block_nothing(self):
        attributes = self.env["product.attribute"].create([{"name": "Opt %d" % i} for i in range(4)])
        lines = []
        for attribute in attributes:
            values = self.env["product.attribute.value"].create(
                [{"name": "%s-%s" % (attribute.name, v), "attribute_id": attribute.id} for v in "ab"])
            lines.append(Command.create({"attribute_id": attribute.id, "value_ids": [Command.set(values.ids)]}))
        big = self.env["product.template"].create({"name": "Too many options", "attribute_line_ids": lines,
                                                   "is_storable": True})
        for variant in big.product_variant_ids:
            variant.default_code = "BIG-%d" % variant.id
        other = self.make_product("Plain product", default_code="PLAIN-1")
        shares = self.share(self.shop_store, big.product_variant_ids[0], other)
        self.run_jobs()
        big_share = shares.filtered(lambda s: s.product_tmpl_id == big)
        self.assertEqual(big_share.state, "error")
        self.assertIn("3", big_share.error_message)
        self.assertEqual((shares - big_share).state, "synced")
        self.shopify_product("PLAIN-1")

    def test_rerun_after_lost_remote_ids_creates_no_duplicate(self):
        shares = self.shares
        shares.sudo().write({"remote_product_id": False})
        shares.with_context(active_test=False).variant_ids.sudo().write(
            {"remote_variant_id": False, "remote_inventory_item_id": False})
        shares._seller_mark_dirty()
        self.run_jobs()
        self.shopify_product("123456789012")
        self.shopify_product("TEE-0")
        self.woo_product("123456789012")
        self.woo_product("TEE-0")
        self.assertEqual(len(self.shopify_retailer.products()), 2)
        self.assertEqual(len(self.woo_retailer.products()), 2)

    def test_sync_log_records_pushes(self):
        events = self.env["seller.sync.event"].search([("kind", "=", "catalog")])
        self.assertEqual(set(events.store_id.ids), {self.shop_store.id, self.woo_store.id})
        self.assertTrue(all(e.result == "ok" for e in events), events.mapped("message"))
        self.assertEqual(sum(events.mapped("count")), 4)

    def test_revoked_token_puts_the_store_in_error_without_retry_storm(self):
        self.shopify.set_faults("retailer-a", token_revoked=True)
        self.mug.list_price = 25.0
        results = self.run_jobs()
        self.assertEqual(self.shop_store.state, "error")
        self.assertIn("credentials", self.shop_store.state_message)
        self.assertTrue(self.shop_store.activity_ids)
        self.assertFalse([r for r in results if r[0] == "retry"])
        self.mug.list_price = 26.0
        self.run_jobs()
        catalog_jobs = self.env["queue.job"].search([("method_name", "=", "_seller_job_push_catalog")])
        self.assertFalse(catalog_jobs.filtered(lambda j: j.state not in ("done",)))

    # ------------------------------------------------------------ MAP in the store
    def test_price_below_map_in_woocommerce_is_restored(self):
        woo_mug = self.woo_product("123456789012")
        rule = self.woo_store._seller_prices(self.mug)[self.mug.id]
        self.woo_retailer.update_product(woo_mug["id"], regular_price="9.99")
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count([("topic", "=", "product_updated")]),
                      what="the product webhook")
        self.run_jobs()
        self.assertEqual(float(self.woo_product("123456789012")["regular_price"]), rule["retail_min"])
        self.assertTrue(self.env["seller.sync.event"].search([("kind", "=", "price"), ("store_id", "=", self.woo_store.id)]))
        # A price inside the range is the retailer's to keep.
        kept = round((rule["retail_min"] + rule["retail_max"]) / 2, 2)
        self.woo_retailer.update_product(woo_mug["id"], regular_price="%.2f" % kept)
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count(
            [("topic", "=", "product_updated"), ("state", "=", "pending")]), what="the second webhook")
        self.run_jobs()
        self.assertEqual(float(self.woo_product("123456789012")["regular_price"]), kept)

    def test_price_below_map_in_shopify_is_restored_and_echoes_cost_nothing(self):
        mug = self.shopify_product("123456789012")
        variant = mug["variants"]["nodes"][0]
        rule = self.shop_store._seller_prices(self.mug)[self.mug.id]
        self.shopify_retailer.graphql(
            """mutation($input: ProductSetInput!, $id: ProductSetIdentifiers) {
                 productSet(input: $input, identifier: $id, synchronous: true) { userErrors { message } } }""",
            id={"id": mug["id"]},
            input={"productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
                   "variants": [{"id": variant["id"], "price": "5.00",
                                 "optionValues": [{"optionName": "Title", "name": "Default Title"}]}]},
        )
        self.wait_for(lambda: self.env["seller.webhook.event"].search_count(
            [("topic", "=", "product_updated"), ("remote_id", "=", mug["id"])]), what="the product webhook")
        self.run_jobs()
        price = float(self.shopify_product("123456789012")["variants"]["nodes"][0]["price"])
        self.assertEqual(price, rule["retail_min"])
        # Our own write comes back as a webhook: answered, recognised, no work queued.
        events = self.env["seller.webhook.event"].search_count([])
        delivered = len(self.delivered_webhooks())
        self.wait_for(lambda: len(self.delivered_webhooks()) > delivered, what="the echo")
        self.assertEqual(self.env["seller.webhook.event"].search_count([]), events)
        self.assertFalse(self.env["queue.job"].search([("state", "=", "pending")]))

    def delivered_webhooks(self):
        return [r for r in self.shopify.log.rows(tenant="retailer-a", kind="webhook_delivery")
                if r["value"]["status"] == 200]

    # ------------------------------------------------------------ volume
    def test_woocommerce_pushes_over_100_products_in_batches(self):
        products = self.env["product.product"].create([
            {"name": "Bulk %03d" % i, "default_code": "BULK-%03d" % i, "list_price": 10 + i, "is_storable": True}
            for i in range(120)
        ])
        self.share(self.woo_store, *products)
        self.run_jobs()
        skus = {p["sku"] for page in (1, 2) for p in self.woo_retailer.api.get(
            "products", params={"per_page": 100, "page": page}).json()}
        self.assertTrue({"BULK-%03d" % i for i in range(120)} <= skus)
        batches = self.woo.log.rows(tenant="retailer-b", kind="product_create")
        self.assertEqual(len(batches), 122)  # two demo products + 120 bulk ones, each once
        events = self.env["seller.sync.event"].search([("kind", "=", "catalog"), ("store_id", "=", self.woo_store.id)])
        self.assertGreaterEqual(len(events), 2)  # 100 per job at most
        self.assertTrue(all(e.count <= 100 for e in events))

    def test_shopify_small_bucket_never_throttles_a_job(self):
        self.shopify.set_faults("retailer-a", throttle_next=3)
        products = self.env["product.product"].create([
            {"name": "Paced %02d" % i, "default_code": "PACED-%02d" % i, "list_price": 20, "is_storable": True}
            for i in range(40)
        ])
        self.share(self.shop_store, *products)
        results = self.run_jobs(max_seconds=120)
        self.assertFalse([r for r in results if r[0] == "retry"], results)
        shares = self.env["seller.share"].search([("store_id", "=", self.shop_store.id)])
        self.assertEqual(set(shares.mapped("state")), {"synced"})
        errors = self.env["seller.sync.event"].search([("result", "!=", "ok")])
        self.assertFalse(errors, errors.mapped("message"))
