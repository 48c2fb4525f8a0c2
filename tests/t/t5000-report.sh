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

pages=("$D"/*.html "$D"/runs/*.html)
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
t_done
