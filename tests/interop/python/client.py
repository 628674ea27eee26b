"""The Python grpcio side of the interop cases, calling a server.

Usage: client.py GENERATED_DIR ADDRESS DIRECTION [MICRO_PID]
With INTEROP_TLS_DIR (ca.pem, localhost.pem, localhost-key.pem), calls over mutual TLS.
Prints `RESULT DIRECTION <case> PASS|FAIL <detail>` for every case. With MICRO_PID, also
checks health (Check, and Watch through a graceful stop of that process) and reflection.
"""

import os
import queue
import signal
import sys
import threading
import time

import grpc

import common

empty_pb2, messages_pb2, test_pb2_grpc = common.load(sys.argv[1])
ADDRESS, DIRECTION = sys.argv[2], sys.argv[3]
MICRO_PID = int(sys.argv[4]) if len(sys.argv) > 4 else None

TLS_DIR = os.environ.get("INTEROP_TLS_DIR")
if TLS_DIR:
    # Mutual TLS: the development CA, and a certificate of it for this client.
    def read(name):
        with open(os.path.join(TLS_DIR, name), "rb") as f:
            return f.read()

    creds = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"),
        private_key=read("localhost-key.pem"),
        certificate_chain=read("localhost.pem"),
    )
    channel = grpc.secure_channel(ADDRESS, creds)
else:
    channel = grpc.insecure_channel(ADDRESS)
stub = test_pb2_grpc.TestServiceStub(channel)


def payload(n):
    return messages_pb2.Payload(body=b"\0" * n)


def out_request(sizes, interval_us=0, status=None):
    req = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=s, interval_us=interval_us) for s in sizes]
    )
    if status:
        req.response_status.CopyFrom(status)
    return req


class Requests:
    """A request iterator fed one message at a time (for ping-pong)."""

    def __init__(self):
        self.q = queue.Queue()

    def put(self, item):
        self.q.put(item)

    def close(self):
        self.q.put(None)

    def __iter__(self):
        return iter(self.q.get, None)


def expect_code(fn, code, details=None):
    try:
        fn()
    except grpc.RpcError as e:
        assert e.code() == code, f"expected {code}, got {e.code()} {e.details()!r}"
        if details is not None:
            assert e.details() == details, f"expected details {details!r}, got {e.details()!r}"
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def empty_unary():
    assert stub.EmptyCall(empty_pb2.Empty(), timeout=10) == empty_pb2.Empty()


def large_unary():
    rsp = stub.UnaryCall(messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828)), timeout=10)
    assert len(rsp.payload.body) == 314159, len(rsp.payload.body)


def client_streaming():
    reqs = [messages_pb2.StreamingInputCallRequest(payload=payload(n)) for n in common.SIZES_IN]
    rsp = stub.StreamingInputCall(iter(reqs), timeout=10)
    assert rsp.aggregated_payload_size == 74922, rsp.aggregated_payload_size


def server_streaming():
    sizes = [len(r.payload.body) for r in stub.StreamingOutputCall(out_request(common.SIZES_OUT), timeout=10)]
    assert sizes == common.SIZES_OUT, sizes


def ping_pong():
    reqs = Requests()
    call = stub.FullDuplexCall(iter(reqs), timeout=10)
    for n_in, n_out in zip(common.SIZES_IN, common.SIZES_OUT):
        req = out_request([n_out])
        req.payload.CopyFrom(payload(n_in))
        reqs.put(req)
        rsp = next(call)
        assert len(rsp.payload.body) == n_out
    reqs.close()
    assert list(call) == []


def empty_stream():
    assert list(stub.FullDuplexCall(iter([]), timeout=10)) == []


def cancel_after_begin():
    started = threading.Event()

    def never():
        started.set()
        time.sleep(30)
        yield messages_pb2.StreamingInputCallRequest()

    future = stub.StreamingInputCall.future(never(), timeout=10)
    started.wait(5)
    future.cancel()
    assert future.cancelled()
    assert future.code() == grpc.StatusCode.CANCELLED, future.code()
    try:
        future.result()
    except grpc.FutureCancelledError:
        return
    raise AssertionError("a cancelled call returned a result")


def cancel_after_first_response():
    reqs = Requests()
    call = stub.FullDuplexCall(iter(reqs), timeout=10)
    req = out_request([31415])
    req.payload.CopyFrom(payload(27182))
    reqs.put(req)
    next(call)
    call.cancel()
    expect_code(lambda: next(call), grpc.StatusCode.CANCELLED)
    reqs.close()


def timeout_on_sleeping_server():
    req = out_request([31415], interval_us=1_000_000)
    req.payload.CopyFrom(payload(27182))
    call = stub.FullDuplexCall(iter([req]), timeout=0.001)
    expect_code(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED)


