"""GraphQL documents of the Shopify adapter (Admin API 2026-04).

Every document uses only what ``emulators/shopify/schema.graphql`` (a proven
subset of the real schema) offers. Costs follow Shopify's rules: objects 1,
connections 2 + first x (1 + node cost), each mutation field 10.
"""

API_VERSION = "2026-04"

# Sizes of the connections read with a product; their cost is in product_read_cost().
METAFIELDS_FIRST = 30
MEDIA_FIRST = 30

SHOP = """
query SellerModeShop {
  shop {
    name myshopifyDomain currencyCode
    plan { publicDisplayName shopifyPlus partnerDevelopment }
    fulfillmentServices { id serviceName callbackUrl location { id } }
  }
}
"""
SHOP_COST = 4

FULFILLMENT_SERVICE_CREATE = """
mutation SellerModeFulfillmentService($name: String!, $callbackUrl: URL) {
  fulfillmentServiceCreate(name: $name, callbackUrl: $callbackUrl, trackingSupport: true, inventoryManagement: true,
                           fulfillmentOrdersOptIn: true, requiresShippingMethod: false) {
    fulfillmentService { id serviceName location { id } }
    userErrors { field message }
  }
}
"""

WEBHOOKS = """
query SellerModeWebhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""
WEBHOOKS_COST = 2 + 100

WEBHOOK_CREATE = """
mutation SellerModeWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

WEBHOOK_DELETE = """
mutation SellerModeWebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}
"""

# ---------------------------------------------------------------- products
# Read before a productSet: variant ids to keep, retailer's media and
# metafields to send back (productSet replaces list fields wholesale).
PRODUCT_FRAGMENT = """
fragment SMProduct on Product {
  id handle title status
  options { name values }
  metafields(first: %d) { nodes { namespace key value type } }
  media(first: %d) { nodes { id ... on MediaImage { originalSource { url } } } }
  variants(first: $nv) { nodes { id sku price selectedOptions { name value } inventoryItem { id } } }
}
""" % (METAFIELDS_FIRST, MEDIA_FIRST)


def product_read_cost(nv):
    """Cost of one SMProduct (the product object itself included)."""
    options = 1
    metafields = 2 + METAFIELDS_FIRST * 1
    media = 2 + MEDIA_FIRST * (1 + 1)
    variants = 2 + nv * (1 + 1 + 1)
    return 1 + options + metafields + media + variants


def product_search_document(aliases):
    """Light lookups: per alias products(first: 3, query: $alias) with our key metafield."""
    params = ", ".join("$%s: String!" % a for a in aliases)
    fields = "\n".join('  %s: products(first: 3, query: $%s) { nodes { id handle metafield(namespace: "seller_mode", key: "key") { value } } }'
                       % (a, a) for a in aliases)
    return "query SellerModeFind(%s) {\n%s\n}" % (params, fields)


PRODUCT_SEARCH_COST = 2 + 3 * (1 + 1)


def product_read_document(specs):
    """specs: [(alias, kind)] kind "id" (product(id:)) or "search" (products(first: 3, query:)).
    Variables: $nv, and per alias $<alias> (ID or query text)."""
    params = ["$nv: Int!"]
    fields = []
    for alias, kind in specs:
        if kind == "id":
            params.append("$%s: ID!" % alias)
            fields.append("  %s: product(id: $%s) { ...SMProduct }" % (alias, alias))
        else:
            params.append("$%s: String!" % alias)
            fields.append("  %s: products(first: 3, query: $%s) { nodes { ...SMProduct } }" % (alias, alias))
    return "query SellerModeProducts(%s) {\n%s\n}\n%s" % (", ".join(params), "\n".join(fields), PRODUCT_FRAGMENT)


def product_read_document_cost(specs, nv):
    one = product_read_cost(nv)
    total = 0
    for _, kind in specs:
        total += one if kind == "id" else 2 + 3 * one  # connection: 2 + first x (1 + node fields)
    return total


PRODUCT_SET_RESULT = """
      product { id handle
        variants(first: 250) { nodes { id sku selectedOptions { name value } inventoryItem { id } } } }
      userErrors { field message code }"""


