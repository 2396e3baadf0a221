from odoo import Command
from odoo.tests import tagged

from .common import SellerModeCase


@tagged("post_install", "-at_install")
class TestPrices(SellerModeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shirt = cls.make_product("Shirt", price=80.0)
        cls.mug = cls.make_product("Mug", price=20.0, categ=cls.categ_home)

    def _pricelist(self, items, currency=None):
        return self.env["product.pricelist"].create(
            {
                "name": "PL",
                "currency_id": (currency or self.company.currency_id).id,
                "item_ids": [Command.create(item) for item in items],
            }
        )

    def test_percentage_discounts_40_to_60(self):
        for percent in (40, 50, 60):
            self.store.pricelist_id = self._pricelist(
                [{"applied_on": "3_global", "compute_price": "percentage", "percent_price": percent}]
            )
            prices = self.store._seller_prices(self.shirt | self.mug)
            self.assertAlmostEqual(prices[self.shirt.id]["wholesale"], 80.0 * (100 - percent) / 100)
            self.assertAlmostEqual(prices[self.mug.id]["wholesale"], 20.0 * (100 - percent) / 100)
            self.assertEqual(prices[self.shirt.id]["currency"], self.company.currency_id.name)

    def test_product_rule_beats_category_rule(self):
        self.store.pricelist_id = self._pricelist(
            [
                {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 50},
                {"applied_on": "2_product_category", "categ_id": self.categ_apparel.id,
                 "compute_price": "percentage", "percent_price": 30},
                {"applied_on": "1_product", "product_tmpl_id": self.shirt.product_tmpl_id.id,
                 "compute_price": "fixed", "fixed_price": 33.0},
            ]
        )
        other_shirt = self.make_product("Other shirt", price=50.0)
        prices = self.store._seller_prices(self.shirt | other_shirt | self.mug)
        self.assertAlmostEqual(prices[self.shirt.id]["wholesale"], 33.0)  # product rule
        self.assertAlmostEqual(prices[other_shirt.id]["wholesale"], 50.0 * 0.7)  # category rule
        self.assertAlmostEqual(prices[self.mug.id]["wholesale"], 20.0 * 0.5)  # global rule

    def test_variant_rule_and_formula(self):
        self.store.pricelist_id = self._pricelist(
            [
                {"applied_on": "0_product_variant", "product_id": self.mug.id, "compute_price": "formula",
                 "base": "list_price", "price_discount": 25, "price_surcharge": 1.0},
            ]
        )
        prices = self.store._seller_prices(self.mug | self.shirt)
        self.assertAlmostEqual(prices[self.mug.id]["wholesale"], 20.0 * 0.75 + 1.0)
        self.assertAlmostEqual(prices[self.shirt.id]["wholesale"], 80.0)  # no rule: list price

    def test_retail_defaults_to_list_price_with_range(self):
        self.store.write({"retail_range_down_percent": 10, "retail_range_up_percent": 25})
        price = self.store._seller_prices(self.shirt)[self.shirt.id]
        self.assertAlmostEqual(price["retail"], 80.0)
        self.assertAlmostEqual(price["retail_min"], 72.0)
        self.assertAlmostEqual(price["retail_max"], 100.0)
        self.assertFalse(price["compare_at"])

    def test_map_wins_over_lower_retail(self):
        self.shirt.product_tmpl_id.seller_map_price = 70.0
        self.store.write({
            "retail_pricelist_id": self._pricelist(
                [{"applied_on": "3_global", "compute_price": "percentage", "percent_price": 25}]).id,
            "retail_range_down_percent": 10,
            "retail_range_up_percent": 10,
        })
        price = self.store._seller_prices(self.shirt)[self.shirt.id]
        # Suggested retail 60 is below MAP 70: the floor wins, and the range never drops below it.
        self.assertAlmostEqual(price["map"], 70.0)
        self.assertAlmostEqual(price["retail"], 70.0)
        self.assertAlmostEqual(price["retail_min"], 70.0)
        self.assertAlmostEqual(price["retail_max"], 70.0)  # 60 + 10 % = 66 < MAP: the range closes on MAP
        self.assertAlmostEqual(price["compare_at"], 80.0)  # the retail pricelist discounts the list price

    def test_range_clamps_above_map(self):
        self.shirt.product_tmpl_id.seller_map_price = 65.0
        self.store.write({
            "retail_pricelist_id": self._pricelist(
                [{"applied_on": "3_global", "compute_price": "percentage", "percent_price": 25}]).id,
            "retail_range_down_percent": 20,
            "retail_range_up_percent": 50,
        })
        price = self.store._seller_prices(self.shirt)[self.shirt.id]
        self.assertAlmostEqual(price["retail"], 65.0)  # 60 lifted to MAP
        self.assertAlmostEqual(price["retail_min"], 65.0)  # 60 - 20 % = 48, floored at MAP
        self.assertAlmostEqual(price["retail_max"], 90.0)  # 60 + 50 %

    def test_variant_map_overrides_product_map(self):
        self.shirt.product_tmpl_id.seller_map_price = 50.0
        other = self.make_product("Shirt, second variant-like", price=80.0)
        other.product_tmpl_id.seller_map_price = 50.0
        other.seller_variant_map_price = 75.0
        prices = self.store._seller_prices(self.shirt | other)
        self.assertAlmostEqual(prices[self.shirt.id]["map"], 50.0)
        self.assertAlmostEqual(prices[other.id]["map"], 75.0)

    def test_pricelist_in_another_currency(self):
        company_currency = self.company.currency_id
        other = self.env["res.currency"].with_context(active_test=False).search(
            [("id", "!=", company_currency.id), ("name", "in", ["EUR", "CHF", "GBP", "USD"])], limit=1
        )
        other.active = True
        rate = 1.5
        self.env["res.currency.rate"].search([("currency_id", "=", other.id)]).unlink()
        self.env["res.currency.rate"].create({"currency_id": other.id, "rate": rate, "name": "2000-01-01"})
        self.env["res.currency.rate"].search([("currency_id", "=", company_currency.id)]).unlink()
        self.shirt.product_tmpl_id.seller_map_price = 30.0
        self.store.pricelist_id = self._pricelist(
            [{"applied_on": "3_global", "compute_price": "percentage", "percent_price": 50}], currency=other
        )
        price = self.store._seller_prices(self.shirt)[self.shirt.id]
        self.assertEqual(price["currency"], other.name)
        self.assertAlmostEqual(price["wholesale"], other.round(80.0 * rate * 0.5))
        self.assertAlmostEqual(price["retail"], other.round(80.0 * rate))
        self.assertAlmostEqual(price["map"], other.round(30.0 * rate))
