#!/usr/bin/env bash
# Fuzz campaign: builds the libFuzzer targets (-DSB_FUZZ=ON, clang) into build/fuzz and runs each
# in turn for a bounded time, then prints one row per target: executions, exec/s, crashes, leaks
# and how large the corpus grew.
#
#   tests/fuzz/campaign.sh [SECONDS_PER_TARGET] [TARGET...]     (default 600 s, every target)
#   nice -n 19 tests/fuzz/campaign.sh 600 json webui              (two targets, 10 minutes each)
#
# Each target runs on a temporary copy of its seed corpus, with AddressSanitizer,
# UBSan and leak detection on, an RSS limit and a per-input timeout. A target that crashes is
# restarted for the time it has left, so one finding does not end its run. Every crashing, leaking
# or hanging input is copied into the corpus that the ordinary test run (make test) replays, named
# <kind>-<sha1>, so it fails there until the bug is fixed and stays fixed afterwards.
#
# Environment: SB_FUZZ_BUILD_DIR (default <repo>/build/fuzz), SB_FUZZ_SKIP_BUILD=1 to use the
# binaries already built, SB_FUZZ_JOBS (default 1: fuzzer processes per target, sharing its
# corpus; executions are summed over them), SB_FUZZ_RSS_MB (default 2048), SB_FUZZ_TIMEOUT_S
# (default 10), SB_FUZZ_KEEP=1 to keep the temporary corpora. Rows are also appended to
# $SB_FUZZ_BUILD_DIR/campaign/results.tsv.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SB_FUZZ_BUILD_DIR:-$repo/build/fuzz}"
seconds="${1:-600}"
shift || true
rss_mb="${SB_FUZZ_RSS_MB:-2048}"
timeout_s="${SB_FUZZ_TIMEOUT_S:-10}"
jobs="${SB_FUZZ_JOBS:-1}"

# name | executable (under the build dir) | seed and replay corpus (under the repo)
targets=(
  "json|tests/core/strongbox_json_fuzz|tests/fuzz/corpus/json"
  "webui|tests/webui/strongbox_webui_fuzz|tests/fuzz/corpus/webui"
  "settings|tests/appliance/strongbox_settings_fuzz|tests/fuzz/corpus/settings"
  "audit_bundle|tests/audit/strongbox_audit_bundle_fuzz|tests/fuzz/corpus/audit_bundle"
  "tokenizer|tests/inference/strongbox_tokenizer_fuzz|tests/fuzz/corpus/tokenizer"
  "gguf|tests/inference/strongbox_gguf_fuzz|tests/data/inference/gguf-corpus"
  "ingest_log|tests/ingest/strongbox_ingest_log_fuzz|tests/fuzz/corpus/ingest_log"
  "ingest_pdf|tests/ingest/strongbox_ingest_pdf_fuzz|tests/fuzz/corpus/ingest_pdf"
  "bundle|provisioning/strongbox_bundle_fuzz|tests/data/provisioning/fuzz_corpus"
)

