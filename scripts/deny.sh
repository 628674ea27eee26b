#!/usr/bin/env bash
# Supply chain: cargo deny on licences, banned or duplicate crates, and sources (deny.toml).
# Advisories need the RustSec database from GitHub: `scripts/deny.sh advisories` where it
# can be reached.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo deny --version >/dev/null 2>&1; then
    echo "installing cargo-deny" >&2
    cargo install --locked cargo-deny >&2
fi
if [ "${1:-}" = advisories ]; then
    exec cargo deny check advisories
fi
cargo deny check licenses bans sources 2>&1 | grep -v "^\s*$" | tail -3
