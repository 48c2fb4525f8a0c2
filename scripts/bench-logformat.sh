#!/bin/bash
# The prediction log writer's formatting alone (make bench-logformat): the
# request bodies of the serving benchmarks (scripts/bench-bodies.sh: one
# record per body, and 100), each answered by the API, queued as log entries
# and formatted into monitor.prediction_batches rows in chunks of
# monitor.batch_records predictions, on one core, no database. Prints
# predictions per second and CPU microseconds per prediction for each kind.
# Usage: scripts/bench-logformat.sh [DATA]   (make bench-logformat DATA=...)
# Environment: READMIT_BENCH_MODEL (a model file; else one of the default
#   shape is fitted on synthetic rows once, var/bench-logformat/model.rdm),
#   READMIT_BENCH_SECONDS (3), READMIT_CONFIG, BUILD (build).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
WORK=$TOP/var/bench-logformat
SECS=${READMIT_BENCH_SECONDS:-3}
die() { echo "bench-logformat: $*" >&2; exit 1; }
[ -x "$BUILD/bench-logformat" ] || die "build first (make $BUILD/bench-logformat)"
mkdir -p "$WORK"
BUILD=$BUILD READMIT_CONFIG=$CONF scripts/bench-bodies.sh "$WORK" ${1:+"$1"} >/dev/null
MODEL=${READMIT_BENCH_MODEL:-$WORK/model.rdm}
if [ ! -f "$MODEL" ]; then
    echo "bench-logformat: fitting a model of the default shape on synthetic rows ($MODEL)"
    "$BUILD/bench-score" --save "$MODEL" --seconds 0.01 >/dev/null
fi
CHUNK=$("$BUILD/readmit" config -c "$CONF" --get monitor.batch_records)
echo "bench-logformat: records from the $(cat "$WORK/source.txt"); chunks of $CHUNK predictions (monitor.batch_records); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| bodies | predictions | entry bytes per prediction | predictions/s (1 core) | us per prediction | row bytes per prediction | rows checksum |"
echo "|---|---|---|---|---|---|---|"
"$BUILD/bench-logformat" --model "$MODEL" --seconds "$SECS" --batch-records "$CHUNK" --max 20000 \
    "$WORK/single.jsonl" "$WORK/batch.jsonl"
