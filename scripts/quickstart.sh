#!/usr/bin/env bash
# The main job, end to end, on micro's embedded defaults: two greeter servers register in the
# local registry (files under MICRO_HOME, no daemon), the `micro` command finds them, calls
# Greeter.Hello, and the servers stop gracefully.
#
# MICRO_HOME defaults to a fresh temporary directory so the demo never mixes with services you
# run yourself; set it to share a registry with other terminals.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p micro-cli -p example-greeter
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug"
export MICRO_HOME="${MICRO_HOME:-$(mktemp -d)}"
LOGS="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

run() {
    echo "\$ $(basename "$1") ${*:2}"
    "$@"
    echo
}

"$BIN/greeter-server" >"$LOGS/a.log" 2>&1 & PIDS+=($!)
"$BIN/greeter-server" >"$LOGS/b.log" 2>&1 & PIDS+=($!)

for _ in $(seq 1 200); do
    n=$("$BIN/micro" describe greeter --output json 2>/dev/null | grep -c '"address"' || true)
    [ "$n" = 2 ] && break
    sleep 0.05
done
if [ "$n" != 2 ]; then
    echo "the greeter servers did not register; their logs:" >&2
    cat "$LOGS"/*.log >&2
    exit 1
fi

run "$BIN/micro" services
run "$BIN/micro" describe greeter
echo "\$ micro call greeter Greeter.Hello '{\"name\":\"John\"}'"
reply=$("$BIN/micro" call greeter Greeter.Hello '{"name":"John"}')
echo "$reply"
echo
if [ "$reply" != '{"msg":"Hello John"}' ]; then
    echo "unexpected reply: $reply" >&2
    exit 1
fi
run "$BIN/micro" health greeter
if command -v curl >/dev/null 2>&1; then
    # The same port answers plain HTTP/JSON (the Connect unary protocol).
    addr=$("$BIN/micro" describe greeter --output json | sed -n 's/.*"address": *"\([^"]*\)".*/\1/p' | head -n1)
    echo "\$ curl -X POST -H 'content-type: application/json' -d '{\"name\":\"Jane\"}' http://$addr/greeter.Greeter/Hello"
    reply=$(curl -sS -X POST -H 'content-type: application/json' -d '{"name":"Jane"}' "http://$addr/greeter.Greeter/Hello")
    echo "$reply"
    echo
    if [ "$reply" != '{"msg":"Hello Jane"}' ]; then
        echo "unexpected reply over HTTP/JSON: $reply" >&2
        exit 1
    fi
fi
run "$BIN/greeter-client" --count 100

echo "\$ kill -TERM <both servers>   # deregister, then drain"
cleanup
PIDS=()
left=$("$BIN/micro" services 2>&1)
echo "$left"
if [ "$left" != "no services registered" ]; then
    echo "the servers did not deregister" >&2
    exit 1
fi
echo
echo "ok: greeter found through the local registry, called over gRPC, balanced over 2 nodes, stopped cleanly"
