#!/usr/bin/env bash
# make logs: the last lines of each service's log. Same settings as up.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/up-settings.sh
case "$MODE" in
    docker) compose logs --tail 50 ;;
    *) ls "$RUN"/*.log >/dev/null 2>&1 || { echo "no logs in $RUN: run make up first"; exit 0; }
       tail -n 50 "$RUN"/*.log ;;
esac
