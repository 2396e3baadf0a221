"""Plain-Python clients of the retailer platforms (no Odoo import)."""

from .base import (  # noqa: F401
    AdapterError,
    AuthError,
    PermanentError,
    RetryableError,
    StoreAdapter,
    ThrottledError,
)

# The platforms there is an adapter for: (code, label), as Odoo selections take them.
PLATFORMS = [("shopify", "Shopify"), ("woocommerce", "WooCommerce")]


def get_adapter(platform, url, credentials, timeout=10.0):
    """The adapter of one store."""
    if platform == "shopify":
        from .shopify import ShopifyAdapter as cls
    elif platform == "woocommerce":
        from .woocommerce import WooCommerceAdapter as cls
    else:
        raise ValueError("unknown platform %r" % platform)
    return cls(url, credentials, timeout=timeout)
