#!/bin/sh
# Renders deploy/nginx/nginx.conf.template: render.sh TEMPLATE OUTPUT
#   OPR_NGINX_LISTEN    what nginx listens on (default 80; e.g. 127.0.0.1:8080)
#   OPR_NGINX_UPSTREAM  the proxies, comma-separated host:port (default proxy:80)
set -eu
OPR_NGINX_LISTEN="${OPR_NGINX_LISTEN:-80}"
OPR_NGINX_SERVERS=$(printf '%s' "${OPR_NGINX_UPSTREAM:-proxy:80}" | tr ',' '\n' \
    | sed -n 's/^ *\([^ ]\{1,\}\) *$/server \1;/p' | tr '\n' ' ')
export OPR_NGINX_LISTEN OPR_NGINX_SERVERS
envsubst '${OPR_NGINX_LISTEN} ${OPR_NGINX_SERVERS}' <"$1" >"$2"
