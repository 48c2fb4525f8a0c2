#!/bin/bash
# Make the base image debian:bookworm locally, from Debian's archive, when it
# is missing (no container registry is reachable from these machines):
# debootstrap a minimal bookworm, then `podman import` it. Every image of the
# project builds FROM debian:bookworm, so with Docker and a public registry
# the same Dockerfiles pull the official image instead.
# Environment: CONTAINERS_CONF (default deploy/containers/containers.conf),
#   READMIT_DEBIAN_MIRROR (default: the first URI of the host's apt sources).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$TOP/deploy/containers/containers.conf}
IMAGE=debian:bookworm

die() { echo "podman-base: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman not installed (apt-get install podman runc)"
if podman image exists "$IMAGE"; then
    echo "podman-base: $IMAGE present"
    exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
mirror=${READMIT_DEBIAN_MIRROR:-$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/readmit-bookworm.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "podman-base: debootstrap bookworm from $mirror (a few minutes)"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -n 20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed"; }
rm -f "$root.log"
# the same sources the official image has, and no caches in the image
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$mirror" "$mirror" >"$root/etc/apt/sources.list"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | podman import -q --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "podman-base: $IMAGE imported in $(( $(date +%s) - start ))s"
