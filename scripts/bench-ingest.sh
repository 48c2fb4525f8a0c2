#!/bin/bash
# bench-ingest.sh - ingest throughput on the real data against the practical
# limit, `psql \copy` of the same CSV into a plain 50-text-column table, in the
# same run and on the same server; and `readmit clean` of each ingest's
# batches right after it (its time grows with what it reads: the figure the
# clean stage is judged by). Each round ingests, cleans and copies once;
# wall time, readmit's CPU time and the server's CPU time are printed per
# round, then medians and bests, and the ratio of ingest to \copy throughput
# per round (same round, same load) with its median.
# Usage: scripts/bench-ingest.sh [ZIP_OR_CSV]
#   default: $READMIT_REAL_DATA, else ../shared/data/dataset_diabetes.zip
#   env: READMIT (binary, default $BUILD/readmit), BENCH_RUNS (rounds, default 5),
#        BENCH_OTHER (a second readmit binary, e.g. the previous build: it
#        ingests and cleans in every round too, alternating with READMIT, in
#        a database of its own: each binary migrates its database to its
#        own schema)
#   The server's CPU time is that of every process of the private cluster
#   during the step (n/a on an external server).
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SRC=${1:-${READMIT_REAL_DATA:-$TOP/../shared/data/dataset_diabetes.zip}}
READMIT=${READMIT:-$TOP/${BUILD:-build}/readmit}
RUNS=${BENCH_RUNS:-5}
OTHER=${BENCH_OTHER:-}
CONF=${READMIT_CONFIG:-conf/readmit.yaml}

[ -r "$SRC" ] || { echo "bench-ingest: no data at $SRC (give a path, DATA=... or READMIT_REAL_DATA)" >&2; exit 1; }
[ -x "$READMIT" ] || { echo "bench-ingest: $READMIT not built (make build)" >&2; exit 1; }
[ -z "$OTHER" ] || [ -x "$OTHER" ] || { echo "bench-ingest: BENCH_OTHER=$OTHER is not an executable" >&2; exit 1; }
SRC=$(cd "$(dirname "$SRC")" && pwd)/$(basename "$SRC")

DB="readmit_bench_ingest_$$"
TMP=$(mktemp -d /tmp/readmit-bench-ingest.XXXXXX)
chmod 755 "$TMP"
. scripts/bench-db.sh
pg postgres -c "CREATE DATABASE \"$DB\""
[ -z "$OTHER" ] || pg postgres -c "CREATE DATABASE \"${DB}_other\""
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

# step NAME CMD...: run CMD, append "NAME wall readmit_cpu server_cpu rss_kb" to $TMP/steps
step() {
    local name=$1; shift
    local s0 s1 t0 t1
    s0=$(srv_cpu)
    t0=$(now)
    /usr/bin/time -f "%U %S %M" -o "$TMP/time" "$@"
    t1=$(now)
    sleep 0.2 # the backends' exit, counted with the server
    s1=$(srv_cpu)
    local u sy m
    read -r u sy m <"$TMP/time"
    printf '%s %.3f %.3f %s %s\n' "$name" "$(calc "$t1 - $t0")" "$(calc "$u + $sy")" \
        "$([ -n "$s0" ] && printf '%.3f' "$(calc "$s1 - $s0")" || echo n/a)" "$m" >>"$TMP/steps"
}
[ -x /usr/bin/time ] || { echo "bench-ingest: /usr/bin/time is needed" >&2; exit 1; }

reset_db() { # reset_db DBNAME: no batch loaded or cleaned (raw rows in raw.records from 012 on)
    pg "$1" -c "DO \$\$ BEGIN IF to_regclass('raw.batches') IS NOT NULL THEN
        TRUNCATE raw.batches, raw.rejects, clean.encounters, clean.rejects,
                 clean.batches, clean.validation, clean.profiles, clean.snapshots CASCADE;
        IF to_regclass('raw.records') IS NOT NULL THEN TRUNCATE raw.records;
        ELSE TRUNCATE raw.encounters; END IF;
        END IF; END \$\$" >/dev/null
}

# ingest_clean LABEL BIN DBNAME: ingest the file, then clean it, with BIN
ingest_clean() {
    local label=$1 bin=$2 DB=$3
    reset_db "$DB"
    step "ingest:$label" "$bin" ingest -q -c "$CONF" -o "db.name=$DB" --source "$SRC" >"$TMP/ingest.out"
    read -r r a j < <(sed -n 's/^read \([0-9]*\) accepted \([0-9]*\) rejected \([0-9]*\)$/\1 \2 \3/p' "$TMP/ingest.out")
    [ "$r" = "$ROWS" ] || { echo "bench-ingest: $label ingest read $r rows, the file has $ROWS" >&2; exit 1; }
    step "clean:$label" "$bin" clean -q -c "$CONF" -o "db.name=$DB" >"$TMP/clean.out"
    local n
    n=$(pg "$DB" -c 'SELECT count(*) FROM clean.encounters')
    [ "$n" -gt 0 ] || { echo "bench-ingest: $label clean wrote no rows" >&2; exit 1; }
    echo "$n" >"$TMP/clean.rows.$label"
}

