#!/bin/bash
# t8000-predlog: the prediction log writer against a real PostgreSQL of its
# own: every record is stored once; with the server stopped mid-stream the
# records spill to var/spill and are replayed exactly once when it returns;
# sampling; a full spill file drops and counts; a record the database refuses
# for its data is set aside.
. "$(dirname "$0")/lib.sh"
DRIVE=${PREDLOG_DRIVE:-$TOP/build/predlog_drive}
export READMIT_PGDIR=$T_TMP/pg
PG="$TOP/scripts/pg.sh"
READMIT_DBNAME=predlog "$PG" start >/dev/null 2>&1
trap '"$PG" stop >/dev/null 2>&1 || true; t_cleanup' EXIT
sql() { READMIT_DBNAME=predlog "$PG" psql -tAqc "$1"; }
conf=$T_TMP/conf.yaml
cat >"$conf" <<YAML
db: {socket_dir: $T_TMP/pg/run, name: predlog}
monitor: {spill_dir: $T_TMP/spill, flush_ms: 50, batch_records: 200}
YAML
val() { sed -n "s/^$1=//p" "$2"; }

# 1. database up: N records, N rows, no spill
"$DRIVE" "$conf" 3000 0 >"$T_TMP/a.out"
check_eq "all records logged" 3000 "$(val logged "$T_TMP/a.out")"
check_eq "rows stored" 3000 "$(sql 'SELECT count(*) FROM monitor.predictions')"
check_eq "fields parsed" "1:1001:[70-80):0:1" "$(sql "SELECT encounter_id, patient_nbr, input->>'age', decision, model_version FROM monitor.predictions WHERE encounter_id = 1" | tr '|' ':')"
check_eq "nothing spilled" 0 "$(val spilled "$T_TMP/a.out")"
check "stored as batches, not a row per prediction" test "$(sql 'SELECT count(*) FROM monitor.prediction_batches')" -lt 300
check_eq "one id per prediction" 3000 "$(sql 'SELECT count(DISTINCT prediction_id) FROM monitor.predictions')"
check_eq "one version, alias and threshold per batch, every prediction's" "0:3000" \
    "$(sql "SELECT (SELECT count(*) FROM monitor.prediction_batches WHERE cardinality(model_version) + cardinality(alias) + cardinality(threshold) <> 3),
                   (SELECT count(*) FROM monitor.predictions WHERE model_version = 1 AND alias = 'champion' AND threshold = 0.2)" | tr '|' ':')"
check_eq "group fields kept beside the inputs" "3000" "$(sql "SELECT count(*) FROM monitor.prediction_batches b, unnest(monitor.log_group(b.age, b.group_values, b.group_codes, 3)) a WHERE a = '[70-80)'")"
check_eq "group fields coded, three bytes a prediction" "0:3000" \
    "$(sql "SELECT count(*) FILTER (WHERE race IS NOT NULL OR gender IS NOT NULL OR age IS NOT NULL), sum(octet_length(group_codes)) / 3 FROM monitor.prediction_batches" | tr '|' ':')"

# 2. the server stops mid-stream and comes back
sql 'TRUNCATE monitor.prediction_batches'
"$DRIVE" "$conf" 6000 1000 >"$T_TMP/b.out" 2>"$T_TMP/b.err" &
drive=$!
sleep 1.5
"$PG" stop >/dev/null 2>&1
sleep 1.5
READMIT_DBNAME=predlog "$PG" start >/dev/null 2>&1
wait $drive
cat "$T_TMP/b.out"
check "some records spilled during the outage" test "$(val spilled "$T_TMP/b.out")" -gt 0
check_eq "spilled records replayed" "$(val spilled "$T_TMP/b.out")" "$(val replayed "$T_TMP/b.out")"
check_eq "logged + replayed = sent" 6000 $(( $(val logged "$T_TMP/b.out") + $(val replayed "$T_TMP/b.out") ))
check_eq "6000 rows, none lost" 6000 "$(sql 'SELECT count(*) FROM monitor.predictions')"
check_eq "none doubled" 6000 "$(sql 'SELECT count(DISTINCT encounter_id) FROM monitor.predictions')"
check_eq "spill files removed" "" "$(ls "$T_TMP/spill" 2>/dev/null)"

