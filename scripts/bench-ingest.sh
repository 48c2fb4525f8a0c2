#!/bin/bash
# bench-ingest.sh - ingest throughput on the real data against the practical
# limit, `psql \copy` of the same CSV into a plain 50-text-column table, in the
# same run and on the same server; then `readmit clean` of the result.
# Usage: scripts/bench-ingest.sh [ZIP_OR_CSV]
#   default: $READMIT_REAL_DATA, else ../shared/data/dataset_diabetes.zip
#   env: READMIT (binary, default $BUILD/readmit), BENCH_RUNS (default 3; best run is reported)
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SRC=${1:-${READMIT_REAL_DATA:-$TOP/../shared/data/dataset_diabetes.zip}}
READMIT=${READMIT:-$TOP/${BUILD:-build}/readmit}
RUNS=${BENCH_RUNS:-3}
CONF=${READMIT_CONFIG:-conf/readmit.yaml}

[ -r "$SRC" ] || { echo "bench-ingest: no data at $SRC (give a path, DATA=... or READMIT_REAL_DATA)" >&2; exit 1; }
[ -x "$READMIT" ] || { echo "bench-ingest: $READMIT not built (make build)" >&2; exit 1; }
SRC=$(cd "$(dirname "$SRC")" && pwd)/$(basename "$SRC")

DB="readmit_bench_ingest_$$"
TMP=$(mktemp -d /tmp/readmit-bench-ingest.XXXXXX)
chmod 755 "$TMP"
. scripts/bench-db.sh
pg postgres -c "CREATE DATABASE \"$DB\""
rdm() { "$READMIT" "$1" -c "$CONF" -o "db.name=$DB" "${@:2}"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# the CSV as a plain file, for psql (a zip is unpacked to a temp file)
CSV=$TMP/data.csv
if head -c 2 "$SRC" | grep -q PK; then
    if command -v unzip >/dev/null; then
        name=$(unzip -Z1 "$SRC" | grep -i 'diabetic_data\.csv$' | head -n 1)
        [ -n "$name" ] || name=$(unzip -Z1 "$SRC" | grep -i '\.csv$' | head -n 1)
        unzip -p "$SRC" "$name" >"$CSV"
    elif command -v bsdtar >/dev/null; then
        bsdtar -xOf "$SRC" '*diabetic_data.csv' >"$CSV"
    else
        python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [m for m in z.namelist() if m.endswith("diabetic_data.csv")][0]; sys.stdout.buffer.write(z.read(n))' "$SRC" >"$CSV"
    fi
else
    cp "$SRC" "$CSV"
fi
chmod 644 "$CSV"
ROWS=$(($(wc -l <"$CSV") - 1))
MB=$(awk -v b="$(wc -c <"$CSV")" 'BEGIN { printf "%.1f", b / 1e6 }')

# the schema and a plain table with the same 50 columns, all text
cols=$(head -n 1 "$CSV" | tr -d '\r\357\273\277' | sed 's/\([^,]*\)/"\1" text/g')
pg "$DB" -c "CREATE TABLE bench_plain ($cols)"

peak_rss() { # peak_rss OUTFILE CMD...: run CMD, write its peak RSS in kB to OUTFILE
    local out=$1; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$out" "$@"
    else
        "$@" &
        local pid=$! hwm=0 v
        while kill -0 $pid 2>/dev/null; do
            v=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status 2>/dev/null || echo 0)
            [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
            sleep 0.01
        done
        wait $pid
        echo "$hwm" >"$out"
    fi
}

best_ing=999999 best_copy=999999 rss=0
for i in $(seq 1 "$RUNS"); do
    # (the first ingest also applies the migrations; the best run is reported)
    pg "$DB" -c "DO \$\$ BEGIN IF to_regclass('raw.batches') IS NOT NULL THEN
        TRUNCATE raw.batches, raw.encounters, raw.rejects CASCADE; END IF; END \$\$" >/dev/null
    t0=$(now)
    peak_rss "$TMP/rss" "$READMIT" ingest -q -c "$CONF" -o "db.name=$DB" --source "$SRC" >"$TMP/ingest.out"
    t1=$(now)
    read -r r a j < <(sed -n 's/^read \([0-9]*\) accepted \([0-9]*\) rejected \([0-9]*\)$/\1 \2 \3/p' "$TMP/ingest.out")
    [ "$r" = "$ROWS" ] || { echo "bench-ingest: ingest read $r rows, the file has $ROWS" >&2; exit 1; }
    ti=$(calc "$t1 - $t0")
    best_ing=$(calc "($ti < $best_ing) ? $ti : $best_ing")
    m=$(cat "$TMP/rss"); [ "$m" -gt "$rss" ] && rss=$m

    pg "$DB" -c "TRUNCATE bench_plain" >/dev/null
    t0=$(now)
    pg "$DB" -c "\\copy bench_plain FROM '$CSV' WITH (FORMAT csv, HEADER true)"
    t1=$(now)
    tc=$(calc "$t1 - $t0")
    best_copy=$(calc "($tc < $best_copy) ? $tc : $best_copy")
    printf 'run %d: readmit ingest %.3f s, psql \\copy %.3f s\n' "$i" "$ti" "$tc"
done
copied=$(pg "$DB" -c "SELECT count(*) FROM bench_plain")
[ "$copied" = "$ROWS" ] || { echo "bench-ingest: psql copied $copied rows, expected $ROWS" >&2; exit 1; }

clean_s="n/a"
clean_note="readmit clean failed or is not available"
t0=$(now)
if rdm clean -q >"$TMP/clean.out" 2>"$TMP/clean.err"; then
    t1=$(now)
    clean_s=$(printf '%.3f' "$(calc "$t1 - $t0")")
    clean_note="rows into clean.encounters: $(pg "$DB" -c 'SELECT count(*) FROM clean.encounters' 2>/dev/null || echo '?')"
fi

rate() { calc "$ROWS / $1"; }
ri=$(rate "$best_ing"); rc=$(rate "$best_copy")
echo
echo "bench-ingest: $SRC"
echo "  $ROWS rows, $MB MB of CSV, best of $RUNS runs, $(nproc) cores"
printf '  %-28s %9s %12s %10s\n' "step" "seconds" "rows/s" "peak RSS"
printf '  %-28s %9.3f %12.0f %8.1f MB\n' "readmit ingest (all checks)" "$best_ing" "$ri" "$(calc "$rss / 1024")"
printf '  %-28s %9.3f %12.0f %10s\n' "psql \\copy (plain table)" "$best_copy" "$rc" "-"
printf '  %-28s %9s %12s %10s\n' "readmit clean" "$clean_s" "" ""
printf '  ingest / psql \\copy throughput: %.2f (target >= 0.9)\n' "$(calc "$ri / $rc")"
echo "  clean: $clean_note"
