#!/bin/bash
# codesize.sh - the largest C source files and the largest functions, so that
# the "no file over ~1,200 lines, no function over ~150" rule can be checked
# and its figures reproduced. Functions are measured with Universal Ctags
# (its end: field), from the line of the name to the closing brace.
# Usage: scripts/codesize.sh [TOP] [N]   TOP: a source tree (default: this
#        one), N: rows per table (default 15). Exits 0; prints only.
set -euo pipefail
export LC_ALL=C
TOP=${1:-$(cd "$(dirname "$0")/.." && pwd)}
N=${2:-15}
FILE_MAX=${FILE_MAX:-1200}
FUNC_MAX=${FUNC_MAX:-150}
cd "$TOP"
mapfile -t files < <(ls src/*.c src/cmd/*.c fcgi/*.c fcgi/*/*.c 2>/dev/null | sort)
[ "${#files[@]}" -gt 0 ] || { echo "codesize: no C sources under $TOP" >&2; exit 2; }
command -v ctags >/dev/null || { echo "codesize: ctags (universal-ctags) not installed" >&2; exit 2; }

total=$(cat "${files[@]}" | wc -l)
echo "C sources: ${#files[@]} files, $total lines (src/, src/cmd/, fcgi/)"
echo
echo "largest files (lines)"
wc -l "${files[@]}" | grep -v ' total$' | sort -rn | head -n "$N" | awk '{printf "  %6d  %s\n", $1, $2}'
over=$(wc -l "${files[@]}" | grep -v ' total$' | awk -v m="$FILE_MAX" '$1 > m' | wc -l)
echo "  files over $FILE_MAX lines: $over"
echo
echo "largest functions (lines, from the name to the closing brace)"
ctags --kinds-C=f --fields=+ne -o - "${files[@]}" |
    awk -F'\t' '{ l = ""; e = "";
                  for (i = 4; i <= NF; i++) { if ($i ~ /^line:/) l = substr($i, 6); if ($i ~ /^end:/) e = substr($i, 5) }
                  if (l != "" && e != "") printf "%d %s:%d %s\n", e - l + 1, $2, l, $1 }' |
    sort -rn > "${TMPDIR:-/tmp}/codesize.$$"
head -n "$N" "${TMPDIR:-/tmp}/codesize.$$" | awk '{printf "  %6d  %-28s %s\n", $1, $3, $2}'
awk -v m="$FUNC_MAX" '$1 > m' "${TMPDIR:-/tmp}/codesize.$$" | wc -l | awk -v m="$FUNC_MAX" '{print "  functions over " m " lines: " $1}'
awk '$1 > 120' "${TMPDIR:-/tmp}/codesize.$$" | wc -l | awk '{print "  functions over 120 lines: " $1}'
rm -f "${TMPDIR:-/tmp}/codesize.$$"
