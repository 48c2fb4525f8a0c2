#!/bin/bash
# Soak test (make soak): wrk load on single and batch predictions for
# SOAK_SECONDS while, on a schedule, faults and pipeline work happen: new
# batches ingested (stage commands), the pipeline re-run through make,
# versions rolled back and promoted, a worker SIGKILLed, the supervisor
# SIGKILLed, PostgreSQL restarted, the reports rebuilt. Everything runs under
# a temp directory of its own (PostgreSQL cluster, database, var/, reports/),
# on loopback only; the user's var/, reports/ and database are never touched.
#
# Prints a table: requests and failures (each failure attributed to the fault
# it fell in, or counted as a defect), p99 per interval, worker RSS and open
# file descriptors at start and end, database connections, rows accounted for.
# Exit status 1 when a failure is not explained by a fault or rows are lost.
#
# Environment: SOAK_SECONDS (600), SOAK_INTERVAL (load interval for p99,
#   SOAK_SECONDS/10), SOAK_STEP (seconds between scheduled events,
#   SOAK_SECONDS/30, at least 5), SOAK_SUP_RESTART (5: seconds the soak waits for
#   something else to restart a killed supervisor before it runs serve.sh start
#   itself), SOAK_KEEP (keep the temp directory), BUILD (build).
set -euo pipefail
export LC_ALL=C TZ=UTC

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
READMIT=$TOP/$BUILD/readmit
FCGI=$TOP/$BUILD/readmit-fcgi
SECS=${SOAK_SECONDS:-600}
INTERVAL=${SOAK_INTERVAL:-$((SECS / 10 > 5 ? SECS / 10 : 5))}
STEP=${SOAK_STEP:-$((SECS / 30 > 5 ? SECS / 30 : 5))}
SUP_RESTART=${SOAK_SUP_RESTART:-5}
LUA=$TOP/nginx/bench/predict.lua

die() { echo "soak: $*" >&2; exit 1; }
log() { echo "soak: $(date +%H:%M:%S) $*" >&2; }
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
[ -x "$READMIT" ] && [ -x "$FCGI" ] || die "build first (make build)"

W=$(mktemp -d /tmp/readmit-soak.XXXXXX)
chmod 755 "$W"
DB=readmit_soak_$$
export READMIT_PGDIR=$W/pg READMIT_DBNAME=$DB READMIT_HOME=$W READMIT_CONFIG=$W/soak.yaml \
    READMIT_FCGI=$FCGI READMIT_MODEL_CACHE=$W/var/models
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
PORT=$((20000 + $$ % 20000))
while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
export READMIT_HTTP_PORT=$PORT
URL=http://127.0.0.1:$PORT
EV=$W/events.tsv # kind start_epoch_ms end_epoch_ms note
: >"$EV"

# ---- the soak's own configuration, database and data ----
{
    cat "$TOP/conf/test.yaml"
    printf 'db:\n  name: %s\n  socket_dir: %s\nreport:\n  dir: %s\n' "$DB" "$W/pg/run" "$W/reports"
} >"$W/soak.yaml"
SRC_ROWS=$(((SECS / STEP / 3 + 6) * 2000))
"$READMIT" synth --rows "$SRC_ROWS" --seed 9 --out "$W/source.csv"

LOADPIDS=()
cleanup() {
    local rc=$? p
    for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -z "${SCHEDPID:-}" ] || kill "$SCHEDPID" 2>/dev/null || true
    "$TOP/scripts/serve.sh" stop >/dev/null 2>&1 || true
    "$TOP/scripts/pg.sh" stop >/dev/null 2>&1 || true
    if [ -n "${SOAK_KEEP:-}" ]; then echo "soak: kept $W" >&2; else rm -rf "$W"; fi
    return $rc
}
trap cleanup EXIT

R() { (cd "$W" && "$READMIT" "$@" -c "$W/soak.yaml" -q) >>"$W/stages.log" 2>&1; }
M() { make --no-print-directory -C "$TOP" BUILD="$BUILD" VAR="$W/var" CONF="$W/soak.yaml" DBNAME="$DB" \
    DATA="$W/source.csv" REPORT_DIR="$W/reports" "$@" >>"$W/stages.log" 2>&1; }
psql_db() { "$TOP/scripts/pg.sh" psql -d "$DB" -tAqc "$1"; }

