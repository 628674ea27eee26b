#!/usr/bin/env bash
# Scaffold every `micro new` template into a temporary directory, then for each: build it,
# run its own tests, start it on the defaults (local registry, http broker) and use it with
# the `micro` command — and call the service template's endpoint from a stock Python grpcio
# client whose stubs come from the scaffold's own .proto. No generated file is edited.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micro/target}"

echo "building the micro command" >&2
cargo build --quiet --locked -p micro-cli
MICRO="$CARGO_TARGET_DIR/debug/micro"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
export MICRO_HOME="$WORK/home"
export MICRO_SERVER_ADDRESS=127.0.0.1:0
export MICRO_BROKER_ADDRESS=127.0.0.1:0
export MICRO_SHUTDOWN_DELAY=0s
unset MICRO_REGISTRY MICRO_BROKER

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

expect() { # expect WHAT WANT GOT
    [ "$3" = "$2" ] || fail "$1: want $2, got $3"
    echo "ok: $1 -> $3"
}

# start NAME BIN: run a scaffolded binary, wait until it registered.
start() {
    local name="$1" bin="$2"
    "$bin" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        if "$MICRO" describe "$name" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.05
    done
    cat "$WORK/$name.log" >&2
    fail "$name did not register"
}

stop() { # stop the last started binary gracefully
    local pid="${PIDS[-1]}"
    kill -TERM "$pid"
    wait "$pid" || fail "stopping $pid: exit status $?"
    unset 'PIDS[-1]'
}

