#!/bin/bash
# bench-pipeline.sh - the whole pipeline from the source zip to a served
# champion, timed stage by stage: ingest, clean, train, register (the gate
# promotes the new version), then the serving pool started and polled until
# /readyz answers with the champion; details (the runs' test split
# explanations and groups, train --details), monitor and report run beside the
# pool (nothing the pool serves depends on them) and are timed too. Wall time and
# CPU time (user + system of the stage's processes) per stage, the load
# average before and after.
#
# Each round times the stages' commands one after the other (the current
# binary, then READMIT_OTHER when given), then the whole DAG as a user runs
# it, `make -j2 up` (pipeline.mk), to the first 200 of /readyz.
#
# Everything is scratch: a database of its own on the private cluster, a
# READMIT_HOME under /tmp (var/run, var/nginx, var/models, reports), an HTTP
# port of its own; all dropped at the end. The user's database, var/,
# reports/ and config are never touched.
#
# Usage: scripts/bench-pipeline.sh [ZIP_OR_CSV]   (make bench-pipeline DATA=...)
#   default: $READMIT_REAL_DATA, else ../shared/data/dataset_diabetes.zip
#   env: READMIT (binary, default $BUILD/readmit), READMIT_FCGI, CONF,
#        BENCH_PORT (default: a free one), BENCH_RUNS (default 1; each run is printed,
#        then the best total), READMIT_OTHER (a second readmit binary: runs
#        alternate between the two, same data, same machine), BENCH_NO_DAG=1
#        (skip the `make -j2 up` run), BENCH_DAG_ONLY=1 (only that run)
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SRC=${1:-${READMIT_REAL_DATA:-}}
if [ -z "$SRC" ]; then
    for d in "$TOP/../shared/data/dataset_diabetes.zip" "$TOP/data/dataset_diabetes.zip"; do
        [ -e "$d" ] && { SRC=$d; break; }
    done
