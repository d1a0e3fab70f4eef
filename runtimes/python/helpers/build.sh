#!/bin/sh
# Build phase (runtimes spec 6.2): sh helpers/build.sh "<build command>"
# Prepares the build dir and venv, runs the build command there, packs code.tar.gz.
set -e

build_command="${1:-}"
helpers_dir="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}/helpers"

. "$helpers_dir/before-build.sh"
sh -c "$build_command"
. "$helpers_dir/after-build.sh"
