#!/bin/sh
# Browser end-to-end test of the Strongbox web UI: ingests a corpus with the real `strongbox`
# binary, serves it, drives the page with headless Chromium through playwright-core, and leaves
# screenshots in the output directory.
# Usage: run_browser_test.sh <strongbox-binary> <corpus-dir> <output-dir>
# Exit 77 (CTest "skipped") when Chromium or playwright-core cannot be installed here.
set -eu

strongbox=$1
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

data="$out/data"
rm -rf "$data"
"$strongbox" --data-dir "$data" ingest "$corpus"/*.txt >"$out/ingest.log" 2>&1 ||
    { cat "$out/ingest.log" >&2; echo "ingesting the corpus failed" >&2; exit 1; }
"$strongbox" --data-dir "$data" serve --port 0 >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM

# serve writes DATA/daemon.json with its URL once it listens; give a slow machine up to 20 s.
tries=0
while [ ! -s "$data/daemon.json" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$out/server.log" >&2
        echo "strongbox serve exited before listening" >&2
        exit 1
    fi
    tries=$((tries + 1))
    [ "$tries" -le 200 ] || { echo "strongbox serve did not start listening" >&2; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$data/daemon.json")

node "$here/browser_test.mjs" "$url" "$out"