fi
READMIT=${READMIT:-$TOP/${BUILD:-build}/readmit}
FCGI=${READMIT_FCGI:-$TOP/${BUILD:-build}/readmit-fcgi}
OTHER=${READMIT_OTHER:-}
CONF=${CONF:-$TOP/conf/readmit.yaml}
# a port nobody listens on (the machine is shared), unless one is given
PORT=${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
RUNS=${BENCH_RUNS:-1}

die() { echo "bench-pipeline: $*" >&2; exit 1; }
[ -r "$SRC" ] || die "no data at $SRC (give a path, DATA=... or READMIT_REAL_DATA)"
[ -x "$READMIT" ] && [ -x "$FCGI" ] || die "build first (make build)"
[ -z "$OTHER" ] || [ -x "$OTHER" ] || die "READMIT_OTHER=$OTHER is not executable"
command -v curl >/dev/null && command -v jq >/dev/null || die "curl and jq are needed"
SRC=$(cd "$(dirname "$SRC")" && pwd)/$(basename "$SRC")
case $CONF in /*) ;; *) CONF=$TOP/$CONF ;; esac

DB=readmit_bench_pipeline_$$
TMP=$(mktemp -d /tmp/readmit-bench-pipeline.XXXXXX)
chmod 755 "$TMP"
HOME_DIR=$TMP/home
serve() {
    READMIT_HOME=$HOME_DIR READMIT_CONFIG=$CONF READMIT_FCGI=$FCGI READMIT_HTTP_PORT=$PORT \
        READMIT_ACCESS_LOG=off READMIT_MODEL_CACHE=$HOME_DIR/var/models \
        READMIT_FCGI_OPTS="-o db.name=$CUR_DB -o report.dir=$HOME_DIR/reports" \
        "$TOP/scripts/serve.sh" "$1" >/dev/null
}
CUR_DB=$DB
cleanup() {
    serve stop 2>/dev/null || true
    for d in "$DB" "${DB}_b"; do
        "$TOP/scripts/pg.sh" psql -X -d postgres -qc "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
"$TOP/scripts/pg.sh" start >/dev/null 2>&1

TCK=$(getconf CLK_TCK)
now() { date +%s.%N; }
# CPU clock ticks (user + system, with waited-for children) of processes and
# their live children: the PostgreSQL server (backends that ended are in the
# postmaster's children times) and the serving pool
tree_ticks() {
    local p s=0 t
    for p in "$@" $(pgrep -P "$(echo "$@" | tr ' ' ',')" 2>/dev/null); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}') || t=0
        s=$((s + ${t:-0}))
    done
    echo "$s"
}
PGPID=$(head -n 1 "$(readlink -f "$TOP/var/pg")/data/postmaster.pid" 2>/dev/null || true)
[ -n "$PGPID" ] || echo "bench-pipeline: no private server pid (external server?): server CPU not measured" >&2
server_ticks() { if [ -n "$PGPID" ]; then tree_ticks "$PGPID"; else echo 0; fi; }
declare -A WALL CPU SCPU
# CPU time (user + system, seconds) of the children this shell waited for
child_cpu() { times >"$TMP/times"; awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$TMP/times"; }
stage() { # name CMD...: run CMD; its wall time, its own CPU time, the server's CPU time
    local name=$1 t0 t1 s0 s1
    shift
    s0=$(server_ticks)
    child_cpu >"$TMP/c0"
    t0=$(now)
    "$@" >"$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out" >&2; die "stage $name failed"; }
    t1=$(now)
    child_cpu >"$TMP/c1"
    s1=$(server_ticks)
    WALL[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    CPU[$name]=$(awk -v a="$(cat "$TMP/c0")" -v b="$(cat "$TMP/c1")" 'BEGIN { printf "%.2f", b - a }')
    SCPU[$name]=$(awk -v a="$s0" -v b="$s1" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
}
# a 10 ms pause without a process (polling with sleep would cost the
# measured CPU a fork each time)
exec {PAUSE_FD}<> <(:)
pause() { read -r -t 0.01 -u "$PAUSE_FD" || true; }
ready() { # wait for the pool's pid file, then poll /readyz until 200 (at most $1 s, default 30)
    local i n=$((${1:-30} * 100))
    for ((i = 0; i < n; i++)); do
        [ -s "$HOME_DIR/var/run/readmit-fcgi.pid" ] && break
        pause
    done
    for ((; i < n; i++)); do
        curl -sf -o "$TMP/ready.json" "http://127.0.0.1:$PORT/readyz" && return 0
        pause
    done
    return 1
}
serve_ready() { serve start && ready; }

fresh() { # an empty database and home for one run
    CUR_DB=$DB
    "$TOP/scripts/pg.sh" psql -X -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
    "$TOP/scripts/pg.sh" psql -X -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
    rm -rf "$HOME_DIR"
    mkdir -p "$HOME_DIR/var/models" "$HOME_DIR/reports"
}
check_served() { # binary: the pool serves the version the gate made champion
    local served champ
    served=$(sed -n 's/.*"model_version":"\([^"]*\)".*/\1/p' "$TMP/ready.json")
    champ=$("$1" versions -c "$CONF" -o "db.name=$DB" -o "db.socket_dir=$TOP/var/pg/run" --json |
        jq -r '.[] | select((.aliases // []) | index("champion")) | .version' | head -n 1)
    [ -n "$served" ] && [ "$served" = "$champ" ] || die "the pool serves version '$served', the champion is '$champ'"
    SERVED=$served
}
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

