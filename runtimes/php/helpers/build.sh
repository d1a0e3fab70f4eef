#!/bin/sh
# Builds the function: sh helpers/build.sh "<build command>" (runtimes spec 6.2).
set -e

OPEN_RUNTIMES_SERVER_DIR="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}"
OPEN_RUNTIMES_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPEN_RUNTIMES_BUILD_DIR="${OPEN_RUNTIMES_BUILD_DIR:-/usr/local/build}"
export OPEN_RUNTIMES_SERVER_DIR OPEN_RUNTIMES_CODE_DIR OPEN_RUNTIMES_BUILD_DIR

# Kept aside: the sourced helpers share this shell's variables.
open_runtimes_build_command="$1"

. "$OPEN_RUNTIMES_SERVER_DIR/helpers/before-build.sh"

sh -c "$open_runtimes_build_command"

. "$OPEN_RUNTIMES_SERVER_DIR/helpers/after-build.sh"
