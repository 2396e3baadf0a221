"""What a retailer sees and does in its store, through the platforms' own
APIs (never through our adapters): the tests' independent witness."""

import requests
from woocommerce import API

SHOPIFY_PRODUCTS = """
query Products($query: String) {
  products(first: 10, query: $query) {
    nodes {
      id title status descriptionHtml vendor productType tags
      options { name }
      variants(first: 20) {
        nodes { id sku barcode price compareAtPrice selectedOptions { name value }
                inventoryItem { id unitCost { amount } } }
      }
      metafields(namespace: "seller_mode", first: 5) { nodes { key value } }
    }
  }
}
"""


class ShopifyRetailer:
    def __init__(self, emulator, shop, token):
        self.url = emulator.shop_url(shop) + "/admin/api/2026-04/graphql.json"
        self.session = requests.Session()
        self.session.headers["X-Shopify-Access-Token"] = token

    def graphql(self, document, **variables):
        answer = self.session.post(self.url, json={"query": document, "variables": variables}, timeout=10).json()
        assert not answer.get("errors"), answer
        return answer["data"]

    def products(self, query=None):
        return self.graphql(SHOPIFY_PRODUCTS, query=query)["products"]["nodes"]

    def product_by_sku(self, sku):
        found = [p for p in self.products("sku:%s" % sku)]
        return found

    def set_title(self, product_id, title):
        data = self.graphql(
            "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { product { id } userErrors { message } } }",
            p={"id": product_id, "title": title},
        )
        assert not data["productUpdate"]["userErrors"], data


class WooRetailer:
    def __init__(self, emulator, site, key, secret):
        self.api = API(url=emulator.site_url(site), consumer_key=key, consumer_secret=secret, version="wc/v3",
                       timeout=10)

    def products(self):
        answer = self.api.get("products", params={"per_page": 100})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def variations(self, product_id):
        return self.api.get("products/%s/variations" % product_id, params={"per_page": 100}).json()

    def update_product(self, product_id, **vals):
        answer = self.api.put("products/%s" % product_id, vals)
        assert answer.status_code == 200, answer.text
        return answer.json()


ORDER_CREATE = """
mutation($order: OrderCreateOrderInput!) {
  orderCreate(order: $order) { order { id name } userErrors { field message } }
}
"""

CUSTOMER_ADDRESS = {
    "firstName": "Zoë", "lastName": "D'Artagnan", "address1": "5 Rue de la Paix", "city": "Paris",
    "zip": "75002", "countryCode": "FR", "phone": "+33100000000",
}


def shopify_place_order(retailer, lines, address=None, email="zoe@example.com"):
    """A customer's checkout: lines = [(variant gid, quantity)]."""
    data = retailer.graphql(ORDER_CREATE, order={
        "email": email,
        "currency": "USD",
        "lineItems": [{"variantId": gid, "quantity": qty, "requiresShipping": True} for gid, qty in lines],
        "shippingAddress": address if address is not None else CUSTOMER_ADDRESS,
    })
    assert not data["orderCreate"]["userErrors"], data
    return data["orderCreate"]["order"]


WOO_SHIPPING = {
    "first_name": "Zoë", "last_name": "D'Artagnan", "address_1": "5 Rue de la Paix", "city": "Paris",
    "postcode": "75002", "country": "FR", "phone": "+33100000000",
}
