#!/usr/bin/env bash
# make status: what make up started, and whether it answers. Same settings as up.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/up-settings.sh
[ -f "$ENV_FILE" ] && { set -a; . "$ENV_FILE"; set +a; }

if [ "$MODE" = docker ]; then
    compose ps
    echo
fi
# One line of an executor's /v1/health answer: status, adapter, usage and its runtimes.
summary() {
    python3 -c 'import json, sys
h = json.load(sys.stdin)
ids = sorted(h.get("runtimes") or {})
shown = " ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")
print(("%s adapter=%s usage=%s runtimes=%d %s" % (h.get("status"), h.get("adapter"), h.get("usage"), len(ids), shown)).rstrip())' 2>/dev/null || echo "(unreadable health answer)"
}

entries="proxy:$PROXY_PORT:/v1/proxy/health"
n=0
for port in $EXECUTOR_PORTS; do n=$((n + 1)); entries="$entries executor-$n:$port:/v1/health"; done
for entry in $entries; do
    IFS=: read -r name port path <<<"$entry"
    pid_file="$RUN/$name.pid"
    pid="-"
    if [ "$MODE" = process ]; then
        alive "$pid_file" || { printf '%-11s down\n' "$name"; continue; }
        pid=$(cat "$pid_file")
    fi
    auth=()
    [ "$name" != proxy ] && auth=(-H "authorization: Bearer ${OPR_EXECUTOR_SECRET:-}")
    if answer=$(curl -fsS -m 2 "${auth[@]}" "http://127.0.0.1:$port$path" 2>&1); then
        [ "$name" != proxy ] && answer=$(summary <<<"$answer")
        printf '%-11s up    pid %-7s 127.0.0.1:%-5s %s\n' "$name" "$pid" "$port" "$answer"
    else
        printf '%-11s not answering  pid %-7s 127.0.0.1:%-5s %s\n' "$name" "$pid" "$port" "$answer"
    fi
done
