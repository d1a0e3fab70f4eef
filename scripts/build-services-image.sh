#!/bin/sh
# Builds the services image (openruntimes/services:dev: proxy + executor) and the nginx image
# (openruntimes/nginx:dev) from the top-level Dockerfile, on the Debian base of the runtimes.
# pip inside the build trusts the host's CA bundle, copied into the context (public
# certificates only), so it works behind a TLS-intercepting proxy too.
set -eu
cd "$(dirname "$0")/.."
scripts/debian.sh image bookworm
mkdir -p build/docker
cp /etc/ssl/certs/ca-certificates.crt build/docker/ca-certificates.crt
echo "build-services-image: openruntimes/services:dev, openruntimes/nginx:dev" >&2
docker build -q --network host --target nginx -t openruntimes/nginx:dev . >/dev/null
docker build -q --network host -t openruntimes/services:dev . >/dev/null
