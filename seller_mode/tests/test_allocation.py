import math

from odoo.tests import tagged

from .common import SellerModeCase


@tagged("post_install", "-at_install")
class TestAllocation(SellerModeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.make_product("Tee")

    def qty(self, product=None):
        product = product or self.product
        return self.store._seller_available_qty(product).get(product.id)

    def test_percent_rounds_down(self):
        self.set_stock(self.product, 9)
        for percent in (100, 55, 50, 33.3, 10, 0):
            self.store.stock_share_percent = percent
            self.assertEqual(self.qty(), math.floor(9 * percent / 100), percent)

    def test_buffer_and_maximum(self):
        self.set_stock(self.product, 40)
        self.store.write({"stock_share_percent": 50, "stock_buffer": 3})
        self.assertEqual(self.qty(), 20 - 3)
        self.store.stock_max = 10
        self.assertEqual(self.qty(), 10)
        self.store.write({"stock_buffer": 25, "stock_max": 0})
        self.assertEqual(self.qty(), 0)  # buffer larger than the share: never negative

    def test_reserved_stock_is_excluded(self):
        self.set_stock(self.product, 10)
        self.make_picking("out", {self.product: 4}, validate=False)  # reserved, not shipped
        self.assertEqual(self.product.with_context(location=self.stock_location.id).free_qty, 6)
        self.assertEqual(self.qty(), 6)

    def test_quant_without_quantity(self):
        # Quants from data files may hold only a count to apply, no quantity yet.
        self.set_stock(self.product, 10)
        self.env.flush_all()
        self.env.cr.execute("UPDATE stock_quant SET quantity = NULL WHERE product_id = %s", [self.product.id])
        self.env.invalidate_all()
        self.assertEqual(self.qty(), 0)

    def test_child_locations_are_counted_and_others_are_not(self):
        shelf = self.env["stock.location"].create({"name": "Shelf 1", "location_id": self.stock_location.id})
        elsewhere = self.env["stock.location"].create(
            {"name": "Other site", "usage": "internal", "location_id": self.stock_location.location_id.id}
        )
        self.set_stock(self.product, 5)
        self.set_stock(self.product, 7, location=shelf)
        self.set_stock(self.product, 100, location=elsewhere)
        self.assertEqual(self.qty(), 12)
        self.store.location_ids = elsewhere
        self.assertEqual(self.qty(), 100)

    def test_zero_and_negative_stock_give_zero(self):
        self.assertEqual(self.qty(), 0)
        self.set_stock(self.product, -5)
        self.assertEqual(self.qty(), 0)

    def test_share_overrides_the_maximum(self):
        self.set_stock(self.product, 30)
        self.store.stock_max = 5
        share = self.share(self.store, self.product)
        self.assertEqual(self.qty(), 5)
        share.write({"override_stock_max": True, "stock_max": 12})
        self.assertEqual(self.qty(), 12)
        share.stock_max = 0  # the share lifts the store's cap
        self.assertEqual(self.qty(), 30)

    def test_products_without_stock_tracking(self):
        consumable = self.make_product("Gift wrap", storable=False)
        self.assertNotIn(consumable.id, self.store._seller_available_qty(consumable))
        self.store.write({"untracked_policy": "fixed", "untracked_qty": 25})
        self.assertEqual(self.store._seller_available_qty(consumable)[consumable.id], 25)

    def test_many_products_at_once(self):
        products = self.product | self.make_product("Other")
        self.set_stock(products[0], 3)
        self.set_stock(products[1], 8)
        self.assertEqual(self.store._seller_available_qty(products), {products[0].id: 3, products[1].id: 8})

    def test_invalid_allocation_is_refused(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self.store.stock_share_percent = 120
        with self.assertRaises(ValidationError):
            self.store.stock_buffer = -1
