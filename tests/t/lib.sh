# lib.sh - shared setup for shell tests (sourced by tests/t/tNNNN-*.sh).
# Each test runs with its own database, its own directory ($T_TMP) for var/,
# models and reports, and never touches the user's database, var/, reports/
# or config. A test ends with t_done; exit status 0 passed, 77 skipped (every
# check skipped: t_skip_all), anything else failed.
set -eu
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
READMIT=${READMIT:-$TOP/build/readmit}
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/readmit-$T_NAME.XXXXXX")
chmod 755 "$T_TMP"
T_PASS=0
T_FAIL=0
T_SKIP=0
# the model file cache and the reports of every command the test runs
export READMIT_MODEL_CACHE=$T_TMP/var/models
T_REPORTS=$T_TMP/reports
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

# Run readmit with the test's config (conf/test.yaml unless T_CONF is set),
# database and report directory.
rdm() {
    "$READMIT" "$1" -c "${T_CONF:-$TOP/conf/test.yaml}" -o "db.name=${T_DB:-readmit}" \
        -o "report.dir=$T_REPORTS" "${@:2}"
}

# SQL against the test database; prints unaligned tuples.
t_sql() {
    "$TOP/scripts/pg.sh" psql -d "${T_DB:-readmit}" -tAqc "$1"
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
# skip "what" "why": a check that could not run here (counted as skipped, never as passed)
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $1${2:+ (skipped: $2)}"; }
# t_skip_all "why": the whole test cannot run here; exits 77 (skipped)
t_skip_all() {
    echo "skip - $T_NAME (skipped: $*)"
    echo "$T_NAME: 0 passed, 1 skipped, 0 failed"
    exit 77
}
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
# check "description" command...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_eq "description" expected actual
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }

# t_port SALT [N]: the first of N consecutive loopback TCP ports, none of them
# listened on now, from 20000 + (pid + SALT) % 20000 on (tests run side by side)
t_port() {
    local p=$((20000 + ($$ + $1) % 20000)) n=${2:-1} i
    while :; do
        for ((i = 0; i < n; i++)); do
            ! ss -Htln "sport = :$((p + i))" 2>/dev/null | grep -q . || break
        done
        [ "$i" -lt "$n" ] || { echo "$p"; return; }
        p=$((p + i + 1))
        [ "$p" -le 65000 ] || p=20000
    done
}

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

# Summary line; exit status 0 when something passed and nothing failed, 77
# when every check was skipped, 1 otherwise.
t_done() {
    echo "$T_NAME: $T_PASS passed, $T_SKIP skipped, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ] || return 1
    [ "$T_PASS" -gt 0 ] && return 0
    [ "$T_SKIP" -gt 0 ] && exit 77
    return 1
}
