#!/usr/bin/env bash
# Overload: one server pinned to one core, offered 4x its capacity (open loop) by a driver
# pinned to the other core; first with micro's guards on (server load shedding, client
# breaker), then with both off. Prints the figures RELIABILITY.md quotes.
#
#   scripts/overload.sh [WORK_US]     each call burns WORK_US of CPU (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micro/target}"
work="${1:-200}"
cargo build --release --quiet --locked -p micro-bench --bin overload
bin="$CARGO_TARGET_DIR/release/overload"
tmp="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

start_server() {
    taskset -c 0 "$bin" server --shed "$1" >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    for _ in $(seq 100); do
        addr="$(sed -n 's/^READY //p' "$tmp/server.out")"
        [ -n "$addr" ] && return
        sleep 0.1
    done
    echo "the server did not start: $(cat "$tmp/server.err")" >&2
    exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
drive() { taskset -c 1 "$bin" drive "$addr" --work-us "$work" "$@"; }

# The server's own capacity and latency: shedding off, the client's breaker off.
start_server off
peak_json="$(taskset -c 1 "$bin" peak "$addr" --work-us "$work" --seconds 10 --breaker off)"
peak="$(field "$peak_json" peak_per_second)"
peak="${peak%.*}"
light=$(( peak / 10 ))
over=$(( peak * 4 ))
echo "peak: $peak calls/s (closed loop, 32 callers, $work us of CPU a call)"
unloaded="$(drive --rate "$light" --seconds 8 --skip 2 --breaker off)"
echo "unloaded ($light/s):            $unloaded"
off="$(drive --rate "$over" --seconds 20 --skip 8 --breaker off)"
echo "4x, both off ($over/s):         $off"
stop_server

start_server on
on="$(drive --rate "$over" --seconds 20 --skip 8)"
echo "4x, shedding + breaker on ($over/s): $on"
stop_server

python3 - "$peak" "$unloaded" "$on" "$off" <<'PY'
import json, sys
peak = float(sys.argv[1])
unloaded, on, off = (json.loads(a) for a in sys.argv[2:])
print()
print("| run | offered /s | goodput /s | goodput / peak | p99 of accepted calls | shed | refused by breaker | other errors |")
print("|---|---|---|---|---|---|---|---|")
for name, r in [("unloaded (10 % of peak)", unloaded), ("4 x peak, guards on", on), ("4 x peak, guards off", off)]:
    print(f"| {name} | {r['offered_per_second']} | {r['goodput_per_second']:.0f} | {r['goodput_per_second'] / peak:.2f} | {r['p99_ms']:.1f} ms | {r['shed']} | {r['breaker_refused']} | {r['other_errors']} |")
print()
print(f"guards on: goodput {on['goodput_per_second'] / peak:.0%} of peak, p99 {on['p99_ms'] / max(unloaded['p99_ms'], 0.001):.1f} x unloaded")
print(f"guards off: goodput {off['goodput_per_second'] / peak:.0%} of peak, p99 {off['p99_ms'] / max(unloaded['p99_ms'], 0.001):.1f} x unloaded")
PY
