#!/usr/bin/env bash
# schemathesis (PyPI) against the gateway's /openapi.json and the live gateway: the test
# service (tests/gateway) behind a gateway in one process, every operation of the document
# generated from the registry, checked for server errors and for responses that break their
# own schema or content type. `./scripts/schemathesis.sh [EXAMPLES]`: 30 examples per
# operation by default (CI, ~20 s); more by hand (300: 6,448 cases, no failure, 2026-11-26).
#
# Shop.Nap sleeps as long as it is asked and the demo's deadline is 1 s, so it answers 504
# by design; it is left out (the deadline has its own test in tests/gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-30}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micro/target}"

if ! command -v st >/dev/null 2>&1 && ! python3 -c "import schemathesis" >/dev/null 2>&1; then
    echo "installing schemathesis" >&2
    python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt >&2
fi

cargo build --quiet --locked -p gateway-tests --bin gateway-demo
WORK="$(mktemp -d)"
"$CARGO_TARGET_DIR/debug/gateway-demo" >"$WORK/addr" 2>"$WORK/demo.log" &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 200); do
    [ -s "$WORK/addr" ] && break
    sleep 0.05
done
ADDR="$(cat "$WORK/addr")"
[ -n "$ADDR" ] || { cat "$WORK/demo.log" >&2; echo "the gateway demo did not start" >&2; exit 1; }

echo "schemathesis: $EXAMPLES examples per operation against http://$ADDR/openapi.json" >&2
cd "$WORK"
python3 -m schemathesis.cli run "http://$ADDR/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --max-examples "$EXAMPLES" --workers 1 --exclude-path-regex 'Nap' \
    --no-color 2>&1 | tee "$WORK/st.out" | tail -20
grep -q "passed" "$WORK/st.out" || exit 1
if grep -Eq "failure|Error:|errored" "$WORK/st.out"; then
    echo "schemathesis found failures (above)" >&2
    exit 1
fi
kill -0 "$PID" || { echo "the gateway demo died" >&2; cat "$WORK/demo.log" >&2; exit 1; }
echo "ok: schemathesis found no server error and no schema violation" >&2
