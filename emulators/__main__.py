"""Serve the emulators from the command line:

    python -m emulators shopify --port 8601 --shops demo-a,demo-b
    python -m emulators woocommerce --port 8602 --sites demo-w
"""

import argparse
import signal
import threading


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulators")
    sub = parser.add_subparsers(dest="platform", required=True)
    shop = sub.add_parser("shopify", help="Shopify Admin GraphQL 2026-04")
    shop.add_argument("--port", type=int, default=8601)
    shop.add_argument("--shops", default="demo-a", help="comma-separated shop names")
    shop.add_argument("--plan", default="standard", choices=["standard", "advanced", "plus", "enterprise"])
    shop.add_argument("--api-key", default="seller-mode-app")
    shop.add_argument("--api-secret", default="seller-mode-secret")
    woo = sub.add_parser("woocommerce", help="WooCommerce REST wc/v3")
    woo.add_argument("--port", type=int, default=8602)
    woo.add_argument("--tls-port", type=int, default=0, help="HTTPS port (0: ephemeral)")
    woo.add_argument("--sites", default="demo-w", help="comma-separated site names")
    for p in (shop, woo):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-latency", action="store_true", help="turn the calibrated latency model off")
    args = parser.parse_args(argv)

    if args.platform == "shopify":
        from .shopify import ShopifyEmulator

        emulator = ShopifyEmulator(
            host=args.host, port=args.port, seed=args.seed, api_key=args.api_key, api_secret=args.api_secret
        )
        tenants = [s for s in args.shops.split(",") if s]
        emulator.start()
        for name in tenants:
            token = emulator.add_shop(name, plan=args.plan)
            print("shop %s: %s  token %s" % (name, emulator.shop_url(name), token), flush=True)
    else:
        from .woocommerce import WooCommerceEmulator

        emulator = WooCommerceEmulator(host=args.host, port=args.port, seed=args.seed, tls_port=args.tls_port)
        tenants = [s for s in args.sites.split(",") if s]
        emulator.start()
        for name in tenants:
            key, secret = emulator.add_site(name)
            print("site %s: %s  key %s secret %s" % (name, emulator.site_url(name), key, secret), flush=True)
    if args.no_latency:
        for name in tenants:
            emulator.set_faults(name, latency_model=False)
    print("admin page: %s/_emulator/" % emulator.base_url, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    emulator.stop()


if __name__ == "__main__":
    main()
