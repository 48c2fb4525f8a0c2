#!/bin/bash
# Write the secret files docker-compose.yml mounts: DIR/db_password (for the
# PostgreSQL container, uid 999) and DIR/pgpass (a libpq passfile for the
# pipeline and the pool, uid 65534), both mode 0600. The password is
# READMIT_DB_PASSWORD when set, else a new random one; it is never printed.
# Usage: scripts/compose-secrets.sh DIR   (as root, so the owners can be set)
set -euo pipefail
dir=${1:?usage: compose-secrets.sh DIR}
pw=${READMIT_DB_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}
case $pw in *:* | *\\*) echo "compose-secrets: the password may not contain ':' or '\\'" >&2; exit 2 ;; esac
mkdir -p "$dir"
umask 077
printf '%s\n' "$pw" >"$dir/db_password"
printf 'db:5432:readmit:readmit:%s\n' "$pw" >"$dir/pgpass"
if [ "$(id -u)" -eq 0 ]; then
    chown 999:999 "$dir/db_password"
    chown 65534:65534 "$dir/pgpass"
fi
echo "compose-secrets: wrote $dir/db_password and $dir/pgpass"
