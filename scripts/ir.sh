#!/usr/bin/env bash
# The CPU regression gate: instructions per call (valgrind's callgrind) of an in-process
# call loop on each transport and of a call through the API gateway, against the baseline
# in scripts/ir-baseline.txt; and the
# cost of one no-op handler wrapper, of one no-op tower layer, of TLS, of auth, of auth with
# metrics, of tracing, of all three and of validating a request of five rules, reported
# per call.
#
#   scripts/ir.sh           measure and compare (fails on a regression over the tolerance)
#   scripts/ir.sh --bless   measure and store the figures as the new baseline
#
# Instruction counts do not depend on what else the machine is doing, so the gate is fit
# for a noisy CI box; they do depend on the compiler, so re-bless after a toolchain update.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micro/target}"

BASELINE=scripts/ir-baseline.txt
TOLERANCE_PCT="${MICRO_IR_TOLERANCE:-3}"
CALLS=2000

if ! command -v valgrind >/dev/null; then
    echo "valgrind is missing; installing it" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq valgrind >&2
fi

cargo build --release --quiet --locked -p micro-runtime --example ir -p micro-gateway --example ir_gateway
bin="$CARGO_TARGET_DIR/release/examples/ir"
gateway_bin="$CARGO_TARGET_DIR/release/examples/ir_gateway"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Total instructions of one run of the loop with $2 calls on transport $1 (middleware $3);
# transport `gateway` is the gateway's loop (HTTP/JSON through the router, then native).
instructions() {
    local run=("$bin" "$1" "$2" "${3:-none}")
    if [ "$1" = gateway ]; then
        run=("$gateway_bin" "$2")
    fi
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out.%p" "${run[@]}" \
        2>"$tmp/log" >/dev/null || { cat "$tmp/log" >&2; exit 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}

# Instructions per call on transport $1 with middleware $2.
per_call() {
    local base_run full_run
    base_run=$(instructions "$1" 0 "$2")
    full_run=$(instructions "$1" "$CALLS" "$2")
    echo $(( (full_run - base_run) / CALLS ))
}

status=0
declare -A measured
for transport in native grpc memory gateway; do
    per_call=$(per_call "$transport" none)
    measured[$transport]=$per_call
    baseline=$(awk -v t="$transport" '$1 == t { print $2 }' "$BASELINE" 2>/dev/null || true)
    if [ -z "$baseline" ]; then
        printf '%-7s %9d instructions per call (no baseline)\n' "$transport" "$per_call"
        continue
    fi
    change=$(awk -v m="$per_call" -v b="$baseline" 'BEGIN { printf "%+.1f", (m - b) * 100 / b }')
    printf '%-7s %9d instructions per call, baseline %d (%s%%)\n' \
        "$transport" "$per_call" "$baseline" "$change"
    if awk -v c="$change" -v t="$TOLERANCE_PCT" 'BEGIN { exit !(c > t) }'; then
        echo "  REGRESSION: more than ${TOLERANCE_PCT}% over the baseline; find the cause" \
            "(valgrind --tool=callgrind $bin $transport $CALLS, or $gateway_bin $CALLS for the gateway, then callgrind_annotate)," \
            "or, if the cost is intended, run scripts/ir.sh --bless and commit the baseline" >&2
        status=1
    elif awk -v c="$change" -v t="$TOLERANCE_PCT" 'BEGIN { exit !(c < -t) }'; then
        echo "  faster than the baseline: run scripts/ir.sh --bless to lock the gain in"
    fi
done

# What middleware costs: the native transport with one no-op wrapper of each kind.
for middleware in wrapper layer; do
    with=$(per_call native "$middleware")
    printf '%-7s %9d instructions per call with one no-op %s (+%d over none)\n' \
        native "$with" "$middleware" $(( with - measured[native] ))
done

# What TLS costs per call once the connection is up (the handshake is outside the count).
for transport in native grpc; do
    with=$(per_call "$transport" tls)
    printf '%-7s %9d instructions per call over TLS (+%d, %s over plaintext)\n' \
        "$transport" "$with" $(( with - measured[$transport] )) \
        "$(awk -v w="$with" -v b="${measured[$transport]}" 'BEGIN { printf "%+.0f%%", (w - b) * 100 / b }')"
done

# What auth costs (a JWT checked once, then found among the checked tokens; the rules
# evaluated on every call), and auth with metrics on: the native transport.
# Then tracing (a client and a server span per call, exported over OTLP), and all three.
for extra in auth observed traced all; do
    with=$(per_call native "$extra")
    case "$extra" in
        auth) what=auth ;;
        observed) what='auth and metrics' ;;
        traced) what='tracing' ;;
        all) what='auth, metrics and tracing' ;;
    esac
    printf '%-7s %9d instructions per call with %s (+%d, %s)\n' \
        native "$with" "$what" \
        $(( with - measured[native] )) \
        "$(awk -v w="$with" -v b="${measured[native]}" 'BEGIN { printf "%+.0f%%", (w - b) * 100 / b }')"
done

# What validation costs: the request checked against five buf.validate rules (a static
# rule table and one check call, as micro-gen generates them) before the handler.
with=$(per_call native validated)
printf '%-7s %9d instructions per call with a request of 5 validation rules (+%d)\n' \
    native "$with" $(( with - measured[native] ))

if [ "${1:-}" = "--bless" ]; then
    {
        echo "# instructions per call (scripts/ir.sh --bless); $(rustc --version)"
        for transport in native grpc memory gateway; do echo "$transport ${measured[$transport]}"; done
    } >"$BASELINE"
    echo "baseline written to $BASELINE"
    exit 0
fi
exit $status
