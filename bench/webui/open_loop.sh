#!/bin/sh
# Open-loop web load: strongbox_bench_open_loop (open_loop_bench.cpp) against a real
# `strongbox serve` on loopback, over the generated corpus of load.sh (FILES x PARAGRAPHS one-chunk
# paragraphs, default 100 x 100 = 10,000 chunks). Requests leave on a fixed schedule and latency
# counts from the scheduled time, so queueing shows. Each scenario runs one rate below the server's
# limits and one above, for DURATION seconds, and prints per stream: offered and achieved rate,
# p50/p90/p99/p99.9/max of answered requests, refusals (429/503) with their p50/p99, other failures,
# every status seen, the server's CPU use and the load average. It measures; it asserts nothing.
#
# Scenarios (the server answers at most 4 service calls at once and queues 64; 2 password checks
# at once and 8 queued; beyond either, 503 or 429 at once):
#   reads      GET /api/v1/documents and GET /api/v1/source/<chunk>, with a /healthz probe
#   search     POST /api/v1/search
#   ask        POST /api/v1/ask, extractive answerer
#   login      a flood of POST /api/v1/login from many loopback addresses (3 wrong passwords in 4),
#              with a /healthz probe and a search stream beside it to show what the flood costs them
#   login-one  the same from one address: throttling locks it after 5 failures (429 at once)
#   ask-model  POST /api/v1/ask answered by a small GGUF model (a second server, started with --model).
#              With stories260K (a 512-token vocabulary) one synthetic passage already exceeds the
#              prompt budget, so the answer is a refusal after retrieval and prompt assembly: the row
#              measures that path, not token generation. MODEL=<a real GGUF> measures generation.
#
# Usage: bench/webui/open_loop.sh <strongbox-binary> <strongbox_bench_open_loop-binary> [work-dir]
# Environment (rates are requests/s, "below above"):
#   DURATION (10), FILES (100), PARAGRAPHS (100), SCENARIOS ("reads search ask login login-one ask-model"),
#   READ_RATES ("40 1200"), SEARCH_RATES ("20 1000"), ASK_RATES ("10 800"), LOGIN_RATES ("2 100"),
#   MODEL_ASK_RATES ("1 20"), MODEL (tests/data/inference/stories260K.gguf), SERVE_OPTIONS (extra
#   `serve` options for both servers), MODEL_OPTIONS ("--daily-user-tokens 0 --max-new-tokens 64").
# The corpus and its index stay in work-dir (default /tmp/strongbox-webui-load) for the next run.
# Streams of one run hold at most 64 connections together, under the server's default connection
# limit (ServerOptions::max_connections, 72): beyond it new connections get 503 before any request
# is read, a different limit from the admission ones measured here.
# Run it under `nice -n 19` on a shared machine: client and server share the same cores.
set -eu

strongbox=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
client=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=${3:-/tmp/strongbox-webui-load}
here=$(cd "$(dirname "$0")" && pwd)
duration=${DURATION:-10}
files=${FILES:-100}
paragraphs=${PARAGRAPHS:-100}
scenarios=${SCENARIOS:-reads search ask login login-one ask-model}
read_rates=${READ_RATES:-40 1200}
search_rates=${SEARCH_RATES:-20 1000}
ask_rates=${ASK_RATES:-10 800}
login_rates=${LOGIN_RATES:-2 100}
model_ask_rates=${MODEL_ASK_RATES:-1 20}
model=${MODEL:-$here/../../tests/data/inference/stories260K.gguf}
serve_options=${SERVE_OPTIONS:-}
model_options=${MODEL_OPTIONS:---daily-user-tokens 0 --max-new-tokens 64}

command -v curl >/dev/null 2>&1 || { echo "curl is not installed" >&2; exit 1; }
. "$here/corpus.sh"

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT INT TERM

# start_server [serve options...]: sets server_pid and url.
start_server() {
    rm -f "$data/daemon.json"
    "$strongbox" --data-dir "$data" serve --port 0 "$@" >"$work/server.log" 2>&1 &
    server_pid=$!
    tries=0
    while [ ! -s "$data/daemon.json" ]; do
        kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$work/server.log" >&2; echo "serve exited" >&2; exit 1; }
        tries=$((tries + 1))
        [ "$tries" -le 600 ] || { echo "serve did not start listening" >&2; exit 1; }
        sleep 0.1
    done
    url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$data/daemon.json")
    url=${url%/}
}

. "$here/api_token.sh"

# run LABEL STREAM...: one timed run of the streams side by side.
header=--header
run() {
    label=$1
    shift
    "$client" --url "$url" --token "$token" --queries "$corpus/queries.txt" --user "$user" \
        --password "$password" --duration "$duration" --scenario "$label" --server-pid "$server_pid" $header "$@"
    header=
}

# Warms caches and first-query paths so the timed runs measure steady state.
warm() {
    "$client" --url "$url" --token "$token" --queries "$corpus/queries.txt" --duration 2 "$@" >/dev/null
}

below() { echo "$1"; }
above() { echo "$2"; }

echo "strongbox open-loop web load: $files x $paragraphs chunks, ${duration} s per run, $(nproc) CPUs," \
    "serve options: ${serve_options:-none}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086 # the options are words
start_server $serve_options
make_token "open-loop benchmark"
warm search@5/4 ask@5/4 source@5/4 documents@2/2
for scenario in $scenarios; do
    case $scenario in
        reads)
            for level in below above; do
                r=$($level $read_rates)
                run "reads-$level" documents@$((r / 4))/16 source@$((r - r / 4))/32 healthz@5/8
            done ;;
        search)
            for level in below above; do
                run "search-$level" search@$($level $search_rates)/48 healthz@5/8
            done ;;
        ask)
            for level in below above; do
                run "ask-$level" ask@$($level $ask_rates)/48 healthz@5/8
            done ;;
        login)
            for level in below above; do
                run "login-$level" login@$($level $login_rates)/32 healthz@5/8 search@$(below $search_rates)/16
            done ;;
        login-one)
            run "login-one" login-one@$(above $login_rates)/8 healthz@5/8 ;;
        ask-model) ;;
        *) echo "unknown scenario $scenario" >&2; exit 1 ;;
    esac
done
stop_server

case " $scenarios " in
    *" ask-model "*)
        [ -f "$model" ] || { echo "no model at $model" >&2; exit 1; }
        # shellcheck disable=SC2086 # the options are words
        start_server $serve_options --model "$model" $model_options
        make_token "open-loop benchmark"
        warm ask@2/2
        for level in below above; do
            run "ask-model-$level" model-ask=ask@$($level $model_ask_rates)/48 healthz@5/8
        done
        stop_server ;;
esac
