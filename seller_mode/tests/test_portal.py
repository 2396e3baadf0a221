import csv
import hashlib
import hmac
import io
import json
import logging
import re
import shutil
from pathlib import Path
from unittest.mock import patch
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from markupsafe import escape

import odoo
from odoo import Command
from odoo.tests import get_db_name, tagged
from odoo.tests.common import ChromeBrowser

from .common import StoreCase

_logger = logging.getLogger(__name__)

SECRETS = ["shpat_SECRET_TOKEN_A", "shprt_SECRET_REFRESH_A", "ck_SECRETKEYA0001", "cs_SECRETSECRETA0001",
           "whsec_SECRET_HOOK_A", "portal.SECRET_CONNECT_A", "shpat_SECRET_TOKEN_B", "whsec_SECRET_HOOK_B"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REPO = Path(__file__).resolve().parents[2]


@tagged("post_install", "-at_install")
class TestPortal(StoreCase):
    browser_size = "1280x1400"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shopify.add_shop("self-shop", plan="plus")
        cls.woo.add_site("self-site")
        cls.mug = cls.make_product("Mug, «Crème»", price=20.0, default_code="123456789012",
                                   barcode="3760001234567")
        cls.tee = cls.make_product('Tee "Classic", Été', price=30.0, default_code="TEE-1")
        cls.lamp = cls.make_product("Lamp Only For B", price=80.0, default_code="B-ONLY-42")
        cls.mug.product_tmpl_id.seller_map_price = 15.0
        cls.set_stock(cls.mug, 40)
        cls.set_stock(cls.tee, 12)
        cls.set_stock(cls.lamp, 7)

        # Retailer A: StoreCase's retailer, with its Shopify and WooCommerce stores.
        cls.retailer_a = cls.retailer
        cls.retailer_a.sudo().write({"seller_self_service": True, "seller_default_pricelist_id": cls.pricelist.id})
        cls.buyer_a = cls.env["res.partner"].create({"name": "Alice Buyer", "parent_id": cls.retailer_a.id,
                                                     "email": "alice@retailer-a.example"})
        cls.user_a = cls.make_portal_user("sm-retailer-a", cls.buyer_a)

        # Retailer B: its own store, products and order; no self-service.
        cls.retailer_b = cls.env["res.partner"].create({
            "name": "Retailer B Ltd", "is_company": True, "street": "2 Quay", "city": "Bristol",
            "country_id": cls.env.ref("base.uk").id,
        })
        cls.user_b = cls.make_portal_user("sm-retailer-b", cls.retailer_b)
        cls.store_b = cls.env["seller.store"].create({
            "name": "B Shop", "partner_id": cls.retailer_b.id, "platform": "shopify",
            "url": "https://b-shop.myshopify.com", "pricelist_id": cls.pricelist.id,
            "location_ids": [Command.set(cls.stock_location.ids)],
        })
        cls.store_b.sudo().write({"access_token": "shpat_SECRET_TOKEN_B", "webhook_secret": "whsec_SECRET_HOOK_B"})
        cls.share(cls.store_b, cls.lamp)
        cls.order_b = cls.make_order(cls.store_b, cls.retailer_b, cls.lamp, "#B-9001")

        cls.share(cls.shop_store, cls.mug, cls.tee)
        cls.share(cls.woo_store, cls.mug)
        cls.carrier = cls.env["delivery.carrier"].create({
            "name": "ParcelCo",
            "product_id": cls.env["product.product"].create({"name": "Shipping", "type": "service"}).id,
            "tracking_url": "https://track.parcel.example/<shipmenttrackingnumber>",
        })

    @classmethod
    def make_portal_user(cls, login, partner):
        return cls.env["res.users"].with_context(no_reset_password=True).create({
            "login": login, "password": login, "partner_id": partner.id,
            "group_ids": [Command.set([cls.env.ref("base.group_portal").id])],
        })

    @classmethod
    def make_order(cls, store, retailer, product, remote_name, qty=2):
        return cls.env["sale.order"].sudo().create({
            "partner_id": retailer.id,
            "pricelist_id": store.pricelist_id.id,
            "seller_store_id": store.id,
            "seller_remote_order_id": "remote-%s" % remote_name,
            "seller_remote_order_name": remote_name,
            "client_order_ref": remote_name,
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": qty})],
        })

    def setUp(self):
        super().setUp()
        # The stores' webhooks are not what these tests are about: a webhook
        # arriving while the test holds the database would wait and fail.
        for emulator, tenant in ((self.shopify, "retailer-a"), (self.shopify, "self-shop"), (self.woo, "retailer-b"),
                                 (self.woo, "self-site")):
            emulator.set_faults(tenant, latency_model=False, webhook_drop_rate=1.0)

    def set_secrets_a(self):
        self.shop_store.sudo().write({"access_token": "shpat_SECRET_TOKEN_A", "refresh_token": "shprt_SECRET_REFRESH_A",
                                      "connect_token": "portal.SECRET_CONNECT_A"})
        self.woo_store.sudo().write({"consumer_key": "ck_SECRETKEYA0001", "consumer_secret": "cs_SECRETSECRETA0001",
                                     "webhook_secret": "whsec_SECRET_HOOK_A"})

    def ship(self, order, tracking):
        order.action_confirm()
        picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.button_validate()
        return picking

    def csrf(self, path="/my/seller/catalog"):
        response = self.url_open(path)
        return CSRF.search(response.text).group(1)

    def assert_no_secret(self, text, where):
        for secret in SECRETS:
            self.assertNotIn(secret, text, "credential %s shown in %s" % (secret, where))

    # ------------------------------------------------------------ isolation
    def test_isolation(self):
        self.set_secrets_a()
        order_a = self.make_order(self.shop_store, self.retailer_a, self.mug, "#A-1001")
        picking = self.ship(order_a, "TRK-A-555")
        self.assertTrue(picking.carrier_tracking_url)
        cases = [
            ("sm-retailer-a", ["Crème", 'Tee "Classic"', "123456789012"], ["Lamp Only For B", "B-ONLY-42"],
             order_a, self.order_b, (self.shop_store, self.woo_store), self.store_b),
            ("sm-retailer-b", ["Lamp Only For B", "B-ONLY-42"], ["Crème", "123456789012"],
             self.order_b, order_a, (self.store_b,), self.shop_store),
        ]
        tokens = {}
        for login, mine, theirs, my_order, their_order, my_stores, their_store in cases:
            with self.subTest(login=login):
                self.authenticate(login, login)
                pages = {}
                for path in ("/my", "/my/seller/catalog", "/my/seller/orders", "/my/seller/orders/%d" % my_order.id,
                             "/my/seller/stores", "/my/seller/feed.csv") + tuple(
                        "/my/seller/stores/%d" % store.id for store in my_stores):
                    response = self.url_open(path)
                    self.assertEqual(response.status_code, 200, path)
                    pages[path] = response.content.decode("utf-8-sig")
                    self.assert_no_secret(pages[path], path)
                csv_text = "\n".join(",".join(row) for row in csv.reader(io.StringIO(pages["/my/seller/feed.csv"])))
                for text in mine:
                    self.assertIn(str(escape(text)), pages["/my/seller/catalog"])
                    self.assertIn(text, csv_text)
                for text in theirs:
                    self.assertNotIn(text, pages["/my/seller/catalog"])
                    self.assertNotIn(text, csv_text)
                self.assertIn(my_order.name, pages["/my/seller/orders"])
                self.assertNotIn(their_order.name, pages["/my/seller/orders"])
                for store in my_stores:
                    self.assertIn(store.name, pages["/my/seller/stores"])
                self.assertNotIn(their_store.name, pages["/my/seller/stores"])
                # Counters of the portal home
                counters = self.make_jsonrpc_request("/my/counters", {
                    "counters": ["seller_catalog_count", "seller_order_count", "seller_store_count"]})
                self.assertEqual(counters["seller_store_count"], len(my_stores))
                self.assertEqual(counters["seller_order_count"], 1)
                # Someone else's records: not found, and not touched
                for path in ("/my/seller/orders/%d" % their_order.id, "/my/seller/stores/%d" % their_store.id,
                             "/my/seller/stores/999999"):
                    self.assertIn(self.url_open(path).status_code, (403, 404), path)
                token = self.csrf("/my/seller/catalog")
                response = self.url_open("/my/seller/stores/%d/pause" % their_store.id, data={"csrf_token": token},
                                         allow_redirects=False)
                self.assertIn(response.status_code, (403, 404))
                # The JSON feed: the link shown in the catalog
                feed_url = re.search(r'value="(http[^"]+/seller_mode/feed/[^"]+\.json)"', pages["/my/seller/catalog"])
                self.assertTrue(feed_url, "no feed link in the catalog")
                feed = self.url_open(urlsplit(feed_url.group(1)).path)
                self.assertEqual(feed.status_code, 200)
                self.assert_no_secret(feed.text, "JSON feed")
                feed_text = json.dumps(feed.json(), ensure_ascii=False)
                for text in mine:
                    self.assertIn(text.replace('"', '\\"'), feed_text)
                for text in theirs:
                    self.assertNotIn(text, feed_text)
                tokens[login] = urlsplit(feed_url.group(1)).path
        # The feed needs no session, and a guessed token finds nothing.
        self.authenticate(None, None)
        self.assertEqual(self.url_open(tokens["sm-retailer-a"]).status_code, 200)
        self.assertEqual(self.url_open("/seller_mode/feed/%s.json" % ("x" * 32)).status_code, 404)
        self.assertEqual(self.url_open("/seller_mode/feed/.json").status_code, 404)
        # Pages need a login
        response = self.url_open("/my/seller/catalog", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_pause_resume_and_new_feed_link(self):
        self.shop_store.sudo().state = "connected"
        self.authenticate("sm-retailer-a", "sm-retailer-a")
        page = "/my/seller/stores/%d" % self.shop_store.id
        response = self.url_open(page + "/pause", data={"csrf_token": self.csrf(page)})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.shop_store.state, "paused")
        self.assertIn("o_seller_resume", response.text)
        # Without the CSRF token: refused
        self.url_open(page + "/resume", data={"x": "1"})
        self.assertEqual(self.shop_store.state, "paused")
        self.url_open(page + "/resume", data={"csrf_token": self.csrf(page)})
        self.assertEqual(self.shop_store.state, "connected")
        # A new feed link revokes the old one
        old = self.retailer_a.sudo()._seller_feed_token()
        self.url_open("/my/seller/feed/renew", data={"csrf_token": self.csrf("/my/seller/catalog")})
        self.retailer_a.invalidate_recordset()
        new = self.retailer_a.sudo().seller_feed_token
        self.assertNotEqual(old, new)
        self.assertEqual(self.url_open("/seller_mode/feed/%s.json" % old).status_code, 404)
        self.assertEqual(self.url_open("/seller_mode/feed/%s.json" % new).status_code, 200)

    # ------------------------------------------------------------ feeds
    def test_feed_content(self):
        self.authenticate("sm-retailer-a", "sm-retailer-a")
        response = self.url_open("/my/seller/feed.csv")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM")
        self.assertIn("text/csv", response.headers["Content-Type"])
        text = response.content.decode("utf-8-sig")
        self.assertIn('"123456789012"', text)  # quoted: a spreadsheet keeps it as text
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual(list(rows[0].keys()), ["store", "product", "variant", "sku", "barcode", "wholesale", "retail",
                                                "retail_min", "retail_max", "map", "currency", "quantity",
                                                "sync_state"])
        by_key = {(row["store"], row["sku"]): row for row in rows}
        self.assertEqual(len(rows), 3)
        mug = by_key[("Test Store", "123456789012")]
        self.assertEqual(mug["product"], "Mug, «Crème»")
        self.assertEqual(mug["barcode"], "3760001234567")
        prices = self.shop_store._seller_prices(self.mug)[self.mug.id]
        self.assertEqual(mug["wholesale"], "%.2f" % prices["wholesale"])
        self.assertEqual(mug["wholesale"], "10.00")
        self.assertEqual(mug["map"], "15.00")
        self.assertEqual(mug["retail_min"], "%.2f" % prices["retail_min"])
        self.assertEqual(mug["retail_max"], "%.2f" % prices["retail_max"])
        self.assertEqual(mug["currency"], self.pricelist.currency_id.name)
        self.assertEqual(mug["quantity"], "40")
        self.assertEqual(mug["sync_state"], "pending")
        tee = by_key[("Test Store", "TEE-1")]
        self.assertEqual(tee["product"], 'Tee "Classic", Été')
        self.assertEqual(tee["quantity"], "12")
        self.assertIn(("Woo Store", "123456789012"), by_key)
        # Quantities are live: a delivery lowers them at once
        self.make_picking("out", {self.mug: 5})
        rows = list(csv.DictReader(io.StringIO(self.url_open("/my/seller/feed.csv").content.decode("utf-8-sig"))))
        self.assertEqual({(r["store"], r["sku"]): r for r in rows}[("Test Store", "123456789012")]["quantity"], "35")
        # The JSON feed has the same content
        token = self.retailer_a.sudo()._seller_feed_token()
        feed = self.url_open("/seller_mode/feed/%s.json" % token).json()
        self.assertEqual(feed["columns"], list(rows[0].keys()))
        json_rows = {(r["store"], r["sku"]): r for r in feed["products"]}
        self.assertEqual(json_rows[("Test Store", "123456789012")]["quantity"], 35)
        self.assertEqual(json_rows[("Test Store", "123456789012")]["sku"], "123456789012")
        self.assertEqual(json_rows[("Test Store", "TEE-1")]["product"], 'Tee "Classic", Été')
        self.assertEqual(json_rows[("Test Store", "123456789012")]["wholesale"], 10.0)

    # ------------------------------------------------------------ self-service
    def start_connection(self, platform, url):
        self.authenticate("sm-retailer-a", "sm-retailer-a")
        token = self.csrf("/my/seller/connect?platform=%s" % platform)
        response = self.url_open("/my/seller/connect/%s" % platform, data={"csrf_token": token, "url": url},
                                 allow_redirects=False)
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        store = self.env["seller.store"].search([("url", "=", url.rstrip("/"))])
        self.assertEqual(len(store), 1)
        self.assertEqual(store.partner_id, self.retailer_a)
        return store, response.headers["Location"]

    def test_connect_shopify(self):
        self.retailer_a.sudo().write({"seller_default_stock_share_percent": 60, "seller_default_stock_buffer": 1})
        store, location = self.start_connection("shopify", self.shopify.shop_url("self-shop"))
        self.assertEqual((store.stock_share_percent, store.stock_buffer), (60, 1))
        self.assertEqual(store.pricelist_id, self.pricelist)
        self.assertTrue(location.startswith(self.shopify.shop_url("self-shop") + "/admin/oauth/authorize?"))
        self.share(store, self.mug, self.tee)
        # Shopify (the emulator) approves at once and sends the merchant back to us
        answer = requests.get(location, allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302)
        callback = answer.headers["Location"]
        self.assertTrue(callback.startswith(self.base_url() + "/seller_mode/shopify/callback?"))
        params = dict(parse_qsl(urlsplit(callback).query))
        path = urlsplit(callback).path
        # A bad hmac is refused
        bad = dict(params, hmac="0" * 64)
        self.assertEqual(self.url_open(path + "?" + urlencode(bad), allow_redirects=False).status_code, 403)
        # A state we did not issue is refused, even correctly signed
        forged = dict(params, state="portal.%d.forged-token" % store.id)
        forged.pop("hmac")
        message = "&".join(sorted("%s=%s" % (k, v) for k, v in forged.items()))
        forged["hmac"] = hmac.new(b"sm-test-secret", message.encode(), hashlib.sha256).hexdigest()
        self.assertEqual(self.url_open(path + "?" + urlencode(forged), allow_redirects=False).status_code, 403)
        self.assertFalse(store.sudo().access_token)
        # The genuine callback connects the store and brings the retailer back to it
        response = self.url_open(callback, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303), response.text[:300])
        self.assertTrue(response.headers["Location"].endswith("/my/seller/stores/%d?connected=1" % store.id))
        store.invalidate_recordset()
        self.assertTrue(store.sudo().access_token)
        self.assertTrue(store.sudo().refresh_token)
        self.run_jobs()
        self.assertEqual(store.state, "connected", store.state_message)
        self.assertEqual(set(store.share_ids.mapped("state")), {"synced"})
        page = self.url_open("/my/seller/stores/%d?connected=1" % store.id)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_seller_connected", page.text)
        self.assertIn("2 of 2 products sent", page.text)
        self.assert_no_secret(page.text, "store page")
        self.assertNotIn(store.sudo().access_token, page.text)
        # A replayed callback is refused: the state was used
        self.assertEqual(self.url_open(callback, allow_redirects=False).status_code, 403)

    def test_connect_woocommerce(self):
        url = self.woo.site_url("self-site")
        store, location = self.start_connection("woocommerce", url)
        self.assertTrue(location.startswith(url + "/wc-auth/v1/authorize?"))
        self.share(store, self.mug)
        callback_url = dict(parse_qsl(urlsplit(location).query))["callback_url"]
        self.assertIn("/seller_mode/woocommerce/keys/portal.%d." % store.id, callback_url)
        # Keys posted without our token are refused
        body = json.dumps({"key_id": 1, "user_id": str(store.id), "consumer_key": "ck_" + "a" * 40,
                           "consumer_secret": "cs_" + "b" * 40, "key_permissions": "read_write"})
        for path in ("/seller_mode/woocommerce/keys/portal.%d.not-our-token" % store.id,
                     "/seller_mode/woocommerce/keys/nothing"):
            response = self.url_open(path, data=body, headers={"Content-Type": "application/json"})
            self.assertEqual(response.status_code, 403, path)
        self.assertFalse(store.sudo().consumer_key)
        # WooCommerce (the emulator) approves, posts the keys to us, sends the retailer back
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            answer = requests.get(location, allow_redirects=False, timeout=20)
        self.env.invalidate_all()
        self.assertEqual(answer.status_code, 302, answer.text[:300])
        back = answer.headers["Location"]
        self.assertIn("success=1", back)
        self.assertTrue(store.sudo().consumer_key.startswith("ck_"))
        response = self.url_open(back, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/my/seller/stores/%d?connected=1" % store.id, response.headers["Location"])
        # WooCommerce pings a new webhook synchronously; here the connect job
        # holds the test database meanwhile, so the ping could only time out
        # (and log an error): leave it out.
        with patch.object(type(self.woo), "_ping", lambda *args, **kwargs: None):
            self.run_jobs()
        self.assertEqual(store.state, "connected", store.state_message)
        self.assertEqual(store.share_ids.state, "synced")
        page = self.url_open("/my/seller/stores/%d?connected=1&success=1" % store.id)
        self.assertIn("o_seller_connected", page.text)
        self.assertNotIn(store.sudo().consumer_secret, page.text)
        # The token was for one use
        response = self.url_open(urlsplit(callback_url).path, data=body, headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 403)

    def test_self_service_refused(self):
        self.authenticate("sm-retailer-b", "sm-retailer-b")
        response = self.url_open("/my/seller/connect")
        self.assertEqual(response.status_code, 403)
        self.assertIn("o_seller_not_allowed", response.text)
        token = self.csrf("/my/seller/catalog")
        response = self.url_open("/my/seller/connect/shopify", data={"csrf_token": token, "url": "b2.myshopify.com"},
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.env["seller.store"].search([("url", "ilike", "b2.myshopify.com")]))
        # A bad address is explained, not stored
        self.authenticate("sm-retailer-a", "sm-retailer-a")
        token = self.csrf("/my/seller/connect")
        response = self.url_open("/my/seller/connect/woocommerce", data={"csrf_token": token, "url": "ftp://x"})
        self.assertIn("is not a web address", response.text)

    # ------------------------------------------------------------ browser
    def test_portal_tour(self):
        """A retailer's walk through the portal in Chromium, with a
        screenshot of each page."""
        self.connect(self.shop_store)
        self.run_jobs()
        self.set_secrets_a()
        for index, product in enumerate((self.mug, self.tee)):
            order = self.make_order(self.shop_store, self.retailer_a, product, "#A-10%02d" % index, qty=index + 1)
            order.partner_shipping_id = self.env["res.partner"].create({
                "name": "Jeanne Client %d" % index, "parent_id": self.retailer_a.id, "type": "delivery",
                "street": "5 Rue Neuve", "city": "Paris", "zip": "75002", "country_id": self.env.ref("base.fr").id})
            if index == 0:
                self.ship(order, "TRK-TOUR-1")
            else:
                order.action_confirm()
        folder = Path(odoo.tools.config["screenshots"]) / get_db_name() / "screenshots" / "seller_mode_portal"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        shots = {}
        original = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            original(browser, type, args=args, stackTrace=stackTrace, **kw)
            first = browser._from_remoteobject(args[0]) if args else None
            if not (isinstance(first, str) and first.startswith("seller_mode:screenshot:")):
                return
            name = re.sub(r"\W", "", first.rsplit(":", 1)[1])
            future = browser._websocket_send("Page.captureScreenshot", with_future=True,
                                             params={"format": "png", "captureBeyondViewport": True})

            def saved(done):
                try:
                    data = done.result(timeout=0)["data"]
                    path = folder / ("%s.png" % name)
                    import base64

                    path.write_bytes(base64.b64decode(data))
                    shots[name] = path
                    _logger.info("seller_mode portal screenshot: %s", path)
                except Exception:
                    _logger.exception("seller_mode: screenshot %s failed", name)
                browser._websocket_send("Runtime.evaluate", params={
                    "expression": "document.body.classList.add('o_seller_shot_%s')" % name})

            future.add_done_callback(saved)

        with patch.object(ChromeBrowser, "_handle_console", handle_console):
            self.start_tour("/my", "seller_mode_portal_tour", login="sm-retailer-a", timeout=120)
        self.assertEqual(set(shots), {"home", "catalog", "orders", "order", "stores", "store"})
        for path in shots.values():
            self.assertGreater(path.stat().st_size, 10000, path)
        # A copy where people look for the project's outputs (var/ is not versioned)
        copy = REPO / "var" / "screenshots" / "portal"
        try:
            copy.mkdir(parents=True, exist_ok=True)
            for path in shots.values():
                shutil.copy(path, copy / path.name)
        except OSError:
            pass
