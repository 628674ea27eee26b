#!/usr/bin/env bash
# `micro bot` in real chat servers: Debian's ngircd (IRC) and prosody (XMPP), each started
# by the test on ports of its own, with slixmpp (PyPI) as the XMPP user; and Slack through
# a replay server (this machine cannot reach Slack). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || missing+=(ngircd)
command -v prosody >/dev/null 2>&1 || missing+=(prosody)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
# The test runs its own servers, on ports and with files of their own.
export PATH="$PATH:/usr/sbin"
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('slixmpp') != '1.17.0' or m.version('websockets') != '15.0.1')" >/dev/null 2>&1; then
    echo "installing slixmpp and websockets" >&2
    python3 -m pip install --quiet --disable-pip-version-check -r tests/bot/requirements.txt >&2
fi

echo "building micro, the greeter and the greet command" >&2
cargo build --quiet --locked -p micro-cli -p example-greeter -p example-bot-command --bins
TARGET="${CARGO_TARGET_DIR:-target}"
python3 tests/bot/test_bot.py "$TARGET/debug"
