#!/usr/bin/env bash
# The MCP gateway (`micro mcp`) against the official SDKs, not written here: Python `mcp`
# over stdio and Streamable HTTP, TypeScript `@modelcontextprotocol/sdk` over HTTP, on the
# greeter and the calculator; then HTTP's refusals and MICRO_AUTH=jwt. Installs the SDKs
# (pinned) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '2.3.0')" >/dev/null 2>&1; then
    echo "installing the MCP Python SDK" >&2
    python3 -m pip install --quiet --disable-pip-version-check -r tests/mcp/requirements.txt >&2
fi
if [ ! -d tests/mcp/node_modules/@modelcontextprotocol/sdk ]; then
    echo "installing the MCP TypeScript SDK" >&2
    (cd tests/mcp && npm install --silent --no-audit --no-fund) >&2
fi

echo "building micro, the greeter and the calculator" >&2
cargo build --quiet --locked -p micro-cli -p example-greeter -p example-calculator --bins
TARGET="${CARGO_TARGET_DIR:-target}"
python3 tests/mcp/test_mcp.py "$TARGET/debug"
