#!/usr/bin/env bash
# make status: what make up started, and whether it answers.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN="$PWD/.run"
[ -f .env ] && { set -a; . ./.env; set +a; }
for entry in proxy:9800:/v1/proxy/health executor-1:9900:/v1/health executor-2:9901:/v1/health; do
    IFS=: read -r name port path <<<"$entry"
    pid_file="$RUN/$name.pid"
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        answer=$(curl -s -m 2 -H "authorization: Bearer ${OPR_EXECUTOR_SECRET:-}" "http://127.0.0.1:$port$path" | head -c 300)
        printf '%-11s up    pid %-7s 127.0.0.1:%s  %s\n' "$name" "$(cat "$pid_file")" "$port" "$answer"
    else
        printf '%-11s down\n' "$name"
    fi
done