def custom_metadata():
    md = [(common.ECHO_INITIAL, "test_initial_metadata_value"), (common.ECHO_TRAILING, b"\xab\xab\xab")]
    _, call = stub.UnaryCall.with_call(
        messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828)), metadata=md, timeout=10
    )
    initial = dict(call.initial_metadata())
    trailing = dict(call.trailing_metadata())
    assert initial.get(common.ECHO_INITIAL) == "test_initial_metadata_value", initial
    assert trailing.get(common.ECHO_TRAILING) == b"\xab\xab\xab", trailing
    req = out_request([314159])
    req.payload.CopyFrom(payload(271828))
    call = stub.FullDuplexCall(iter([req]), metadata=md, timeout=10)
    assert len(list(call)) == 1
    assert dict(call.initial_metadata()).get(common.ECHO_INITIAL) == "test_initial_metadata_value"
    assert dict(call.trailing_metadata()).get(common.ECHO_TRAILING) == b"\xab\xab\xab"


def status_code_and_message():
    status = messages_pb2.EchoStatus(code=2, message="test status message")
    expect_code(
        lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=10),
        grpc.StatusCode.UNKNOWN,
        "test status message",
    )
    call = stub.FullDuplexCall(iter([out_request([], status=status)]), timeout=10)
    expect_code(lambda: list(call), grpc.StatusCode.UNKNOWN, "test status message")


def special_status_message():
    status = messages_pb2.EchoStatus(code=2, message=common.SPECIAL)
    expect_code(
        lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=10),
        grpc.StatusCode.UNKNOWN,
        common.SPECIAL,
    )


def unimplemented_method():
    expect_code(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=10), grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service():
    other = test_pb2_grpc.UnimplementedServiceStub(channel)
    expect_code(lambda: other.UnimplementedCall(empty_pb2.Empty(), timeout=10), grpc.StatusCode.UNIMPLEMENTED)


def health_check():
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(channel)
    for service in ["", "interop", "grpc.testing.TestService"]:
        rsp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert rsp.status == health_pb2.HealthCheckResponse.SERVING, (service, rsp.status)
    expect_code(
        lambda: health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=10),
        grpc.StatusCode.NOT_FOUND,
    )


def reflection_v1alpha():
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    db = ProtoReflectionDescriptorDatabase(channel)
    services = db.get_services()
    for want in ["grpc.testing.TestService", "grpc.health.v1.Health"]:
        assert want in services, services
    pool = DescriptorPool(db)
    msg = pool.FindMessageTypeByName("grpc.testing.SimpleRequest")
    assert "response_size" in msg.fields_by_name, list(msg.fields_by_name)
    method = pool.FindServiceByName("grpc.testing.TestService").FindMethodByName("FullDuplexCall")
    assert method.client_streaming and method.server_streaming


def reflection_v1():
    # grpcio-reflection ships only v1alpha messages; v1 has the same messages on the wire.
    from grpc_reflection.v1alpha import reflection_pb2 as r

    call = channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=r.ServerReflectionRequest.SerializeToString,
        response_deserializer=r.ServerReflectionResponse.FromString,
    )
    reqs = [
        r.ServerReflectionRequest(list_services=""),
        r.ServerReflectionRequest(file_containing_symbol="grpc.testing.TestService"),
    ]
    rsps = list(call(iter(reqs), timeout=10))
    names = [s.name for s in rsps[0].list_services_response.service]
    assert "grpc.testing.TestService" in names, names
    files = rsps[1].file_descriptor_response.file_descriptor_proto
    from google.protobuf import descriptor_pb2

    first = descriptor_pb2.FileDescriptorProto.FromString(files[0])
    assert first.name == "grpc/testing/test.proto", first.name


def health_watch_draining():
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=20)
    first = next(watch)
    assert first.status == health_pb2.HealthCheckResponse.SERVING, first.status
    os.kill(MICRO_PID, signal.SIGTERM)
    second = next(watch)
    assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING, second.status


CASES = [
    empty_unary,
    large_unary,
    client_streaming,
    server_streaming,
    ping_pong,
    empty_stream,
    cancel_after_begin,
    cancel_after_first_response,
    timeout_on_sleeping_server,
    custom_metadata,
    status_code_and_message,
    special_status_message,
    unimplemented_method,
    unimplemented_service,
]
if MICRO_PID:
    CASES += [health_check, reflection_v1alpha, reflection_v1, health_watch_draining]

failed = 0
for case in CASES:
    try:
        case()
        print(f"RESULT {DIRECTION} {case.__name__} PASS", flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        failed += 1
        detail = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"RESULT {DIRECTION} {case.__name__} FAIL {detail}", flush=True)
sys.exit(1 if failed else 0)
