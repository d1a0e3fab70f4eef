#!/bin/sh
# Renders a complete nginx.conf around the site of deploy/nginx.conf (the proxy's nginx example,
# which is meant for an `http {}` block): render.sh SITE OUTPUT
#   OPR_NGINX_LISTEN    what nginx listens on (default 80; e.g. 127.0.0.1:8080)
#   OPR_NGINX_UPSTREAM  the proxies, comma-separated host:port (default proxy:80)
# It replaces the example's `listen 80;` and `server 127.0.0.1:8080;` lines. Paths (pid, temp
# files) are relative to nginx's prefix: run it with `nginx -p DIR/ -c OUTPUT`.
set -eu
site="$1"; output="$2"
listen="${OPR_NGINX_LISTEN:-80}"
servers=$(printf '%s' "${OPR_NGINX_UPSTREAM:-proxy:80}" | tr ',' '\n' \
    | sed -n 's/^ *\([^ ]\{1,\}\) *$/server \1;/p' | tr '\n' ' ')
for line in 'listen 80;' 'server 127.0.0.1:8080;'; do
    grep -q "^ *$line" "$site" || { echo "render.sh: '$line' not found in $site" >&2; exit 1; }
done
{
    cat <<CONF
# Rendered by deploy/nginx/render.sh from $site. Do not edit.
worker_processes auto;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path tmp-body;
    proxy_temp_path tmp-proxy;
    fastcgi_temp_path tmp-fastcgi;
    uwsgi_temp_path tmp-uwsgi;
    scgi_temp_path tmp-scgi;
CONF
    sed -e "s|^\( *\)listen 80;|\1listen $listen;|" -e "s|^\( *\)server 127\.0\.0\.1:8080;|\1$servers|" "$site"
    echo "}"
} >"$output"
