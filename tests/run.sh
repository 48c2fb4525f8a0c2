#!/bin/bash
# Run every tests/t/tNNNN-*.sh; fail if any fails or if none ran. A test that
# exits 77 was skipped (it says why) and is counted as skipped, never passed.
# Usage: tests/run.sh [pattern]   (pattern filters test names)
# The last line reads "shell tests: N passed, M skipped, K failed".
set -u
cd "$(dirname "$0")/.."
pat=${1:-}
pass=0 fail=0 skipped=0 failed=() skips=() checks_skipped=0
for t in tests/t/t[0-9]*.sh; do
    [ -e "$t" ] || continue
    case "$t" in *"$pat"*) ;; *) continue ;; esac
    echo "=== $t"
    start=$(date +%s)
    log=$(mktemp)
    bash "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    n=$(grep -c '^skip - ' "$log")
    checks_skipped=$((checks_skipped + n))
    rm -f "$log"
    case $rc in
    0) pass=$((pass + 1)); [ "$n" -gt 0 ] && skips+=("$(basename "$t" .sh) ($n checks)") ;;
    77) skipped=$((skipped + 1)); skips+=("$(basename "$t" .sh)") ;;
    *) fail=$((fail + 1)); failed+=("$(basename "$t" .sh)") ;;
    esac
    echo "=== $t: $(( $(date +%s) - start ))s"
done
echo
echo "skipped: ${skips[*]:-none} ($checks_skipped checks in all)"
echo "failed: ${failed[*]:-none}"
echo "shell tests: $pass passed, $skipped skipped, $fail failed"
if [ $((pass + fail)) -eq 0 ]; then echo "shell tests: no tests ran: failing" >&2; exit 1; fi
[ "$fail" -eq 0 ]
