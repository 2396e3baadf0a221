"""A tiny local HTTP endpoint that records what it is sent: the tests'
independent witness of webhooks and of the platforms' callbacks."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """Records every request as {method, path, headers, body, t}; answers
    ``status``, or 500 to the first ``fail_first`` requests."""

    def __init__(self, status=200, fail_first=0):
        self.status = status
        self.fail_first = fail_first
        self.calls = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer.lock:
                    outer.calls.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                        "body": body, "t": time.monotonic()})
                    status = 500 if len(outer.calls) <= outer.fail_first else outer.status
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.url = self.base + "/hook"

    def matching(self, predicate=None, topic=None):
        with self.lock:
            calls = list(self.calls)
        if topic is not None:
            calls = [c for c in calls if topic in (c["headers"].get("X-Shopify-Topic"),
                                                   c["headers"].get("X-WC-Webhook-Topic"))]
        return [c for c in calls if predicate is None or predicate(c)]

    def wait(self, count=1, timeout=5.0, predicate=None, topic=None):
        """The matching calls once there are ``count`` of them (or the
        timeout passed: the caller's assertion then says what is missing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.matching(predicate, topic)
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        return self.matching(predicate, topic)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()
