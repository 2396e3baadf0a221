from odoo import Command
from odoo.tests import TransactionCase


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
        cls.retailer = cls.env["res.partner"].create({"name": "Retailer Test", "is_company": True})
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
