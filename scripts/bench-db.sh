# bench-db.sh - sourced by the benchmarks that load data into a database of
# their own ($DB, dropped on exit with the scratch directory $TMP): pg DBNAME
# ARGS... runs psql on the private cluster (or the external server), quietly.
pg() { PGOPTIONS='-c client_min_messages=warning' READMIT_DBNAME=$1 scripts/pg.sh psql -X -v ON_ERROR_STOP=1 -qtA "${@:2}"; }
bench_db_cleanup() {
    pg postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap bench_db_cleanup EXIT
scripts/pg.sh start >/dev/null 2>&1
