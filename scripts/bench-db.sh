# bench-db.sh - sourced by the benchmarks that load data into a database of
# their own ($DB, dropped on exit with the scratch directory $TMP): pg DBNAME
# ARGS... runs psql on the private cluster (or the external server), quietly.
pg() { PGOPTIONS='-c client_min_messages=warning' READMIT_DBNAME=$1 scripts/pg.sh psql -X -v ON_ERROR_STOP=1 -qtA "${@:2}"; }
bench_db_cleanup() {
    local d
    for d in "$DB" "${DB}_other"; do # (bench-ingest: a second binary's database)
        pg postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$TMP"
}
trap bench_db_cleanup EXIT
scripts/pg.sh start >/dev/null 2>&1
# srv_cpu: CPU seconds of every process of the private cluster so far (the
# postmaster, its children, the children it reaped: backends, autovacuum,
# WAL writer...); prints nothing on an external server
srv_cpu() {
    [ -z "${DATABASE_URL:-}${PGHOST:-}" ] || return 0
    local dir pid t c
    dir=$(readlink -f "${READMIT_PGDIR:-$TOP/var/pg}")
    pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
    done
    awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
