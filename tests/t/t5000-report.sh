#!/bin/bash
# readmit report: synthetic dirty data through the whole pipeline, then the
# site: pages parse as HTML, links resolve, dirty values are text, numbers
# equal the registry's, unchanged pages are not rewritten.
. "$(dirname "$0")/lib.sh"

# every command the test drives must exist: a failing --help fails the test
for c in synth ingest clean train register report; do
    check "readmit $c --help" bash -c '"$1" "$2" --help >/dev/null' - "$READMIT" "$c"
done
if [ "$T_FAIL" -ne 0 ]; then
    t_done || exit 1
fi

t_fresh_db
D=$T_TMP/site
rdm synth --rows 3000 --seed 7 --dirty --out "$T_TMP/s.csv" >/dev/null
check "ingest" rdm ingest -q --source "$T_TMP/s.csv"
check "clean" rdm clean -q
check "train" rdm train -q
check "register" rdm register -q
check "report" rdm report -q --out "$D" --stamp "$T_TMP/report.stamp"

run_ids=$(t_sql "SELECT run_id FROM registry.runs ORDER BY run_id")
check "index, compare and data pages exist" test -s "$D/index.html" -a -s "$D/compare.html" -a -s "$D/data.html"
for id in $run_ids; do
    [ -s "$D/runs/$id.html" ] || not_ok "page of run $id missing"
done
check_eq "one page per run" "$(echo $run_ids | wc -w)" "$(ls "$D/runs" | wc -l)"
trainings=$(t_sql "SELECT DISTINCT training_id FROM registry.runs ORDER BY 1")
for t in $trainings; do
    [ -s "$D/compare/$t.html" ] || not_ok "compare page of training $t missing"
done
check_eq "one compare page per training" "$(echo $trainings | wc -w)" "$(ls "$D/compare" | wc -l)"

