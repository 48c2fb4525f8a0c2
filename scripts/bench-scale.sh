#!/bin/bash
# bench-scale.sh - how cost grows with the work: synthetic files of SIZES
# encounters (readmit synth), each through ingest, clean, train (boosted trees
# at a fixed number of trees and leaves, no early stopping, logistic
# regression off) and batch scoring (readmit predict), with wall time and peak
# RSS of each, beside psql \copy of the same file (ingest) and XGBoost hist /
# scikit-learn HistGradientBoosting fitted on readmit's own encoded matrix of
# the same rows (training), in one run. Prints a table (seconds, MB, seconds
# per million rows), the growth of each stage (slope of log time against log
# rows) and its memory as a multiple of the CSV size, and writes a log-log
# plot as SVG.
#
# Usage: scripts/bench-scale.sh
#   env: SIZES (default "100000 1000000 10000000"), TREES (50), LEAVES (31),
#        PEERS (1; 0 skips XGBoost and HistGradientBoosting), OUT (directory
#        of the SVG and the TSV, default var/bench-scale), READMIT, BUILD.
#   A peer whose encoded matrix would not fit in PEER_MAX_MB (default: half of
#   MemAvailable), or a size over PEER_MAX_ROWS (default: no limit; for a
#   machine where the peers would take too long), is skipped for that size,
#   and the table says so. Results go to $OUT/bench-scale.tsv as they come. The peers
#   run with OMP_WAIT_POLICY=passive: on a shared machine OpenMP's spinning
#   threads were 7x slower (15 s against 2.2 s for one fit).
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
READMIT=${READMIT:-$TOP/$BUILD/readmit}
MATRIX=${MATRIX:-$TOP/$BUILD/scale-matrix}
SIZES=${SIZES:-"100000 1000000 10000000"}
TREES=${TREES:-50}
LEAVES=${LEAVES:-31}
PEERS=${PEERS:-1}
OUT=${OUT:-$TOP/var/bench-scale}
CONF=${READMIT_CONFIG:-conf/readmit.yaml}
[ -x "$READMIT" ] || { echo "bench-scale: $READMIT not built (make build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-scale: /usr/bin/time is needed for peak RSS" >&2; exit 1; }
[ "$PEERS" = 0 ] || [ -x "$MATRIX" ] || { echo "bench-scale: $MATRIX not built (make $BUILD/scale-matrix)" >&2; exit 1; }
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/readmit-bench-scale.XXXXXX)
chmod 755 "$TMP"
DB="readmit_bench_scale_$$"
. scripts/bench-db.sh
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
avail_mb=$(awk '/MemAvailable/ { printf "%d", $2 / 1024 }' /proc/meminfo)
PEER_MAX_MB=${PEER_MAX_MB:-$((avail_mb / 2))}
PEER_MAX_ROWS=${PEER_MAX_ROWS:-}
RES=$OUT/bench-scale.tsv # size stage seconds rss_kb csv_bytes note cpu_s server_cpu_s load
: >"$RES"

# timed NAME SIZE CMD...: run CMD under /usr/bin/time, record wall, peak RSS,
# CPU time (user + system) and the server's CPU time over the same interval
timed() {
    local name=$1 n=$2; shift 2
    local t0 t1 st=0 s0 s1
    s0=$(srv_cpu)
    t0=$(date +%s.%N)
    /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || st=$?
    t1=$(date +%s.%N)
    sleep 0.2 # the backends' exit, counted with the server
    s1=$(srv_cpu)
    local rss cpu srv load
    read -r _ rss u sy < <(tail -n 1 "$TMP/time")
    cpu=$(awk -v u="${u:-0}" -v s="${sy:-0}" 'BEGIN { printf "%.2f", u + s }')
    srv=$([ -n "$s0" ] && awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }' || echo -)
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$st" -ne 0 ]; then
        echo "bench-scale: $name at $n rows failed (exit $st): $(tail -n 3 "$TMP/$name.err" | tr '\n' ' ')" >&2
        printf '%s\t%s\t-\t-\t%s\tfailed (exit %s)\t-\t-\t%s\n' "$n" "$name" "$bytes" "$st" "$load" >>"$RES"
        return 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t\t%s\t%s\t%s\n' "$n" "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
        "${rss:-0}" "$bytes" "$cpu" "$srv" "$load" >>"$RES"
    echo "   $name: wall $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, CPU $cpu s, server CPU $srv s, peak $(( ${rss:-0} / 1024 )) MB, load $load"
}
skipped() { printf '%s\t%s\t-\t-\t%s\tskipped: %s\t-\t-\t-\n' "$1" "$2" "$bytes" "$3" >>"$RES"; }

