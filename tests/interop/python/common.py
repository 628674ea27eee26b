"""Shared by the Python interop peers: loads the stubs generated for grpc.testing.

Our generated modules live in package `grpc.testing`, which grpcio (a regular `grpc`
package) does not have: register a module for it pointing at the generated files.
"""

import os
import sys
import types

import grpc

SIZES_IN = [27182, 8, 1828, 45904]
SIZES_OUT = [31415, 9, 2653, 58979]
SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"


def load(generated_dir):
    pkg = types.ModuleType("grpc.testing")
    pkg.__path__ = [os.path.join(generated_dir, "grpc", "testing")]
    sys.modules["grpc.testing"] = pkg
    grpc.testing = pkg
    from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402

    return empty_pb2, messages_pb2, test_pb2_grpc
