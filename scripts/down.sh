#!/usr/bin/env bash
# make down: stop what make up started (proxy, executors, and with them their runtimes).
# Same settings as up.sh (MODE, OPR_UP_*).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/up-settings.sh

stop_pid_file() {  # name
    local name="$1" pid_file="$RUN/$1.pid" pid
    [ -f "$pid_file" ] || return 0
    pid=$(cat "$pid_file")
    if alive "$pid_file"; then
        # SIGTERM: gunicorn stops its worker, and the executor's worker removes its runtimes.
        kill -TERM "$pid"
        for _ in $(seq 1 150); do alive "$pid_file" || break; sleep 0.1; done
        if alive "$pid_file"; then
            echo "down: $name did not stop in 15 s, killing it" >&2
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
        fi
        echo "down: stopped $name"
    fi
    rm -f "$pid_file"
}

# Safety net after a crash or a KILL: processes still running from this state directory (runtime
# sandboxes of the process adapter, whose command lines name their directory under $RUN).
stop_leftovers() {
    local pid pids=()
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" = "$$" ] && continue
        { tr "\0" " " <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$RUN/executor-" && pids+=("$pid")
    done
    [ ${#pids[@]} -eq 0 ] && return 0
    echo "down: stopping ${#pids[@]} leftover runtime process(es)"
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

# Runtime containers an executor left (labelled with its hostname), e.g. after a crash.
remove_runtime_containers() {
    local n=0 port ids
    for port in $EXECUTOR_PORTS; do
        n=$((n + 1))
        ids=$(docker ps -aq --filter "label=openruntimes-executor=$NAME-executor-$n" 2>/dev/null)
        [ -n "$ids" ] && { echo "down: removing runtime containers of $NAME-executor-$n"; docker rm -f $ids >/dev/null; }
    done
    return 0
}

case "$MODE" in
    process)
        stop_pid_file proxy
        n=0
        for port in $EXECUTOR_PORTS; do n=$((n + 1)); stop_pid_file "executor-$n"; done
        stop_leftovers
        ;;
    docker)
        [ -f "$ENV_FILE" ] || { echo "down: no $ENV_FILE: nothing was started"; exit 0; }
        compose down --remove-orphans --timeout 20
        remove_runtime_containers
        ;;
    *) echo "down: MODE must be process or docker, not '$MODE'" >&2; exit 2 ;;
esac