log "setup in $W (port $PORT, database $DB, $SRC_ROWS source rows)"
"$TOP/scripts/pg.sh" start >/dev/null # creates READMIT_DBNAME
M pipeline BATCHES=2 || { tail -n 30 "$W/stages.log" >&2; die "initial pipeline failed"; }
# a second version so that rollback has somewhere to go
R train -o train.gbt.learning_rate=0.2 -o train.logreg.enabled=false -o train.baseline.enabled=false &&
    R register -o registry.min_gain=-1 || { tail -n 30 "$W/stages.log" >&2; die "second version failed"; }

"$TOP/scripts/serve.sh" start >/dev/null
version() { curl -s -m 2 "$URL/api/v1/model" | jq -r .version 2>/dev/null; }
for _ in $(seq 100); do [ -n "$(version)" ] && [ "$(version)" != null ] && break; sleep 0.2; done
[ "$(version)" -ge 1 ] 2>/dev/null || die "no model served"
BUILD=$BUILD "$TOP/scripts/bench-bodies.sh" "$W/bodies" >/dev/null

sup_pid() { cat "$W/var/run/readmit-fcgi.pid" 2>/dev/null; }
workers() { pgrep -P "$(sup_pid)" 2>/dev/null | sort; }
procs_stat() { # "pid rss_kB fds" per worker
    local p
    for p in $(workers); do
        echo "$p $(awk '/VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null) $(ls /proc/"$p"/fd 2>/dev/null | wc -l)"
    done
}
db_conns() { "$TOP/scripts/pg.sh" psql -d postgres -tAqc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'" 2>/dev/null || echo "?"; }
now_ms() { date +%s%3N; }
START_STAT=$(procs_stat)
START_CONNS=$(db_conns)
echo "$(now_ms) $START_CONNS" >"$W/conns.txt"

# ---- the schedule ----
ev() { echo "$1	$2	$3	$4" >>"$EV"; log "$1 ($4)"; }
wait_until() { # seconds command...
    local n=$(($1 * 10))
    shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
predict_ok() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$W/bodies/one.json" "$URL/api/v1/predict?soak=probe")" = 200 ]; }
head -n 1 "$W/bodies/single.jsonl" >"$W/bodies/one.json"
new_worker() { [ "$(workers | wc -l)" -ge 2 ] && ! workers | grep -qx "$1"; }
is_version() { [ "$(version)" = "$1" ]; }

e_ingest() {
    local t0 rc=0
    t0=$(now_ms)
    R ingest --source "$W/source.csv" --batches 1 && R clean || rc=$?
    ev ingest "$t0" "$(now_ms)" "readmit ingest --batches 1; readmit clean: rc=$rc"
}
e_pipeline() {
    local t0 rc=0
    t0=$(now_ms)
    touch "$W/source.csv" # make sees the source as new: ingest one more batch, then the rest
    M pipeline BATCHES=1 || rc=$?
    ev pipeline "$t0" "$(now_ms)" "make pipeline BATCHES=1: rc=$rc, champion v$(version)"
}
e_rollback() {
    local t0 v v1 rc=0 note
    t0=$(now_ms)
    v=$(version)
    if R rollback; then
        wait_until 10 sh -c "! curl -s -m 2 $URL/api/v1/model | jq -e '.version == \"$v\"' >/dev/null" || true
        v1=$(version)
        R promote "$v" || rc=$?
        wait_until 10 is_version "$v" || rc=timeout
        note="v$v -> rollback v$v1 -> promote v$v: rc=$rc"
    else
        note="rollback refused (no previous champion): $(tail -n 1 "$W/stages.log")"
    fi
    ev promote "$t0" "$(now_ms)" "$note"
}
e_kill_worker() {
    local t0 victim
    victim=$(workers | head -n 1)
    t0=$(now_ms)
    kill -KILL "$victim"
    wait_until 20 new_worker "$victim" || true
    ev kill-worker "$t0" "$(now_ms)" "SIGKILL worker $victim; workers now $(workers | tr '\n' ' ')"
}
e_kill_sup() {
    local t0 sup by t1
    sup=$(sup_pid)
    t0=$(now_ms)
    kill -KILL "$sup"
    if wait_until "$SUP_RESTART" sh -c "p=\$(cat $W/var/run/readmit-fcgi.pid 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $sup ] && kill -0 \$p 2>/dev/null"; then
        by="restarted by something else (watchdog)"
    else
        by="nothing restarted it within ${SUP_RESTART}s; soak ran serve.sh start"
        "$TOP/scripts/serve.sh" start >>"$W/stages.log" 2>&1 || by="$by (failed)"
    fi
    wait_until 30 predict_ok || by="$by; predictions not back after 30 s"
    t1=$(now_ms)
    ev kill-supervisor "$t0" "$t1" "SIGKILL supervisor $sup; $by; serving down $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100)) s"
}
e_pg_restart() {
    local t0 rc=0
    t0=$(now_ms)
    "$TOP/scripts/pg.sh" stop >>"$W/stages.log" 2>&1 || rc=$?
    sleep 2
    "$TOP/scripts/pg.sh" start >>"$W/stages.log" 2>&1 || rc=$?
    ev pg-restart "$t0" "$(now_ms)" "pg.sh stop; 2 s; pg.sh start: rc=$rc"
}
e_report() {
    local t0 rc=0
    t0=$(now_ms)
    R report || rc=$?
    ev report "$t0" "$(now_ms)" "readmit report: rc=$rc"
}
EVENTS=(e_ingest e_rollback e_kill_worker e_pipeline e_kill_sup e_pg_restart e_report e_ingest e_kill_worker e_rollback)

