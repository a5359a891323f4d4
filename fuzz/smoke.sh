#!/usr/bin/env bash
# A fuzz smoke of about a minute: each target runs 8 seconds from its committed corpus
# (fuzz/corpus/TARGET, then fuzz/seeds/TARGET) and must find nothing. Needs nightly and
# cargo-fuzz (`cargo install cargo-fuzz`); the first build compiles the service's
# dependencies with sanitizers and takes many minutes, so `.ci/run` does not call it.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-8}
cargo +nightly fuzz build -O --debug-assertions
for t in notes ratings status_history enrollment note_requests ratings_cache api_json; do
    mkdir -p "corpus/$t"
    # A scratch copy, so that the smoke does not grow the committed corpus.
    work=$(mktemp -d)
    log="$work.log"
    if ! cargo +nightly fuzz run -O --debug-assertions "$t" "$work" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz smoke: $t found a problem (input saved under fuzz/artifacts/$t)" >&2
        exit 1
    fi
    grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/$t: /"
    rm -rf "$work" "$log"
done