one_run() { # binary label: the stages' commands one after the other, timed each
    local bin=$1 label=$2
    fresh
    # (the database is empty: ingest applies the schema, inside the clock)
    local R=(env "READMIT_MODEL_CACHE=$HOME_DIR/var/models" "$bin")
    local O=(-c "$CONF" -o "db.name=$DB" -o "db.socket_dir=$TOP/var/pg/run" -o "data.source=$SRC"
        -o "report.dir=$HOME_DIR/reports" -q)
    local T0 T1 defer=()
    # (a binary from before train --defer-details measures the details in train)
    "$bin" train --help | grep -q -- --defer-details && defer=(--defer-details)
    cd "$HOME_DIR"
    T0=$(now)
    stage ingest "${R[@]}" ingest "${O[@]}"
    stage clean "${R[@]}" clean "${O[@]}"
    stage train "${R[@]}" train "${O[@]}" "${defer[@]}"
    stage register "${R[@]}" register "${O[@]}"
    stage serve serve_ready
    CPU[serve]=$(awk -v a="${CPU[serve]}" -v b="$(tree_ticks "$(cat "$HOME_DIR/var/run/readmit-fcgi.pid")")" -v t="$TCK" \
        'BEGIN { printf "%.2f", a + b / t }')
    T1=$(now)
    if [ ${#defer[@]} -gt 0 ]; then
        stage details "${R[@]}" train "${O[@]}" --details
    else
        WALL[details]=- CPU[details]=- SCPU[details]=-
    fi
    stage monitor "${R[@]}" monitor "${O[@]}"
    stage report "${R[@]}" report "${O[@]}"
    cd "$TOP"
    check_served "$bin"
    serve stop
    local total
    total=$(span "$T0" "$T1")
    printf '%-6s %-6s' "$label" "$(cut -d' ' -f1 /proc/loadavg)"
    local s
    for s in ingest clean train register serve; do printf ' %16s' "${WALL[$s]}/${CPU[$s]}/${SCPU[$s]}"; done
    printf ' %6s' "$total"
    for s in details monitor report; do printf ' %16s' "${WALL[$s]}/${CPU[$s]}/${SCPU[$s]}"; done
    printf '  v%s\n' "$SERVED"
    echo "$total" >>"$TMP/totals.$label"
}

# The same through the DAG, as a user runs it: `make -j2 up` (pipeline.mk)
# from an empty database, the clock stopped when /readyz first answers 200;
# make goes on with monitor and report beside the pool.
dag_run() {
    fresh
    local T0 T1 T2 s0 s1 c0 c1 pid
    s0=$(server_ticks)
    child_cpu >"$TMP/c0"
    T0=$(now)
    READMIT_HOME=$HOME_DIR READMIT_HTTP_PORT=$PORT READMIT_ACCESS_LOG=off \
        make --no-print-directory -C "$TOP" -j2 up BUILD="${BUILD:-build}" CONF="$CONF" DATA="$SRC" \
        VAR="$HOME_DIR/var" DBNAME="$DB" REPORT_DIR="$HOME_DIR/reports" >"$TMP/dag.out" 2>&1 &
    pid=$!
    ready 600 || { cat "$TMP/dag.out" >&2; die "make up: no pool ready"; }
    T1=$(now)
    wait "$pid" || { cat "$TMP/dag.out" >&2; die "make up failed"; }
    T2=$(now)
    child_cpu >"$TMP/c1"
    s1=$(server_ticks)
    c0=$(cat "$TMP/c0") c1=$(cat "$TMP/c1")
    check_served "$READMIT"
    local pool
    pool=$(tree_ticks "$(cat "$HOME_DIR/var/run/readmit-fcgi.pid")")
    serve stop
    printf '%-6s %-6s make -j2 up: zip to /readyz 200 %s s; make done (monitor, report) %s s; CPU %s s (make and readmit) + %s s (pool) + %s s (PostgreSQL)  v%s\n' \
        dag "$(cut -d' ' -f1 /proc/loadavg)" "$(span "$T0" "$T1")" "$(span "$T0" "$T2")" \
        "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" \
        "$(awk -v a="$pool" -v t="$TCK" 'BEGIN { printf "%.2f", a / t }')" \
        "$(awk -v a="$s0" -v b="$s1" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" "$SERVED"
    echo "$(span "$T0" "$T1")" >>"$TMP/totals.dag"
}

echo "bench-pipeline: $SRC -> served champion; $(nproc) cores; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(seconds per stage: wall/CPU of the command/CPU of the PostgreSQL server; total = ingest start to /readyz 200; details, monitor and report run after, beside the pool)"
printf '%-6s %-6s %16s %16s %16s %16s %16s %6s %16s %16s %16s\n' bin load1 ingest clean train register serve total details monitor report
for ((round = 0; round < RUNS; round++)); do
    if [ -z "${BENCH_DAG_ONLY:-}" ]; then
        one_run "$READMIT" new
        [ -z "$OTHER" ] || one_run "$OTHER" other
    fi
    [ -n "${BENCH_NO_DAG:-}" ] || dag_run
done
for l in new other dag; do
    [ -f "$TMP/totals.$l" ] || continue
    echo "best total ($l): $(sort -n "$TMP/totals.$l" | head -n 1) s over $(wc -l <"$TMP/totals.$l") run(s)"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
