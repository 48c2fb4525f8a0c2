#!/bin/bash
# The project's private PostgreSQL cluster under var/pg (Unix socket only).
# Usage: scripts/pg.sh start|stop|status|psql [args]|url
# With DATABASE_URL or PGHOST set, an external server is used: start/stop do nothing.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
PGDIR=${READMIT_PGDIR:-$TOP/var/pg}
# var/pg may be a link to a directory the server user can reach (see start)
set_paths() {
    [ -L "$PGDIR" ] && PGDIR=$(readlink -f "$PGDIR")
    DATA=$PGDIR/data
    RUN=$PGDIR/run
    LOG=$PGDIR/server.log
}
set_paths
DBNAME=${READMIT_DBNAME:-readmit}
PG_USER=readmit-pg
BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

die() { echo "readmit db: $*" >&2; exit 1; }
external() { [ -n "${DATABASE_URL:-}" ] || [ -n "${PGHOST:-}" ]; }

[ -n "$BINDIR" ] || die "PostgreSQL server binaries not found (install: make deps)"

# Run a server command as the cluster owner (an unprivileged user when root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER missing: run make deps"
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

running() { [ -S "$RUN/.s.PGSQL.5432" ] && "$BINDIR/pg_isready" -q -h "$RUN" -d postgres -U readmit; }

start() {
    if external; then
        echo "readmit db: using external server (${DATABASE_URL:+DATABASE_URL}${PGHOST:+PGHOST=$PGHOST}); nothing to start"
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && [ ! -e "$PGDIR" ]; then
        # the server user must be able to reach var/pg; when a parent directory
        # of the checkout is not searchable (e.g. under /root), keep the cluster
        # in a root-owned directory outside and link var/pg to it.
        mkdir -p "$(dirname "$PGDIR")"
        if ! runuser -u "$PG_USER" -- test -x "$(dirname "$PGDIR")" 2>/dev/null; then
            alt=/var/lib/readmit/pg-$(printf '%s' "$PGDIR" | sha256sum | cut -c1-12)
            mkdir -p "$alt"
            ln -sfn "$alt" "$PGDIR"
            echo "readmit db: $PGDIR is not reachable by $PG_USER; cluster kept in $alt" >&2
            set_paths
        fi
    fi
    mkdir -p "$PGDIR"
    if [ "$(id -u)" -eq 0 ]; then
        # group readmit-pg may reach the socket directory (the serving pool's
        # user is a member); the data directory itself stays 0700
        chown "$PG_USER:$PG_USER" "$PGDIR/"
        chmod 0750 "$PGDIR/"
        runuser -u "$PG_USER" -- test -x "$PGDIR/" 2>/dev/null ||
            die "user $PG_USER cannot reach $PGDIR: set READMIT_PGDIR to a directory it can reach"
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        echo "readmit db: creating private cluster in $DATA" >&2
        as_owner "$BINDIR/initdb" -D "$DATA" -U readmit --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
        cat >>"$DATA/postgresql.conf" <<CONF
# readmit private cluster: Unix socket only
listen_addresses = ''
unix_socket_directories = '$RUN'
unix_socket_permissions = 0770
fsync = on
synchronous_commit = off
shared_buffers = 256MB
max_wal_size = 2GB
logging_collector = off
CONF
    fi
    as_owner mkdir -p "$RUN"
    if running; then
        :
    else
        # a stale pid file from a crashed server: postgres checks the pid itself,
        # but a pid reused by another process blocks start; remove it if the
        # process is not a postgres of this cluster.
        if [ -f "$DATA/postmaster.pid" ]; then
            pid=$(head -n 1 "$DATA/postmaster.pid")
            if ! kill -0 "$pid" 2>/dev/null || ! grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
                echo "readmit db: removing stale postmaster.pid (pid $pid)" >&2
                rm -f "$DATA/postmaster.pid"
            fi
        fi
        if [ -S "$RUN/.s.PGSQL.5432" ] && ! running; then
            rm -f "$RUN/.s.PGSQL.5432" "$RUN/.s.PGSQL.5432.lock"
        fi
        # wal_level=minimal: a table emptied or created in a transaction is
        # written without WAL (the clean stage's COPY into the clean.* it
        # truncated: about 15% of the server's CPU for that stage); the
        # private cluster has no replica or archive.
        # glibc malloc with fixed thresholds: a backend's large allocations
        # (a log batch row of about a megabyte and its arrays, per COPY row)
        # come from its heap and stay there when freed, instead of being
        # mapped and returned to the system each time (with the default
        # dynamic thresholds every batch touched fresh pages: about a quarter
        # of the backend's CPU for the live log's COPY went to page faults);
        # freed memory beyond 64 MB is still returned
        as_owner env MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864 \
            "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
            -o "-k $RUN -c wal_level=minimal -c max_wal_senders=0" start >/dev/null ||
            { tail -n 20 "$LOG" >&2; die "server failed to start (log: $LOG)"; }
    fi
    # the database
    if ! "$BINDIR/../bin/psql" -h "$RUN" -U readmit -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" 2>/dev/null | grep -q 1; then
        "$BINDIR/createdb" -h "$RUN" -U readmit "$DBNAME"
    fi
    echo "readmit db: running (socket $RUN, database $DBNAME)" >&2
}

stop() {
    if external; then return 0; fi
    if [ -f "$DATA/postmaster.pid" ]; then
        as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    echo "readmit db: stopped" >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) if external || running; then echo running; else echo stopped; exit 3; fi ;;
psql)
    shift
    if external; then
        url=${DATABASE_URL:-}
        # a URI's password goes to psql through the environment, never its command line (ps)
        if [[ $url =~ ^(postgres(ql)?://[^:/@]*):([^@/]*)@(.*)$ ]]; then
            PGPASSWORD=$(printf '%b' "${BASH_REMATCH[3]//%/\\x}")
            export PGPASSWORD
            url="${BASH_REMATCH[1]}@${BASH_REMATCH[4]}"
        fi
        exec psql "$url" "$@"
    fi
    exec "$BINDIR/psql" -h "$RUN" -U readmit -d "$DBNAME" "$@"
    ;;
*) echo "usage: $0 start|stop|status|psql [args]" >&2; exit 2 ;;
esac
