#!/bin/sh
# Builds the function into code.tar.gz (runtimes spec 6.2), from the server dir:
#   sh helpers/build.sh "<build command>"        e.g. "npm install"
set -e
OPR_BUILD_COMMAND="${1-}"
OPR_HELPERS="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}/helpers"

. "$OPR_HELPERS/before-build.sh"
sh -c "$OPR_BUILD_COMMAND"
. "$OPR_HELPERS/after-build.sh"
