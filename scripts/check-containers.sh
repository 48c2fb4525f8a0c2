#!/bin/bash
# The container tier (make check-containers): build the images with podman
# (every one FROM debian:bookworm, made locally by scripts/podman-base.sh),
# bring the compose stack up (PostgreSQL, the pool, nginx published on
# 127.0.0.1 only), run the pipeline container on a synthetic file, get a
# prediction through the nginx container, tear everything down (containers,
# volumes, network); on the way, run the serving pod of deploy/k8s the way
# the manifests do (non-root, read-only root filesystem). Prints "containers: SKIPPED (reason)" and exits 0 when
# podman cannot run containers here; a failure past that point fails.
# Environment: CONTAINERS_CONF (default deploy/containers/containers.conf).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$TOP/deploy/containers/containers.conf}

skip() { echo "containers: SKIPPED ($*)"; exit 0; }
die() { echo "containers: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "rootful podman needs root"
command -v podman >/dev/null || skip "podman not installed (apt-get install podman podman-compose runc debootstrap)"
command -v podman-compose >/dev/null || skip "podman-compose not installed"
podman info >/dev/null 2>&1 || skip "podman does not work here: $(podman info 2>&1 | tail -n 1)"

t0=$(date +%s)
step() { echo "containers: [$(( $(date +%s) - t0 ))s] $*"; }
scripts/podman-base.sh
# a container that runs at all (runtime, cgroups, ulimits)
podman run --rm --network none debian:bookworm true >/dev/null 2>&1 ||
    skip "podman cannot start a container: $(podman run --rm --network none debian:bookworm true 2>&1 | tail -n 1)"

step "building images (host network for apt; layers cached between runs)"
blog=$(mktemp /tmp/readmit-build.XXXXXX)
podman build --network host -t readmit-postgres:15-bookworm -f docker/postgres/Dockerfile \
    docker/postgres >"$blog" 2>&1 || { tail -n 30 "$blog" >&2; rm -f "$blog"; die "building docker/postgres"; }
old=$(podman image inspect --format '{{.Id}}' readmit:0.1.0 2>/dev/null || true)
podman build --network host -t readmit:0.1.0 -f docker/Dockerfile . >"$blog" 2>&1 ||
    { tail -n 30 "$blog" >&2; rm -f "$blog"; die "building docker/Dockerfile"; }
rm -f "$blog"
# the image this build replaced (if any, and unused): not kept as a dangling layer
new=$(podman image inspect --format '{{.Id}}' readmit:0.1.0)
[ -z "$old" ] || [ "$old" = "$new" ] || podman image rm "$old" >/dev/null 2>&1 || true
# what the build context held: no host build outputs or state
podman run --rm --network none readmit:0.1.0 sh -c 'test ! -e var/state/ingest.ran && test ! -e data && test ! -e reports/index.html' ||
    die "the image carries host state (see .dockerignore)"
step "images built: $(podman image inspect --format '{{.Id}}' readmit:0.1.0 | cut -c1-12)"

P=readmit-ct$$
W=$(mktemp -d /tmp/readmit-containers.XXXXXX)
chmod 755 "$W"
PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export READMIT_SECRETS=$W/secrets
# a loopback port nothing listens on now, from a pid-derived start
READMIT_COMPOSE_PORT=$((20000 + $$ % 20000))
while ss -Htln "sport = :$READMIT_COMPOSE_PORT" 2>/dev/null | grep -q .; do
    READMIT_COMPOSE_PORT=$((READMIT_COMPOSE_PORT + 1))
done
export READMIT_COMPOSE_PORT
export READMIT_COMPOSE_DATA=$W/data READMIT_COMPOSE_SOURCE=data.csv
export READMIT_COMPOSE_CONF=conf/test.yaml
compose() { podman-compose -p "$P" "$@"; }
teardown() {
    local rc=$?
    [ -z "${PSPID:-}" ] || kill "$PSPID" 2>/dev/null || true
    podman rm -f "$P-pod-nginx" "$P-pod-pool" >/dev/null 2>&1 || true
    compose down -v >"$W/down.log" 2>&1 || true
    # whatever `down` left: containers, volumes and the network of this project only
    podman ps -a --filter "label=io.podman.compose.project=$P" -q | xargs -r podman rm -f >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=io.podman.compose.project=$P" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman network ls -q --filter "label=io.podman.compose.project=$P" | xargs -r podman network rm -f >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ]; then
        echo "containers: logs of the failed run:" >&2
        tail -n 30 "$W"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$W"
    return $rc
}
trap teardown EXIT
mkdir -p "$W/data"
READMIT_DB_PASSWORD=$PW scripts/compose-secrets.sh "$READMIT_SECRETS" >/dev/null
# the process table while the stack runs: the password must never be on a command line
( while :; do ps -eo args >>"$W/ps.log" 2>/dev/null; sleep 0.2; done ) &
PSPID=$!
build/readmit synth --rows 3000 --seed 11 >"$W/data/data.csv" 2>/dev/null ||
    podman run --rm --network none readmit:0.1.0 build/readmit synth --rows 3000 --seed 11 >"$W/data/data.csv"

ctr() { echo "${P}_$1_1"; }
healthy() { # service: run its health check until it passes (podman runs health checks
    # from systemd timers, which this machine may not have; so ask directly)
    local i
    for i in $(seq 90); do
        podman healthcheck run "$(ctr "$1")" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}
step "compose up: db, then fcgi when db is healthy, then nginx when fcgi is healthy"
compose up -d --no-build db >"$W/up-db.log" 2>&1 || die "db did not start"
healthy db || die "db never became healthy"
compose up -d --no-build --no-deps fcgi >"$W/up-fcgi.log" 2>&1 || die "fcgi did not start"
healthy fcgi || { podman logs "$(ctr fcgi)" >"$W/fcgi.log" 2>&1; die "fcgi never became healthy"; }
compose up -d --no-build --no-deps nginx >"$W/up-nginx.log" 2>&1 || die "nginx did not start"
healthy nginx || { podman logs "$(ctr nginx)" >"$W/nginx.log" 2>&1; die "nginx never became healthy"; }
URL=http://127.0.0.1:$READMIT_COMPOSE_PORT
code=$(curl -s -o "$W/ready.json" -w '%{http_code}' "$URL/readyz" || true)
step "stack up; before the pipeline /readyz says $code (no champion yet)"

step "pipeline container: make pipeline on a synthetic file"
compose run --rm --no-deps pipeline >"$W/pipeline.log" 2>&1 || die "the pipeline container failed"
grep -q 'report' "$W/pipeline.log" || die "the pipeline container did nothing (stale stamps in the image?)"
for _ in $(seq 100); do curl -sf "$URL/api/v1/model" >"$W/model.json" 2>/dev/null && break; sleep 0.2; done
version=$(jq -r .version "$W/model.json" 2>/dev/null || true)
[ -n "$version" ] && [ "$version" != null ] || die "the pool serves no champion after the pipeline"
awk -f nginx/bench/records.awk "$W/data/data.csv" >"$W/bodies.jsonl"
body=$(sed -n 1p "$W/bodies.jsonl")
code=$(curl -s -o "$W/pred.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$body" "$URL/api/v1/predict")
[ "$code" = 200 ] && grep -q '"probability"' "$W/pred.json" || die "prediction through nginx: HTTP $code $(head -c 200 "$W/pred.json")"
step "prediction through the nginx container on 127.0.0.1:$READMIT_COMPOSE_PORT: HTTP 200, model version $version, probability $(jq -r .probability "$W/pred.json")"
step "the Kubernetes pod shape (deploy/k8s/base/serving.yaml): pool + nginx sharing one network namespace, uid 65534, read-only root filesystem"
net=$(podman network ls --format '{{.Name}}' --filter "label=io.podman.compose.project=$P" | head -n 1)
PORT2=$((READMIT_COMPOSE_PORT + 1))
# one network namespace for both, as in a pod (podman's own pods need a pause
# image this machine cannot pull): nginx joins the pool's
POD_RUN=(podman run -d --read-only --user 65534:65534 --tmpfs /var/lib/readmit:mode=1777
    --tmpfs /tmp:mode=1777 -v "$TOP/conf/readmit.yaml:/etc/readmit/readmit.yaml:ro"
    -e READMIT_CONFIG=/etc/readmit/readmit.yaml -e READMIT_HOME=/var/lib/readmit)
"${POD_RUN[@]}" --name "$P-pod-pool" --network "$net" -p "127.0.0.1:$PORT2:8080" -v "$READMIT_SECRETS/pgpass:/run/secrets/pgpass:ro" \
    -e "READMIT_FCGI_OPTS=-o serve.fcgi_port=9000 -o serve.workers=2 -o report.dir=/var/lib/readmit/reports" \
    -e DATABASE_URL=postgresql://readmit@db:5432/readmit -e PGPASSFILE=/run/secrets/pgpass \
    readmit:0.1.0 scripts/serve.sh pool >/dev/null
"${POD_RUN[@]}" --name "$P-pod-nginx" --network "container:$P-pod-pool" -e READMIT_LISTEN=0.0.0.0:8080 -e READMIT_ACCESS_LOG=off \
    -e "READMIT_FCGI_OPTS=-o serve.fcgi_port=9000 -o report.dir=/var/lib/readmit/reports" \
    readmit:0.1.0 scripts/serve.sh nginx >/dev/null
code=000
for _ in $(seq 100); do
    code=$(curl -s -o "$W/pod-ready.json" -w '%{http_code}' "http://127.0.0.1:$PORT2/readyz" || true)
    [ "$code" = 200 ] && break
    sleep 0.2
done
podman logs "$P-pod-pool" >"$W/pod-pool.log" 2>&1 || true
podman logs "$P-pod-nginx" >"$W/pod-nginx.log" 2>&1 || true
[ "$code" = 200 ] || die "the pod shape: /readyz answers $code"
code=$(curl -s -o "$W/pod-pred.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$PORT2/api/v1/predict")
[ "$code" = 200 ] && grep -q '"probability"' "$W/pod-pred.json" || die "the pod shape: prediction HTTP $code"
step "the pod shape serves: /readyz 200, a prediction 200, with nothing written outside its tmpfs"
# the CronJob's container (deploy/k8s/base/pipeline-cronjob.yaml): make against the
# shared database, non-root, read-only root, state and reports on their own volumes
# (volumes owned by the pod's user, as a volume claim with fsGroup is)
mkdir -p "$W/cron-var" "$W/cron-reports"
chown 65534:65534 "$W/cron-var" "$W/cron-reports"
podman run --rm --read-only --user 65534:65534 --network "$net" -v "$W/cron-var:/app/var" \
    -v "$W/cron-reports:/app/reports" --tmpfs /tmp:mode=1777 -v "$W/data:/data:ro" \
    -v "$TOP/conf/test.yaml:/etc/readmit/readmit.yaml:ro" -v "$READMIT_SECRETS/pgpass:/run/secrets/pgpass:ro" \
    -e READMIT_CONFIG=/etc/readmit/readmit.yaml -e READMIT_DATA=/data/data.csv \
    -e DATABASE_URL=postgresql://readmit@db:5432/readmit -e PGPASSFILE=/run/secrets/pgpass \
    readmit:0.1.0 make --no-print-directory pipeline CONF=/etc/readmit/readmit.yaml DEPS_OK=/app/build/deps.ok \
    >"$W/cronjob.log" 2>&1 || die "the CronJob shape: make pipeline failed"
grep -q 'reports/index.html' "$W/cronjob.log" || die "the CronJob shape: no report written"
# every stage ran and finished: it touched its .ran when it started and wrote its
# .stamp when it succeeded, on the state volume that started empty
ran=
for s in $(sed -n 's/^STAGES := //p' pipeline.mk); do
    [ -e "$W/cron-var/state/$s.ran" ] && [ -s "$W/cron-var/state/$s.stamp" ] ||
        die "the CronJob shape: stage $s did not run (no var/state/$s.ran and $s.stamp)"
    ran="$ran $s"
done
[ -n "$ran" ] || die "the CronJob shape: no stages listed in pipeline.mk"
step "the CronJob shape runs make pipeline (non-root, read-only root): $(echo $ran | wc -w) stages ran:$ran"
kill "$PSPID" 2>/dev/null || true
PSPID=
compose logs >"$W/logs.log" 2>&1 || true
grep -q podman "$W/ps.log" || die "the process table was not sampled"
if grep -lF -- "$PW" "$W"/*.log "$W"/*.json 2>/dev/null; then die "the database password appears in the output above"; fi
step "the database password is in no output, container log or command line"

echo "containers: PASSED in $(( $(date +%s) - t0 ))s (images, compose up, pipeline, prediction, teardown)"
