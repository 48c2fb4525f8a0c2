#!/bin/sh
# Turn sql/**/*.sql into a C table (name -> text), sorted by name, on stdout.
# Usage: scripts/embed-sql.sh sql
set -eu
dir=$1
echo "/* Generated from $dir/ by scripts/embed-sql.sh: do not edit. */"
files=$(cd "$dir" && find . -name '*.sql' | sed 's|^\./||' | LC_ALL=C sort)
echo "const char *const rdm_sql_gen_names[] = {"
for f in $files; do printf '    "%s",\n' "${f%.sql}"; done
echo "    0};"
echo "const char *const rdm_sql_gen_texts[] = {"
for f in $files; do
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$/\\n"/' "$dir/$f"
    echo "    ,"
done
echo "    0};"
n=0; for f in $files; do n=$((n+1)); done
echo "const int rdm_sql_gen_count = $n;"
