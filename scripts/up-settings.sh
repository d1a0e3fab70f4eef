# Settings shared by scripts/up.sh, down.sh, status.sh and logs.sh (sourced, run from the
# repository root). See up.sh for what each variable means.
MODE="${MODE:-process}"
RUN="$(mkdir -p "${OPR_UP_RUN_DIR:-.run}" && cd "${OPR_UP_RUN_DIR:-.run}" && pwd)"
ENV_FILE="$(cd "$(dirname "${OPR_UP_ENV_FILE:-.env}")" && pwd)/$(basename "${OPR_UP_ENV_FILE:-.env}")"
PROXY_PORT="${OPR_UP_PROXY_PORT:-9800}"
EXECUTOR_PORTS="${OPR_UP_EXECUTOR_PORTS:-9900 9901}"
RUNTIME_PORTS="${OPR_UP_RUNTIME_PORTS:-21000}"
NAME="${OPR_UP_NAME:-local}"
NGINX_PORT="${OPR_UP_NGINX_PORT:-9880}"   # MODE=docker: nginx in front of the proxy
# The compose project name: tests use their own, so they never touch yours.
COMPOSE_PROJECT="${OPR_UP_COMPOSE_PROJECT:-openruntimes}"

# A pid file whose process runs (a zombie, killed but not yet reaped, counts as stopped).
alive() {
    [ -f "$1" ] || return 1
    local pid; pid=$(cat "$1")
    kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

row() { awk -F'\t' -v n="$1" '$1 == n' runtimes/runtimes.tsv | cut -f"$2"; }

# 'docker compose' (plugin) or Debian's 'docker-compose', whichever is installed.
compose() {
    local files=(-f docker-compose.yml -f docker-compose.host.yml)
    local env=(OPR_RUN_DIR="$RUN" OPR_ENV_FILE="$ENV_FILE" OPR_PROXY_PORT="$PROXY_PORT"
               OPR_EXECUTOR1_PORT="${EXECUTOR_PORTS%% *}" OPR_EXECUTOR2_PORT="${EXECUTOR_PORTS##* }"
               OPR_EXECUTOR1_RUNTIME_PORTS="$RUNTIME_PORTS-$((RUNTIME_PORTS + 999))"
               OPR_EXECUTOR2_RUNTIME_PORTS="$((RUNTIME_PORTS + 1000))-$((RUNTIME_PORTS + 1999))"
               OPR_NGINX_PORT="$NGINX_PORT" OPR_NAME="$NAME")
    if docker compose version >/dev/null 2>&1; then
        env "${env[@]}" docker compose -p "$COMPOSE_PROJECT" --env-file "$ENV_FILE" "${files[@]}" "$@"
    elif command -v docker-compose >/dev/null; then
        env "${env[@]}" docker-compose -p "$COMPOSE_PROJECT" --env-file "$ENV_FILE" "${files[@]}" "$@"
    else
        echo "up: neither 'docker compose' nor 'docker-compose' is installed (apt-get install docker-compose)" >&2
        return 1
    fi
}
