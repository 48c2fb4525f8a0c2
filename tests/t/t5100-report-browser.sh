#!/bin/bash
# The report site in headless Chromium from file://: no console errors,
# screenshots taken, SVG curves drawn with non-empty paths.
. "$(dirname "$0")/lib.sh"

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    t_skip_all "chromium is not installed (apt-get install chromium)"
fi
# every command the test drives must exist: a failing --help fails the test
for c in synth ingest clean train register report; do
    check "readmit $c --help" bash -c '"$1" "$2" --help >/dev/null' - "$READMIT" "$c"
done
if [ "$T_FAIL" -ne 0 ]; then
    t_done || exit 1
fi

t_fresh_db
D=$T_TMP/site
rdm synth --rows 2000 --seed 3 --dirty --out "$T_TMP/s.csv" >/dev/null
rdm ingest -q --source "$T_TMP/s.csv" >/dev/null
rdm clean -q >/dev/null
rdm train -q >/dev/null 2>&1
rdm register -q >/dev/null 2>&1
check "report" rdm report -q --out "$D"
sel=$(t_sql "SELECT run_id FROM registry.runs WHERE selected ORDER BY run_id DESC LIMIT 1")
SHOTS=${T_SHOTS:-$T_TMP/shots}
mkdir -p "$SHOTS"

browse() { # page screenshot log
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --no-first-run --user-data-dir="$T_TMP/profile" --enable-logging=stderr --v=0 \
        --window-size=1280,2000 --screenshot="$2" "file://$1" >"$3" 2>&1 || true
}
dump() { # page -> DOM after scripts ran
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --no-first-run --user-data-dir="$T_TMP/profile" --dump-dom "file://$1" 2>/dev/null || true
}

tr=$(t_sql "SELECT training_id FROM registry.runs WHERE run_id = $sel")
for p in index.html "runs/$sel.html" compare.html "compare/$tr.html" data.html; do
    name=$(echo "$p" | tr / _)
    browse "$D/$p" "$SHOTS/${name%.html}.png" "$T_TMP/$name.log"
    check "$p: screenshot taken" test -s "$SHOTS/${name%.html}.png"
    check "$p: no console error" bash -c "! grep -E 'Uncaught|ERROR:CONSOLE|CONSOLE\\([0-9]+\\)' '$T_TMP/$name.log'"
done

dump "$D/runs/$sel.html" >"$T_TMP/run.dom"
check "run page DOM rendered" test -s "$T_TMP/run.dom"
paths=$(grep -o '<path class="series" d="M[0-9][^"]*"' "$T_TMP/run.dom" | wc -l)
check "run page: ROC and PR curves drawn with non-empty paths ($paths)" test "$paths" -ge 4
check "run page: no empty path" bash -c "! grep -q '<path[^>]* d=\"\"' '$T_TMP/run.dom'"
dump "$D/data.html" >"$T_TMP/data.dom"
check "data page: dirty value is text in the DOM" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T_TMP/data.dom"
check "data page: no injected img element" bash -c "! grep -q '<img' '$T_TMP/data.dom'"
dump "$D/compare/$tr.html" >"$T_TMP/compare.dom"
cpaths=$(grep -o '<path class="series" d="M[0-9][^"]*"' "$T_TMP/compare.dom" | wc -l)
check "compare page: ROC and PR overlays drawn ($cpaths paths)" test "$cpaths" -ge 4
check "compare page: runs told apart by dash pattern" \
    test "$(grep -o 'class="series"[^>]*stroke-dasharray="[0-9 ]*"' "$T_TMP/compare.dom" | sort -u | wc -l)" -ge 2
# runs ticked on the index (two runs of any trainings) open compare.html#runs=A,B
two=$(t_sql "SELECT string_agg(run_id::text, ',') FROM (SELECT run_id FROM registry.runs ORDER BY run_id LIMIT 2) x")
dump "$D/compare.html#runs=$two" >"$T_TMP/picked.dom"
check "compare.html#runs=$two shows those two runs only" \
    test "$(grep -o '<th data-run="[0-9]*">' "$T_TMP/picked.dom" | wc -l)" -eq 2
check "compare.html#runs=$two says which runs" grep -q "The runs ticked on the index: ${two/,/, }" "$T_TMP/picked.dom"
dump "$D/index.html" >"$T_TMP/index.dom"
check "index: champion trend drawn" grep -q 'Champion validation ROC AUC by training' "$T_TMP/index.dom"
check "index: gate numbers in a toggle" grep -q '<details><summary>details</summary>' "$T_TMP/index.dom"
# the sort script ran without breaking the page: a header click is wired (no error logged above)
echo "# screenshots in $SHOTS"
t_done
