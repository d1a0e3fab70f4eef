#!/usr/bin/env bash
# make up: one proxy (127.0.0.1:9800) in front of two executors (127.0.0.1:9900, :9901, process
# adapter), each a gunicorn server in the background. State lives in .run/ (pids, logs, storage,
# runtime dirs); secrets in .env (made with random values on first run, never committed).
# Running it again while everything is up starts nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="$PWD/.run"
mkdir -p "$RUN/storage/examples"

if [ ! -f .env ]; then
    umask 077
    cat > .env <<ENV
# Made by 'make up' on $(date -u +%Y-%m-%dT%H:%M:%SZ). Never commit this file.
OPR_PROXY_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
OPR_EXECUTOR_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
ENV
    umask 022
    echo "up: wrote .env with fresh secrets"
fi
set -a; . ./.env; set +a

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_executor() {  # index port
    local n="$1" port="$2" pid="$RUN/executor-$1.pid"
    if alive "$pid"; then echo "up: executor-$n already running (pid $(cat "$pid"))"; return; fi
    OPR_EXECUTOR_BIND="127.0.0.1:$port" \
    OPR_EXECUTOR_HOSTNAME="executor-$n" \
    OPR_EXECUTOR_ADAPTER=process \
    OPR_EXECUTOR_WORK_DIR="$RUN/executor-$n" \
    OPR_EXECUTOR_PORT_RANGE="$((21000 + n * 1000))-$((21999 + n * 1000))" \
    OPR_EXECUTOR_CONNECTION_STORAGE="local://$RUN/storage" \
    OPR_EXECUTOR_SECRET="$OPR_EXECUTOR_SECRET" \
        nohup .venv/bin/gunicorn -c deploy/gunicorn/executor.conf.py --pid "$pid" \
        'executor.app:create_app()' >"$RUN/executor-$n.log" 2>&1 &
    echo "up: executor-$n starting on 127.0.0.1:$port"
}

start_proxy() {
    local pid="$RUN/proxy.pid"
    if alive "$pid"; then echo "up: proxy already running (pid $(cat "$pid"))"; return; fi
    OPR_PROXY_BIND=127.0.0.1:9800 \
    OPR_PROXY_EXECUTORS=127.0.0.1:9900,127.0.0.1:9901 \
    OPR_PROXY_SECRET="$OPR_PROXY_SECRET" \
    OPR_PROXY_EXECUTOR_SECRET="$OPR_EXECUTOR_SECRET" \
    OPR_PROXY_HEALTHCHECK_INTERVAL=2000 \
    OPR_PROXY_WORKER_PER_CORE=1 \
        nohup .venv/bin/gunicorn -c deploy/gunicorn/proxy.conf.py --pid "$pid" \
        'proxy.app:create_app()' >"$RUN/proxy.log" 2>&1 &
    echo "up: proxy starting on 127.0.0.1:9800"
}

start_executor 1 9900
start_executor 2 9901
start_proxy

# Wait until the proxy serves and reports both executors online.
deadline=$((SECONDS + 60))
until curl -fsS -H "authorization: Bearer $OPR_PROXY_SECRET" http://127.0.0.1:9800/v1/proxy/status 2>/dev/null \
        | grep -q '"online": *2'; do
    if [ $SECONDS -gt $deadline ]; then
        echo "up: the proxy did not report both executors online within 60 s; logs:" >&2
        tail -n 20 "$RUN"/*.log >&2
        exit 1
    fi
    sleep 0.3
done

# The examples, packed as sources in the shared storage.
for lang in node python php; do
    tar -C "runtimes/$lang/example" -czf "$RUN/storage/examples/$lang.tar.gz" .
done

cat <<EOF2
up: ready. Proxy http://127.0.0.1:9800 -> executors 127.0.0.1:9900, 127.0.0.1:9901 (process adapter)
    logs: make logs     status: make status     stop: make down

Build the example of each language (artifact written to .run/storage/builds/) and run it:

  set -a; . ./.env; set +a
EOF2
row() { awk -F'\t' -v n="$1" '$1 == n' runtimes/runtimes.tsv | cut -f"$2"; }
for name in node-18.0 python-3.11 php-8.2; do
    lang=${name%%-*}; image=$(row "$name" 4); build=$(row "$name" 8)
    build_json=$(printf '%s' "tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh \"$build\"" \
        | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
    cat <<EOF2

  # $lang: build, then execute through the proxy (the first execution is a cold start)
  curl -s http://127.0.0.1:9800/v1/runtimes -H "authorization: Bearer \$OPR_PROXY_SECRET" \\
    -H 'content-type: application/json' -d '{"runtimeId": "build-$lang", "image": "$image",
    "source": "$RUN/storage/examples/$lang.tar.gz", "destination": "$RUN/storage/builds",
    "entrypoint": "$(row "$name" 7)", "remove": true, "command": $build_json}'
  # -> {"path": ".../builds/<id>.tar.gz", ...}; use that path as "source" below
  curl -s http://127.0.0.1:9800/v1/runtimes/hello-$lang/executions -H "authorization: Bearer \$OPR_PROXY_SECRET" \\
    -H 'x-opr-runtime-id: hello-$lang' -H 'content-type: application/json' \\
    -d '{"image": "$image", "source": "<path from the build>", "entrypoint": "$(row "$name" 7)",
    "method": "POST", "body": "{\"id\": 7}", "headers": {"content-type": "application/json"}}'
EOF2
done
