"""Shopify emulator helpers shared by the emulator and adapter tests."""

from emulators.shopify import ShopifyEmulator

KEY, SECRET = "seller-mode-app", "seller-mode-secret"


def running_emulator(seed, round_trip_ms):
    """A started emulator for a module-scoped fixture (yield it, then stop)."""
    emulator = ShopifyEmulator(host="127.0.0.1", port=0, seed=seed, api_key=KEY, api_secret=SECRET,
                               round_trip_ms=round_trip_ms)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def new_shop(emu, name, plan="enterprise", **kw):
    """A shop with its latency model off (tests time nothing); its token."""
    token = emu.add_shop(name, plan=plan, **kw)
    emu.set_faults(name, latency_model=False)
    return token