# 3. a replayed file replayed again stores nothing twice; an orphan spill file
# (its writer gone) is claimed by the next writer
sql 'TRUNCATE monitor.prediction_batches'
"$PG" stop >/dev/null 2>&1
"$DRIVE" "$conf" 500 0 >"$T_TMP/c.out" 2>/dev/null &
drive=$!
sleep 2
kill -9 $drive 2>/dev/null || true
wait $drive 2>/dev/null || true
check "a killed writer leaves its queue file" ls "$T_TMP"/spill/predlog-*.queue
cp "$T_TMP"/spill/predlog-*.queue "$T_TMP/spill/predlog-999999999-copy.replay"
READMIT_DBNAME=predlog "$PG" start >/dev/null 2>&1
"$DRIVE" "$conf" 0 0 >"$T_TMP/d.out"
check_eq "orphans replayed once (two copies of 500)" 500 "$(sql 'SELECT count(*) FROM monitor.predictions')"
check_eq "replayed count includes the copy" 1000 "$(val replayed "$T_TMP/d.out")"

# 4. sampling and the spill limit
sql 'TRUNCATE monitor.prediction_batches'
"$DRIVE" "$conf" 2000 0 monitor.log_fraction=0.25 >"$T_TMP/e.out"
n=$(sql 'SELECT count(*) FROM monitor.predictions')
check "about a quarter logged ($n)" test "$n" -gt 400 -a "$n" -lt 600
check_eq "sampled + logged = sent" 2000 $(( $(val sampled "$T_TMP/e.out") + n ))
"$PG" stop >/dev/null 2>&1
timeout 20 "$DRIVE" "$conf" 1000 0 monitor.spill_max_bytes=20000 >"$T_TMP/f.out" 2>"$T_TMP/f.err" || true
check "past the spill limit records are dropped and counted" test "$(val dropped "$T_TMP/f.out")" -gt 0
check_eq "spilled + dropped = sent" 1000 $(( $(val spilled "$T_TMP/f.out") + $(val dropped "$T_TMP/f.out") ))
check "the drop is logged" grep -q "dropping prediction records" "$T_TMP/f.err"

