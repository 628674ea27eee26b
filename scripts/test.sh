#!/usr/bin/env bash
# Every test, with the real peers: protoc (Debian protobuf-compiler), buf (npm
# @bufbuild/buf), Python protobuf + grpcio-tools (PyPI) and the googleapis-common-protos
# corpus (PyPI). Installs what is missing, then runs `cargo test --workspace` with
# MICRO_REQUIRE_PEERS=1 so that no peer test can silently skip.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${MICRO_CACHE:-$HOME/.cache/micro}"

if ! command -v protoc >/dev/null 2>&1; then
    echo "installing protobuf-compiler" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
fi

if ! python3 -c "import google.protobuf.json_format, grpc_tools.protoc" >/dev/null 2>&1; then
    echo "installing Python protobuf and grpcio-tools" >&2
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