schedule() {
    local i=0 t_end next
    t_end=$(($(date +%s) + SECS - STEP))
    next=$(($(date +%s) + STEP))
    while [ "$(date +%s)" -lt "$t_end" ]; do
        while [ "$(date +%s)" -lt "$next" ]; do sleep 0.2; done
        "${EVENTS[i % ${#EVENTS[@]}]}" || log "event ${EVENTS[i % ${#EVENTS[@]}]} failed"
        i=$((i + 1))
        next=$((next + STEP))
        [ "$(date +%s)" -lt "$next" ] || next=$(($(date +%s) + 1))
    done
}

# ---- load: consecutive wrk runs of INTERVAL seconds (one p99 per interval) ----
load() { # name conns bodies
    local t_end=$(($(date +%s) + SECS)) k=0 d
    while [ "$(date +%s)" -lt "$t_end" ]; do
        d=$((t_end - $(date +%s)))
        [ "$d" -le "$INTERVAL" ] || d=$INTERVAL
        [ "$d" -ge 1 ] || break
        k=$((k + 1))
        echo "START $(now_ms)" >"$W/wrk-$1-$k.txt"
        wrk -t1 -c"$2" -d"${d}s" --timeout 10s -s "$LUA" "$URL/api/v1/predict?soak=$1" -- "$3" \
            >>"$W/wrk-$1-$k.txt" 2>&1 || true
        echo "END $(now_ms)" >>"$W/wrk-$1-$k.txt"
        echo "$(now_ms) $(db_conns)" >>"$W/conns.txt"
    done
}

log "load for ${SECS}s (intervals of ${INTERVAL}s), an event every ${STEP}s"
load single 8 "$W/bodies/single.jsonl" &
LOADPIDS+=($!)
load batch 2 "$W/bodies/batch.jsonl" &
LOADPIDS+=($!)
schedule &
SCHEDPID=$!
for p in "${LOADPIDS[@]}"; do wait "$p" || true; done
LOADPIDS=()
wait "$SCHEDPID" || true
SCHEDPID=
END_STAT=$(procs_stat)
END_CONNS=$(db_conns)
sleep 1

# ---- the table ----
field() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" "$2"; }
echo
echo "## soak: ${SECS}s, single (8 conns) and batch-of-100 (2 conns) predictions, an event every ${STEP}s"
echo
echo "### load per interval"
echo
echo "| interval | start (UTC) | single req | single p99 ms | single non-200 | single sock err | batch req | batch p99 ms | batch non-200 | batch sock err |"
echo "|---|---|---|---|---|---|---|---|---|---|"
declare -A TOT
k=1
while [ -f "$W/wrk-single-$k.txt" ] || [ -f "$W/wrk-batch-$k.txt" ]; do
    line="| $k | $(date -d @$(($(sed -n 's/^START //p' "$W/wrk-single-$k.txt" 2>/dev/null || echo 0) / 1000)) +%H:%M:%S)"
    for n in single batch; do
        f=$W/wrk-$n-$k.txt
        if [ -f "$f" ] && grep -q RESULT "$f"; then
            r=$(field requests "$f"); p=$(field p99_ms "$f"); x=$(field non200 "$f"); s=$(field sockerr "$f")
            TOT[$n,req]=$((${TOT[$n,req]:-0} + r)); TOT[$n,non200]=$((${TOT[$n,non200]:-0} + x))
            TOT[$n,sock]=$((${TOT[$n,sock]:-0} + s))
            line="$line | $r | $p | $x | $s"
        else
            line="$line | (no result) | | | "
        fi
    done
    echo "$line |"
    k=$((k + 1))
