#!/bin/sh
# Makes sure a Docker engine answers. When none does and we are root, starts dockerd without
# a bridge or iptables (containers here use host networking), logging to .run/dockerd.log.
set -eu
docker info >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
    echo "ensure-docker: no Docker engine answers (Docker tests will be skipped)" >&2
    exit 0
fi
mkdir -p .run
echo "ensure-docker: starting dockerd" >&2
nohup dockerd --bridge=none --iptables=false >.run/dockerd.log 2>&1 &
i=0
until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then echo "ensure-docker: dockerd did not answer in 30 s" >&2; tail -n 20 .run/dockerd.log >&2; exit 1; fi
    sleep 0.5
done
