import time

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import html_sanitize, plaintext2html

from ..adapters.base import ImagePayload, ProductPayload, VariantPayload


class SellerShare(models.Model):
    _name = "seller.share"
    _description = "Product Shared with a Retailer Store"
    _order = "store_id, product_tmpl_id"
    _rec_name = "product_tmpl_id"

    store_id = fields.Many2one("seller.store", required=True, ondelete="cascade", index=True)
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="store_id.partner_id", string="Retailer", store=True, index=True)
    platform = fields.Selection(related="store_id.platform")
    active = fields.Boolean(default=True)
    origin = fields.Selection(
        [("manual", "Shared Explicitly"), ("rule", "Shared by Rule")],
        default="manual",
        required=True,
        help="Shares made by the store's rule are removed when the product stops matching it; "
        "explicit shares stay until someone stops them.",
    )
    state = fields.Selection(
        [("pending", "Pending"), ("synced", "Synced"), ("error", "Error"), ("removed", "Removed")],
        default="pending",
        required=True,
        index=True,
        copy=False,
    )
    error_message = fields.Text(copy=False, readonly=True)
    remote_product_id = fields.Char(copy=False, readonly=True, index=True)
    last_push_at = fields.Datetime(copy=False, readonly=True)
    excluded_product_ids = fields.Many2many(
        "product.product",
        string="Excluded Variants",
        domain="[('product_tmpl_id', '=', product_tmpl_id)]",
        help="Variants of this product that are not offered to this store.",
    )
    variant_ids = fields.One2many("seller.share.variant", "share_id", string="Variants")
    revision = fields.Integer(default=1, copy=False, readonly=True, help="Bumped at every change to push.")
    push_pending = fields.Boolean(default=True, copy=False, readonly=True, index=True)
    changed_at = fields.Datetime(
        default=fields.Datetime.now, copy=False, readonly=True, help="When the last change to push was made."
    )
    override_stock_max = fields.Boolean(string="Own Stock Maximum")
    stock_max = fields.Integer(
        string="Stock Maximum", help="Most units shown per variant of this product; 0 means no maximum."
    )

    _store_product_unique = models.Constraint(
        "UNIQUE(store_id, product_tmpl_id)", "A product is shared at most once with a store."
    )

    # ------------------------------------------------------------ constraints
    @api.constrains("stock_max")
    def _check_stock_max(self):
        if any(share.stock_max < 0 for share in self):
            raise ValidationError(self.env._("A stock maximum cannot be negative."))

    # ------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        shares = super().create(vals_list)
        shares._seller_sync_variants()
        shares.store_id._seller_enqueue_catalog()
        return shares

    def write(self, vals):
        result = super().write(vals)
        if {"excluded_product_ids", "active"} & vals.keys():
            self._seller_sync_variants()
        if {"excluded_product_ids", "active", "override_stock_max", "stock_max"} & vals.keys():
            self._seller_mark_dirty()
        return result

    # ------------------------------------------------------------ actions
    def action_stop_sharing(self):
        self._seller_unshare()

    def action_reshare(self):
        self.filtered(lambda s: not s.active)._seller_reshare()

    # ------------------------------------------------------------ business
    def _seller_offered_variants(self):
        """The variants of this share offered to the store."""
        self.ensure_one()
        return self.product_tmpl_id.product_variant_ids - self.excluded_product_ids

    def _seller_sync_variants(self):
        """Keep one variant line per offered variant; a variant no longer
        offered keeps its line, archived, so a push can remove it remotely."""
        Line = self.env["seller.share.variant"].with_context(active_test=False)
        for share in self:
            offered = share._seller_offered_variants() if share.active else self.env["product.product"]
            lines = Line.search([("share_id", "=", share.id)])
            known = lines.product_id
            Line.create([{"share_id": share.id, "product_id": p.id} for p in offered - known])
            lines.filtered(lambda l: l.product_id in offered and not l.active).write({"active": True})
            lines.filtered(lambda l: l.product_id not in offered and l.active).write({"active": False})

    def _seller_unshare(self):
        """Stop offering these products; the record stays so that the
        catalog push can take the product down in the store."""
        self.write({"active": False, "state": "removed"})  # write() archives the variant lines

    def _seller_reshare(self):
        self.write({"active": True, "state": "pending", "error_message": False})

    # ------------------------------------------------------------ catalog push
    def _seller_mark_dirty(self):
        """Something the store shows changed: push these shares again."""
        if not self:
            return
        self.env.cr.execute(
            """
            UPDATE seller_share
               SET revision = revision + 1, push_pending = true,
                   changed_at = (now() at time zone 'UTC'),
                   state = CASE WHEN active THEN 'pending' ELSE state END,
                   error_message = CASE WHEN active THEN NULL ELSE error_message END
             WHERE id = ANY(%s)
            """,
            [self.ids],
        )
        self.invalidate_recordset(["revision", "push_pending", "changed_at", "state", "error_message"])
        self.store_id._seller_enqueue_catalog()

    def _seller_mark_pushed(self, revisions):
        """Done with the revisions pushed; a share changed meanwhile stays pending."""
        done = self.browse()
        for share in self:
            self.env.cr.execute(
                "UPDATE seller_share SET push_pending = false WHERE id = %s AND revision = %s RETURNING id",
                [share.id, revisions[share.id]],
            )
            if self.env.cr.fetchone():
                done |= share
        self.invalidate_recordset(["push_pending"])
        return done

    def _seller_push(self, adapter):
        """Create or update these shares' products in the store. Returns the
        error message of each share (None when it went through)."""
        if not self:
            return []
        payloads = [share._seller_catalog_payload() for share in self]
        results = adapter.push_products(payloads)
        now = fields.Datetime.now()
        errors = []
        for share, payload, result in zip(self, payloads, results):
            if result.error:
                share.write({"state": "error", "error_message": result.error})
                errors.append("%s: %s" % (share.product_tmpl_id.display_name, result.error))
                continue
            share.write({"state": "synced", "error_message": False, "remote_product_id": result.remote_id,
                         "last_push_at": now})
            sent = {variant.key: variant for variant in payload.variants}
            for line in share.with_context(active_test=False).variant_ids:
                remote = result.variants.get(str(line.product_id.id))
                variant = sent.get(str(line.product_id.id))
                if not (remote and variant):
                    continue
                vals = {
                    "remote_variant_id": remote.remote_variant_id,
                    "remote_inventory_item_id": remote.remote_inventory_item_id,
                    "last_pushed_price": float(variant.price),
                    "last_pushed_at": now,
                }
                if variant.quantity is not None:
                    vals["last_pushed_qty"] = variant.quantity
                line.write(vals)
            errors.append(None)
        return errors

    def _seller_take_down(self, adapter):
        """Shares no longer offered: draft (or delete) their products in the store."""
        live = self.filtered("remote_product_id")
        (self - live).write({"state": "removed"})
        if not live:
            return [None] * len(self)
        delete = live.store_id.delete_on_unshare
        answers = adapter.unpublish(live.mapped("remote_product_id"), delete=delete)
        errors = []
        for share in self:
            error = answers.get(share.remote_product_id) if share in live else None
            if error:
                share.write({"error_message": error})
                errors.append("%s: %s" % (share.product_tmpl_id.display_name, error))
                continue
            vals = {"state": "removed", "error_message": False}
            if delete and share in live:
                vals["remote_product_id"] = False
                share.with_context(active_test=False).variant_ids.write(
                    {"remote_variant_id": False, "remote_inventory_item_id": False}
                )
            share.write(vals)
            errors.append(None)
        return errors

    def _seller_catalog_payload(self):
        """What the store should show for this share, as plain data."""
        self.ensure_one()
        store, template = self.store_id, self.product_tmpl_id
        lines = self.variant_ids.filtered(lambda l: l.product_id.active)
        variants = lines.product_id
        prices = store._seller_prices(variants)
        quantities = store._seller_available_qty(variants)
        option_lines = template.valid_product_template_attribute_line_ids.filtered(
            lambda l: l.attribute_id.create_variant != "no_variant" and len(l.value_ids) > 1
        )
        currency = store.pricelist_id.currency_id
        variant_payloads = []
        for line in lines:
            product = line.product_id
            price = prices[product.id]
            values = product.product_template_attribute_value_ids
            options = [
                values.filtered(lambda v, al=attribute_line: v.attribute_line_id == al)[:1].name or ""
                for attribute_line in option_lines
            ]
            retail = price["retail"]
            if line.retailer_price and price["retail_min"] <= line.retailer_price <= price["retail_max"]:
                retail = line.retailer_price  # the retailer's own price, still allowed
            variant_payloads.append(VariantPayload(
                key=str(product.id),
                sku=product._seller_sku(),
                options=options,
                price=_money(retail, currency),
                compare_at_price=_money(price["compare_at"], currency) if price["compare_at"] else None,
                cost=_money(price["wholesale"], currency),
                barcode=product.barcode or None,
                weight=product.weight or 0.0,
                quantity=None if line.remote_variant_id else quantities.get(product.id, 0),
                remote_variant_id=line.remote_variant_id or None,
                remote_inventory_item_id=line.remote_inventory_item_id or None,
            ))
        include_content = not self.remote_product_id or store.content_policy == "keep_in_sync"
        map_price = min((prices[p.id]["map"] for p in variants), default=0.0)
        metafields = {"supplier_reference": template.default_code or (variants[:1]._seller_sku() if variants else "")}
        if map_price:
            metafields["map"] = _money(map_price, currency)
        return ProductPayload(
            key=str(self.id),
            sku=template.default_code or "SM-T%d" % template.id,
            variants=variant_payloads,
            options=[attribute_line.attribute_id.name for attribute_line in option_lines],
            remote_id=self.remote_product_id or None,
            status="active" if self.active and template.active else "draft",
            include_content=include_content,
            title=template.name,
            description_html=self._seller_description_html(),
            images=self._seller_images(),
            tags=template.product_tag_ids.mapped("name") if "product_tag_ids" in template else [],
            product_type=template.categ_id.name or "",
            vendor=store.company_id.name,
            metafields=metafields,
        )

    def _seller_enforce_prices(self, payload):
        """A product changed in the store: put back any price outside the
        allowed range (MAP first), keep the retailer's prices inside it.
        Returns (event state, message)."""
        self.ensure_one()
        store = self.store_id
        started = time.monotonic()
        lines = self.variant_ids.filtered(lambda l: l.remote_variant_id)
        adapter = store._seller_adapter()
        seen = adapter.webhook_prices(payload)
        missing = [line._seller_price_ref() for line in lines if line._seller_price_ref() not in seen]
        if missing:
            seen.update(adapter.read_prices(missing))
        allowed = store._seller_prices(lines.product_id)
        currency = store.pricelist_id.currency_id
        repairs, kept = {}, []
        for line in lines:
            ref = line._seller_price_ref()
            if ref not in seen:
                continue
            price = float(seen[ref])
            if currency.compare_amounts(price, line.last_pushed_price) == 0:
                continue  # our own write coming back
            rule = allowed[line.product_id.id]
            if currency.compare_amounts(price, rule["retail_min"]) < 0:
                repairs[ref] = (line, rule["retail_min"], price)
            elif currency.compare_amounts(price, rule["retail_max"]) > 0:
                repairs[ref] = (line, rule["retail_max"], price)
            else:
                line.retailer_price = price
                kept.append(line)
        if not repairs:
            return ("done", "%d retailer price(s) kept" % len(kept)) if kept else ("ignored", "echo of our own prices")
        answers = adapter.set_prices({ref: _money(target, currency) for ref, (line, target, price) in repairs.items()})
        notes = []
        for ref, (line, target, price) in repairs.items():
            if not answers.get(ref):
                line.write({"last_pushed_price": target, "retailer_price": 0.0})
            notes.append(self.env._(
                "%(sku)s: %(price)s is outside %(low)s-%(high)s, put back to %(target)s",
                sku=line.product_id._seller_sku(), price=price, low=allowed[line.product_id.id]["retail_min"],
                high=allowed[line.product_id.id]["retail_max"], target=target,
            ))
        message = "\n".join(notes)
        store.message_post(body=message)
        store._seller_log_event("price", count=len(repairs), batches=1, started=started, message=message,
                                reference=self.product_tmpl_id.display_name)
        return "done", message

    def _seller_description_html(self):
        template = self.product_tmpl_id
        if template.description and not template.description == "<p><br></p>":
            return html_sanitize(template.description) or ""
        return plaintext2html(template.description_sale) if template.description_sale else ""

    def _seller_images(self):
        template = self.product_tmpl_id
        if not template.image_1920:
            return []
        return [ImagePayload(url=template._seller_image_url(), alt=template.name)]


def _money(amount, currency):
    """A price as the text stores expect ("12.50")."""
    return "%.*f" % (currency.decimal_places, currency.round(amount or 0.0))