pages=("$D"/*.html "$D"/runs/*.html "$D"/compare/*.html)
# our checker: libxml2 HTML parser errors, broken links, external URLs
check "pages parse and links resolve (readmit report --check)" rdm report --check "${pages[@]}"
# an independent parse with xmllint: only "unknown tag" for SVG/HTML5 names is tolerated
if command -v xmllint >/dev/null; then
    bad=0
    for p in "${pages[@]}"; do
        if xmllint --html --noout "$p" 2>&1 | grep -E '^[^ ].*(error|warning)' |
            grep -vE 'Tag (svg|path|g|line|rect|circle|text|details|summary) invalid' | grep -q .; then
            echo "# xmllint: $p"; bad=$((bad + 1))
        fi
    done
    check_eq "xmllint --html reports nothing else" 0 "$bad"
fi
# every href in every page names a generated file (second, grep-based check)
missing=0
for p in "${pages[@]}"; do
    dir=$(dirname "$p")
    for h in $(grep -o 'href="[^"#]*' "$p" | sed 's/^href="//' | sort -u); do
        [ -e "$dir/$h" ] || { echo "# $p: broken link $h"; missing=$((missing + 1)); }
    done
done
check_eq "all links resolve" 0 "$missing"
check "no external URL" bash -c "! grep -lE '(src|href)=\"(https?:)?//' ${pages[*]}"

# dirty values are text, never markup
check "script value escaped in data.html" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$D/data.html"
check "img value escaped in data.html" grep -qF '&gt;&lt;img src=x onerror=alert(1)&gt;' "$D/data.html"
check "no raw <img anywhere" bash -c "! grep -qi '<img' ${pages[*]}"
check "no raw <script> but our own sort script" \
    bash -c "[ \"\$(cat ${pages[*]} | grep -o '<script' | wc -l)\" -eq ${#pages[@]} ]"
check "no alert( inside a script element" bash -c "! grep -q '<script>alert' ${pages[*]}"

# numbers on a run page equal the registry's
sel=$(t_sql "SELECT run_id FROM registry.runs WHERE selected ORDER BY run_id DESC LIMIT 1")
for key in roc_auc pr_auc log_loss accuracy; do
    for split in valid test; do
        want=$(t_sql "SELECT to_char(value, 'FM0.0000') FROM registry.metrics WHERE run_id = $sel AND split = '$split' AND key = '$key'")
        got=$(grep -o "id=\"m-$split-$key\"[^>]*>[^<]*" "$D/runs/$sel.html" | sed 's/.*>//')
        check_eq "run $sel $split $key equals the registry" "$want" "$got"
    done
done
ci=$(t_sql "SELECT to_char(lo.value, 'FM0.0000') || ' to ' || to_char(hi.value, 'FM0.0000') FROM registry.metrics lo JOIN registry.metrics hi USING (run_id, split) WHERE run_id = $sel AND split = 'test' AND lo.key = 'roc_auc_ci_low' AND hi.key = 'roc_auc_ci_high'")
check_eq "bootstrap interval equals the registry" "$ci" "$(grep -o 'id="m-test-roc_auc_ci"[^>]*>[^<]*' "$D/runs/$sel.html" | sed 's/.*>//')"
tp=$(t_sql "SELECT value::bigint FROM registry.metrics WHERE run_id = $sel AND split = 'test' AND key = 'tp'")
check_eq "confusion matrix tp equals the registry" "$tp" "$(grep -o 'id="cm-test-tp"[^>]*>[^<]*' "$D/runs/$sel.html" | sed 's/.*>//')"
sha=$(t_sql "SELECT artifact_sha256 FROM registry.runs WHERE run_id = $sel")
check "lineage shows the model sha256" grep -q "id=\"lineage-artifact_sha256\"[^>]*>$sha<" "$D/runs/$sel.html"
champ=$(t_sql "SELECT v.run_id FROM registry.aliases a JOIN registry.model_versions v USING (name, version) WHERE a.alias = 'champion'")
check "index marks the champion run" grep -q "<tr class=\"champion\">" "$D/index.html"
check "index links the champion's run page" grep -q "href=\"runs/$champ.html\"" "$D/index.html"
check "run page has ROC and PR curve paths" bash -c "[ \$(grep -o 'class=\"series\" d=\"M[0-9]' '$D/runs/$sel.html' | wc -l) -ge 4 ]"
check "alias history shown" grep -q 'id="history"' "$D/index.html"
nrej=$(t_sql "SELECT count(*) FROM raw.rejects")
check "raw rejects counted on data.html" test "$nrej" -gt 0
check "invalid UTF-8 reject shown as \\x escapes" grep -q '\\x[89a-f][0-9a-f]' "$D/data.html"

# reports that read well
xp() { xmllint --html --xpath "$2" "$1" 2>/dev/null || true; }
raw=$(t_sql "SELECT value FROM registry.params WHERE run_id = $sel AND key = 'learning_rate'")
if [ -n "$raw" ]; then
    check_eq "parameter shown for people ($raw)" "$(printf '%.15g' "$raw")" \
        "$(xp "$D/runs/$sel.html" "string(//tr[td[1]='learning_rate']/td[2])")"
fi
check "run page labels accuracy with threshold 0.5" grep -q '<td>accuracy at threshold 0.5</td>' "$D/runs/$sel.html"
check "run page labels F1 with the chosen threshold" grep -q '<td>F1 at the chosen threshold [0-9.]*</td>' "$D/runs/$sel.html"
# explanations of the test split: global importance beside the gain, dependence plots
gbt=$(t_sql "SELECT run_id FROM registry.runs WHERE model_type = 'gbt' ORDER BY run_id LIMIT 1")
top=$(t_sql "SELECT points->'fields'->0->>'field' FROM registry.curves WHERE run_id = $gbt AND split = 'test' AND kind = 'importance'")
check "train stores the test split's explanations" test -n "$top"
check_eq "run page ranks the registry's top field first by mean |contribution|" "$top" \
    "$(xp "$D/runs/$gbt.html" "string(//table[contains(@class,'explained-importance')]//tr[td][1]/td[2])")"
# performance by patient group on the test split: a row per race, gender and
# age level of the test encounters, sizes summing to the split per attribute
tbl="//h2[@id='groups']/following-sibling::table[1]"
check "run page has the test split's groups section" \
    test "$(xp "$D/runs/$gbt.html" "string(//h2[@id='groups'])")" = "Performance by patient group (test)"
nrow=$(xp "$D/runs/$gbt.html" "count($tbl//tr[td])")
got=$(for i in $(seq 1 "${nrow:-0}"); do
    echo "$(xp "$D/runs/$gbt.html" "string($tbl//tr[td][$i]/td[1])")=$(xp "$D/runs/$gbt.html" "string($tbl//tr[td][$i]/td[2])")"
done | LC_ALL=C sort)
want=$(t_sql "SELECT g FROM (SELECT 'all=' || count(*) AS g FROM clean.encounters WHERE patient_nbr % 100 >= 85
    UNION ALL SELECT a || ' ' || coalesce(nullif(nullif(v, ''), '?'), '(missing)') || '=' || count(*)
    FROM clean.encounters, LATERAL (VALUES ('race', race), ('gender', gender), ('age', age)) x(a, v)
    WHERE patient_nbr % 100 >= 85 GROUP BY a, coalesce(nullif(nullif(v, ''), '?'), '(missing)')) s" | LC_ALL=C sort)
check_eq "one row per level present with its test size, as in the clean data" "$want" "$got"
rows_test=$(t_sql "SELECT count(*) FROM clean.encounters WHERE patient_nbr % 100 >= 85")
for a in race gender age; do
    sum=$(echo "$got" | awk -F= -v a="$a" 'index($1, a " ") == 1 { s += $2 } END { print s + 0 }')
    check_eq "$a group sizes sum to the test split" "$rows_test" "$sum"
done
stored=$(t_sql "SELECT points->>'labelled' FROM registry.curves WHERE run_id = $gbt AND split = 'test' AND kind = 'subgroups'")
check_eq "train stores the test split's groups" "$rows_test" "$stored"
nbelow=$(t_sql "SELECT count(*) FROM registry.curves, jsonb_array_elements(points->'groups') g WHERE run_id = $gbt AND split = 'test' AND kind = 'subgroups' AND (g->>'below')::boolean")
if [ "$nbelow" -eq 0 ]; then
    check "model card says no group lies below" grep -q 'No patient group (race, gender, age band) has a test ROC AUC interval' "$D/runs/$gbt.html"
else
    check "model card lists the groups below" grep -q 'Patient groups whose test ROC AUC interval lies wholly below' "$D/runs/$gbt.html"
fi
check_eq "badges match the stored flags" "$nbelow" "$(xp "$D/runs/$gbt.html" "count($tbl//span[contains(@class,'failed')])")"
ndep=$(t_sql "SELECT jsonb_array_length(points->'dependence') FROM registry.curves WHERE run_id = $gbt AND split = 'test' AND kind = 'importance'")
check "one dependence chart per field the registry holds ($ndep)" \
    test "$(xp "$D/runs/$gbt.html" "count(//div[@id='dependence-charts']/*[local-name()='svg'])")" = "$ndep" -a "$ndep" -ge 1
base=$(t_sql "SELECT run_id FROM registry.runs WHERE model_type = 'baseline' ORDER BY run_id LIMIT 1")
check "a baseline has no explanations" test -z "$(t_sql "SELECT 1 FROM registry.curves WHERE run_id = $base AND split = 'test' AND kind = 'importance'")"
check "every run can be ticked for a cross-training compare" \
    test "$(xp "$D/index.html" "count(//input[@class='pick'])")" = "$(echo $run_ids | wc -w)"
check "compare.html holds every run for the ticked ones" \
    test "$(xp "$D/compare.html" "count(//div[@id='picked-table']//thead//th[@data-run])")" = "$(echo $run_ids | wc -w)"
check "index names every run" test "$(xp "$D/index.html" "count(//td[@class='run-name'])")" = "$(echo $run_ids | wc -w)"
t1=$(echo $trainings | cut -d' ' -f1)
check "runs table links the training's compare page" grep -q "href=\"compare/$t1.html\"" "$D/index.html"
check "compare.html links every training's compare page" \
    test "$(grep -o 'href="compare/[0-9]*.html"' "$D/compare.html" | sort -u | wc -l)" -eq "$(echo $trainings | wc -w)"
check "compare page marks a best value" grep -q 'class="num best"' "$D/compare/$t1.html"
check "compare page overlays ROC and PR" \
    test "$(xp "$D/compare/$t1.html" "count(//h2[@id='roc' or @id='pr'])")" = 2
check "overlaid curves differ in dash pattern" grep -q 'stroke-dasharray="8 3"' "$D/compare/$t1.html"
check "compare page hides parameters equal in every run" \
    test "$(xp "$D/compare/$t1.html" "count(//table[@class='compare']//th[.='max_bins'])")" = 0
check "gate reason is a sentence" grep -q 'became champion' "$D/index.html"
check "gate numbers behind a toggle" test "$(xp "$D/index.html" "count(//details/table[@class='gate'])")" -ge 1
check "who names the command" grep -q 'readmit register' "$D/index.html"
check "champion over trainings plotted" grep -q 'id="champion-trend"' "$D/index.html"
nrules=$(t_sql "SELECT count(DISTINCT rule) FROM clean.validation WHERE snapshot_id = (SELECT max(snapshot_id) FROM clean.validation)" 2>/dev/null || echo)
if [ -n "$nrules" ]; then
    check_eq "validation as a rule x batch matrix" "$nrules" \
        "$(xp "$D/data.html" "count(//table[@id='validation-matrix']/tbody/tr)")"
fi
check "batches compared with the snapshot" test "$(xp "$D/data.html" "count(//table[@id='drift-matrix']/tbody/tr)")" -gt 0
ages=$(xp "$D/data.html" "//details[starts-with(summary,'age:')]//table/tbody/tr/td[1]/text()")
check "age levels in their natural order" bash -c "[ -n \"\$1\" ] && printf '%s\n' \"\$1\" | sort -c" - "$ages"
check "bars of levels show counts" grep -q '(n=[0-9]*)' "$D/data.html"

# a second run rewrites nothing and keeps the stamp
before=$(stat -c '%n %.9Y' "$D/index.html" "$D/runs/$sel.html" "$T_TMP/report.stamp")
sleep 1.1
rdm report -q --out "$D" --stamp "$T_TMP/report.stamp"
after=$(stat -c '%n %.9Y' "$D/index.html" "$D/runs/$sel.html" "$T_TMP/report.stamp")
check_eq "unchanged pages and stamp keep their timestamps" "$before" "$after"

# a changed run rewrites its page, not the data page
old_data=$(stat -c %Y "$D/data.html")
sleep 1.1
other=$(t_sql "SELECT run_id FROM registry.runs WHERE status = 'finished' AND NOT selected ORDER BY run_id LIMIT 1")
t_sql "UPDATE registry.runs SET name = name || ' renamed' WHERE run_id = $other" >/dev/null
rdm report -q --out "$D" --stamp "$T_TMP/report.stamp"
check "changed run page rewritten" grep -q 'renamed' "$D/runs/$other.html"
check_eq "data.html untouched" "$old_data" "$(stat -c %Y "$D/data.html")"

# orphan pages (runs and trainings the registry no longer has) go away
echo stale >"$D/runs/999999.html"
echo stale >"$D/compare/999999.html"
echo keep >"$D/runs/notes.txt"
rdm report -q --out "$D" --stamp "$T_TMP/report.stamp"
check "orphan run page removed" test ! -e "$D/runs/999999.html"
check "orphan compare page removed" test ! -e "$D/compare/999999.html"
check "other files kept" test -e "$D/runs/notes.txt"
check_eq "run pages left" "$(echo $run_ids | wc -w)" "$(ls "$D"/runs/*.html | wc -l)"
t_done
