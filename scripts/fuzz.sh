#!/usr/bin/env bash
# Fuzz every target in fuzz/ (cargo fuzz, libFuzzer, AddressSanitizer) for SECONDS each,
# from the committed seed corpora (new inputs go to a scratch corpus, not into the repo).
#
#   scripts/fuzz.sh            15 s each (what CI runs)
#   scripts/fuzz.sh 600        the full run RELIABILITY.md reports (10 min each)
#   scripts/fuzz.sh 600 native_frames
#
# Needs the nightly toolchain (rustup) and cargo-fuzz (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(native_frames grpc_messages connect_request json_descriptors registry_record)
export CARGO_TARGET_DIR="${MICRO_FUZZ_TARGET_DIR:-$HOME/.cache/micro/fuzz-target}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain (cargo fuzz needs it)" >&2
    if ! rustup toolchain install nightly --profile minimal >&2; then
        # A machine that cannot reach the toolchain server cannot fuzz; say so plainly.
        if [ "${MICRO_REQUIRE_FUZZ:-0}" = 1 ]; then
            echo "no nightly toolchain and none can be installed" >&2
            exit 1
        fi
        echo "skipped fuzzing: no nightly toolchain here and none could be installed (MICRO_REQUIRE_FUZZ=1 makes this an error)"
        exit 0
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz >&2
fi

cd fuzz
cargo +nightly fuzz build -O >&2
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    if cargo +nightly fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
        cov=$(grep -o 'cov: [0-9]*' "$scratch/$t.log" | tail -1)
        echo "$t: ${runs:-?} runs in ${seconds}s, $cov, no crash"
    else
        echo "$t: FAILED" >&2
        tail -40 "$scratch/$t.log" >&2
        status=1
    fi
done
exit $status
