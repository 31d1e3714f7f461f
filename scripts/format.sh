#!/usr/bin/env bash
# Formats the tracked C, C++ and CUDA sources with .clang-format (`make format`), or, with --check,
# lists the files that differ and fails (`make format-check`, run by CI). Pinned to Debian 12's
# clang-format 14: another version breaks some lines differently.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh clang-format-14
format=clang-format-14

# Tracked files and new ones git does not ignore, so a file not yet added is formatted too.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.c' '*.h' '*.cpp' '*.cu' '*.cuh')
if [ "${1:-}" = "--check" ]; then
  differ=()
  for f in "${files[@]}"; do
    "$format" --dry-run -Werror "$f" >/dev/null 2>&1 || differ+=("$f")
  done
  if [ ${#differ[@]} -ne 0 ]; then
    printf 'not formatted (run make format): %s\n' "${differ[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files match .clang-format"
else
  "$format" -i "${files[@]}"
fi
