#!/usr/bin/env bash
# make demo: ingest the bundled sample corpus, print one cited answer, then serve the web UI.
# Safe to run again: unchanged files are not re-ingested.
set -euo pipefail
strongbox="$1"
data_dir="$2"
port="${STRONGBOX_PORT:-8080}"
question="How long are nightly backups kept?"
question_ko="야간 백업은 며칠 동안 보관되나요?"

echo "== Ingesting the sample corpus (samples/) into ${data_dir}"
"${strongbox}" --data-dir "${data_dir}" ingest samples/docs samples/logs samples/notes

echo
echo "== strongbox ask \"${question}\""
"${strongbox}" --data-dir "${data_dir}" ask "${question}"

echo
echo "== strongbox ask \"${question_ko}\""
"${strongbox}" --data-dir "${data_dir}" ask "${question_ko}"

echo
echo "== Serving the web UI: open http://127.0.0.1:${port}/ (Ctrl-C to stop)"
exec "${strongbox}" --data-dir "${data_dir}" serve --port "${port}"
