#!/usr/bin/env bash
# Downloads the .proto files shipped in the PyPI package googleapis-common-protos (pinned)
# into a cache directory and prints that directory. The corpus test and the codegen
# benchmark read it through MICRO_GOOGLEAPIS_DIR.
set -euo pipefail
VERSION=1.76.0
DIR="${MICRO_CACHE:-$HOME/.cache/micro}/googleapis-common-protos-$VERSION"
if [ ! -f "$DIR/.complete" ]; then
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --dest "$tmp" "googleapis-common-protos==$VERSION" >&2
    rm -rf "$DIR"
    mkdir -p "$DIR"
    python3 - "$tmp" "$DIR" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith(".proto"):
            z.extract(name, sys.argv[2])
PY
    rm -rf "$tmp"
    touch "$DIR/.complete"
fi
echo "$DIR"