done
echo "| total | | ${TOT[single,req]:-0} | | ${TOT[single,non200]:-0} | ${TOT[single,sock]:-0} | ${TOT[batch,req]:-0} | | ${TOT[batch,non200]:-0} | ${TOT[batch,sock]:-0} |"
grep -h 'Socket errors' "$W"/wrk-*.txt | sed 's/^ */wrk: /' | sort | uniq -c | sed 's/^/    /' || true

echo
echo "### events (fault windows)"
echo
echo "| # | kind | start | duration s | what happened |"
echo "|---|---|---|---|---|"
awk -F'\t' '{printf "| %d | %s | %s | %.1f | %s |\n", NR, $1, strftime_hms($2), ($3 - $2) / 1000, $4}
    function strftime_hms(ms,  s) { s = int(ms / 1000) % 86400; return sprintf("%02d:%02d:%02d", s / 3600, s % 3600 / 60, s % 60) }' "$EV"

# failures from nginx's access log: every non-200 prediction of the load,
# matched by its second against the windows of the kills (1 s before to 2 s
# after); a failure outside them (ingest, pipeline, promote, report, or the
# PostgreSQL restart, which serving must ride through) is a defect. 499 is the
# client closing: wrk stopping at the end of an interval.
echo
echo "### failures (nginx access log, load requests only), attributed to the fault schedule"
echo
echo "| status | count | attributed to |"
echo "|---|---|---|"
sed -n 's/^END //p' "$W"/wrk-*.txt >"$W/ends.txt"
awk -v evfile="$EV" -v endfile="$W/ends.txt" '
    function sod(ms) { return int(ms / 1000) % 86400 }
    BEGIN {
        while ((getline l < evfile) > 0) {
            split(l, a, "\t")
            if (a[1] !~ /^(kill-worker|kill-supervisor|pg-restart)$/) continue
            n++; kind[n] = a[1]; s[n] = sod(a[2]) - 1; e[n] = sod(a[3]) + 2; t0[n] = a[2]
        }
        while ((getline l < endfile) > 0) { ends[++m] = sod(l) }
    }
    $7 ~ /^\/api\/v1\/predict\?soak=(single|batch)$/ && $9 != 200 {
        split($4, t, ":"); sec = t[2] * 3600 + t[3] * 60 + t[4]
        why = ""
        if ($9 == 499) {
            for (i = 1; i <= m; i++) if (sec >= ends[i] - 1 && sec <= ends[i] + 1) { why = "client closed: wrk stopping at the end of an interval"; break }
        }
        if (why == "") for (i = 1; i <= n; i++) if (sec >= s[i] && sec <= e[i]) {
            if (kind[i] == "kill-worker") why = "in flight on the SIGKILLed worker"
            else if (kind[i] == "kill-supervisor") why = "supervisor SIGKILLed: serving down until the pool restarted"
            else why = "during the PostgreSQL restart: DEFECT (serving should not need the database)"
            why = why " [event " kind[i] "]"
            break
        }
        if (why == "") why = "no fault at " substr($4, 14) ": DEFECT"
        c[$9 "\t" why]++
    }
    END { for (k in c) { split(k, b, "\t"); printf "| %s | %d | %s |\n", b[1], c[k], b[2] } }
' "$W/var/nginx/access.log" | sort -t'|' -k4 >"$W/failures.txt"
if [ -s "$W/failures.txt" ]; then cat "$W/failures.txt"; else echo "| - | 0 | no non-200 load response |"; fi
DEFECTS=$(awk -F'|' '/DEFECT/ {s += $3} END {print s + 0}' "$W/failures.txt")
NGX_TOTAL=$(grep -cE '"POST /api/v1/predict\?soak=(single|batch) ' "$W/var/nginx/access.log" || true)
NGX_FAIL=$(awk '$7 ~ /^\/api\/v1\/predict\?soak=(single|batch)$/ && $9 != 200 {n++} END {print n + 0}' "$W/var/nginx/access.log")
echo
echo "nginx saw $NGX_TOTAL load requests, $NGX_FAIL not 200; wrk counted $((${TOT[single,req]:-0} + ${TOT[batch,req]:-0})) completed, $((${TOT[single,non200]:-0} + ${TOT[batch,non200]:-0})) non-200, $((${TOT[single,sock]:-0} + ${TOT[batch,sock]:-0})) socket errors"
SOCK_DEF=0
for f in "$W"/wrk-*.txt; do
    s=$(field sockerr "$f"); [ -n "$s" ] && [ "$s" -gt 0 ] || continue
    a=$(sed -n 's/^START //p' "$f"); b=$(sed -n 's/^END //p' "$f")
    hit=$(awk -F'\t' -v a="$a" -v b="$b" '$1 ~ /kill|pg-restart/ && $2 <= b && $3 >= a {print $1; exit}' "$EV")
    if [ -n "$hit" ]; then echo "wrk socket errors in $(basename "$f" .txt): $s, interval overlaps $hit"
    else echo "wrk socket errors in $(basename "$f" .txt): $s, no fault in the interval: DEFECT"; SOCK_DEF=$((SOCK_DEF + s)); fi
