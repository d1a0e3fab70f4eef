#!/bin/sh
# Debian trees for the runtimes, made offline-friendly with debootstrap.
#
#   scripts/debian.sh minbase SUITE   -> $OPR_CACHE/minbase-SUITE.tar (a debootstrap --variant=minbase tree)
#   scripts/debian.sh rootfs SUITE    -> $OPR_CACHE/rootfs/SUITE (minbase + every language's packages),
#                                        the read-only system the process sandbox runs runtimes on
#   scripts/debian.sh image SUITE     -> Docker image debian:SUITE-slim (pulled, or imported from minbase)
#
# Everything is cached and reused; a half-made tree is never left under its final name.
set -eu

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"  # CI may run without HOME
CACHE="${OPR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/open-runtimes}"
MIRROR="${OPR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The language packages of runtimes/runtimes.tsv, for both suites (generic names pick the version).
PACKAGES="bash ca-certificates nodejs npm python3 python3-venv php-cli composer unzip"

need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "debian.sh: building $1 needs root (debootstrap); run it once as root" >&2
        exit 1
    fi
}

minbase() {
    suite="$1"; tar="$CACHE/minbase-$suite.tar"
    [ -s "$tar" ] && return 0
    need_root "the $suite base"
    mkdir -p "$CACHE"
    tmp=$(mktemp -d "$CACHE/.minbase-$suite.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "debian.sh: debootstrap --variant=minbase $suite (about 30 s)" >&2
    debootstrap --variant=minbase "$suite" "$tmp/root" "$MIRROR" >"$tmp/log" 2>&1 || {
        tail -n 20 "$tmp/log" >&2; exit 1; }
    rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* 2>/dev/null || true
    tar -C "$tmp/root" --numeric-owner -cf "$tmp/minbase.tar" .
    mv "$tmp/minbase.tar" "$tar"
    rm -rf "$tmp"; trap - EXIT
}

rootfs() {
    suite="$1"; dest="$CACHE/rootfs/$suite"
    [ -f "$dest/.complete" ] && return 0
    minbase "$suite"
    need_root "the $suite rootfs"
    mkdir -p "$CACHE/rootfs"
    tmp=$(mktemp -d "$CACHE/rootfs/.$suite.XXXXXX")
    trap 'umount "$tmp/proc" 2>/dev/null || true; rm -rf "$tmp"' EXIT
    tar -C "$tmp" -xf "$CACHE/minbase-$suite.tar"
    cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
    mount -t proc proc "$tmp/proc"
    echo "debian.sh: installing runtime packages into the $suite rootfs (1-3 min)" >&2
    chroot "$tmp" sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
        apt-get install -y -qq --no-install-recommends $PACKAGES && apt-get clean && \
        rm -rf /var/lib/apt/lists/*" >"$CACHE/rootfs/$suite.log" 2>&1 || {
        tail -n 20 "$CACHE/rootfs/$suite.log" >&2; exit 1; }
    umount "$tmp/proc"
    # Mount points of the sandbox layout (executor spec, "runtime sandbox layout").
    mkdir -p "$tmp/mnt/code" "$tmp/mnt/logs" "$tmp/usr/local/server" "$tmp/usr/local/build"
    touch "$tmp/.complete"
    rm -rf "$dest"; mv "$tmp" "$dest"; trap - EXIT
}

image() {
    suite="$1"; tag="debian:$suite-slim"
    docker image inspect "$tag" >/dev/null 2>&1 && return 0
    if timeout 30 docker pull "$tag" >/dev/null 2>&1; then return 0; fi
    echo "debian.sh: cannot pull $tag; importing it from a local debootstrap" >&2
    minbase "$suite"
    docker import "$CACHE/minbase-$suite.tar" "$tag" >/dev/null
}

case "${1:-}" in
    minbase|rootfs|image) [ -n "${2:-}" ] || { echo "usage: $0 $1 SUITE" >&2; exit 2; }; "$1" "$2" ;;
    path) echo "$CACHE/rootfs/${2:?suite}" ;;
    *) echo "usage: $0 minbase|rootfs|image|path SUITE" >&2; exit 2 ;;
esac