selected=()
if [ $# -gt 0 ]; then
  for want in "$@"; do
    found=0
    for t in "${targets[@]}"; do
      if [ "${t%%|*}" = "$want" ]; then selected+=("$t"); found=1; fi
    done
    if [ $found = 0 ]; then
      echo "campaign.sh: unknown target '$want'" >&2
      exit 2
    fi
  done
else
  selected=("${targets[@]}")
fi

if [ "${SB_FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    # The fuzzers link the inference runtime but never reach a GPU: no CUDA kernels to build.
    cmake -S "$repo" -B "$build" -G Ninja -DSB_FUZZ=ON -DSB_CUDA=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  build_targets=()
  for t in "${selected[@]}"; do
    IFS='|' read -r _ exe _ <<<"$t"
    build_targets+=("$(basename "$exe")")
  done
  nice -n 5 cmake --build "$build" --target "${build_targets[@]}" -j2
fi

mkdir -p "$build/campaign"
results="$build/campaign/results.tsv"
rows=()

# Sum of one libFuzzer final stat over every log of a target's run.
stat_sum() {
  local key="$1"
  shift
  cat "$@" 2>/dev/null | awk -v k="stat::$key:" '$1 == k { s += $2 } END { print s + 0 }'
}

for t in "${selected[@]}"; do
  IFS='|' read -r name exe seeds <<<"$t"
  bin="$build/$exe"
  if [ ! -x "$bin" ]; then
    echo "campaign.sh: $bin is missing (configure with -DSB_FUZZ=ON and clang)" >&2
    exit 1
  fi
  work="$(mktemp -d "${TMPDIR:-/tmp}/sb-fuzz-$name.XXXXXX")"
  # Scratch files a target writes (the web target's accounts database) go to memory when it can:
  # an fdatasync to disk costs more than the request it follows.
  scratch="$work"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then scratch="$(mktemp -d /dev/shm/sb-fuzz-$name.XXXXXX)"; fi
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$repo/$seeds/." "$work/corpus/"
  n_seeds=$(find "$work/corpus" -type f | wc -l)

  # Allocation and free stacks are kept 4 frames deep: recording 30 costs the allocation-heavy
  # targets a sixth of their time, and the replay under make sanitize prints the full stacks.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1:allocator_may_return_null=1:malloc_context_size=4"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$repo/tests/fuzz/ingest_lsan.supp"
  start=$(date +%s)
  run=0
  n_found_before=0
  while :; do
    left=$((seconds - ($(date +%s) - start)))
    [ $left -ge 5 ] || break
    run=$((run + 1))
    # -jobs=N runs N fuzzers in children whose output goes to fuzz-<i>.log in the working directory.
    (cd "$work" && TMPDIR="$scratch" "$bin" -jobs="$jobs" -workers="$jobs" -max_total_time=$left -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
      -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" corpus >"$work/run-$run.out" 2>&1) || true
    for ((i = 0; i < jobs; i++)); do
      mv "$work/fuzz-$i.log" "$work/run-$run-$i.log" 2>/dev/null || true
    done
    # A run ends early only when it found something; give the target the rest of its time then.
    n_found=$(find "$work/artifacts" -type f | wc -l)
    [ "$n_found" -gt "${n_found_before:-0}" ] || break
    n_found_before=$n_found
    [ $run -lt 20 ] || break
  done
  elapsed=$(($(date +%s) - start))

  execs=$(stat_sum number_of_executed_units "$work"/run-*.log)
  crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  leaks=$(find "$work/artifacts" -type f -name 'leak-*' | wc -l)
  n_corpus=$(find "$work/corpus" -type f | wc -l)
  rate=$((elapsed > 0 ? execs / elapsed : 0))

  # Findings go where the replay tests read them; each run's report names the first frames.
  for f in "$work"/artifacts/*; do
    [ -f "$f" ] || continue
    kind="$(basename "$f" | cut -d- -f1)"
    saved="$seeds/$kind-$(sha1sum "$f" | cut -c1-16)"
    cp "$f" "$repo/$saved"
    echo "campaign.sh: $name: $kind input saved to $saved" >&2
  done
  for log in "$work"/run-*.log; do
    grep -q "SUMMARY:" "$log" 2>/dev/null || continue
    echo "campaign.sh: $name: $(basename "$log"):" >&2
    grep -m1 "ERROR:\|runtime error" "$log" >&2 || true
    grep " in strongbox::\| in std::__throw" "$log" | head -6 >&2 || true
    grep -m1 "SUMMARY:" "$log" >&2 || true
  done

  row="$name	$execs	$rate	$crashes	$leaks	$n_seeds -> $n_corpus	${elapsed}s	$jobs"
  rows+=("$row")
  printf '%s\t%s\n' "$(date -u +%FT%TZ)" "$row" >>"$results"
  echo "campaign.sh: $row" >&2
  if [ "${SB_FUZZ_KEEP:-0}" = 1 ]; then
    echo "campaign.sh: $name: kept $work" >&2
  else
    rm -rf "$work"
  fi
  [ "$scratch" = "$work" ] || rm -rf "$scratch"
done

printf '\n%-14s %12s %9s %8s %6s %18s %8s %5s\n' target executions exec/s crashes leaks "corpus (seeds->new)" time jobs
for r in "${rows[@]}"; do
  IFS=$'\t' read -r name execs rate crashes leaks corpus elapsed jobs <<<"$r"
  printf '%-14s %12s %9s %8s %6s %18s %8s %5s\n' "$name" "$execs" "$rate" "$crashes" "$leaks" "$corpus" "$elapsed" "$jobs"
done