done

echo
echo "### workers (pid RSS open-fds) and database"
echo
echo "| | workers: pid rss kB fds | database connections (pg_stat_activity) |"
echo "|---|---|---|"
echo "| start | $(echo "$START_STAT" | tr '\n' ';' | sed 's/;$//;s/;/; /g') | $START_CONNS |"
echo "| end | $(echo "$END_STAT" | tr '\n' ';' | sed 's/;$//;s/;/; /g') | $END_CONNS |"
echo "| max during | | $(awk '$2 ~ /^[0-9]+$/ && $2 > m {m = $2} END {print m + 0}' "$W/conns.txt") (sampled after each interval) |"
echo "worker restarts counted by the current supervisor (metrics): $(curl -s "$URL/metrics" | awk '/^readmit_worker_restarts_total/ {print $2}')"

echo
echo "### rows accounted for"
echo
read -r nb covered acc rej < <(psql_db "SELECT count(*), coalesce(sum(last_line - first_line + 1), 0), coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0) FROM raw.batches" | tr '|' ' ')
raw=$(psql_db "SELECT count(*) FROM raw.encounters")
rraw=$(psql_db "SELECT count(*) FROM raw.rejects")
clean=$(psql_db "SELECT count(*) FROM clean.encounters")
crej=$(psql_db "SELECT count(*) FROM clean.rejects")
read -r cb cin cclean cfilt cdup crj < <(psql_db "SELECT count(*), coalesce(sum(rows_in), 0), coalesce(sum(rows_clean), 0), coalesce(sum(rows_filtered), 0), coalesce(sum(rows_duplicate), 0), coalesce(sum(rows_rejected), 0) FROM clean.batches" | tr '|' ' ')
echo "| source rows | raw batches | source rows they cover | raw accepted + rejected (ledger) | raw.encounters | raw.rejects | cleaned batches: rows in | clean + filtered + duplicate + rejected (ledger) | clean.encounters | clean.rejects |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| $SRC_ROWS | $nb | $covered | $acc + $rej | $raw | $rraw | $cb: $cin | $cclean + $cfilt + $cdup + $crj | $clean | $crej |"
LOST=0
[ "$raw" = "$acc" ] && [ "$rraw" = "$rej" ] || { echo "raw tables do not match the raw batch ledger: ROWS LOST OR DUPLICATED"; LOST=1; }
[ "$((acc + rej))" = "$covered" ] || { echo "raw batches do not account for every source row they cover: ROWS LOST"; LOST=1; }
[ "$clean" = "$cclean" ] || { echo "clean.encounters ($clean) != the clean ledger ($cclean): ROWS LOST OR DUPLICATED"; LOST=1; }
[ "$((cclean + cfilt + cdup + crj))" = "$cin" ] || { echo "clean ledger does not add up: ROWS LOST"; LOST=1; }
[ "$cb" = "$nb" ] || echo "$((nb - cb)) raw batches not cleaned yet (ingested after the last clean)"
[ "$LOST" = 1 ] || echo "rows accounted for: every source row of a loaded batch is in raw once; every cleaned row is clean, filtered, duplicate or rejected; $((SRC_ROWS - covered)) source rows not loaded yet"

echo
if [ "$DEFECTS" -gt 0 ] || [ "$SOCK_DEF" -gt 0 ] || [ "$LOST" -gt 0 ]; then
    echo "soak: FAILED: $DEFECTS non-200 and $SOCK_DEF socket errors outside any fault, rows lost: $LOST"
    exit 1
fi
echo "soak: every failure fell inside a fault window; no rows lost"
