"""The interface every store adapter implements, and the plain data it takes
and returns.

An adapter is plain Python: no ORM, no Odoo import. ``seller.store`` builds
one per store (``_seller_adapter()``, the only place that reads credentials),
passes it plain data and stores what comes back. One adapter object serves
one store and shares nothing with another (no process-wide session), so jobs
may run stores in parallel threads. Every network call has a timeout.

Errors are typed so that jobs know what to do:
- ``RetryableError``: try again after ``wait`` seconds (throttling, 5xx, timeouts);
- ``AuthError``: the credentials are refused (401, revoked, uninstalled): the
  store goes to error and its jobs stop until a manager fixes it;
- ``PermanentError``: the platform refused the data; its own message is kept.
"""

from dataclasses import dataclass, field


# ---------------------------------------------------------------- errors
class AdapterError(Exception):
    """Base of the adapters' errors; ``str()`` is a readable message."""


class RetryableError(AdapterError):
    def __init__(self, message, wait=5.0):
        super().__init__(message)
        self.wait = wait


class ThrottledError(RetryableError):
    """The store's rate limit: try later. Not a fault, so a job that meets
    it keeps its retries for real failures."""


class AuthError(AdapterError):
    pass


class PermanentError(AdapterError):
    pass


# ---------------------------------------------------------------- catalog
@dataclass
class ImagePayload:
    url: str  # public URL the store downloads the image from; a changed image has a new URL
    alt: str = ""


@dataclass
class VariantPayload:
    key: str  # our reference of the variant (product.product id, as text)
    sku: str  # always text, never a number
    options: list  # option values, in the order of ProductPayload.options
    price: str  # retail price, decimal as text ("12.50")
    compare_at_price: str = None
    cost: str = None  # the retailer's wholesale price (Shopify inventoryItem.cost)
    barcode: str = None
    weight: float = 0.0  # kilograms
    quantity: int = None  # initial quantity at our location (creation only); None: leave it
    remote_variant_id: str = None
    remote_inventory_item_id: str = None


@dataclass
class ProductPayload:
    key: str  # our reference of the product in this store (seller.share id, as text)
    sku: str  # a product-level reference (template default code or share key), for lookups
    variants: list  # [VariantPayload]; archived variants are simply absent
    options: list = field(default_factory=list)  # option names (at most 3 on Shopify)
    remote_id: str = None
    status: str = "active"  # "active" or "draft"
    # Retailer-owned content: sent only when include_content is true (creation,
    # or the store keeps content in sync). Lists such as images are never sent
    # otherwise, since Shopify replaces a list field wholesale.
    include_content: bool = True
    title: str = ""
    description_html: str = ""
    images: list = field(default_factory=list)  # [ImagePayload]
    tags: list = field(default_factory=list)
    product_type: str = ""  # Shopify product type; WooCommerce category name
    vendor: str = ""
    metafields: dict = field(default_factory=dict)  # namespace seller_mode: {key: text value}


@dataclass
class RemoteVariant:
    remote_variant_id: str
    remote_inventory_item_id: str = None  # Shopify inventory item; WooCommerce: the variant id again


@dataclass
class PushResult:
    key: str
    remote_id: str = None
    variants: dict = field(default_factory=dict)  # variant key -> RemoteVariant
    created: bool = False
    error: str = None  # the platform's own message when this product was refused


# ---------------------------------------------------------------- stock
@dataclass
class QtyItem:
    ref: str  # Shopify inventory item gid; WooCommerce "product_id" or "product_id/variation_id"
    qty: int
    expected_previous: int = None  # compare-and-set: the value we last set (None: no check)


@dataclass
class QtyResult:
    ref: str
    ok: bool
    value: int = None  # the quantity the store now holds for it (acknowledged)
    stale: bool = False  # the store's value was not expected_previous: nothing written
    store_value: int = None  # the store's value when stale
    error: str = None


# ---------------------------------------------------------------- orders
@dataclass
class Address:
    name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    zip: str = ""
    state_code: str = ""
    country_code: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class OrderLine:
    remote_line_id: str  # Shopify fulfillment order line gid; WooCommerce line item id
    sku: str
    quantity: int
    price: str = "0"  # unit price the end customer paid, as text
    title: str = ""
    remote_variant_id: str = None
    remote_product_id: str = None


