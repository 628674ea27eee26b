"""An OTLP/HTTP trace receiver for the tracing tests, decoding with the official schema.

Listens on 127.0.0.1 (an ephemeral port, printed as "port N" on the first line), accepts
POST /v1/traces with `application/x-protobuf` bodies (ExportTraceServiceRequest from the
`opentelemetry-proto` package), and answers GET /spans with every span received so far as
JSON. Anything else gets the status an OTLP receiver gives: 404, 405, 415 or 400.
Exits with status 3 when `opentelemetry-proto` is not installed.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
except ImportError:
    print("missing opentelemetry-proto (pip install opentelemetry-proto)", flush=True)
    sys.exit(3)

SPANS = []
LOCK = threading.Lock()


def value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", content_type="application/x-protobuf"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/spans":
            return self.answer(404)
        with LOCK:
            body = json.dumps(SPANS).encode()
        self.answer(200, body, "application/json")

    def do_POST(self):
        if self.path != "/v1/traces":
            return self.answer(404)
        if self.headers.get("content-type") != "application/x-protobuf":
            return self.answer(415)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception:  # a body the schema cannot read
            return self.answer(400)
        spans = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        {
                            "service": resource.get("service.name"),
                            "scope": scope_spans.scope.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": span.kind,
                            "start": span.start_time_unix_nano,
                            "end": span.end_time_unix_nano,
                            "attributes": {kv.key: value(kv.value) for kv in span.attributes},
                            "status": span.status.code,
                            "message": span.status.message,
                        }
                    )
        with LOCK:
            SPANS.extend(spans)
        self.answer(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString())


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    # The test closes stdin (or dies): stop then.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
