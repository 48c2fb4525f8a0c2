#!/bin/bash
# An external PostgreSQL as in production: a second server, started by this
# test on loopback TCP, with scram-sha-256 password authentication and TLS
# only (a CA and a server certificate made here with openssl), reached with
# sslmode=verify-full. The pipeline (make, with DATABASE_URL) and the serving
# pool (PG* variables) are configured only through the environment. The
# password never appears in output, logs, reports or the process table.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/pg-tcp.sh"
PORT=$(pgtcp_free_port)
HTTP=$(pgtcp_free_port)
PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
PG=$T_TMP/pg
SERVE_ENV=(READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_HTTP_PORT=$HTTP)
ext_cleanup() {
    local rc=$?
    env "${SERVE_ENV[@]}" "$TOP/scripts/serve.sh" stop >/dev/null 2>&1 || true
    [ -z "${PSPID:-}" ] || kill "$PSPID" 2>/dev/null || true
    pgtcp_stop
    return $rc
}
trap 'ext_cleanup; t_cleanup' EXIT
cd "$T_TMP"

# ---- a CA, and a server certificate for 127.0.0.1 signed by it ----
mkdir tls other
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=readmit test CA" \
    -keyout tls/ca.key -out tls/ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout tls/server.key \
    -out tls/server.csr 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\n' >tls/san.ext
openssl x509 -req -in tls/server.csr -CA tls/ca.crt -CAkey tls/ca.key -CAcreateserial -days 2 \
    -extfile tls/san.ext -out tls/server.crt 2>/dev/null
# a CA that signed nothing here: verify-full must refuse the server with it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout other/ca.key -out other/ca.crt 2>/dev/null
check "certificates made with openssl" openssl verify -CAfile tls/ca.crt tls/server.crt

umask 077
printf '%s\n' "$PW" >pw
umask 022
if pgtcp_init "$PG" 127.0.0.1 "$PORT" pw tls >pg-init.log 2>&1; then
    ok "external server on 127.0.0.1:$PORT (scram-sha-256, TLS only)"
else
    not_ok "external server did not start: $(tail -3 pg-init.log)"
    t_done
    exit 1
fi
rm -f pw
CA=$T_TMP/tls/ca.crt
URL="postgresql://readmit:$PW@127.0.0.1:$PORT/readmit?sslmode=verify-full&sslrootcert=$CA"

# ---- what the server allows ----
rdm_env() { env -u PGHOST -u PGDATABASE -u PGUSER -u PGPASSWORD "$@"; }
rdm_env DATABASE_URL="$URL" "$READMIT" db migrate -c "$TOP/conf/test.yaml" >out.txt 2>&1 || true
check "verify-full with the right CA connects" grep -q 'migrations:' out.txt
rdm_env DATABASE_URL="postgresql://readmit:$PW@127.0.0.1:$PORT/readmit?sslmode=verify-full&sslrootcert=$T_TMP/other/ca.crt" \
    "$READMIT" db status -c "$TOP/conf/test.yaml" >bad-ca.txt 2>&1 || true
check "verify-full refuses a server its CA did not sign" grep -q 'certificate verify failed' bad-ca.txt
rdm_env DATABASE_URL="postgresql://readmit:$PW@127.0.0.1:$PORT/readmit?sslmode=disable" \
    "$READMIT" db status -c "$TOP/conf/test.yaml" >plain.txt 2>&1 || true
check "the server refuses connections without TLS" grep -q 'no encryption' plain.txt
rdm_env DATABASE_URL="postgresql://readmit:wrong-$PW@127.0.0.1:$PORT/readmit?sslmode=verify-full&sslrootcert=$CA" \
    "$READMIT" db status -c "$TOP/conf/test.yaml" >badpw.txt 2>&1 || true
check "a wrong password is refused by scram-sha-256" grep -q 'password authentication failed' badpw.txt

# the process table, sampled while the pipeline and the pool run
( while :; do ps -eo args >>ps.txt 2>/dev/null; sleep 0.2; done ) &
PSPID=$!

