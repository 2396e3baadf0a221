from odoo.tests import tagged

from .common import SellerModeCase


@tagged("post_install", "-at_install")
class TestShareRules(SellerModeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store.write({
            "share_rule_active": True,
            "share_domain": str([("categ_id", "=", cls.categ_apparel.id)]),
        })
        cls.Share = cls.env["seller.share"].with_context(active_test=False)

    def share_of(self, product, store=None):
        return self.Share.search(
            [("store_id", "=", (store or self.store).id), ("product_tmpl_id", "=", product.product_tmpl_id.id)]
        )

    def test_new_product_in_shared_category_is_shared(self):
        product = self.make_product("New tee")
        share = self.share_of(product)
        self.assertTrue(share.active)
        self.assertEqual(share.origin, "rule")
        self.assertEqual(share.variant_ids.product_id, product)
        self.assertFalse(self.share_of(self.make_product("Mug", categ=self.categ_home)))

    def test_moving_out_unshares_unless_explicit(self):
        by_rule = self.make_product("Tee by rule")
        explicit = self.make_product("Tee shared by hand")
        self.env["seller.share.wizard"].create({
            "product_tmpl_ids": [(6, 0, explicit.product_tmpl_id.ids)], "store_ids": [(6, 0, self.store.ids)],
        }).action_apply()
        self.assertEqual(self.share_of(explicit).origin, "manual")
        (by_rule | explicit).categ_id = self.categ_home
        self.assertFalse(self.share_of(by_rule).active)
        self.assertEqual(self.share_of(by_rule).state, "removed")
        self.assertTrue(self.share_of(explicit).active)
        # Back into the category: shared again by the rule.
        by_rule.categ_id = self.categ_apparel
        self.assertTrue(self.share_of(by_rule).active)
        self.assertEqual(self.share_of(by_rule).state, "pending")

    def test_archiving_a_product_unshares_it(self):
        product = self.make_product("Tee to archive")
        other_store = self.store.copy({"name": "Second", "share_rule_active": False})
        self.share(other_store, product)
        product.product_tmpl_id.active = False
        self.assertFalse(self.share_of(product).active)
        self.assertFalse(self.share_of(product, other_store).active)

    def test_rule_change_reshapes_the_shares(self):
        tee, mug = self.make_product("Tee"), self.make_product("Mug", categ=self.categ_home)
        self.store.share_domain = str([("categ_id", "=", self.categ_home.id)])
        self.assertFalse(self.share_of(tee).active)
        self.assertTrue(self.share_of(mug).active)
        self.store.share_rule_active = False
        self.assertFalse(self.share_of(mug).active)

    def test_invalid_rule_is_refused(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self.store.share_domain = "[('no_such_field', '=', 1)]"

    def test_variants_follow_the_template(self):
        size = self.env["product.attribute"].create({"name": "Size (test)"})
        values = self.env["product.attribute.value"].create(
            [{"name": n, "attribute_id": size.id} for n in ("S", "M", "L")]
        )
        template = self.env["product.template"].create({
            "name": "Sized tee", "categ_id": self.categ_apparel.id, "is_storable": True,
            "attribute_line_ids": [(0, 0, {"attribute_id": size.id, "value_ids": [(6, 0, values[:2].ids)]})],
        })
        share = self.share_of(template.product_variant_ids[:1])
        self.assertEqual(share.variant_ids.product_id, template.product_variant_ids)
        # A variant added later joins; an excluded or archived one leaves.
        template.attribute_line_ids.value_ids = [(4, values[2].id)]
        self.assertEqual(len(template.product_variant_ids), 3)
        self.assertEqual(share.variant_ids.product_id, template.product_variant_ids)
        small, medium, large = template.product_variant_ids.sorted("id")
        share.excluded_product_ids = small
        medium.active = False
        share.invalidate_recordset(["variant_ids"])
        self.assertEqual(share.with_context(active_test=True).variant_ids.product_id, large)
        all_lines = share.with_context(active_test=False).variant_ids
        self.assertEqual(set(all_lines.filtered(lambda l: not l.active).product_id.ids), {small.id, medium.id})

    def test_wizard_shares_many_products_with_many_stores(self):
        second = self.store.copy({"name": "Second", "share_rule_active": False})
        products = self.make_product("A", categ=self.categ_home) | self.make_product("B", categ=self.categ_home)
        wizard = self.env["seller.share.wizard"].create({
            "product_tmpl_ids": [(6, 0, products.product_tmpl_id.ids)],
            "store_ids": [(6, 0, (self.store | second).ids)],
        })
        wizard.action_apply()
        wizard.action_apply()  # twice: nothing duplicated
        shares = self.Share.search([("product_tmpl_id", "in", products.product_tmpl_id.ids)])
        self.assertEqual(len(shares), 4)
        self.env["seller.share.wizard"].create({
            "mode": "stop",
            "product_tmpl_ids": [(6, 0, products.product_tmpl_id.ids)],
            "store_ids": [(6, 0, second.ids)],
        }).action_apply()
        self.assertEqual(shares.filtered("active").store_id, self.store)
