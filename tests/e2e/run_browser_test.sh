#!/bin/sh
# Browser end-to-end test of the Strongbox web UI: starts a server, drives it with headless
# Chromium through playwright-core, and leaves screenshots in the output directory.
# Usage: run_browser_test.sh <server-binary> <corpus-dir> <output-dir>
# Exit 77 (CTest "skipped") when Chromium or playwright-core cannot be installed here.
set -eu

server_bin=$1
corpus=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=${STRONGBOX_CHROMIUM:-/usr/bin/chromium}
mkdir -p "$out"

skip() {
    echo "SKIPPED: $*" >&2
    exit 77
}

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's chromium" >&2
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium \
            >"$out/apt-chromium.log" 2>&1 || true
    fi
    [ -x "$chromium" ] || skip "chromium is not installed at $chromium and could not be installed (see $out/apt-chromium.log)"
fi
command -v node >/dev/null 2>&1 || skip "node is not installed"
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund >"$out/npm-install.log" 2>&1) ||
        skip "npm could not install playwright-core (see $out/npm-install.log)"
fi

port_file="$out/e2e-server.port"
rm -f "$port_file"
"$server_bin" --corpus "$corpus" --port 0 --port-file "$port_file" >"$out/e2e-server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM

# The server writes the port file once it listens; give a slow machine up to 20 s.
tries=0
while [ ! -s "$port_file" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$out/e2e-server.log" >&2
        echo "the e2e server exited before listening" >&2
        exit 1
    fi
    tries=$((tries + 1))
    [ "$tries" -le 200 ] || { echo "the e2e server did not start listening" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$port_file")

node "$here/browser_test.mjs" "http://127.0.0.1:$port/" "$out"
