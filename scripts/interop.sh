#!/usr/bin/env bash
# The gRPC interop suite: micro against stock peers, every case in every direction.
#
#   python->micro   Python grpcio client (stubs from grpcio-tools) against the micro server,
#                   plus grpcio-health-checking (Check, Watch through a graceful stop) and
#                   grpcio-reflection (v1 and v1alpha)
#   "node->micro"     Node @grpc/grpc-js client against the micro server
#   "connect->micro"  @connectrpc/connect-node (Connect JSON over HTTP/1.1) against the micro server
#   "curl->micro"     plain curl POSTs of JSON, malformed frames, oversized bodies, unknown paths
#   micro->python   the micro client against a Python grpcio server
#   micro->micro    the micro client against the micro server
#   .../tls         micro->micro, node->micro and python->micro again over mutual TLS, and
#                   micro->python over TLS (certificates from `micro cert dev`)
#
# Installs the peers it needs (pip, npm), prints one line per case and a summary table, and
# exits non-zero when any case fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micro/target}"

if ! python3 -c "import grpc_tools.protoc, grpc_health.v1, grpc_reflection.v1alpha" >/dev/null 2>&1; then
    echo "installing Python grpcio peers" >&2
    python3 -m pip install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt >&2
fi
NODE_DIR="tests/interop/node"
if [ ! -d "$NODE_DIR/node_modules/@grpc/grpc-js" ] || [ ! -d "$NODE_DIR/node_modules/@connectrpc/connect-node" ]; then
    echo "installing Node grpc-js and Connect peers" >&2
    npm ci --silent --no-audit --no-fund --prefix "$NODE_DIR" >&2
fi

echo "building interop-server, interop-client and micro" >&2
cargo build --quiet --locked -p interop --bins -p micro-cli
BIN="$CARGO_TARGET_DIR/debug"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Stubs for the Python peers and a descriptor set for the Connect client, from the same .proto.
mkdir -p "$WORK/py"
python3 -m grpc_tools.protoc -I tests/interop/proto --python_out="$WORK/py" --grpc_python_out="$WORK/py" \
    grpc/testing/empty.proto grpc/testing/messages.proto grpc/testing/test.proto
python3 -m grpc_tools.protoc -I tests/interop/proto --include_imports --descriptor_set_out="$WORK/test.pb" \
    grpc/testing/test.proto

RESULTS="$WORK/results"
: >"$RESULTS"
# peer DIRECTION COMMAND...: runs one peer's cases; a peer that dies without reporting its
# cases is a failure too.
peer() {
    local direction="$1" status=0
    shift
    echo "== $direction" >&2
    "$@" "$direction" | tee -a "$RESULTS" || status=$?
    if [ "$status" -ne 0 ] && ! grep -q "^RESULT $direction .* FAIL" "$RESULTS"; then
        echo "RESULT $direction peer FAIL exited with status $status" | tee -a "$RESULTS"
    fi
    if ! grep -q "^RESULT $direction " "$RESULTS"; then
        echo "RESULT $direction peer FAIL reported no cases" | tee -a "$RESULTS"
    fi
}

# Starts a server in the background, waits for its `LISTENING addr` line; sets ADDR and PID.
start_server() {
    local log="$1"
    shift
    "$@" >"$log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 200); do
        ADDR="$(sed -n 's/^LISTENING //p' "$log" | head -n1)"
        [ -n "$ADDR" ] && return 0
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "server exited early: $*" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "server did not start: $*" >&2
    cat "$log" >&2
    return 1
}

run_micro_server() {
    MICRO_SERVER_ADDRESS=127.0.0.1:0 MICRO_SHUTDOWN_DELAY="${1:-0s}" \
        start_server "$WORK/micro-$RANDOM.log" "$BIN/interop-server"
}

run_micro_server
peer "micro->micro" "$BIN/interop-client" "$ADDR"
peer "node->micro" node "$NODE_DIR/grpc-client.mjs" "$ROOT/tests/interop/proto" "$ADDR"
peer "connect->micro" node "$NODE_DIR/connect-client.mjs" "$WORK/test.pb" "$ADDR"
peer "curl->micro" tests/interop/curl.sh "$ADDR"
kill "$PID" 2>/dev/null || true

# The Python client stops this server itself (SIGTERM) to watch health turn NOT_SERVING while
# the server drains.
run_micro_server 2s
python_client() { (cd tests/interop/python && python3 client.py "$WORK/py" "$1" "$3" "$2"); }
peer "python->micro" python_client "$ADDR" "$PID"

start_server "$WORK/python-server.log" python3 tests/interop/python/server.py "$WORK/py"
peer "micro->python" "$BIN/interop-client" "$ADDR"
kill "$PID" 2>/dev/null || true

# The same over TLS: a development CA and a certificate for localhost (and 127.0.0.1) from
# `micro cert dev`; stock clients call a micro server that requires client certificates
# (mutual TLS), and micro calls a Python server over TLS.
CERTS="$WORK/certs"
"$BIN/micro" cert dev --dir "$CERTS" localhost >/dev/null
export INTEROP_TLS_DIR="$CERTS"
MICRO_TLS_CERT_FILE="$CERTS/localhost.pem" MICRO_TLS_KEY_FILE="$CERTS/localhost-key.pem" \
    MICRO_TLS_CA_FILE="$CERTS/ca.pem" run_micro_server
MICRO_TLS_CERT_FILE="$CERTS/localhost.pem" MICRO_TLS_KEY_FILE="$CERTS/localhost-key.pem" \
    MICRO_TLS_CA_FILE="$CERTS/ca.pem" peer "micro->micro/tls" "$BIN/interop-client" "$ADDR"
peer "node->micro/tls" node "$NODE_DIR/grpc-client.mjs" "$ROOT/tests/interop/proto" "$ADDR"
kill "$PID" 2>/dev/null || true
MICRO_TLS_CERT_FILE="$CERTS/localhost.pem" MICRO_TLS_KEY_FILE="$CERTS/localhost-key.pem" \
    MICRO_TLS_CA_FILE="$CERTS/ca.pem" run_micro_server 2s
peer "python->micro/tls" python_client "$ADDR" "$PID"
start_server "$WORK/python-server-tls.log" python3 tests/interop/python/server.py "$WORK/py"
MICRO_TLS_CA_FILE="$CERTS/ca.pem" peer "micro->python/tls" "$BIN/interop-client" "$ADDR"

python3 - "$RESULTS" <<'EOF'
import sys
rows, directions = {}, []
for line in open(sys.argv[1]):
    parts = line.split(maxsplit=4)
    if len(parts) < 4 or parts[0] != "RESULT":
        continue
    _, direction, case, verdict = parts[:4]
    if direction not in directions:
        directions.append(direction)
    rows.setdefault(case, {})[direction] = verdict
width = max(len(c) for c in rows) if rows else 10
print()
print("interop summary".ljust(width), *(d.ljust(18) for d in directions))
passed = failed = 0
for case, verdicts in rows.items():
    cells = []
    for d in directions:
        v = verdicts.get(d, "-")
        passed += v == "PASS"
        failed += v == "FAIL"
        cells.append(v.ljust(18))
    print(case.ljust(width), *cells)
print(f"\n{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
EOF
