#!/usr/bin/env bash
# make up: one proxy (127.0.0.1:9800) in front of two executors (127.0.0.1:9900, :9901).
#   MODE=process (default): gunicorn servers in the background, process adapter (runtimes in
#                           bubblewrap sandboxes). State in .run/ (pids, logs, storage, runtimes).
#   MODE=docker:            docker-compose.yml + docker-compose.host.yml (services image, docker
#                           adapter), see deploy/README.md.
# Secrets come from .env (made with random values on first run, never committed). Running it
# again while everything is up starts nothing new.
#
# Overridable (the end-to-end tests run a private copy on free ports):
#   OPR_UP_RUN_DIR (.run)  OPR_UP_ENV_FILE (.env)  OPR_UP_PROXY_PORT (9800)
#   OPR_UP_EXECUTOR_PORTS ("9900 9901")  OPR_UP_RUNTIME_PORTS (21000: first of the runtimes' ports)
#   OPR_UP_NAME (local: prefix of the executors' hostnames, hence of runtime names)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/up-settings.sh
exec 3>&2

write_env_file() {
    [ -f "$ENV_FILE" ] && return
    local proxy_secret executor_secret
    proxy_secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    executor_secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077; cat > "$ENV_FILE" <<ENV
# Made by 'make up' on $(date -u +%Y-%m-%dT%H:%M:%SZ). Never commit this file.
OPR_PROXY_SECRET=$proxy_secret
OPR_EXECUTOR_SECRET=$executor_secret
ENV
    )
    echo "up: wrote $ENV_FILE with fresh secrets"
}

declare -A STARTED=()  # executor index -> pid of its server (to notice one that exits at start)

start_executor() {  # index port
    local n="$1" port="$2" pid="$RUN/executor-$1.pid"
    if alive "$pid"; then
        echo "up: executor-$n already running (pid $(cat "$pid"))"; STARTED[$n]=$(cat "$pid"); return
    fi
    rm -f "$pid"  # stale (its process died, maybe not yet reaped): gunicorn would refuse to start
    local first=$((RUNTIME_PORTS + (n - 1) * 1000))
    # setsid: the server gets its own session, so 'make' or a closed terminal cannot signal it.
    OPR_EXECUTOR_BIND="127.0.0.1:$port" \
    OPR_EXECUTOR_HOSTNAME="$NAME-executor-$n" \
    OPR_EXECUTOR_ADAPTER=process \
    OPR_EXECUTOR_WORK_DIR="$RUN/executor-$n" \
    OPR_EXECUTOR_PORT_RANGE="$first-$((first + 999))" \
    OPR_EXECUTOR_CONNECTION_STORAGE="local://$RUN/storage" \
    OPR_EXECUTOR_SECRET="$OPR_EXECUTOR_SECRET" \
        setsid -w nohup .venv/bin/gunicorn -c deploy/gunicorn/executor.conf.py --pid "$pid" \
        'executor.app:create_app()' >"$RUN/executor-$n.log" 2>&1 </dev/null 3>&- &
    STARTED[$n]=$!
    echo "up: executor-$n starting on 127.0.0.1:$port"
}

start_proxy() {
    local pid="$RUN/proxy.pid" executors="" port
    if alive "$pid"; then echo "up: proxy already running (pid $(cat "$pid"))"; return; fi
    rm -f "$pid"
    for port in $EXECUTOR_PORTS; do executors="$executors${executors:+,}127.0.0.1:$port"; done
    OPR_PROXY_BIND="127.0.0.1:$PROXY_PORT" \
    OPR_PROXY_EXECUTORS="$executors" \
    OPR_PROXY_SECRET="$OPR_PROXY_SECRET" \
    OPR_PROXY_EXECUTOR_SECRET="$OPR_EXECUTOR_SECRET" \
    OPR_PROXY_HEALTHCHECK_INTERVAL=2000 \
    OPR_PROXY_WORKER_PER_CORE=1 \
        setsid nohup .venv/bin/gunicorn -c deploy/gunicorn/proxy.conf.py --pid "$pid" \
        'proxy.app:create_app()' >"$RUN/proxy.log" 2>&1 </dev/null 3>&- &
    echo "up: proxy starting on 127.0.0.1:$PROXY_PORT"
}

