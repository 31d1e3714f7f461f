#!/bin/sh
# Web load benchmark: `wrk` on loopback against POST /api/v1/search and POST /api/v1/ask
# (extractive answerer) of a real `strongbox serve`, authenticated with a Bearer API token, over a
# generated corpus of FILES x PARAGRAPHS one-chunk paragraphs (default 100 x 100 = 10,000 chunks).
# Prints requests/s, p50/p90/p99 latency and failed requests (socket errors, non-2xx by status)
# per endpoint and connection count, for DURATION each. It measures; it asserts nothing.
# The server answers at most 4 service calls at once and queues 64 more (ServerOptions); beyond
# that it answers 503 "overloaded" at once, so failures are expected only above 68 connections
# (SERVE_OPTIONS="--max-concurrent 8 --max-queued 128" changes both limits).
# server_cpu_ms is the server's CPU time (user + system) per request over the run: on a shared
# machine it says what a request costs when the latencies mostly say how busy the machine was.
#
# Usage: bench/webui/load.sh <strongbox-binary> [work-dir]
# Environment: DURATION (default 10s), CONNECTIONS (list, default "16 32"), THREADS (wrk threads, 2), FILES (100),
#              PARAGRAPHS (100), ENDPOINTS ("search ask"), SERVE_OPTIONS (extra `serve` options, e.g.
#              "--max-concurrent 8"; default none).
# The corpus and its index stay in work-dir (default /tmp/strongbox-webui-load) for the next run.
# On a shared machine run it under `nice -n 19`; wrk and the server share the same cores.
set -eu

strongbox=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=${2:-/tmp/strongbox-webui-load}
here=$(cd "$(dirname "$0")" && pwd)
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16 32}
threads=${THREADS:-2}
files=${FILES:-100}
paragraphs=${PARAGRAPHS:-100}
endpoints=${ENDPOINTS:-search ask}
serve_options=${SERVE_OPTIONS:-}

command -v wrk >/dev/null 2>&1 || { echo "wrk is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || { echo "curl is not installed" >&2; exit 1; }
. "$here/corpus.sh"

rm -f "$data/daemon.json"
# shellcheck disable=SC2086 # the options are words
"$strongbox" --data-dir "$data" serve --port 0 $serve_options >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM
tries=0
while [ ! -s "$data/daemon.json" ]; do
    kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$work/server.log" >&2; echo "serve exited" >&2; exit 1; }
    tries=$((tries + 1))
    [ "$tries" -le 600 ] || { echo "serve did not start listening" >&2; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$data/daemon.json")
url=${url%/}
# utime + stime of the server in clock ticks (fields 14 and 15; the name in field 2 has no spaces).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
hz=$(getconf CLK_TCK)

. "$here/api_token.sh"
make_token "load benchmark"

chunks=$(curl -sf "$url/healthz" | sed -n 's/.*"chunks":\([0-9]*\).*/\1/p')
echo "strongbox web load: ${chunks:-?} chunks, $threads wrk threads, $duration per run, $(nproc) CPUs," \
    "serve options: ${serve_options:-none}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %5s %9s %9s %9s %9s %9s %9s %8s %13s  %s\n' endpoint conns requests req/s p50_ms p90_ms p99_ms max_ms \
    failed server_cpu_ms statuses
for endpoint in $endpoints; do
    # Warm caches and the first-query paths so the timed runs measure steady state.
    SB_TOKEN=$token SB_KIND=$endpoint SB_QUERIES="$corpus/queries.txt" \
        wrk -t1 -c1 -d2s -s "$here/post.lua" "$url/api/v1/$endpoint" >/dev/null 2>&1 || true
    for c in $connections; do
        t=$threads
        [ "$c" -ge "$t" ] || t=$c  # wrk needs a connection per thread
        before=$(cpu_ticks)
        line=$(SB_TOKEN=$token SB_KIND=$endpoint SB_QUERIES="$corpus/queries.txt" \
            wrk -t"$t" -c"$c" -d"$duration" --timeout 10s -s "$here/post.lua" "$url/api/v1/$endpoint" |
            grep '^RESULT') || { echo "wrk failed against $endpoint" >&2; exit 1; }
        get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        cpu_ms=$(awk -v t=$(( $(cpu_ticks) - before )) -v hz="$hz" -v n="$(get requests)" \
            'BEGIN { printf "%.2f", (n > 0 ? 1000 * t / hz / n : 0) }')
        failed=$(( $(get socket_errors) + $(get non2xx) + $(get timeouts) ))
        printf '%-8s %5s %9s %9s %9s %9s %9s %9s %8s %13s  %s\n' "$endpoint" "$c" "$(get requests)" "$(get rps)" \
            "$(get p50_ms)" "$(get p90_ms)" "$(get p99_ms)" "$(get max_ms)" "$failed" "$cpu_ms" "$(get statuses)"
    done
done
