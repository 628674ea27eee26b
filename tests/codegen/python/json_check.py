"""Checks micro's proto3 JSON against Python's google.protobuf.json_format, the reference.

Usage: json_check.py PROTO_DIR WORK_DIR

WORK_DIR holds `message.bin` (the message in protobuf) and `micro.json` (micro's JSON for
it). The script compiles fixtures/kitchen.proto with grpcio-tools, then checks that:
  1. json_format prints the same JSON as micro (compared as parsed JSON values);
  2. json_format parses micro's JSON back to the same message;
and writes `python.json` (json_format's JSON) for micro to parse in turn.
"""

import json
import os
import sys
import tempfile

from grpc_tools import protoc
import grpc_tools
from google.protobuf import json_format


def main() -> int:
    proto_dir, work = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp(prefix="micro-json-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = ["fixtures/kitchen.proto", "fixtures/common/types.proto",
             "google/api/annotations.proto", "google/api/http.proto"]
    code = protoc.main(["protoc", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={out}"] + files)
    if code != 0:
        print("protoc failed", file=sys.stderr)
        return 2
    sys.path.insert(0, out)
    from fixtures import kitchen_pb2  # noqa: E402

    with open(os.path.join(work, "message.bin"), "rb") as f:
        original = kitchen_pb2.Everything.FromString(f.read())
    with open(os.path.join(work, "micro.json")) as f:
        micro_text = f.read()

    reference = json_format.MessageToJson(original)
    ok = True
    if json.loads(reference) != json.loads(micro_text):
        ok = False
        ref, mic = json.loads(reference), json.loads(micro_text)
        for key in sorted(set(ref) | set(mic)):
            if ref.get(key) != mic.get(key):
                print(f"field {key}: json_format {ref.get(key)!r} micro {mic.get(key)!r}", file=sys.stderr)

    parsed = json_format.Parse(micro_text, kitchen_pb2.Everything())
    if parsed != original:
        ok = False
        print("json_format parsed micro's JSON into a different message", file=sys.stderr)

    with open(os.path.join(work, "python.json"), "w") as f:
        f.write(reference)
    print("json_format agrees with micro" if ok else "json_format disagrees with micro")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
