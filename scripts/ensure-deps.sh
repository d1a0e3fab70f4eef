#!/bin/sh
# Installs the Debian packages the project needs, when missing and running as root:
# bubblewrap (process sandbox), debootstrap (Debian roots and base images), docker.io,
# docker-compose, nginx and wrk (deployment and benchmarks). Without root it only says what is missing.
set -eu
missing=""
for pair in bwrap:bubblewrap debootstrap:debootstrap dockerd:docker.io docker-compose:docker-compose nginx:nginx-light wrk:wrk curl:curl; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "ensure-deps: installing$missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "ensure-deps: missing Debian packages:$missing (run as root, or install them)" >&2
fi
