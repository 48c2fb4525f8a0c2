#!/bin/bash
# Start and stop the serving stack: the readmit-fcgi worker pool and nginx in
# front of it, with nginx's config rendered from nginx/nginx.conf.in into
# var/nginx/ (pid, logs and temp files there too; never the system config).
#
# Usage: scripts/serve.sh start|stop|restart|status|reload|pool|nginx
#   reload: SIGHUP to the pool (re-read the champion / model file in every worker)
#   pool, nginx: run only that part in the foreground (containers: docker-compose.yml)
#
# Environment (all optional):
#   READMIT_CONFIG       config file (default conf/readmit.yaml)
#   READMIT_HOME         directory that holds var/ (default: the project root)
#   READMIT_HTTP_PORT    nginx port (default serve.http_port)
#   READMIT_LISTEN       nginx listen address (default 127.0.0.1:PORT)
#   READMIT_FCGI         readmit-fcgi binary (default build/readmit-fcgi)
#   READMIT_FCGI_OPTS    extra readmit-fcgi options ("--model FILE", "-o serve.workers=4", ...)
#   READMIT_KEEP_CONN    on|off: fastcgi_keep_conn + upstream keepalive (default off)
#   READMIT_ACCESS_LOG   a path or "off" (default var/nginx/access.log)
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
}

render() {
    mkdir -p "$NGX/tmp" "$RUN" "$LOGDIR" "$report_dir"
    local user_line="" keep=${READMIT_KEEP_CONN:-off} ka=16
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
    # a body the size and shape of one prediction, for the nginx-only ceiling
    local static='{"model":{"name":"readmission","version":"1"},"encounter_id":"12345","probability":0.123456,"decision":false,"threshold":0.5,"warnings":[]}\\n'
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
        -e "s|@STATIC_BODY@|$static|" \
        "$TOP/nginx/nginx.conf.in" >"$NGX/nginx.conf.tmp"
    mv "$NGX/nginx.conf.tmp" "$NGX/nginx.conf"
    "$NGINX" -t -q -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" || die "nginx rejects $NGX/nginx.conf"
}

start_pool() {
    if alive "$POOL_PID"; then
        echo "readmit serve: pool already running (pid $(cat "$POOL_PID"))"
        return 0
    fi
    [ "$fcgi_port" -gt 0 ] || rm -f "$socket"
    (cd "$HOME_DIR" && exec setsid "$FCGI" "${FCGI_ARGS[@]}" --pidfile "$POOL_PID" \
        </dev/null >>"$LOGDIR/readmit-fcgi.log" 2>&1) &
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