: >"$TMP/steps"
labels="new"
[ -z "$OTHER" ] || labels="other new"
echo "bench-ingest: $ROWS rows, $RUNS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
    # (the first ingest also applies the migrations)
    for label in $labels; do
        if [ "$label" = other ]; then ingest_clean other "$OTHER" "${DB}_other"; else ingest_clean new "$READMIT" "$DB"; fi
    done
    pg "$DB" -c "TRUNCATE bench_plain" >/dev/null
    step copy env PGOPTIONS='-c client_min_messages=warning' READMIT_DBNAME="$DB" scripts/pg.sh psql -X \
        -v ON_ERROR_STOP=1 -qtA -c "\\copy bench_plain FROM '$CSV' WITH (FORMAT csv, HEADER true)"
    copied=$(pg "$DB" -c "SELECT count(*) FROM bench_plain")
    [ "$copied" = "$ROWS" ] || { echo "bench-ingest: psql copied $copied rows, expected $ROWS" >&2; exit 1; }
    # this round's lines
    tail -n "$(( $(wc -w <<<"$labels") * 2 + 1 ))" "$TMP/steps" | while read -r name w c s m; do
        printf '  round %d  %-13s wall %7.3f s  readmit CPU %6s s  server CPU %6s s\n' "$i" "$name" "$w" \
            "$([ "$name" = copy ] && echo "($c psql)" || echo "$c")" "$s"
    done
    echo "    load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
if [ -n "$OTHER" ] && ! cmp -s "$TMP/clean.rows.other" "$TMP/clean.rows.new"; then
    echo "bench-ingest: the two binaries' clean rows differ ($(cat "$TMP/clean.rows.other") vs $(cat "$TMP/clean.rows.new"))" >&2
fi

# medians and bests from $TMP/steps; the per-round ratio ingest / \copy throughput
stat() { # stat NAME FIELD: "median best" of FIELD (2 wall, 3 readmit CPU, 4 server CPU)
    awk -v n="$1" -v f="$2" '$1 == n && $f != "n/a" { print $f }' "$TMP/steps" | sort -g |
        awk '{ v[NR] = $1 } END { if (!NR) { print "n/a n/a"; exit }
             m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", m, v[1] }'
}
ratios() { # per round: copy wall / ingest wall of LABEL (= ingest throughput / \copy's)
    awk -v l="ingest:$1" '$1 == l { w[++a] = $2 } $1 == "copy" { c[++b] = $2 }
        END { for (i = 1; i <= a && i <= b; i++) printf "%.3f\n", c[i] / w[i] }' "$TMP/steps" | sort -g
}
median() { awk '{ v[NR] = $1 } END { if (!NR) { print "n/a"; exit }
    printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "bench-ingest: $SRC"
echo "  $ROWS rows, $MB MB of CSV, $RUNS rounds, $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-30s %17s %17s %17s %10s\n' "step" "wall s med/best" "readmit CPU s" "server CPU s" "peak RSS"
row() { # row TITLE NAME
    local w c s
    w=$(stat "$2" 2); c=$(stat "$2" 3); s=$(stat "$2" 4)
    local rss
    rss=$(awk -v n="$2" '$1 == n && $5 > m { m = $5 } END { printf "%.1f MB", m / 1024 }' "$TMP/steps")
    [ "$2" = copy ] && { c="- -"; rss="-"; }
    printf '  %-30s %8s %8s %8s %8s %8s %8s %10s\n' "$1" $w $c $s "$rss"
}
for label in $labels; do
    name=$([ "$label" = new ] && echo "$(basename "$READMIT")" || echo "BENCH_OTHER")
    row "ingest ($name)" "ingest:$label"
    row "clean ($name)" "clean:$label"
done
row "psql \\copy (plain table)" copy
for label in $labels; do
    r=$(ratios "$label")
    printf '  ingest (%s) / psql \\copy throughput, same round: median %s, best %s, worst %s (target >= 0.9)\n' \
        "$([ "$label" = new ] && basename "$READMIT" || echo BENCH_OTHER)" "$(median <<<"$r")" \
        "$(tail -n 1 <<<"$r")" "$(head -n 1 <<<"$r")"
done
echo "  clean: $(cat "$TMP/clean.rows.new") rows into clean.encounters (target: clean <= 0.5 s)"