# ---- the pipeline through make, DATABASE_URL only ----
"$READMIT" synth --rows 3000 --seed 5 >data.csv
if rdm_env DATABASE_URL="$URL" make -C "$TOP" --no-print-directory pipeline VAR="$T_TMP/var" \
    CONF="$TOP/conf/test.yaml" DATA="$T_TMP/data.csv" REPORT_DIR="$T_TMP/reports" >make.txt 2>&1; then
    ok "make pipeline against the external server"
else
    not_ok "make pipeline against the external server: $(tail -3 make.txt)"
fi
check "reports written" test -s reports/index.html
rdm_env DATABASE_URL="$URL" "$READMIT" status -c "$TOP/conf/test.yaml" >status.txt 2>&1 || true
check "a champion is registered" grep -qi 'champion' status.txt

# psql on the external server (make db-psql): long enough for the ps sampler to see it
rdm_env DATABASE_URL="$URL" "$TOP/scripts/pg.sh" psql -tAc 'SELECT 41 + 1 FROM pg_sleep(0.6)' >psql.txt 2>&1 || true
check "scripts/pg.sh psql reaches the external server" grep -qx 42 psql.txt
check "ps saw psql (with no password on its command line)" grep -q 'psql postgresql://readmit@127.0.0.1' ps.txt

# ---- the pool through PG* variables, behind nginx ----
PGENV=(PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=readmit PGPASSWORD=$PW PGDATABASE=readmit
    PGSSLMODE=verify-full PGSSLROOTCERT=$CA)
if env -u DATABASE_URL "${PGENV[@]}" "${SERVE_ENV[@]}" "$TOP/scripts/serve.sh" start >serve.txt 2>&1; then
    ok "pool and nginx started with PG* variables"
else
    not_ok "pool and nginx started with PG* variables: $(tail -3 serve.txt)"
fi
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP/api/v1/model" >model.json 2>/dev/null && break; sleep 0.1; done
check "the pool serves the champion from the external registry" grep -q '"version"' model.json
body=$(awk -f "$TOP/nginx/bench/records.awk" data.csv | head -n 1)
code=$(curl -s -o pred.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$HTTP/api/v1/predict")
check_eq "a prediction through nginx" 200 "$code"
check "the prediction has a probability" grep -q '"probability"' pred.json
ps -eo args >>ps.txt 2>/dev/null # one sample known to fall while the pool runs (the sampler may miss a short run)

# every connection the project made to this server used TLS
ssl=$(pgtcp_owner "$PGTCP_BIN/psql" -h "$PG/run" -p "$PORT" -U readmit -d readmit -tAc \
    "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL")
check "the pool's connection is encrypted ($ssl of TCP sessions)" test "${ssl%%|*}" = "${ssl##*|}" -a "${ssl##*|}" -ge 1
env -u DATABASE_URL "${PGENV[@]}" "$READMIT" db url -c "$TOP/conf/test.yaml" >url-pg.txt 2>&1 || true
rdm_env DATABASE_URL="$URL" "$READMIT" db url -c "$TOP/conf/test.yaml" >url.txt 2>&1 || true
check "db url shows the URI with the password masked" grep -q "postgresql://readmit:\*\*\*\*@127.0.0.1:$PORT/readmit" url.txt
kill "$PSPID" 2>/dev/null || true
wait "$PSPID" 2>/dev/null || true
PSPID=
env "${SERVE_ENV[@]}" "$TOP/scripts/serve.sh" stop >/dev/null 2>&1 || true

# ---- the password, anywhere ----
check "ps was sampled while the pipeline and the pool ran" grep -q 'readmit-fcgi' ps.txt
leaks=$(grep -rlF -- "$PW" "$T_TMP" --exclude-dir=pg --exclude-dir=tls 2>/dev/null || true)
check_eq "the password is in no output, log, report or ps sample" "" "$leaks"
t_done
