"""Throughput of the Shopify emulator under concurrent GraphQL requests.

    python bench/emulator_throughput.py [--threads 8] [--seconds 5] [--in-process]

Starts ``python -m emulators shopify`` in a subprocess (enterprise plan: a 40000-point
bucket restoring 2000/s, which a few seconds at ~1000 requests/s of cost 3
do not empty; latency model off),
creates a few products, then lets N threads with keep-alive
``requests.Session``s send a typical small query (a variant by SKU with its
available quantity, cost 3) and, one request in ten, an
``inventorySetQuantities``. Prints ONE JSON line:
``{"requests_per_s": .., "p50_ms": .., "p95_ms": .., "p99_ms": .., "errors": .., ...}``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

READ = """query($q: String!) { productVariants(first: 1, query: $q) { nodes { id sku price inventoryQuantity } } }"""
SET = """mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) {
  userErrors { code } } }"""
PRODUCT = """mutation($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { variants(first: 5) { nodes { sku inventoryItem { id } } } } userErrors { message } } }"""


def start_server(in_process):
    if in_process:
        from emulators.shopify import ShopifyEmulator

        emu = ShopifyEmulator(port=0, seed=0).start()
        token = emu.add_shop("bench", plan="enterprise")
        emu.set_faults("bench", latency_model=False)
        return emu.shop_url("bench"), token, emu.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators", "shopify", "--port", "0", "--shops", "bench", "--plan", "enterprise", "--no-latency"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    words = proc.stdout.readline().split()
    if not words or words[0] != "shop":
        proc.kill()
        raise SystemExit("the emulator did not start")

    def stop():
        proc.terminate()
        proc.wait(timeout=5)

    return words[2], words[4], stop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--in-process", action="store_true", help="run the emulator in this process (shares the GIL)")
    args = parser.parse_args()

    shop_url, token, stop = start_server(args.in_process)
    url = shop_url + "/admin/api/2026-04/graphql.json"
    headers = {"X-Shopify-Access-Token": token}
    try:
        setup = requests.Session()
        loc = setup.post(url, json={"query": "{ locations(first: 1) { nodes { id } } }"}, headers=headers).json()
        loc = loc["data"]["locations"]["nodes"][0]["id"]
        items = []
        for i in range(args.products):
            body = setup.post(url, headers=headers, json={"query": PRODUCT, "variables": {"input": {
                "title": "Bench %d" % i,
                "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
                "variants": [{"optionValues": [{"optionName": "Size", "name": s}], "sku": "B%d-%s" % (i, s), "price": "10",
                              "inventoryQuantities": [{"locationId": loc, "name": "available", "quantity": 100}]}
                             for s in ("S", "M")]}}}).json()
            for v in body["data"]["productSet"]["product"]["variants"]["nodes"]:
                items.append((v["sku"], v["inventoryItem"]["id"]))

        latencies = []
        errors = [0]
        throttled = [0]
        lock = threading.Lock()
        deadline = [0.0]
        barrier = threading.Barrier(args.threads + 1)

        def worker(n):
            session = requests.Session()
            local, errs, thr = [], 0, 0
            i = 0
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                sku, item = items[(n * 7 + i) % len(items)]
                if i % 10 == 9:
                    payload = {"query": SET, "variables": {"key": "t%d-%d" % (n, i), "input": {
                        "name": "available", "reason": "correction",
                        "quantities": [{"inventoryItemId": item, "locationId": loc, "quantity": i % 50, "changeFromQuantity": None}]}}}
                else:
                    payload = {"query": READ, "variables": {"q": "sku:%s" % sku}}
                t0 = time.perf_counter()
                try:
                    r = session.post(url, json=payload, headers=headers, timeout=10)
                    ok = r.status_code == 200
                    body = r.json() if ok else {}
                    if "errors" in body:
                        ok = False
                        if body["errors"][0].get("extensions", {}).get("code") == "THROTTLED":
                            thr += 1
                except requests.RequestException:
                    ok = False
                local.append(time.perf_counter() - t0)
                if not ok:
                    errs += 1
                i += 1
            with lock:
                latencies.extend(local)
                errors[0] += errs
                throttled[0] += thr

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
        for t in threads:
            t.start()
        deadline[0] = time.perf_counter() + args.seconds
        start = time.perf_counter()
        barrier.wait()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        stop()
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else None

    print(json.dumps({
        "platform": "shopify",
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "threads": args.threads,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.mean(latencies) * 1000, 2) if latencies else None,
        "errors": errors[0],
        "throttled": throttled[0],
        "in_process": args.in_process,
    }))


if __name__ == "__main__":
    main()
