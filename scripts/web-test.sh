#!/usr/bin/env bash
# The dashboard in a real browser: Debian's Chromium (installed when missing) driven by
# playwright-core, with axe-core for accessibility (both from npm, pinned, into the cache; no
# browser download). Builds micro, the greeter and the web chat example, then runs
# tests/web/*.test.mjs. Screenshots go to a scratch directory unless MICRO_WEB_SCREENSHOTS says
# where (docs/web/ holds the README's).
#
#   scripts/web-test.sh            # the CI run (the 1,000-service page within 5 s)
#   MICRO_WEB_FULL=1 scripts/web-test.sh   # the full bound (within 1 s)
#   MICRO_WEB_SCREENSHOTS=docs/web scripts/web-test.sh   # refresh the README's screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${MICRO_CACHE:-$HOME/.cache/micro}"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    echo "installing chromium" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi

NPM_DIR="$CACHE/npm-web"
if [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ] || [ ! -f "$NPM_DIR/node_modules/axe-core/axe.min.js" ]; then
    echo "installing playwright-core and axe-core" >&2
    mkdir -p "$NPM_DIR"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$NPM_DIR" \
        playwright-core@1.64.1 axe-core@4.14.1 >&2
fi

cargo build --quiet -p micro-cli -p example-greeter -p example-webchat
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug"

MICRO_BIN_DIR="$BIN" MICRO_WEB_NPM="$NPM_DIR" CHROMIUM="$CHROMIUM" \
    node --test --test-reporter=spec tests/web/
