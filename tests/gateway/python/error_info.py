"""A stock grpcio client reads a typed error: calls users.v1.Users/Get for an unknown id
and prints the status code and the google.rpc.ErrorInfo / BadRequest in the trailers.

Usage: error_info.py HOST:PORT
"""

import json
import sys

import grpc
from google.rpc import error_details_pb2, status_pb2


def details(err):
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            out = {"code": status.code}
            for any_ in status.details:
                if any_.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    any_.Unpack(info)
                    out["reason"] = info.reason
                    out["domain"] = info.domain
                    out["metadata"] = dict(info.metadata)
                if any_.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    any_.Unpack(bad)
                    out["violations"] = sorted(
                        [v.field, v.reason] for v in bad.field_violations
                    )
            return out
    return {}


def call(channel, method, request):
    ident = lambda b: b  # noqa: E731 (requests are encoded by hand)
    stub = channel.unary_unary(method, request_serializer=ident, response_deserializer=ident)
    try:
        stub(request, timeout=10)
        return {"ok": True}
    except grpc.RpcError as err:
        found = details(err)
        found["grpc_code"] = err.code().name
        return found


def main():
    with grpc.insecure_channel(sys.argv[1]) as channel:
        # GetRequest{id: "9"}
        print(json.dumps(call(channel, "/users.v1.Users/Get", b"\x0a\x019")))
        # CreateRequest{name: "", email: "x", age: 20}
        print(json.dumps(call(channel, "/users.v1.Users/Create", b"\x12\x01x\x18\x14")))


if __name__ == "__main__":
    main()
