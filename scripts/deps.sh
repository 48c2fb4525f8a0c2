#!/bin/bash
# Install the Debian packages readmit needs when any is missing, and (as root)
# the unprivileged system user that runs the private PostgreSQL server.
set -euo pipefail

PACKAGES=(
    gcc make pkg-config
    libpq-dev libyaml-dev libjansson-dev libxml2-dev libarchive-dev libssl-dev
    libcunit1-dev libfcgi-dev libfcgi-bin
    postgresql postgresql-client
    nginx-light curl zip unzip time
    # tests and benchmarks: HTML checker, browser tests, load generator, leak checker, fuzzing
    libxml2-utils chromium chromium-driver wrk valgrind jq docker-compose clang libclang-rt-14-dev
)
# benchmark only (make bench-train runs the peer boosters when they are there):
# installed when possible, never a reason to fail
OPTIONAL=(python3-numpy python3-sklearn python3-xgboost)
PG_USER=readmit-pg

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
    cmd="apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "readmit: missing Debian packages: ${missing[*]}" >&2
        echo "readmit: run as root:  apt-get update && $cmd" >&2
        exit 1
    fi
    echo "readmit: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
    # the packaged server cluster is not used; keep it from holding resources
    if command -v pg_lsclusters >/dev/null && [ -d /etc/postgresql ]; then
        systemctl disable --now postgresql >/dev/null 2>&1 || true
    fi
fi

optional=()
for p in "${OPTIONAL[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || optional+=("$p")
done
if ((${#optional[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        for p in "${optional[@]}"; do
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$p" >/dev/null 2>&1 ||
                echo "readmit: optional package $p not installed (benchmark peers are skipped without it)" >&2
        done
    else
        echo "readmit: optional packages missing (benchmark peers only): ${optional[*]}" >&2
    fi
fi

if [ "$(id -u)" -eq 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
    echo "readmit: creating system user $PG_USER (runs the private PostgreSQL server)" >&2
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
fi
exit 0
