#!/usr/bin/env bash
# Every test, with the real peers: protoc (Debian protobuf-compiler), buf (npm
# @bufbuild/buf), Python protobuf + grpcio-tools (PyPI), the googleapis-common-protos
# corpus (PyPI), a NATS server with JetStream (Debian nats-server), etcd and etcdctl (Debian
# etcd-server, etcd-client), Prometheus (Debian prometheus), dnsmasq (Debian dnsmasq-base) and iproute2 for the multi-host tests (network namespaces, made
# and removed by scripts/hosts.sh), schemathesis (PyPI) for the gateway, Redis and
# PostgreSQL for the state tests (Debian redis-server, postgresql), Mosquitto and RabbitMQ
# for the broker tests (Debian mosquitto, rabbitmq-server). Installs and starts what
# is missing, then runs `cargo test --workspace` with MICRO_REQUIRE_PEERS=1 so that no peer test can silently
# skip, the gRPC interop suite and the dashboard's browser tests (scripts/web-test.sh:
# Debian chromium, npm playwright-core and axe-core), the MCP suite and the chat bot's
# (scripts/bot-test.sh: Debian ngircd and prosody, PyPI slixmpp).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${MICRO_CACHE:-$HOME/.cache/micro}"

APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq >&2
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

if ! command -v protoc >/dev/null 2>&1; then
    echo "installing protobuf-compiler" >&2
    apt_install protobuf-compiler
fi

# The registry engines the discovery tests start inside their test hosts.
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
# Prometheus scrapes a service in the metrics test (it runs its own on a free port).
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt_install "${missing[@]}"
fi
# Debian starts etcd as a service on install; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then
    systemctl stop etcd prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi

# NATS with JetStream on 127.0.0.1:4222 for the broker tests: use the one running, or
# start one (Debian nats-server) with its store under the cache directory.
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
    if ! command -v nats-server >/dev/null 2>&1; then
        echo "installing nats-server" >&2
        apt_install nats-server
    fi
    mkdir -p "$CACHE/nats"
    echo "starting nats-server -js on 127.0.0.1:4222" >&2
    nohup nats-server -a 127.0.0.1 -p 4222 -js -sd "$CACHE/nats" >"$CACHE/nats.log" 2>&1 &
    for _ in $(seq 1 100); do
        nats_up && break
        sleep 0.1
    done
    nats_up || { echo "nats-server did not start; see $CACHE/nats.log" >&2; exit 1; }
fi

# Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (database test, trust auth for
# local connections) for the store, cache and config tests: use the ones running, or
# install (Debian redis-server, postgresql) and start them.
port_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_up 6379; then
    command -v redis-server >/dev/null 2>&1 || { echo "installing redis-server" >&2; apt_install redis-server; }
    echo "starting redis-server on 127.0.0.1:6379" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
    for _ in $(seq 1 100); do port_up 6379 && break; sleep 0.1; done
    port_up 6379 || { echo "redis-server did not start" >&2; exit 1; }
fi
if ! port_up 5432; then
    command -v pg_ctlcluster >/dev/null 2>&1 || { echo "installing postgresql" >&2; apt_install postgresql; }
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2
    for _ in $(seq 1 100); do port_up 5432 && break; sleep 0.1; done
    port_up 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
# Mosquitto on 127.0.0.1:1883 and RabbitMQ on 127.0.0.1:5672 (guest/guest) for the broker
# tests: use the ones running, or install (Debian mosquitto, rabbitmq-server) and start them.
# The MQTT crash test and the RabbitMQ restart test start servers of their own besides.
if ! port_up 1883; then
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || { echo "installing mosquitto" >&2; apt_install mosquitto; }
    mkdir -p "$CACHE/mosquitto"
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' >"$CACHE/mosquitto/mosquitto.conf"
    echo "starting mosquitto on 127.0.0.1:1883" >&2
    /usr/sbin/mosquitto -d -c "$CACHE/mosquitto/mosquitto.conf" >&2
    for _ in $(seq 1 100); do port_up 1883 && break; sleep 0.1; done
    port_up 1883 || { echo "mosquitto did not start" >&2; exit 1; }
fi
if ! port_up 5672; then
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { echo "installing rabbitmq-server" >&2; apt_install rabbitmq-server; }
    echo "starting rabbitmq-server on 127.0.0.1:5672" >&2
    (service rabbitmq-server start || rabbitmq-server -detached) >&2 || true
    for _ in $(seq 1 600); do port_up 5672 && break; sleep 0.1; done
    port_up 5672 || { echo "rabbitmq-server did not start" >&2; exit 1; }
fi

if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    echo "creating PostgreSQL database test" >&2
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null 2>&1 \
        || su postgres -c "psql -c 'CREATE DATABASE test'" >/dev/null 2>&1 || true
fi

if ! python3 -c "import google.protobuf.json_format, grpc_tools.protoc, opentelemetry.proto.collector.trace.v1.trace_service_pb2, dapr.clients, cloudevents.v1.http, google.rpc.error_details_pb2, protovalidate" >/dev/null 2>&1; then
    echo "installing Python protobuf, grpcio-tools, opentelemetry-proto and the Dapr and CloudEvents SDKs" >&2
    python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt >&2
fi

BUF_DIR="$CACHE/npm"
if [ ! -x "$BUF_DIR/node_modules/.bin/buf" ]; then
    echo "installing buf" >&2
    mkdir -p "$BUF_DIR"
    npm install --silent --no-audit --no-fund --prefix "$BUF_DIR" @bufbuild/buf@1.75.0 >&2
fi
export PATH="$PATH:$BUF_DIR/node_modules/.bin"

MICRO_GOOGLEAPIS_DIR="$(./scripts/fetch-googleapis.sh)"
export MICRO_GOOGLEAPIS_DIR
export MICRO_REQUIRE_PEERS=1

cargo test --workspace "$@"

# The interop suite: stock Python, Node, Connect and curl peers against micro, and back.
./scripts/interop.sh

# schemathesis against the gateway's OpenAPI document and the live gateway.
./scripts/schemathesis.sh

# The dashboard in a real browser (Debian chromium, playwright-core, axe-core).
./scripts/web-test.sh

# The MCP gateway against the official Python and TypeScript SDKs.
./scripts/mcp-test.sh

# The chat bot on ngircd and prosody (Debian), and Slack's replay.
./scripts/bot-test.sh
