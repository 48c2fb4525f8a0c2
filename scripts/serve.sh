#!/bin/bash
# Start and stop the serving stack: the readmit-fcgi worker pool and nginx in
# front of it, with nginx's config rendered from nginx/nginx.conf.in into
# var/nginx/ (pid, logs and temp files there too; never the system config).
#
# Usage: scripts/serve.sh start|stop|restart|status|reload|pool|nginx
#   start: the pool runs under a watchdog (this script's "watch" mode) that
#          restarts it when its supervisor dies, then nginx
#   reload: SIGHUP to the pool (re-read the champion / model file in every worker)
#   pool, nginx: run only that part in the foreground (containers: docker-compose.yml;
#          systemd: deploy/systemd/), restarted by what runs them
#
# Environment (all optional):
#   READMIT_CONFIG       config file (default conf/readmit.yaml)
#   READMIT_HOME         directory that holds var/ (default: the project root)
#   READMIT_HTTP_PORT    nginx port (default serve.http_port)
#   READMIT_LISTEN       nginx listen address (default 127.0.0.1:PORT)
#   READMIT_FCGI         readmit-fcgi binary (default build/readmit-fcgi)
#   READMIT_SERVE_USER   as root: the user the pool drops to after binding its
#                        socket (default serve.user, else readmit-serve, created
#                        when missing and given access to the private cluster)
#   READMIT_FCGI_OPTS    extra readmit-fcgi options ("--model FILE", "-o serve.workers=4", ...)
#   READMIT_KEEP_CONN    on|off: nginx keeps its connections to the pool open between
#                        requests (fastcgi_keep_conn + an upstream keepalive pool of
#                        READMIT_KEEPALIVE idle connections per nginx worker, default 64);
#                        default on. An idle kept connection holds no pool thread (the
#                        workers wait on all of theirs at once), so any number of threads
#                        serves them.
#   READMIT_ACCESS_LOG   a path or "off" (default var/nginx/access.log)
#   READMIT_API_ALLOW    addresses/networks allowed to reach the API and probes
#                        ("10.0.0.0/8 192.168.1.5"; default: everyone), others get 403
#   READMIT_METRICS_ALLOW the same for /metrics
#   READMIT_LIMIT_CONN   concurrent API requests per client address (default 256)
#   READMIT_NGINX_WORKERS nginx worker processes (default: 1 on up to 2 cores, else auto;
#                        measured: on 2 cores one nginx worker serves more at 128 connections)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=$(mkdir -p "${READMIT_HOME:-$TOP}" && cd "${READMIT_HOME:-$TOP}" && pwd)
VAR=$HOME_DIR/var
NGX=$VAR/nginx
RUN=$VAR/run
LOGDIR=$VAR/log
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
case $CONF in /*) ;; *) CONF=$TOP/$CONF ;; esac
FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
case $FCGI in /*) ;; *) FCGI=$TOP/$FCGI ;; esac
PGDIR=${READMIT_PGDIR:-$TOP/var/pg}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
POOL_PID=$RUN/readmit-fcgi.pid
WATCH_PID=$RUN/readmit-fcgi-watch.pid
NGINX_PID=$NGX/nginx.pid

die() { echo "readmit serve: $*" >&2; exit 1; }

# shellcheck disable=SC2206
EXTRA=(${READMIT_FCGI_OPTS:-})
FCGI_ARGS=(-c "$CONF" -o "db.socket_dir=$PGDIR/run")
# As root, nginx's workers run as nobody:nogroup (see render; also in the nginx
# container): the FastCGI socket is open to its owner and that group only,
# never to the world. Unprivileged, nginx runs as the same user: owner only.
[ "$(id -u)" -ne 0 ] || FCGI_ARGS+=(-o serve.socket_group=nogroup)
FCGI_ARGS+=("${EXTRA[@]}")

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

settings() {
    [ -x "$FCGI" ] || die "$FCGI not built (run: make build)"
    local out
    out=$(cd "$HOME_DIR" && "$FCGI" "${FCGI_ARGS[@]}" --print-config) || die "bad configuration"
    eval "$out"
    HTTP_PORT=${READMIT_HTTP_PORT:-$http_port}
    LISTEN=${READMIT_LISTEN:-127.0.0.1:$HTTP_PORT}
    case $socket in /*) ;; *) socket=$HOME_DIR/$socket ;; esac
    case $report_dir in /*) ;; *) report_dir=$TOP/$report_dir ;; esac
    if [ "$fcgi_port" -gt 0 ]; then FCGI_ADDR=127.0.0.1:$fcgi_port; else FCGI_ADDR=unix:$socket; fi
    [ "$(id -u)" -ne 0 ] || pool_user
}

# As root the pool binds its socket, then runs as an unprivileged user that
# owns only var/run and the model cache, and reaches the private cluster
# through its group.
pool_user() {
    local u=${READMIT_SERVE_USER:-${user:-readmit-serve}}
    if ! id "$u" >/dev/null 2>&1; then
        [ "$u" = readmit-serve ] || die "serve.user: no user '$u'"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
            die "cannot create user $u"
    fi
    if getent group readmit-pg >/dev/null && ! id -nG "$u" | grep -qw readmit-pg; then
        usermod -a -G readmit-pg "$u" || die "cannot add $u to group readmit-pg"
    fi
    local cache=${READMIT_MODEL_CACHE:-$HOME_DIR/var/models} spill=${spill_dir:-var/spill}
    case $spill in /*) ;; *) spill=$HOME_DIR/$spill ;; esac
    mkdir -p "$RUN" "$cache" "$spill"
    chown "$u" "$RUN" "$cache" "$spill"
    FCGI_ARGS+=(-o "serve.user=$u")
}

# "allow ADDR; ... deny all;" for a list of addresses/networks (spaces or
# commas), or nothing when the list is empty (everyone).
access_lines() { # variable-name list
    local a out=""
    for a in ${2//,/ }; do
        [[ $a =~ ^[0-9A-Fa-f:.]+(/[0-9]+)?$ ]] || die "$1: '$a' is not an address or network"
        out="$out allow $a;"
    done
    [ -z "$out" ] || out="$out deny all;"
    echo "$out"
}

# The benchmark ceilings (make bench-serve): nginx alone answering bodies the
# size and shape of one prediction and of a batch of 100. nginx reads a
# config token of at most 4 KB: the batch body is set in parts.
bench_static() {
    local one='"encounter_id":"12345","probability":0.123456,"decision":false,"threshold":0.5,"warnings":[]'
    local model='"model":{"name":"readmission","version":"1"}'
    printf "location = /bench/static {\n    default_type application/json;\n    return 200 '{%s,%s}\\n';\n}\n" "$model" "$one"
    printf 'location = /bench/static-batch {\n    default_type application/json;\n'
    local i part="" parts=0 all="" body="{$model,\"predictions\":[{$one}"
    for i in $(seq 99); do body="$body,{$one}"; done
    body="$body]}"
    while [ -n "$body" ]; do
        part=${body:0:3000}
        body=${body:3000}
        printf "    set \$bench_b%d '%s';\n" "$parts" "$part"
        all="$all\$bench_b$parts"
        parts=$((parts + 1))
    done
    printf '    return 200 "%s\\n";\n}\n' "$all"
}

render() {
    mkdir -p "$NGX/tmp" "$RUN" "$LOGDIR" "$report_dir"
    local api_access metrics_access
    api_access=$(access_lines READMIT_API_ALLOW "${READMIT_API_ALLOW:-}")
    metrics_access=$(access_lines READMIT_METRICS_ALLOW "${READMIT_METRICS_ALLOW:-}")
    local user_line="" keep=${READMIT_KEEP_CONN:-on} ka=${READMIT_KEEPALIVE:-64}
    case $keep in on | off) ;; *) die "READMIT_KEEP_CONN: '$keep' is not on or off" ;; esac
    [[ $ka =~ ^[1-9][0-9]*$ ]] || die "READMIT_KEEPALIVE: '$ka' is not a positive number"
    if [ "$(id -u)" -eq 0 ]; then
        # the master needs root for nothing here; workers drop to nobody when
        # nobody can reach the checkout (not so under a private home directory)
        if runuser -u nobody -- test -r "$TOP/nginx/ui/index.html" 2>/dev/null &&
            runuser -u nobody -- test -x "$RUN" 2>/dev/null; then
            user_line="user nobody nogroup;"
            chown -R nobody "$NGX/tmp"
        else
            echo "readmit serve: nobody cannot reach $TOP; nginx workers run as root" >&2
            user_line="user root root;"
        fi
    fi
    local access=${READMIT_ACCESS_LOG:-$NGX/access.log}
    [ "$access" = off ] || access="$access combined"
    bench_static >"$NGX/bench.conf.tmp"
    sed -e "s|@USER_LINE@|$user_line|" \
        -e "s|@NGINX_WORKERS@|${READMIT_NGINX_WORKERS:-$(if [ "$(nproc)" -le 2 ]; then echo 1; else echo auto; fi)}|" \
        -e "s|@NGINX_DIR@|$NGX|g" \
        -e "s|@ACCESS_LOG@|$access|" \
        -e "s|@MAX_BODY@|$max_body_bytes|g" \
        -e "s|@FCGI_ADDR@|$FCGI_ADDR|" \
        -e "s|@UPSTREAM_KEEPALIVE@|$ka|" \
        -e "s|@KEEP_CONN@|$keep|" \
        -e "s|@LISTEN@|$LISTEN|" \
        -e "s|@UI_DIR@|$TOP/nginx/ui|" \
        -e "s|@REPORTS_DIR@|$report_dir|" \
        -e "s|@NGINX_CONF_DIR@|$TOP/nginx|g" \
        -e "s|@API_ACCESS@|$api_access|" \
        -e "s|@METRICS_ACCESS@|$metrics_access|" \
        -e "s|@LIMIT_CONN@|${READMIT_LIMIT_CONN:-256}|" \
        "$TOP/nginx/nginx.conf.in" >"$NGX/nginx.conf.tmp"
    sed -e "s|@KEEP_CONN@|$keep|" "$TOP/nginx/fastcgi.conf.in" >"$NGX/fastcgi.conf"
    mv "$NGX/bench.conf.tmp" "$NGX/bench.conf"
    mv "$NGX/nginx.conf.tmp" "$NGX/nginx.conf"
    "$NGINX" -t -q -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" || die "nginx rejects $NGX/nginx.conf"
}

start_pool() {
    if alive "$POOL_PID" || alive "$WATCH_PID"; then
        echo "readmit serve: pool already running (pid $(cat "$POOL_PID" 2>/dev/null))"
        return 0
    fi
    [ "$fcgi_port" -gt 0 ] || rm -f "$socket"
    rm -f "$POOL_PID"
    (cd "$HOME_DIR" && exec setsid "$0" watch </dev/null >>"$LOGDIR/readmit-fcgi.log" 2>&1) &
    local i
    for i in $(seq 100); do
        if [ "$fcgi_port" -gt 0 ]; then
            alive "$POOL_PID" && break
        else
            [ -S "$socket" ] && alive "$POOL_PID" && break
        fi
        sleep 0.05
    done
    alive "$POOL_PID" || { tail -n 20 "$LOGDIR/readmit-fcgi.log" >&2; die "readmit-fcgi did not start"; }
}

start_nginx() {
    if alive "$NGINX_PID"; then
        "$NGINX" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -s reload
        return 0
    fi
    "$NGINX" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" || die "nginx did not start (see $NGX/error.log)"
}

stop_pid() { # pidfile name
    alive "$1" || { rm -f "$1"; return 0; }
    local pid i
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 400); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
        sleep 0.05
    done
    echo "readmit serve: $2 (pid $pid) did not stop; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1"
}

# The watchdog: run the pool, restart it when it exits without being asked
# to (its supervisor killed, a crash).
watch() {
    local child="" stopping="" delay=0 started rc
    echo $$ >"$WATCH_PID"
    trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT
    trap '' HUP
    while [ -z "$stopping" ]; do
        started=$SECONDS
        "$FCGI" "${FCGI_ARGS[@]}" --pidfile "$POOL_PID" &
        child=$!
        rc=0
        # wait returns early on a trapped signal: wait again until the pool is gone
        while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
        child=""
        [ -z "$stopping" ] || break
        # at once after a pool that ran for a while; 0.1 s doubling up to 5 s
        # while it keeps dying within 10 s of its start
        if [ $((SECONDS - started)) -ge 10 ]; then
            delay=0
        else
            delay=$(awk -v d="$delay" 'BEGIN {d = d ? 2 * d : 0.1; print (d > 5 ? 5 : d)}')
        fi
        echo "readmit serve: watchdog: the pool exited (status $rc); restarting in ${delay}s" >&2
        sleep "$delay"
    done
    rm -f "$WATCH_PID"
}

status() {
    local rc=0
    if alive "$POOL_PID"; then echo "pool:  running (pid $(cat "$POOL_PID"))"; else echo "pool:  stopped"; rc=3; fi
    if alive "$NGINX_PID"; then echo "nginx: running (pid $(cat "$NGINX_PID")) on http://$LISTEN/"; else echo "nginx: stopped"; rc=3; fi
    return $rc
}

cmd=${1:-}
case $cmd in
start)
    settings
    render
    start_pool
    start_nginx
    echo "readmit serve: http://$LISTEN/  (pool: $FCGI_ADDR; logs: $LOGDIR/readmit-fcgi.log, $NGX/error.log)"
    ;;
stop)
    stop_pid "$NGINX_PID" nginx
    stop_pid "$WATCH_PID" "readmit-fcgi watchdog"
    stop_pid "$POOL_PID" readmit-fcgi
    echo "readmit serve: stopped"
    ;;
restart)
    "$0" stop
    exec "$0" start
    ;;
reload)
    alive "$POOL_PID" || die "pool not running"
    kill -HUP "$(cat "$POOL_PID")"
    echo "readmit serve: pool reloading the model"
    ;;
status)
    settings
    status
    ;;
watch)
    settings
    watch
    ;;
pool)
    settings
    mkdir -p "$RUN"
    cd "$HOME_DIR"
    exec "$FCGI" "${FCGI_ARGS[@]}" --pidfile "$POOL_PID"
    ;;
nginx)
    settings
    render
    exec "$NGINX" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;'
    ;;
*)
    echo "usage: scripts/serve.sh start|stop|restart|status|reload|pool|nginx" >&2
    exit 2
    ;;
esac