# 5. a record the database refuses for its data (an encounter id past
# bigint, spilled during an outage) is set aside with its reason, counted and
# logged once; the others are replayed
rm -rf "$T_TMP/spill"
READMIT_DBNAME=predlog "$PG" start >/dev/null 2>&1
sql 'TRUNCATE monitor.prediction_batches'
"$PG" stop >/dev/null 2>&1
PREDLOG_DRIVE_POISON=7 "$DRIVE" "$conf" 300 0 >"$T_TMP/g.out" 2>"$T_TMP/g.err" &
drive=$!
sleep 1
READMIT_DBNAME=predlog "$PG" start >/dev/null 2>&1
wait $drive
check_eq "all 300 spilled or set aside" 300 $(( $(val spilled "$T_TMP/g.out") + $(val set_aside "$T_TMP/g.out") ))
check_eq "one set aside" 1 "$(val set_aside "$T_TMP/g.out")"
check_eq "the others replayed" 299 "$(val replayed "$T_TMP/g.out")"
check_eq "299 rows stored" 299 "$(sql 'SELECT count(*) FROM monitor.predictions')"
check_eq "not the refused one" 0 "$(sql 'SELECT count(*) FROM monitor.predictions WHERE encounter_id = 7')"
check_eq "its file and its reason under spill/poison" 2 "$(ls "$T_TMP"/spill/poison | wc -l)"
check "the reason names the refusal" grep -q "out of range" "$T_TMP"/spill/poison/*.reason
check_eq "logged once" 1 "$(grep -c 'set aside' "$T_TMP/g.err")"
check_eq "no spill file left to replay" "" "$(ls "$T_TMP/spill" | grep -v '^poison$')"
"$DRIVE" "$conf" 0 0 >"$T_TMP/h.out" 2>"$T_TMP/h.err"
check_eq "a later writer sets nothing aside again" 0 "$(val set_aside "$T_TMP/h.out")"
check_eq "the set-aside file is kept as it was" 2 "$(ls "$T_TMP"/spill/poison | wc -l)"

# 6. batch requests: each record of a body is its own row, with its own input
# (the bytes it was sent as, white space between records left out) and fields
sql 'TRUNCATE monitor.prediction_batches'
PREDLOG_DRIVE_BATCH=50 "$DRIVE" "$conf" 2000 0 >"$T_TMP/i.out"
check_eq "batches: all records logged" 2000 "$(val logged "$T_TMP/i.out")"
check_eq "batches: a row per record" 2000 "$(sql 'SELECT count(DISTINCT encounter_id) FROM monitor.predictions')"
check_eq "batches: each row's input is its own record" 0 "$(sql "SELECT count(*) FROM monitor.predictions
    WHERE input->>'encounter_id' <> encounter_id::text OR (input->>'time_in_hospital')::int <> 1 + encounter_id % 14
       OR patient_nbr <> 1000 + encounter_id % 97 OR input->>'payer_code' <> 'M\"C'")"
check_eq "batches: items numbered within their request" "0:49:40" "$(sql 'SELECT min(item), max(item), count(DISTINCT request_id) FROM monitor.predictions' | tr '|' ':')"
check_eq "batches: an input as sent" '{"encounter_id": 2,"patient_nbr" : 1002, "age": "[70-80)", "time_in_hospital":3, "payer_code": "M\"C"}' \
    "$(sql "SELECT convert_from(substring(b.inputs FROM coalesce(b.input_end[u.k - 1], 0) + 1
                FOR b.input_end[u.k] - coalesce(b.input_end[u.k - 1], 0)), 'UTF8')
            FROM monitor.prediction_batches b, unnest(b.encounter_id) WITH ORDINALITY u(e, k) WHERE u.e = 2")"

# 6b. records of string and null values with the same keys are stored
# without their keys (migration 015), the others as sent; the view gives
# each as the jsonb of the record sent
sql 'TRUNCATE monitor.prediction_batches'
for i in $(seq 1 400); do
    case $((i % 8)) in
    2) echo "{\"encounter_id\": \"$i\"}" ;;                                                          # other keys
    3) echo "{\"encounter_id\":\"$i\",\"race\":\"Caucasian\",\"age\":\"[70-80)\",\"payer_code\":\"M\\\"C\"}" ;; # an escape
    4) echo "{\"encounter_id\":\"$i\",\"race\":\"Asian\",\"age\":\"[70-80)\",\"payer_code\":$i}" ;;        # a number
    *) echo "{\"encounter_id\":\"$i\",\"race\":$([ $((i % 3)) = 0 ] && echo null || echo '"Asian"'), \"age\" : \"[70-80)\",\"payer_code\":\"é $i\"}" ;;
    esac
done >"$T_TMP/bodies.jsonl"
PREDLOG_DRIVE_BODIES=$T_TMP/bodies.jsonl "$DRIVE" "$conf" 400 0 >"$T_TMP/k.out"
check_eq "keyless: all records logged" 400 "$(val logged "$T_TMP/k.out")"
sql "CREATE TABLE public.sent (line text)" >/dev/null
READMIT_DBNAME=predlog "$PG" psql -qc "\\copy public.sent FROM '$T_TMP/bodies.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
check_eq "keyless: each input the record sent" "400:0" "$(sql "SELECT count(*), count(*) FILTER (WHERE p.input IS DISTINCT FROM s.line::jsonb)
    FROM monitor.predictions p JOIN public.sent s ON (s.line::jsonb)->>'encounter_id' = p.encounter_id::text" | tr '|' ':')"
check_eq "keyless: the batches' keys" "{encounter_id,race,age,payer_code}" \
    "$(sql 'SELECT DISTINCT input_keys FROM monitor.prediction_batches')"
check_eq "keyless: stored without keys, the others as sent" "250:150" \
    "$(sql "SELECT count(*) FILTER (WHERE substring(s FOR 1) = '\\x1f'::bytea), count(*) FILTER (WHERE substring(s FOR 1) = '{')
            FROM monitor.prediction_batches b, unnest(b.input_end, array_prepend(0, b.input_end)) u(e, st),
                 substring(b.inputs FROM u.st + 1 FOR u.e - u.st) s" | tr '|' ':')"
sql "DROP TABLE public.sent" >/dev/null

# 6c. entries with the body's layout as the parser gave it (the pool's) and
# without one (earlier versions': the writer scans the body) are stored
# alike: each prediction's fields, stored input bytes and its batch's keys
for i in $(seq 1 400); do
    case $((i % 5)) in
    1) echo "{\"encounter_id\": \"$i\", \"patient_nbr\": $((1000 + i % 37))}" ;;
    2) echo "{\"encounter_id\":$i,\"race\":\"Asian\",\"age\":\"[70-80)\",\"payer_code\":$i}" ;;
    *) echo "{\"encounter_id\":\"$i\",\"race\":$([ $((i % 3)) = 0 ] && echo null || echo '"Asian"'), \"age\" : \"?\",\"gender\":\"\",\"payer_code\":\"MC $i\"}" ;;
    esac
done >"$T_TMP/plain.jsonl"
stored() {
    sql "SELECT count(*), md5(string_agg(concat_ws('|', p.e, b.patient_nbr[p.k], b.decision[p.k],
                 encode(substring(b.inputs FROM coalesce(b.input_end[p.k - 1], 0) + 1
                                  FOR b.input_end[p.k] - coalesce(b.input_end[p.k - 1], 0)), 'hex'),
                 b.input_keys::text, (monitor.log_group(b.race, b.group_values, b.group_codes, 1))[p.k],
                 (monitor.log_group(b.age, b.group_values, b.group_codes, 3))[p.k]), ',' ORDER BY p.e))
         FROM monitor.prediction_batches b, unnest(b.encounter_id) WITH ORDINALITY p(e, k)" | tr '|' ':'
}
for mode in layout scan; do
    sql 'TRUNCATE monitor.prediction_batches'
    if [ $mode = scan ]; then export PREDLOG_DRIVE_NO_LAYOUT=1; fi
    PREDLOG_DRIVE_BODIES=$T_TMP/plain.jsonl "$DRIVE" "$conf" 400 0 >"$T_TMP/l-$mode.out"
    unset PREDLOG_DRIVE_NO_LAYOUT
    check_eq "layout ($mode): all records logged" 400 "$(val logged "$T_TMP/l-$mode.out")"
    stored >"$T_TMP/l-$mode.rows"
done
check_eq "layout: 400 predictions stored" 400 "$(cut -d: -f1 "$T_TMP/l-layout.rows")"
check_eq "layout: stored as from a scan of the bodies" "$(cat "$T_TMP/l-scan.rows")" "$(cat "$T_TMP/l-layout.rows")"
check_eq "layout: the plain records stored without keys" 240 "$(sql "SELECT count(*) FILTER (WHERE substring(s FOR 1) = '\\x1f'::bytea)
            FROM monitor.prediction_batches b, unnest(b.input_end, array_prepend(0, b.input_end)) u(e, st),
                 substring(b.inputs FROM u.st + 1 FOR u.e - u.st) s")"

# 7. saturated batch traffic: records queued as fast as the driver can (far
# faster than the pool serves them), with one formatted batch at most waiting
# in memory: what the database cannot take at once waits in the queue file,
# in the live format, and is sent from there; every record is stored once
# and accounted for (bounded: 100,000 records)
sql 'TRUNCATE monitor.prediction_batches'
PREDLOG_DRIVE_PLAIN=1 PREDLOG_DRIVE_BATCH=100 "$DRIVE" "$conf" 100000 0 monitor.queue_memory_bytes=0 \
    >"$T_TMP/j.out" 2>"$T_TMP/j.err"
cat "$T_TMP/j.out"
check_eq "saturated: nothing dropped" 0 "$(val dropped "$T_TMP/j.out")"
check_eq "saturated: logged + replayed = sent" 100000 $(( $(val logged "$T_TMP/j.out") + $(val replayed "$T_TMP/j.out") ))
check_eq "saturated: spilled = replayed" "$(val spilled "$T_TMP/j.out")" "$(val replayed "$T_TMP/j.out")"
check_eq "saturated: 100000 rows" 100000 "$(sql 'SELECT count(*) FROM monitor.predictions')"
check_eq "saturated: none doubled" 100000 "$(sql 'SELECT count(DISTINCT encounter_id) FROM monitor.predictions')"
check_eq "saturated: no file left" "" "$(ls "$T_TMP/spill" | grep -v '^poison$')"
# the same with the smallest buffer: the serving side finds it full and
# spills entries as they are; the writer takes them into the queue file
sql 'TRUNCATE monitor.prediction_batches'
PREDLOG_DRIVE_PLAIN=1 PREDLOG_DRIVE_BATCH=100 "$DRIVE" "$conf" 100000 0 monitor.queue_memory_bytes=0 \
    monitor.buffer_bytes=65536 >"$T_TMP/k.out" 2>"$T_TMP/k.err"
cat "$T_TMP/k.out"
check_eq "buffer full: nothing dropped" 0 "$(val dropped "$T_TMP/k.out")"
check_eq "buffer full: logged + replayed = sent" 100000 $(( $(val logged "$T_TMP/k.out") + $(val replayed "$T_TMP/k.out") ))
check_eq "buffer full: 100000 rows, none doubled" "100000:100000" "$(sql 'SELECT count(*), count(DISTINCT encounter_id) FROM monitor.predictions' | tr '|' ':')"
check_eq "buffer full: no file left" "" "$(ls "$T_TMP/spill" | grep -v '^poison$')"
t_done
