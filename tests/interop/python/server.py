"""The Python grpcio interop server: the stock peer micro's client calls.

Usage: server.py GENERATED_DIR. Prints `LISTENING 127.0.0.1:<port>`, serves until killed.
"""

import os
import sys
import time
from concurrent import futures

import grpc

import common

empty_pb2, messages_pb2, test_pb2_grpc = common.load(sys.argv[1])


def echo_metadata(context):
    md = dict(context.invocation_metadata())
    if common.ECHO_INITIAL in md:
        context.send_initial_metadata([(common.ECHO_INITIAL, md[common.ECHO_INITIAL])])
    if common.ECHO_TRAILING in md:
        context.set_trailing_metadata([(common.ECHO_TRAILING, md[common.ECHO_TRAILING])])


def abort_with(context, status):
    if status.code != 0:
        context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == status.code)), status.message)


def responses(params):
    for p in params:
        if p.interval_us:
            time.sleep(p.interval_us / 1e6)
        yield messages_pb2.StreamingOutputCallResponse(payload=messages_pb2.Payload(body=b"\0" * p.size))


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        echo_metadata(context)
        abort_with(context, request.response_status)
        return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(body=b"\0" * request.response_size))

    def StreamingOutputCall(self, request, context):
        echo_metadata(context)
        yield from responses(request.response_parameters)
        abort_with(context, request.response_status)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        size = sum(len(r.payload.body) for r in request_iterator)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=size)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request in request_iterator:
            abort_with(context, request.response_status)
            yield from responses(request.response_parameters)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request in list(request_iterator):
            abort_with(context, request.response_status)
            yield from responses(request.response_parameters)


server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
TLS_DIR = os.environ.get("INTEROP_TLS_DIR")
if TLS_DIR:
    with open(os.path.join(TLS_DIR, "localhost-key.pem"), "rb") as f:
        key = f.read()
    with open(os.path.join(TLS_DIR, "localhost.pem"), "rb") as f:
        chain = f.read()
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, chain)]))
else:
    port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"LISTENING 127.0.0.1:{port}", flush=True)
server.wait_for_termination()