# the peers' fit on the encoded matrix: prints "load S fit S auc A" (auc on validation)
cat >"$TMP/peer.py" <<'EOF'
import os, sys, time
import numpy as np
which, path, trees, leaves, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t0 = time.perf_counter()
n, d = np.fromfile(path, dtype=np.int32, count=2)
ncat = np.fromfile(path, dtype=np.int32, count=d, offset=8)
m = np.fromfile(path, dtype=np.float32, offset=8 + 4 * int(d)).reshape(int(n), int(d) + 2)
tr, va = m[:, 0] == 0, m[:, 0] == 1
Xtr, ytr, Xva, yva = m[tr, 2:], m[tr, 1], m[va, 2:], m[va, 1]
del m
iscat = ncat > 0
load = time.perf_counter() - t0
t0 = time.perf_counter()
if which == "xgb":
    import xgboost as xgb
    ft = ["c" if c else "q" for c in iscat]
    dtr = xgb.DMatrix(Xtr, label=ytr, feature_types=ft, enable_categorical=True, nthread=threads)
    params = {"objective": "binary:logistic", "tree_method": "hist", "grow_policy": "lossguide",
              "max_leaves": leaves, "max_depth": 0, "eta": 0.1, "max_bin": 256, "nthread": threads,
              "seed": 0, "max_cat_to_onehot": 1}
    bst = xgb.train(params, dtr, num_boost_round=trees)
    fit = time.perf_counter() - t0
    p = bst.predict(xgb.DMatrix(Xva, feature_types=ft, enable_categorical=True, nthread=threads))
else:
    from sklearn.ensemble import HistGradientBoostingClassifier
    hgb = HistGradientBoostingClassifier(learning_rate=0.1, max_iter=trees, max_leaf_nodes=leaves,
                                         categorical_features=iscat, early_stopping=False,
                                         random_state=0)
    hgb.fit(Xtr, ytr)
    fit = time.perf_counter() - t0
    p = hgb.predict_proba(Xva)[:, 1]
from sklearn.metrics import roc_auc_score
print("load %.3f fit %.3f auc %.4f" % (load, fit, roc_auc_score(yva, p)))
EOF
peers_ok=1
if [ "$PEERS" != 0 ] && ! "$PY" -c 'import numpy, sklearn, xgboost' 2>/dev/null; then
    peers_ok=0
    peers_why="python3-sklearn / python3-xgboost not installed"
fi

