#!/usr/bin/env bash
# Runs every fuzz target in turn, one process each (the machine is shared): up to RUNS
# executions or SECONDS_PER_TARGET seconds, whichever comes first. The corpus grows in
# fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET); crashes land in fuzz/artifacts/TARGET.
# Logs: fuzz/logs/TARGET.log, whose last line says how many executions ran.
#
#   fuzz/run-all.sh                      # every target, 10 M executions or 15 minutes each
#   RUNS=1000000 SECONDS_PER_TARGET=60 fuzz/run-all.sh notes ratings
#   FAST=1 SECONDS_PER_TARGET=3600 fuzz/run-all.sh   # no sanitizer, no comparison tracing:
#                                                    # about 4x the executions per second
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-900}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(notes ratings status_history enrollment note_requests ratings_cache api_json)
# The build flags; `cargo fuzz run` must get the same ones or it rebuilds.
flags=(-O --debug-assertions)
if [ -n "${FAST:-}" ]; then
    flags+=(-s none --no-trace-compares)
fi
mkdir -p logs
cargo +nightly fuzz build "${flags[@]}"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    nice -n 10 cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -runs="$RUNS" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"logs/$t.log" 2>&1 || echo "$t: stopped with a finding, see logs/$t.log"
    grep -E '^Done [0-9]+ runs' "logs/$t.log" | sed "s/^/$t: /" || true
done
