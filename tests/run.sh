#!/bin/bash
# Run every tests/t/tNNNN-*.sh; fail if any fails or if none ran.
# Usage: tests/run.sh [pattern]   (pattern filters test names)
set -u
cd "$(dirname "$0")/.."
pat=${1:-}
pass=0 fail=0 failed=()
for t in tests/t/t[0-9]*.sh; do
    [ -e "$t" ] || continue
    case "$t" in *"$pat"*) ;; *) continue ;; esac
    echo "=== $t"
    start=$(date +%s)
    if bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
    echo "=== $t: $(( $(date +%s) - start ))s"
done
echo "shell tests: $pass passed, $fail failed ${failed[*]:-}"
if [ $((pass + fail)) -eq 0 ]; then echo "shell tests: no tests ran: failing" >&2; exit 1; fi
[ "$fail" -eq 0 ]
