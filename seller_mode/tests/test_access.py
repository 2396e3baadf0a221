import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SellerModeCase


@tagged("post_install", "-at_install")
class TestAccess(SellerModeCase):
    def test_user_cannot_read_credentials(self):
        self.store.sudo().write({"access_token": "shpat_secret", "consumer_secret": "cs_secret"})
        user = new_test_user(self.env, login="sm_user", groups="seller_mode.group_seller_user")
        store = self.store.with_user(user)
        self.assertEqual(store.name, "Test Store")
        with self.assertRaises(AccessError):
            store.read(["access_token"])
        with self.assertRaises(AccessError):
            store.write({"name": "renamed"})
        manager = new_test_user(self.env, login="sm_manager", groups="seller_mode.group_seller_manager")
        self.assertEqual(self.store.with_user(manager).access_token, "shpat_secret")

    def test_other_company_stores_are_hidden(self):
        other_company = self.env["res.company"].create({"name": "Other supplier"})
        self.store.copy({"name": "Theirs", "company_id": other_company.id})
        manager = new_test_user(self.env, login="sm_mgr2", groups="seller_mode.group_seller_manager",
                                company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        names = self.env["seller.store"].with_user(manager).search([]).mapped("name")
        self.assertIn("Test Store", names)
        self.assertNotIn("Theirs", names)


@tagged("post_install", "-at_install")
class TestPortalRpc(HttpCase):
    def test_portal_user_reads_no_backend_model(self):
        new_test_user(self.env, login="sm_portal", password="sm_portal_pw1", groups="base.group_portal")
        self.authenticate("sm_portal", "sm_portal_pw1")
        for model in ("seller.store", "seller.share", "seller.share.variant", "seller.sync.event", "seller.stock.change"):
            response = self.url_open(
                "/web/dataset/call_kw/%s/search_read" % model,
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                    "model": model, "method": "search_read", "args": [[]], "kwargs": {"fields": ["id"]}}}),
                headers={"Content-Type": "application/json"},
            )
            payload = response.json()
            self.assertIn("error", payload, model)
            self.assertIn("AccessError", payload["error"]["data"]["name"], model)