echo "bench-scale: sizes $SIZES; trees $TREES x $LEAVES leaves; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); MemAvailable $avail_mb MB"
echo "   (wall time on a shared machine grows with its load: CPU time is readmit's (user + system),"
echo "    server CPU that of every process of the private cluster during the stage)"
for n in $SIZES; do
    csv=$TMP/synth.csv
    bytes=0
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$TMP/synth.time" "$READMIT" synth --rows "$n" --seed 7 --out "$csv"
    bytes=$(stat -c %s "$csv")
    echo "== $n rows: $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of CSV (synth $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s, CPU $(awk '{ printf "%.1f", $1 + $2 }' "$TMP/synth.time") s)"
    pg postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    pg postgres -c "CREATE DATABASE \"$DB\""
    "$READMIT" db migrate -c "$CONF" -o "db.name=$DB" -q >/dev/null

    # psql \copy: the same file into a plain table of 50 text columns
    cols=$(head -n 1 "$csv" | tr -d '\r\357\273\277' | sed 's/\([^,]*\)/"\1" text/g')
    pg "$DB" -c "CREATE TABLE bench_plain ($cols)"
    pg "$DB" -c "CHECKPOINT"
    timed "psql_copy" "$n" env PGOPTIONS='-c client_min_messages=warning' READMIT_DBNAME="$DB" \
        scripts/pg.sh psql -X -v ON_ERROR_STOP=1 -qtA -c "\\copy bench_plain FROM '$csv' WITH (FORMAT csv, HEADER true)" || true
    pg "$DB" -c "DROP TABLE bench_plain; CHECKPOINT"
    echo "   psql \\copy done"

    # (data.max_source_bytes, 1 GiB by default, would refuse the 10M file)
    if ! timed ingest "$n" "$READMIT" ingest -c "$CONF" -o "db.name=$DB" -o "data.max_source_bytes=$((bytes + 1))" \
        -q --source "$csv"; then
        for s in clean train predict; do skipped "$n" $s "not run: ingest failed"; done
        continue
    fi
    echo "   ingest: $(head -n 1 "$TMP/ingest.out")"
    if ! timed clean "$n" "$READMIT" clean -c "$CONF" -o "db.name=$DB" -q; then
        for s in train predict; do skipped "$n" $s "not run: clean failed"; done
        continue
    fi
    echo "   clean: $(head -n 1 "$TMP/clean.out" | cut -c1-100)"
    train_o=(-o train.logreg.enabled=false -o "train.gbt.learning_rate=0.1" -o "train.gbt.max_leaves=$LEAVES"
             -o "train.gbt.max_iter=$TREES" -o train.gbt.early_stopping=0 -o train.bootstrap=0)
    if timed train "$n" "$READMIT" train -c "$CONF" -o "db.name=$DB" -o "registry.cache_dir=$TMP/models" -q "${train_o[@]}"; then
        echo "   train done"
        model=$TMP/model.bin
        pg "$DB" -c "SELECT encode(a.bytes, 'base64') FROM registry.runs r JOIN registry.run_artifacts ra USING (run_id)
                     JOIN registry.artifacts a USING (sha256) WHERE r.selected" | base64 -d >"$model"
        timed predict "$n" "$READMIT" predict -c "$CONF" -q --model "$model" --input "$csv" --output /dev/null || true
        echo "   predict done"
    fi

    if [ "$PEERS" = 0 ]; then
        skipped "$n" xgboost "PEERS=0"; skipped "$n" sklearn_hgb "PEERS=0"
    elif [ "$peers_ok" = 0 ]; then
        skipped "$n" xgboost "$peers_why"; skipped "$n" sklearn_hgb "$peers_why"
    else
        # the peers' matrix, its train rows copied once more, and the boosters' own copies
        need_mb=$(awk -v n="$n" 'BEGIN { printf "%d", n * 48 * 4 * 3 / 1e6 }')
        if [ -n "$PEER_MAX_ROWS" ] && [ "$n" -gt "$PEER_MAX_ROWS" ]; then
            why="over PEER_MAX_ROWS=$PEER_MAX_ROWS (time: the fits grow with the rows, see the smaller sizes)"
            skipped "$n" xgboost "$why"; skipped "$n" sklearn_hgb "$why"
        elif [ "$need_mb" -gt "$PEER_MAX_MB" ]; then
            why="needs about $need_mb MB, over PEER_MAX_MB=$PEER_MAX_MB"
            skipped "$n" xgboost "$why"; skipped "$n" sklearn_hgb "$why"
        elif "$MATRIX" "$csv" "$TMP/matrix.bin" 2>"$TMP/matrix.err"; then
            rm -f "$csv" # room for the boosters
            for p in xgb hgb; do
                name=$([ $p = xgb ] && echo xgboost || echo sklearn_hgb)
                if timed "$name" "$n" env OMP_NUM_THREADS="$(nproc)" OMP_WAIT_POLICY=passive "$PY" "$TMP/peer.py" "$p" "$TMP/matrix.bin" "$TREES" "$LEAVES" "$(nproc)"; then
                    # the fit alone too (without reading the matrix)
                    read -r _ load _ fit _ auc < "$TMP/$name.out"
                    awk -v x="fit $fit s, matrix load $load s, val AUC $auc" -F'\t' -v OFS='\t' \
                        'NR == c { $6 = x } { print }' c="$(wc -l <"$RES")" "$RES" >"$TMP/res" && cat "$TMP/res" >"$RES"
                    echo "   $name: fit $fit s, val AUC $auc"
                fi
            done
            rm -f "$TMP/matrix.bin"
        else
            why="scale-matrix failed: $(head -n 1 "$TMP/matrix.err")"
            skipped "$n" xgboost "$why"; skipped "$n" sklearn_hgb "$why"
        fi
    fi
    rm -f "$csv"
    pg postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
done

# table, growth, memory and the SVG
"$PY" - "$RES" "$OUT/bench-scale.svg" "$TREES" "$LEAVES" <<'EOF'
import math, sys
res, svg_path, trees, leaves = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
order = ["ingest", "psql_copy", "clean", "train", "xgboost", "sklearn_hgb", "predict"]
label = {"ingest": "readmit ingest", "psql_copy": "psql \\copy", "clean": "readmit clean",
         "train": "readmit train (%s x %s)" % (trees, leaves), "xgboost": "XGBoost hist",
         "sklearn_hgb": "sklearn HistGB", "predict": "readmit predict"}
rows = {}
sizes = []
csvb = {}
for line in open(res):
    n, stage, sec, rss, b, note, cpu, srv, load = (line.rstrip("\n").split("\t") + [""] * 9)[:9]
    n = int(n)
    if n not in sizes:
        sizes.append(n)
    csvb[n] = int(b or 0)
    rows[(stage, n)] = (None if sec == "-" else float(sec), None if rss == "-" else int(rss), note,
                        cpu if cpu not in ("", "-") else "-", srv if srv not in ("", "-") else "-",
                        load or "-")
sizes.sort()
print()
print("%-26s %11s %9s %8s %10s %6s %9s %8s %9s   %s" % ("stage", "rows", "seconds", "CPU s",
                                                      "server CPU", "load", "peak MB", "s/M rows",
                                                      "RSS/CSV", "note"))
