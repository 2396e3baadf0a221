"""Emulators of the retailer platforms Seller Mode talks to: Shopify Admin
GraphQL 2026-04 and WooCommerce REST wc/v3. Pure Python, no Odoo import."""

from .core import Emulator, Faults  # noqa: F401


def ShopifyEmulator(*args, **kwargs):  # noqa: N802 - a lazy class alias
    from .shopify import ShopifyEmulator as cls

    return cls(*args, **kwargs)


def WooCommerceEmulator(*args, **kwargs):  # noqa: N802 - a lazy class alias
    from .woocommerce import WooCommerceEmulator as cls

    return cls(*args, **kwargs)
