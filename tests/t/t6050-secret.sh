#!/bin/bash
# No command prints the database password: `readmit db url`, `readmit config`
# (db.dsn from the file or -o) and a failed connection's message, for a URI
# and for key=value conninfo. The masking itself is unit-tested (test_secret.c).
. "$(dirname "$0")/lib.sh"
cd "$T_TMP"
SECRET=Zq7-not-for-output
R() { "$READMIT" "$@" -c "$TOP/conf/test.yaml" >out.txt 2>&1 || true; }
no_secret() { ! grep -q -- "$SECRET" out.txt; }

DATABASE_URL="postgresql://app:$SECRET@127.0.0.1:1/readmit?sslmode=disable" R db url
check "db url masks a URI's password" no_secret
check "db url still shows the rest of the URI" grep -q 'postgresql://app:\*\*\*\*@127.0.0.1:1/readmit?sslmode=disable' out.txt

DATABASE_URL="postgresql://127.0.0.1:1/readmit?password=$SECRET" R db url
check "db url masks a password query parameter" no_secret

R db url -o "db.dsn=host=127.0.0.1 port=1 password='$SECRET' dbname=readmit"
check "db url masks a key=value password" no_secret
check "db url keeps the other keys" grep -q "host=127.0.0.1 port=1 password=\*\*\*\* dbname=readmit" out.txt

R config -o "db.dsn=host=127.0.0.1 port=1 password=$SECRET"
check "config masks db.dsn" no_secret
check "config prints db.dsn masked" grep -q 'dsn: "host=127.0.0.1 port=1 password=\*\*\*\*"' out.txt
R config --section db -o "db.dsn=host=127.0.0.1 port=1 password=$SECRET"
check "config --section db masks db.dsn" no_secret

printf 'db:\n  dsn: "postgresql://app:%s@127.0.0.1:1/readmit"\n' "$SECRET" > secret.yaml
"$READMIT" config -c secret.yaml >out.txt 2>&1 || true
check "config from a file masks db.dsn" no_secret
check "config from a file shows the masked URI" grep -q 'postgresql://app:\*\*\*\*@127.0.0.1:1/readmit' out.txt

# a connection that fails names host, database and user, never the password
DATABASE_URL="postgresql://app:$SECRET@127.0.0.1:1/readmit?connect_timeout=2" R db status
check "a failed connection says so" grep -q 'cannot connect' out.txt
check "a failed connection does not print the password" no_secret
t_done
