"""Check the conformance corpus with the reference implementation, protovalidate (PyPI).

Usage: protovalidate_check.py CORPUS PROTO_DIR...

Generates Python for conformance/v1/cases.proto with grpc_tools.protoc (buf/validate from
micro's proto/ directory), parses each case's JSON into its message and prints, per case,
one JSON line: the sorted (field path, rule id) pairs protovalidate reports.
"""

import importlib
import json
import os
import sys
import tempfile

from google.protobuf import json_format
from grpc_tools import protoc
import protovalidate


def field_path(violation):
    """A FieldPath as text: `items[2].name`, `counts["k"]`."""
    text = ""
    for element in violation.field.elements:
        e = element.to_json()
        if isinstance(e, str):
            e = json.loads(e)
        if text:
            text += "."
        text += e.get("fieldName", "")
        if "index" in e:
            text += "[%s]" % e["index"]
        elif "stringKey" in e:
            text += '["%s"]' % e["stringKey"].replace("\\", "\\\\").replace('"', '\\"')
        elif "intKey" in e:
            text += "[%s]" % e["intKey"]
        elif "uintKey" in e:
            text += "[%s]" % e["uintKey"]
        elif "boolKey" in e:
            text += "[%s]" % ("true" if e["boolKey"] else "false")
    # A map key's violation: protovalidate marks it with for_key; the path is the same.
    return text


def main():
    corpus_path = sys.argv[1]
    import grpc_tools

    includes = sys.argv[2:] + [os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")]
    out = tempfile.mkdtemp()
    args = ["protoc"] + ["-I" + i for i in includes] + [
        "--python_out=" + out,
        "conformance/v1/cases.proto",
        "conformance/v1/legacy.proto",
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    # The generated module imports buf.validate.validate_pb2: generate that too.
    if protoc.main(["protoc"] + ["-I" + i for i in includes] + ["--python_out=" + out, "buf/validate/validate.proto"]) != 0:
        sys.exit("protoc failed for buf/validate")
    for pkg in ("buf", "buf/validate", "conformance", "conformance/v1"):
        open(os.path.join(out, pkg, "__init__.py"), "a").close()
    modules = [
        importlib.import_module("conformance.v1.cases_pb2"),
        importlib.import_module("conformance.v1.legacy_pb2"),
    ]
    validator = protovalidate.Validator()
    with open(corpus_path) as f:
        corpus = json.load(f)
    for case in corpus:
        message = next(getattr(m, case["message"]) for m in modules if hasattr(m, case["message"]))()
        json_format.Parse(json.dumps(case["json"]), message)
        found = sorted(
            [field_path(v.proto), v.proto.rule_id] for v in validator.collect_violations(message)
        )
        print(json.dumps(found))


if __name__ == "__main__":
    main()