@dataclass
class OrderPayload:
    remote_id: str  # Shopify order gid; WooCommerce order id
    name: str  # the store's order number as shown to people ("#1001")
    # "requested" (ours to fulfil), "accepted" (ours, already accepted: an import
    # whose transaction failed after accepting it), "cancel_requested", "cancelled", "other"
    status: str
    created_at: str = ""  # ISO 8601 UTC
    updated_at: str = ""
    currency: str = ""
    email: str = ""
    shipping_address: Address = None
    lines: list = field(default_factory=list)  # [OrderLine], only lines at our location / of our products
    fulfillment_order_ids: list = field(default_factory=list)  # Shopify
    raw: dict = field(default_factory=dict)


@dataclass
class Tracking:
    company: str = ""
    number: str = ""
    url: str = ""


@dataclass
class WebhookEvent:
    topic: str  # normalised: "order", "fulfillment_request", "cancellation_request", "order_cancelled",
    #             "product_updated", "app_uninstalled", "ping", "other"
    delivery_id: str  # for de-duplication
    remote_id: str = None  # order or product id the event is about
    payload: dict = field(default_factory=dict)


# ---------------------------------------------------------------- interface
class StoreAdapter:
    """One connected store. Subclasses implement every method below."""

    platform = None

    def __init__(self, url, credentials, timeout=10.0):
        """``credentials``: a dict of what the platform needs (access_token,
        consumer_key, consumer_secret, webhook_secret, app api_key/secret)."""
        self.url = url.rstrip("/")
        self.credentials = dict(credentials)
        self.timeout = timeout

    def __repr__(self):  # never show credentials
        return "<%s %s>" % (type(self).__name__, self.url)

    # -- connection
    def verify(self):
        """Read the store: {name, domain, currency, plan, ...}. Raises AuthError."""
        raise NotImplementedError

    def setup(self, callback_base_url, webhook_topics):
        """Prepare the store for us: Shopify registers our fulfillment service
        (its location holds our stock) and subscribes webhooks; WooCommerce
        creates webhooks. Idempotent. Returns {location_id, webhook_ids}."""
        raise NotImplementedError

    def teardown(self):
        """Remove what setup() created that the platform does not remove itself."""
        raise NotImplementedError

    # -- catalog
    def push_products(self, payloads):
        """Create or update products; idempotent (find by remote id, then by
        identifier or SKU, before creating). Returns [PushResult] in order."""
        raise NotImplementedError

    def unpublish(self, remote_ids, delete=False):
        """Set products to draft (or delete them). Returns {remote_id: error or None}."""
        raise NotImplementedError

    def read_prices(self, refs):
        """{price ref: price text}. A price ref is the Shopify variant gid, or
        WooCommerce "product_id" / "product_id/variation_id"."""
        raise NotImplementedError

    def webhook_prices(self, payload):
        """{price ref: price text} read from a product webhook's payload
        (only what it carries), so that echoes of our own writes cost nothing."""
        raise NotImplementedError

    def set_prices(self, prices):
        """prices: {price ref: price text}; returns {ref: error or None}."""
        raise NotImplementedError

    # -- stock
    def set_quantities(self, items, idempotency_key=None):
        """Set available quantities at our location, in the largest batches
        the platform takes. Returns [QtyResult] in order."""
        raise NotImplementedError

    def read_quantities(self, refs):
        """{ref: available quantity at our location}"""
        raise NotImplementedError

    # -- orders
    def fetch_orders(self, since=None):
        """Orders that need us (to fulfil or to cancel) changed since the
        cursor. Returns ([OrderPayload], next cursor)."""
        raise NotImplementedError

    def fetch_order(self, remote_id):
        """One order by id, as fetch_orders would return it (None if not ours)."""
        raise NotImplementedError

    def accept(self, order):
        raise NotImplementedError

    def reject(self, order, reason):
        raise NotImplementedError

    def fulfil(self, order, lines, tracking, notify_customer=True):
        """lines: [(remote_line_id, quantity)]; tracking: Tracking."""
        raise NotImplementedError

    def cancel(self, order, reason):
        """We cannot serve the order (or what is left of it): tell the store."""
        raise NotImplementedError

    def answer_cancellation(self, order, accept, reason=""):
        """Answer the store's cancellation request."""
        raise NotImplementedError

    # -- webhooks
    def verify_webhook(self, headers, raw_body):
        """True when the signature is the platform's (constant-time compare)."""
        raise NotImplementedError

    def parse_webhook(self, headers, raw_body):
        """-> WebhookEvent"""
        raise NotImplementedError
