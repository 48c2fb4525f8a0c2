# pg-tcp.sh - a throwaway PostgreSQL server reached over TCP with password
# authentication (scram-sha-256), optionally with TLS, as an external
# production server would be. Sourced by scripts/demo-cluster.sh and the
# external-server test; never touches the private cluster under var/pg.
#
#   pgtcp_init DIR ADDR PORT PASSWORD_FILE [TLS_DIR]
#       initdb into DIR/data (superuser `readmit`, password from the file,
#       never on a command line), listen on ADDR:PORT, database `readmit`;
#       with TLS_DIR (server.crt, server.key): TLS only, no plain connections
#   pgtcp_start / pgtcp_stop / pgtcp_running; pgtcp_free_port
# PGTCP_EXEC: a command prefix the server runs under (e.g. "ip netns exec NS").
# As root the server runs as the unprivileged user readmit-pg (make deps).

PGTCP_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PGTCP_EXEC=${PGTCP_EXEC:-}

# A TCP port nothing listens on now, from a range above the usual ones.
pgtcp_free_port() {
    local p i
    for i in $(seq 50); do
        p=$((30000 + (RANDOM * 32768 + RANDOM) % 25000))
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
    done
    return 1
}

pgtcp_owner() { # command...: run as the cluster owner, inside PGTCP_EXEC
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && $PGTCP_EXEC runuser -u readmit-pg -- "$@")
    else
        (cd / && $PGTCP_EXEC "$@")
    fi
}

pgtcp_init() {
    PGTCP_DIR=$1 PGTCP_ADDR=$2 PGTCP_PORT=$3
    local pwfile=$4 tls=${5:-}
    [ -n "$PGTCP_BIN" ] || { echo "pg-tcp: PostgreSQL server binaries not found" >&2; return 1; }
    mkdir -p "$PGTCP_DIR/run"
    cp "$pwfile" "$PGTCP_DIR/pw"
    if [ "$(id -u)" -eq 0 ]; then chown -R readmit-pg "$PGTCP_DIR"; fi
    chmod 700 "$PGTCP_DIR"
    chmod 600 "$PGTCP_DIR/pw"
    pgtcp_owner "$PGTCP_BIN/initdb" -D "$PGTCP_DIR/data" -U readmit --pwfile="$PGTCP_DIR/pw" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        >"$PGTCP_DIR/initdb.log" 2>&1 || { cat "$PGTCP_DIR/initdb.log" >&2; return 1; }
    rm -f "$PGTCP_DIR/pw"
    local hba=host
    {
        echo "listen_addresses = '$PGTCP_ADDR'"
        echo "port = $PGTCP_PORT"
        echo "unix_socket_directories = '$PGTCP_DIR/run'"
        echo "password_encryption = 'scram-sha-256'"
        echo "fsync = off"
        echo "shared_buffers = 32MB"
        echo "log_connections = off"
    } >"$PGTCP_DIR/extra.conf"
    if [ -n "$tls" ]; then
        cp "$tls/server.crt" "$tls/server.key" "$PGTCP_DIR/"
        if [ "$(id -u)" -eq 0 ]; then chown readmit-pg "$PGTCP_DIR/server.crt" "$PGTCP_DIR/server.key"; fi
        chmod 600 "$PGTCP_DIR/server.key"
        {
            echo "ssl = on"
            echo "ssl_cert_file = '$PGTCP_DIR/server.crt'"
            echo "ssl_key_file = '$PGTCP_DIR/server.key'"
            echo "ssl_min_protocol_version = 'TLSv1.2'"
        } >>"$PGTCP_DIR/extra.conf"
        hba=hostssl
    fi
    {
        echo "local all all trust"
        echo "$hba all all 0.0.0.0/0 scram-sha-256"
        [ "$hba" = host ] || echo "hostnossl all all 0.0.0.0/0 reject"
    } >"$PGTCP_DIR/hba.conf"
    if [ "$(id -u)" -eq 0 ]; then chown readmit-pg "$PGTCP_DIR/extra.conf" "$PGTCP_DIR/hba.conf"; fi
    pgtcp_owner sh -c "cat '$PGTCP_DIR/extra.conf' >>'$PGTCP_DIR/data/postgresql.conf' &&
        cp '$PGTCP_DIR/hba.conf' '$PGTCP_DIR/data/pg_hba.conf'"
    pgtcp_start || return 1
    pgtcp_owner "$PGTCP_BIN/createdb" -h "$PGTCP_DIR/run" -p "$PGTCP_PORT" -U readmit readmit
}

pgtcp_running() {
    pgtcp_owner "$PGTCP_BIN/pg_isready" -q -h "$PGTCP_DIR/run" -p "$PGTCP_PORT" -U readmit
}

pgtcp_start() {
    pgtcp_owner "$PGTCP_BIN/pg_ctl" -D "$PGTCP_DIR/data" -l "$PGTCP_DIR/server.log" -w -t 60 start \
        >/dev/null || { tail -n 20 "$PGTCP_DIR/server.log" >&2; return 1; }
}

pgtcp_stop() {
    [ -n "${PGTCP_DIR:-}" ] && [ -f "$PGTCP_DIR/data/postmaster.pid" ] || return 0
    pgtcp_owner "$PGTCP_BIN/pg_ctl" -D "$PGTCP_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}
