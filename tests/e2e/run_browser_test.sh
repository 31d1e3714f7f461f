#!/bin/sh
# Browser end-to-end test of the Strongbox web UI: starts the real `strongbox serve` on an empty
# data directory, then drives the page with headless Chromium through playwright-core (set up
# the administrator, accounts and a collection, upload a PDF, ask, follow a citation, audit,
# Korean, a full disk shown on the Admin page), leaving screenshots in the output directory.
# The server runs with the I/O fault injector preloaded, inert until the browser test creates
# <output-dir>/disk-full: then every write under the data directory fails with ENOSPC.
# Usage: run_browser_test.sh <strongbox-binary> <pdf> <output-dir> <io-fault-library>
# Exit 77 (CTest "skipped") only when Chromium is missing and cannot be installed here.
set -eu

strongbox=$1
pdf=$2
out=$3
io_fault=$4
here=$(cd "$(dirname "$0")" && pwd)
chromium=${STRONGBOX_CHROMIUM:-/usr/bin/chromium}
mkdir -p "$out"

skip() {
    echo "SKIPPED: $*" >&2
    exit 77
}

apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" \
            >"$out/apt-$1.log" 2>&1 || true
    fi
}

if [ ! -x "$chromium" ]; then
    echo "installing Debian's chromium" >&2
    apt_install chromium
    [ -x "$chromium" ] || skip "chromium is not installed at $chromium and could not be installed (see $out/apt-chromium.log)"
fi
# Korean text renders as boxes in the screenshots without a Korean font; the checks do not need it.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=ko 2>/dev/null | head -n 1)" ]; then
    apt_install fonts-nanum
fi
command -v node >/dev/null 2>&1 || { echo "node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund >"$out/npm-install.log" 2>&1) ||
        { cat "$out/npm-install.log" >&2; echo "npm could not install playwright-core" >&2; exit 1; }
fi

data="$out/data"
rm -rf "$data"
rm -f "$out"/*.png "$out/disk-full"
mkdir -p "$data"
LD_PRELOAD="$io_fault" SB_FAULT_DIR="$data" SB_FAULT_SWITCH="$out/disk-full" \
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

node "$here/browser_test.mjs" "$url" "$out" "$pdf" "$out/disk-full" || {
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$out/server.log" >&2
    exit 1
}