# Wait for a condition (a shell command) for up to 60 s; on time-out show the logs and fail.
wait_until() {  # description command...
    local what="$1"; shift
    local deadline=$((SECONDS + 60))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -gt $deadline ]; then
            echo "up: $what: not ready within 60 s; last log lines:" >&2
            if [ "$MODE" = docker ]; then compose logs --tail 20 >&2 || true
            else tail -n 20 "$RUN"/*.log >&2 2>/dev/null || true; fi
            exit 1
        fi
        sleep 0.3
    done
}

executor_healthy() {  # port [index: fail at once when that executor's process has exited]
    local pid="${STARTED[${2:-0}]:-}"
    if [ -n "$pid" ] && { ! kill -0 "$pid" || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; } 2>/dev/null; then
        # fd 3: the script's stderr (wait_until silences the checks' own output)
        echo "up: executor-$2 (:$1) exited; last log lines:" >&3
        tail -n 30 "$RUN/executor-$2.log" >&3 2>/dev/null || true
        exit 1
    fi
    curl -fsS -m 2 -H "authorization: Bearer $OPR_EXECUTOR_SECRET" "http://127.0.0.1:$1/v1/health" \
        | grep -q '"status": *"pass"'
}

# GET /v1/proxy/status answers 200 when every executor is online in the answering worker's view;
# three answers in a row so that each worker was most likely asked.
proxy_sees_all() {
    local n
    for n in 1 2 3; do
        curl -fsS -m 2 -o /dev/null -H "authorization: Bearer $OPR_PROXY_SECRET" \
            "http://127.0.0.1:$PROXY_PORT/v1/proxy/status" || return 1
    done
}

proxy_forwards() {
    curl -fsS -m 5 -o /dev/null -H "authorization: Bearer $OPR_PROXY_SECRET" \
        "http://127.0.0.1:$PROXY_PORT/v1/runtimes"
}

up_process() {
    mkdir -p "$RUN/storage/examples" "$RUN/storage/builds"
    local n=0 port
    for port in $EXECUTOR_PORTS; do n=$((n + 1)); start_executor "$n" "$port"; done
    n=0
    for port in $EXECUTOR_PORTS; do
        n=$((n + 1)); wait_until "executor on :$port" executor_healthy "$port" "$n"
    done
    # The proxy starts once the executors answer: its first health round (run before it serves)
    # then finds both online.
    start_proxy
    wait_until "the proxy reporting every executor online" proxy_sees_all
    wait_until "a request through the proxy" proxy_forwards
}

up_docker() {
    if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
        echo "up: installing Debian's docker-compose" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
    fi
    mkdir -p "$RUN/storage/examples" "$RUN/storage/builds" "$RUN/docker"
    scripts/build-services-image.sh 2>&1 | grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e '^ *$' >&2 || true
    local name
    for name in node-18.0 python-3.11 php-8.2; do
        docker image inspect "$(row "$name" 4)" >/dev/null 2>&1 || scripts/build-image.sh "$name" \
            || echo "up: could not build the image of $name; its example will not run" >&2
    done
    compose up -d
    local port
    for port in $EXECUTOR_PORTS; do wait_until "executor on :$port" executor_healthy "$port"; done
    wait_until "the proxy reporting every executor online" proxy_sees_all
    wait_until "a request through the proxy" proxy_forwards
    wait_until "nginx in front of the proxy" curl -fsS -m 2 "http://127.0.0.1:$NGINX_PORT/v1/proxy/health"
}

print_examples() {
    cat <<EOF
up: ready ($MODE). Proxy http://127.0.0.1:$PROXY_PORT -> executors on 127.0.0.1, ports $EXECUTOR_PORTS${NGINX_NOTE:-}
    logs: make logs     status: make status     stop: make down

Build the example of each language (artifact written to $RUN/storage/builds/) and run it:

  set -a; . $ENV_FILE; set +a
EOF
    local name lang image entrypoint build build_json
    for name in node-18.0 python-3.11 php-8.2; do
        lang=${name%%-*}; image=$(row "$name" 4); entrypoint=$(row "$name" 7); build=$(row "$name" 8)
        build_json=$(printf '%s' "tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh \"$build\"" \
            | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
        cat <<EOF

  # $lang: build (prints the artifact's path), then execute it through the proxy (cold, then warm)
  artifact=\$(curl -s http://127.0.0.1:$PROXY_PORT/v1/runtimes -H "authorization: Bearer \$OPR_PROXY_SECRET" \\
    -H 'content-type: application/json' -d '{"runtimeId": "build-$lang", "image": "$image",
    "source": "$RUN/storage/examples/$lang.tar.gz", "destination": "$RUN/storage/builds",
    "entrypoint": "$entrypoint", "remove": true, "command": $build_json}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])'); echo "\$artifact"
  curl -s http://127.0.0.1:$PROXY_PORT/v1/runtimes/hello-$lang/executions -H "authorization: Bearer \$OPR_PROXY_SECRET" \\
    -H 'x-opr-runtime-id: hello-$lang' -H 'content-type: application/json' \\
    -d '{"image": "$image", "source": "'"\$artifact"'", "entrypoint": "$entrypoint",
    "method": "POST", "body": "{\"id\": 7}", "headers": {"content-type": "application/json"}}'; echo
EOF
    done
}

write_env_file
set -a; . "$ENV_FILE"; set +a
case "$MODE" in
    process) up_process ;;
    docker) up_docker; NGINX_NOTE=" (nginx in front: http://127.0.0.1:$NGINX_PORT)" ;;
    *) echo "up: MODE must be process or docker, not '$MODE'" >&2; exit 2 ;;
esac
# The examples, packed as sources in the shared storage (what the printed commands build).
for lang in node python php; do
    [ -n "$(ls -A "runtimes/$lang/example" 2>/dev/null)" ] || continue
    tar -C "runtimes/$lang/example" -czf "$RUN/storage/examples/$lang.tar.gz" .
done
print_examples