def product_set_document(aliases):
    params = []
    fields = []
    for a in aliases:
        params.append("$%s_in: ProductSetInput!, $%s_id: ProductSetIdentifiers" % (a, a))
        fields.append("  %s: productSet(input: $%s_in, identifier: $%s_id, synchronous: true) {%s\n  }" % (
            a, a, a, PRODUCT_SET_RESULT))
    return "mutation SellerModeProductSet(%s) {\n%s\n}" % (", ".join(params), "\n".join(fields))


def product_status_document(aliases, delete=False):
    params, fields = [], []
    for a in aliases:
        params.append("$%s: ID!" % a)
        if delete:
            fields.append("  %s: productDelete(input: {id: $%s}, synchronous: true) { deletedProductId userErrors { field message } }"
                          % (a, a))
        else:
            fields.append("  %s: productUpdate(product: {id: $%s, status: DRAFT}) { product { id status } userErrors { field message } }"
                          % (a, a))
    return "mutation SellerModeProductStatus(%s) {\n%s\n}" % (", ".join(params), "\n".join(fields))


VARIANT_PRICES = """
query SellerModeVariantPrices($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on ProductVariant { price product { id } } }
}
"""


def variant_prices_cost(n):
    return 1 + n * 2


# ---------------------------------------------------------------- inventory
INVENTORY_SET = """
mutation SellerModeInventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange item { id } } }
    userErrors { field message code }
  }
}
"""

INVENTORY_READ = """
query SellerModeInventoryRead($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    id
    ... on InventoryItem { inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } }
  }
}
"""


def inventory_read_cost(n):
    return 1 + n * 3


# ---------------------------------------------------------------- orders
FO_FRAGMENT = """
fragment SMFulfillmentOrder on FulfillmentOrder {
  id status requestStatus updatedAt
  assignedLocation { location { id } }
  destination { firstName lastName company address1 address2 city province countryCode zip phone email }
  order {
    id name createdAt updatedAt currencyCode email cancelledAt
    shippingAddress { firstName lastName name company address1 address2 city province provinceCode countryCodeV2 zip phone }
  }
  lineItems(first: 20) {
    nodes {
      id sku totalQuantity remainingQuantity productTitle variantTitle
      variant { id product { id } }
      lineItem { id originalUnitPriceSet { shopMoney { amount } } }
    }
  }
}
"""
FO_COST = 1 + 2 + 1 + 2 + (2 + 20 * (1 + 2 + 3))  # one fulfillment order with its order and lines

ASSIGNED_FOS = """
query SellerModeAssigned($status: FulfillmentOrderAssignmentStatus, $locations: [ID!], $after: String) {
  assignedFulfillmentOrders(first: 5, assignmentStatus: $status, locationIds: $locations, after: $after) {
    nodes { ...SMFulfillmentOrder }
    pageInfo { hasNextPage endCursor }
  }
}
""" + FO_FRAGMENT
ASSIGNED_FOS_COST = 2 + 5 * FO_COST

ORDER_FOS = """
query SellerModeOrder($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) { nodes { ...SMFulfillmentOrder } }
  }
}
""" + FO_FRAGMENT
ORDER_FOS_COST = 1 + 2 + 5 * FO_COST

FO_STATES = """
query SellerModeFulfillmentOrders($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on FulfillmentOrder { status requestStatus lineItems(first: 50) { nodes { id remainingQuantity } } }
  }
}
"""


def fo_states_cost(n):
    return 1 + n * (1 + 2 + 50)


def fo_action_document(mutation, aliases, with_reason=False):
    params, fields = ["$message: String"], []
    if with_reason:
        params.append("$reason: FulfillmentOrderRejectionReason")
    for a in aliases:
        params.append("$%s: ID!" % a)
        extra = ", reason: $reason" if with_reason else ""
        fields.append("  %s: %s(id: $%s, message: $message%s) { fulfillmentOrder { id status requestStatus } userErrors { field message } }"
                      % (a, mutation, a, extra))
    return "mutation SellerModeFulfillmentOrderAction(%s) {\n%s\n}" % (", ".join(params), "\n".join(fields))


FULFILLMENT_CREATE = """
mutation SellerModeFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""

FO_FULFILLMENTS = """
query SellerModeFulfillments($id: ID!) {
  fulfillmentOrder(id: $id) { id fulfillments(first: 20) { nodes { id createdAt totalQuantity } } }
}
"""
FO_FULFILLMENTS_COST = 1 + 2 + 20
