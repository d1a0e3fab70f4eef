#!/usr/bin/env bash
# make down: stop what make up started (proxy, executors, and with them their runtimes).
set -uo pipefail
cd "$(dirname "$0")/.."
RUN="$PWD/.run"
for name in proxy executor-1 executor-2; do
    pid_file="$RUN/$name.pid"
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { echo "down: $name did not stop in 10 s, killing it" >&2; kill -KILL "$pid"; }
        echo "down: stopped $name"
    fi
    rm -f "$pid_file"
done
