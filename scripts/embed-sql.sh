#!/bin/sh
# Turn sql/**/*.sql into C, sorted by name:
#   scripts/embed-sql.sh sql           the table (name -> text) on stdout
#   scripts/embed-sql.sh --header sql  enum rdm_sql_id on stdout: one constant
#                                      per statement (sql/raw_insert_batch.sql
#                                      -> RDM_SQL_RAW_INSERT_BATCH), so a
#                                      misspelt statement fails to compile.
# The constants index the table: both come from the same sorted list.
set -eu
header=0
if [ "$1" = "--header" ]; then header=1; shift; fi
dir=$1
names=$(cd "$dir" && find . -name '*.sql' | sed -e 's|^\./||' -e 's|\.sql$||' | LC_ALL=C sort)
ident() { printf 'RDM_SQL_%s' "$(printf '%s' "$1" | tr 'a-z/.-' 'A-Z___')"; }
# two files must not map to one identifier (e.g. a-b.sql and a_b.sql)
dups=$(for f in $names; do ident "$f"; echo; done | LC_ALL=C sort | uniq -d)
if [ -n "$dups" ]; then
    echo "embed-sql.sh: statement names collide: $dups" >&2
    exit 1
fi
# migrations are applied in name order, once each: two with one number
# (e.g. 009_a and 009_b written side by side) would order by accident
mdups=$(for f in $names; do case $f in schema/*) printf '%s\n' "${f#schema/}" | cut -d_ -f1 ;; esac; done |
    LC_ALL=C sort | uniq -d)
if [ -n "$mdups" ]; then
    echo "embed-sql.sh: two migrations in $dir/schema share the number $mdups: renumber one" >&2
    exit 1
fi
echo "/* Generated from $dir/ by scripts/embed-sql.sh: do not edit. */"
if [ "$header" = 1 ]; then
    echo "#ifndef RDM_SQL_IDS_H"
    echo "#define RDM_SQL_IDS_H"
    echo "typedef enum rdm_sql_id {"
    for f in $names; do printf '    %s, /* %s/%s.sql */\n' "$(ident "$f")" "$dir" "$f"; done
    echo "    RDM_SQL_COUNT"
    echo "} rdm_sql_id;"
    echo "#endif"
    exit 0
fi
echo "const char *const rdm_sql_gen_names[] = {"
for f in $names; do printf '    "%s",\n' "$f"; done
echo "    0};"
echo "const char *const rdm_sql_gen_texts[] = {"
for f in $names; do
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$/\\n"/' "$dir/$f.sql"
    echo "    ,"
done
echo "    0};"
n=0; for f in $names; do n=$((n+1)); done
echo "const int rdm_sql_gen_count = $n;"
