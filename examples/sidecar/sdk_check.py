#!/usr/bin/env python3
"""Dapr's own Python SDK and the CloudEvents SDK against `micro proxy`.

    DAPR_HTTP_PORT=8081 DAPR_API_METHOD_INVOCATION_PROTOCOL=http \
        python3 examples/sidecar/sdk_check.py --app http://127.0.0.1:5000

The Dapr SDK's DaprClient speaks gRPC for everything but service invocation, which it sends
over HTTP when DAPR_API_METHOD_INVOCATION_PROTOCOL=http; that is the part checked here (the
rest of the API is plain HTTP and checked with urllib by the tests). The events the app
received are parsed with the CloudEvents SDK. Prints one JSON line of what it found.
"""

import argparse
import json
import urllib.request

from cloudevents.v1.http import from_http
from dapr.clients import DaprClient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True, help="the orders app's base URL")
    args = parser.parse_args()
    with DaprClient() as client:
        rsp = client.invoke_method(
            "greeter", "Greeter.Hello", data=json.dumps({"name": "dapr sdk"}),
            content_type="application/json", http_verb="POST",
        )
        greeting = json.loads(rsp.data)
        bare = client.invoke_method(
            "orders", "neworder", data=json.dumps({"n": 1}),
            content_type="application/json", http_verb="POST",
        )
    with urllib.request.urlopen(args.app.rstrip("/") + "/events", timeout=10) as r:
        events = json.loads(r.read())
    parsed = []
    for e in events:
        event = from_http(e["headers"], e["body"])
        parsed.append({
            "id": event["id"], "source": event["source"], "type": event["type"],
            "specversion": event["specversion"], "data": event.data,
        })
    print(json.dumps({"greeting": greeting, "neworder": json.loads(bare.data), "events": parsed}))


if __name__ == "__main__":
    main()
