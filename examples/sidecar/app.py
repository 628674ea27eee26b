#!/usr/bin/env python3
"""An orders service in Python that joins micro through `micro proxy`, with nothing but
the standard library.

    micro proxy --server_name orders --server_address 127.0.0.1:5000 \
        --healthcheck_url http://127.0.0.1:5000/health &
    python3 examples/sidecar/app.py --port 5000 --sidecar http://127.0.0.1:8081
    micro call orders Orders.Place '{"item": "tea", "name": "Ada"}'

What it shows:
- it is registered by the sidecar while GET /health answers 200 (POST /admin/health
  {"healthy": false} makes it fail, to watch it leave the registry);
- micro calls reach it as POST /{Endpoint} with the JSON body (Orders.Place);
- it calls the Rust greeter through the sidecar (Dapr's invoke API);
- it saves and reads state (Dapr's state API, ETags included);
- it publishes and subscribes: GET /dapr/subscribe names the topic, each event arrives as a
  CloudEvent POST to its route.
"""

import argparse
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = "statestore"
PUBSUB = "pubsub"
TOPIC = "orders.placed"


class Orders:
    """What the app keeps: its health switch and the events it received."""

    def __init__(self, sidecar):
        self.sidecar = sidecar.rstrip("/")
        self.healthy = True
        self.lock = threading.Lock()
        self.events = []  # (headers, body) of each delivery
        self.fail_deliveries = False

    def sidecar_json(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.sidecar + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=10) as rsp:
            text = rsp.read()
            return rsp.status, dict(rsp.headers), (json.loads(text) if text else None)

    def place(self, order):
        """Orders.Place: greet the customer through the greeter, keep the order, announce it."""
        name = order.get("name", "customer")
        _, _, greeting = self.sidecar_json(
            "POST", "/v1.0/invoke/greeter/method/Greeter.Hello", {"name": name}
        )
        key = "order-" + order.get("item", "unknown")
        kept = {"item": order.get("item"), "name": name}
        status, _, _ = self.sidecar_json("POST", f"/v1.0/state/{STATE}", [{"key": key, "value": kept}])
        assert status == 204, status
        _, headers, stored = self.sidecar_json("GET", f"/v1.0/state/{STATE}/{key}")
        etag = {k.lower(): v for k, v in headers.items()}.get("etag")
        self.sidecar_json("POST", f"/v1.0/publish/{PUBSUB}/{TOPIC}", {"key": key, "item": kept["item"]})
        return {"greeting": greeting.get("msg"), "stored": stored, "etag": etag, "key": key}


class Handler(BaseHTTPRequestHandler):
    app: Orders = None  # set in main

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        app = self.app
        if self.path == "/health":
            self.reply(200 if app.healthy else 503, {"healthy": app.healthy})
        elif self.path == "/dapr/subscribe":
            self.reply(200, [{
                "pubsubname": PUBSUB, "topic": TOPIC, "route": "/events/placed",
                "deadLetterTopic": "orders.dead",
            }])
        elif self.path == "/events":
            with app.lock:
                self.reply(200, [{"headers": h, "body": b} for h, b in app.events])
        else:
            self.reply(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        app = self.app
        raw = self.body()
        if self.path == "/Orders.Place":
            try:
                self.reply(200, app.place(json.loads(raw or b"{}")))
            except (urllib.error.URLError, ValueError, AssertionError) as e:
                self.reply(500, {"id": "orders", "code": 500, "detail": f"placing failed: {e}", "status": "Internal Server Error"})
        elif self.path == "/neworder":
            self.reply(200, {"received": json.loads(raw or b"{}")})
        elif self.path == "/events/placed":
            with app.lock:
                app.events.append((dict(self.headers), raw.decode()))
                fail = app.fail_deliveries
            self.reply(500 if fail else 200, {"status": "RETRY" if fail else "SUCCESS"})
        elif self.path == "/admin/health":
            app.healthy = bool(json.loads(raw or b"{}").get("healthy", True))
            self.reply(200, {"healthy": app.healthy})
        elif self.path == "/admin/deliveries":
            app.fail_deliveries = bool(json.loads(raw or b"{}").get("fail", False))
            self.reply(200, {"fail": app.fail_deliveries})
        else:
            self.reply(404, {"id": "orders", "code": 404, "detail": f"no endpoint {self.path[1:]}", "status": "Not Found"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--sidecar", default="http://127.0.0.1:8081")
    args = parser.parse_args()
    Handler.app = Orders(args.sidecar)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"orders on http://127.0.0.1:{args.port}/ (sidecar {args.sidecar})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
