import { registry } from "@web/core/registry";

/**
 * A retailer's walk through the portal: home -> catalog -> CSV download ->
 * orders -> an order -> stores -> a store page.
 *
 * `seller_mode:screenshot:<name>` on the console asks the test to take a
 * screenshot of the page; the test marks <body> with `o_seller_shot_<name>`
 * once it is taken, and the next step waits for that mark.
 */
function screenshot(name, trigger) {
    return [
        {
            content: `Screenshot of the ${name} page`,
            trigger,
            run() {
                console.log(`seller_mode:screenshot:${name}`);
            },
        },
        {
            content: `Wait for the ${name} screenshot`,
            trigger: `body.o_seller_shot_${name}`,
        },
    ];
}

registry.category("web_tour.tours").add("seller_mode_portal_tour", {
    url: "/my",
    steps: () => [
        ...screenshot("home", "a[href='/my/seller/catalog']"),
        {
            content: "Open the catalog",
            trigger: "a[href='/my/seller/catalog']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The catalog lists the shared products with prices and quantities",
            trigger: ".o_seller_catalog_row:contains('Crème') .o_seller_qty",
        },
        ...screenshot("catalog", ".o_seller_catalog_row .o_seller_sync_state"),
        {
            content: "Download the catalog as CSV",
            trigger: "a.o_seller_download_csv",
            async run() {
                const response = await fetch(this.anchor.getAttribute("href"));
                const text = await response.text();
                if (!response.ok || !text.includes("sku") || !text.includes('"123456789012"')) {
                    throw new Error(`The CSV download failed (${response.status}): ${text.slice(0, 200)}`);
                }
                document.body.classList.add("o_seller_csv_ok");
            },
        },
        {
            content: "Back to the portal home",
            trigger: "body.o_seller_csv_ok .breadcrumb a[href='/my/home']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Open the store orders",
            trigger: "a[href='/my/seller/orders']",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("orders", ".o_seller_order_row a"),
        {
            content: "Open the order that shipped",
            trigger: ".o_seller_order_row:contains('#A-1000') a",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order shows its shipment and tracking link",
            trigger: ".o_seller_shipment .o_seller_tracking_link",
        },
        ...screenshot("order", ".o_seller_order_lines"),
        {
            content: "Go to the stores",
            trigger: ".breadcrumb a[href='/my/home']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Open the stores",
            trigger: "a[href='/my/seller/stores']",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("stores", ".o_seller_store_row a"),
        {
            content: "Open a store",
            trigger: ".o_seller_store_row a:contains('Test Store')",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The store page shows its connection, sync and progress",
            trigger: ".o_seller_store .o_seller_store_state:contains('Connected')",
        },
        ...screenshot("store", ".o_seller_store .o_seller_progress"),
    ],
});
