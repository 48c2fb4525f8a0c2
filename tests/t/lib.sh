# lib.sh - shared setup for shell tests (sourced by tests/t/tNNNN-*.sh).
# Each test runs from the project root with an isolated database and var/ dir.
set -eu
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
READMIT=${READMIT:-$TOP/build/readmit}
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/readmit-$T_NAME.XXXXXX")
chmod 755 "$T_TMP"
T_PASS=0
T_FAIL=0
T_KEEP=${T_KEEP:-}

t_cleanup() {
    local rc=$?
    if [ -n "${T_DB:-}" ] && [ -z "$T_KEEP" ]; then
        "$TOP/scripts/pg.sh" psql -d postgres -qc "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    [ -n "$T_KEEP" ] || rm -rf "$T_TMP"
    return $rc
}
trap t_cleanup EXIT

# Use a fresh database of its own on the private server (or on PGHOST/DATABASE_URL's server).
t_fresh_db() {
    T_DB="readmit_test_${T_NAME//[^a-zA-Z0-9]/_}_$$"
    "$TOP/scripts/pg.sh" start >/dev/null 2>&1
    "$TOP/scripts/pg.sh" psql -d postgres -qc "CREATE DATABASE \"$T_DB\"" >/dev/null
    export READMIT_DBNAME=$T_DB
}

# Run readmit with the test's config (conf/test.yaml unless T_CONF is set) and database.
rdm() {
    "$READMIT" "$1" -c "${T_CONF:-$TOP/conf/test.yaml}" -o "db.name=${T_DB:-readmit}" "${@:2}"
}

# SQL against the test database; prints unaligned tuples.
t_sql() {
    "$TOP/scripts/pg.sh" psql -d "${T_DB:-readmit}" -tAqc "$1"
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
# check "description" command...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_eq "description" expected actual
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }

wait_for() { # seconds command...: retry until the command succeeds
    local n=$(($1 * 10))
    shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

t_done() {
    echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
}