for st in order:
    for n in sizes:
        if (st, n) not in rows:
            continue
        sec, rss, note, cpu, srv, load = rows[(st, n)]
        mb = csvb[n] / 1e6
        if sec is None:
            print("%-26s %11d %9s %8s %10s %6s %9s %8s %9s   %s" % (label[st], n, "-", "-", "-", load,
                                                                "-", "-", "-", note))
            continue
        ratio = "%.2fx" % (rss / 1024 / mb) if mb > 0 and st != "psql_copy" else "-"
        print("%-26s %11d %9.2f %8s %10s %6s %9.0f %8.2f %9s   %s" % (
            label[st], n, sec, cpu, srv, load, rss / 1024, sec / (n / 1e6), ratio,
            note if st != "psql_copy" else "(RSS and CPU are psql's; the server's CPU beside)"))
print()
print("growth: slope of log(seconds) against log(rows) (1.0 = linear), over the sizes measured")
slopes = {}
for st in order:
    pts = [(math.log(n), math.log(rows[(st, n)][0])) for n in sizes
           if (st, n) in rows and rows[(st, n)][0] and rows[(st, n)][0] > 0]
    if len(pts) < 2:
        continue
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    slopes[st] = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    mem = [rows[(st, n)][1] / 1024 / (csvb[n] / 1e6) for n in sizes
           if (st, n) in rows and rows[(st, n)][1] and csvb[n]]
    memtxt = ("peak RSS %.2f-%.2fx the CSV size" % (min(mem), max(mem))) if mem and st != "psql_copy" else ""
    cpts = [(math.log(n), math.log(float(rows[(st, n)][3]) + (float(rows[(st, n)][4]) if rows[(st, n)][4] != "-" else 0)))
            for n in sizes if (st, n) in rows and rows[(st, n)][3] not in ("-", "")
            and float(rows[(st, n)][3]) + (float(rows[(st, n)][4]) if rows[(st, n)][4] != "-" else 0) > 0]
    ctxt = ""
    if len(cpts) >= 2:
        cx = sum(p[0] for p in cpts) / len(cpts)
        cy = sum(p[1] for p in cpts) / len(cpts)
        ctxt = "  CPU (with the server's) slope %.2f" % (
            sum((p[0] - cx) * (p[1] - cy) for p in cpts) / sum((p[0] - cx) ** 2 for p in cpts))
    print("  %-26s slope %.2f over %d sizes%s  %s" % (label[st], slopes[st], len(pts), ctxt, memtxt))

# log-log plot
W, H, L, R, T, B = 760, 480, 70, 210, 30, 50
pts_all = [(n, rows[k][0]) for k in rows for n in [k[1]] if rows[k][0]]
if not pts_all:
    sys.exit(0)
x0, x1 = math.log10(min(sizes)) - 0.1, math.log10(max(sizes)) + 0.1
ys = [math.log10(max(p[1], 1e-3)) for p in pts_all]
y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
if y1 == y0:
    y1 = y0 + 1
X = lambda n: L + (math.log10(n) - x0) / (x1 - x0) * (W - L - R)
Y = lambda s: H - B - (math.log10(max(s, 1e-3)) - y0) / (y1 - y0) * (H - T - B)
colors = ["#1f77b4", "#7f7f7f", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b"]
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="%d" y="18" font-size="14">readmit: seconds against rows (log-log)</text>' % L]
for e in range(int(y0), int(y1) + 1):
    y = Y(10 ** e)
    out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, y, W - R, y))
    out.append('<text x="%d" y="%.1f" text-anchor="end">%g s</text>' % (L - 6, y + 4, 10 ** e))
for n in sizes:
    x = X(n)
    out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, T, x, H - B))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, H - B + 18, "{:,}".format(n)))
out.append('<text x="%d" y="%d" text-anchor="middle">rows (encounters)</text>' % ((L + W - R) / 2, H - 12))
k = 0
for i, st in enumerate(order):
    pts = [(X(n), Y(rows[(st, n)][0])) for n in sizes if (st, n) in rows and rows[(st, n)][0]]
    if not pts:
        continue
    c = colors[i % len(colors)]
    dash = ' stroke-dasharray="5,4"' if st in ("psql_copy", "xgboost", "sklearn_hgb") else ""
    out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' %
               (c, dash, " ".join("%.1f,%.1f" % p for p in pts)))
    for p in pts:
        out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (p[0], p[1], c))
    ly = T + 10 + 20 * k
    k += 1
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (W - R + 12, ly, W - R + 36, ly, c, dash))
    sl = (" (slope %.2f)" % slopes[st]) if st in slopes else ""
    out.append('<text x="%d" y="%d">%s%s</text>' % (W - R + 42, ly + 4, label[st].replace("\\", ""), sl))
out.append("</svg>")
open(svg_path, "w").write("\n".join(out) + "\n")
print()
print("plot: " + svg_path)
EOF
echo "table: $RES"