for template in service function api macro; do
    name="scaffold-$template"
    echo
    echo "=== micro new $name --template $template"
    (cd "$WORK" && "$MICRO" new "$name" --template "$template" >/dev/null)
    project="$WORK/$name"
    (cd "$project" && cargo build --quiet && cargo test --quiet 2>&1 | grep -E "^test result" | head -1)
    start "$name" "$CARGO_TARGET_DIR/debug/$name"
    svc="$(echo "$name" | sed -E 's/(^|-)([a-z])/\U\2/g')"
    case "$template" in
        service | api | macro)
            expect "micro call $svc.Call" '{"msg":"Hello John"}' \
                "$("$MICRO" call "$name" "$svc.Call" '{"name":"John"}')"
            expect "micro $name call --name Jane" '{"msg":"Hello Jane"}' \
                "$("$MICRO" "$name" call --name Jane)"
            ;;
    esac
    if [ "$template" = macro ]; then
        # The store: Visit counts in the service's file store; micro store reads it back.
        expect "micro call $svc.Visit" '{"name":"John","count":1}' \
            "$("$MICRO" call "$name" "$svc.Visit" '{"name":"John"}')"
        expect "micro call $svc.Visit again" '{"name":"John","count":2}' \
            "$("$MICRO" call "$name" "$svc.Visit" '{"name":"John"}')"
        expect "micro store read visits/John" 2 \
            "$("$MICRO" store --table "$name" read visits/John)"
    fi
    case "$template" in
        service | macro)
            got="$("$MICRO" stream "$name" "$svc.Stream" '{"count":3}' | wc -l)"
            expect "micro stream $svc.Stream count 3" 3 "$got"
            ;;
    esac
    case "$template" in
        service | function)
            "$MICRO" publish "$name.events" '{"id":"e1","message":"hi"}' >/dev/null
            for _ in $(seq 1 100); do
                grep -q "e1" "$WORK/$name.log" && break
                sleep 0.05
            done
            grep -q "e1" "$WORK/$name.log" || fail "$name did not log the event"
            echo "ok: micro publish $name.events -> handled"
            ;;
    esac
    if [ "$template" = api ]; then
        "$MICRO" describe "$name" | grep -q "POST /$name/call" || fail "http rule not in the registry"
        echo "ok: micro describe shows POST /$name/call"
        # The gateway, out of the box: curl on the template's google.api.http routes.
        port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
        "$MICRO" api --address "127.0.0.1:$port" >"$WORK/api.log" 2>&1 &
        PIDS+=($!)
        for _ in $(seq 1 200); do
            curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
            sleep 0.05
        done
        got=""
        for _ in $(seq 1 100); do
            got="$(curl -s -X POST -H 'content-type: application/json' -d '{"name":"John"}' "http://127.0.0.1:$port/$name/call")"
            [ "$got" = '{"msg":"Hello John"}' ] && break
            sleep 0.05
        done
        expect "curl POST /$name/call through micro api" '{"msg":"Hello John"}' "$got"
        expect "curl GET /$name/hello/Jane through micro api" '{"msg":"Hello Jane"}' \
            "$(curl -s "http://127.0.0.1:$port/$name/hello/Jane")"
        # The template's contract: a validated request and a typed error, as JSON errors.
        got="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d '{"name":""}' "http://127.0.0.1:$port/$name/call")"
        expect "curl POST /$name/call with an empty name" 400 "$got"
        got="$(curl -s -X POST -H 'content-type: application/json' -d '{"name":""}' "http://127.0.0.1:$port/$name/call" | python3 -c 'import json,sys; v=json.load(sys.stdin)["violations"][0]; print(v["field"], v["rule"])')"
        expect "the violation names field and rule" "name string.min_len" "$got"
        got="$(curl -s -X POST -H 'content-type: application/json' -d '{"name":"nobody"}' "http://127.0.0.1:$port/$name/call" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["code"], v["reason"])')"
        expect "curl POST /$name/call with a blocked name" "403 NAME_BLOCKED" "$got"
        stop
    fi
    if [ "$template" = service ]; then
        # A stock gRPC client: Python grpcio with stubs generated from the scaffold's proto.
        addr="$("$MICRO" describe "$name" -o json | sed -n 's/.*"address": *"\([^"]*\)".*/\1/p' | head -n1)"
        mkdir -p "$WORK/py"
        python3 -m grpc_tools.protoc -I "$project/proto" --python_out="$WORK/py" \
            --grpc_python_out="$WORK/py" "$project/proto/scaffold_service.proto"
        got="$(cd "$WORK/py" && python3 - "$addr" <<'EOF'
import sys
import grpc
import scaffold_service_pb2 as pb
import scaffold_service_pb2_grpc as rpc
with grpc.insecure_channel(sys.argv[1]) as channel:
    stub = rpc.ScaffoldServiceStub(channel)
    print(stub.Call(pb.Request(name="Python"), timeout=10).msg)
    print(sum(1 for _ in stub.Stream(pb.StreamRequest(count=4), timeout=10)))
EOF
)"
        expect "grpcio ScaffoldService.Call and Stream" "$(printf 'Hello Python\n4')" "$got"
    fi
    expect "micro health $name" 1 "$("$MICRO" health "$name" | grep -c SERVING)"
    stop
done

# One project calling two others: client-only dependencies (default-features = false leaves
# out their handlers and binaries), as the templates' READMEs say.
echo
echo "=== a project that calls scaffold-service and scaffold-macro"
(cd "$WORK" && "$MICRO" new scaffold-caller >/dev/null)
caller="$WORK/scaffold-caller"
sed -i 's|^\[dependencies\]$|[dependencies]\nscaffold-service = { path = "../scaffold-service", default-features = false }\nscaffold-macro = { path = "../scaffold-macro", default-features = false }|' \
    "$caller/Cargo.toml"
cat >>"$caller/src/lib.rs" <<'EOF'

/// Calls both other services with the caller's context.
pub async fn call_both(client: micro::Client) -> micro::Result<String> {
    use scaffold_service::pb::scaffold_service_client::ScaffoldServiceClient;
    let service = ScaffoldServiceClient::new(scaffold_service::SERVICE, client.clone());
    let a = service
        .call(scaffold_service::pb::Request { name: "A".into() })
        .await?;
    let other = scaffold_macro::ScaffoldMacroClient::new(scaffold_macro::SERVICE, client);
    let b = other
        .call(scaffold_macro::Request { name: "B".into() })
        .await?;
    Ok(format!("{} / {}", a.msg, b.msg))
}
EOF
(cd "$caller" && cargo build --quiet)
features="$(cd "$caller" && cargo tree -e features -i scaffold-service 2>/dev/null || true)"
if grep -q 'scaffold-service feature "server"' <<<"$features"; then
    fail "the caller pulled in scaffold-service's server"
fi
echo "ok: scaffold-caller builds against the clients alone"

echo
echo "ok: every template scaffolded, built, tested, started and called"
