# Sourced by load.sh and open_loop.sh: the generated corpus and its ingested data directory under
# $work, made once and kept for later runs. Reads strongbox, work, here, files and paragraphs;
# sets corpus and data.
mkdir -p "$work"
corpus="$work/corpus-${files}x${paragraphs}"
data="$work/data-${files}x${paragraphs}"

if [ ! -f "$corpus/queries.txt" ]; then
    echo "generating $files x $paragraphs paragraphs in $corpus" >&2
    python3 "$here/make_corpus.py" "$corpus" "$files" "$paragraphs"
fi
if [ ! -f "$data/.ingested" ]; then
    rm -rf "$data"
    echo "ingesting the corpus into $data" >&2
    start=$(date +%s)
    "$strongbox" --data-dir "$data" ingest "$corpus"/report-*.txt >"$work/ingest.log" 2>&1 ||
        { tail -n 20 "$work/ingest.log" >&2; echo "ingest failed" >&2; exit 1; }
    echo "ingested in $(( $(date +%s) - start )) s" >&2
    touch "$data/.ingested"
fi
