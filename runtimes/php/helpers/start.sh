#!/bin/sh
# Starts the server: sh helpers/start.sh "<start command>" (runtimes spec 6.3).
set -e

OPEN_RUNTIMES_SERVER_DIR="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}"
OPEN_RUNTIMES_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
export OPEN_RUNTIMES_SERVER_DIR OPEN_RUNTIMES_CODE_DIR

# Kept aside: the sourced helpers share this shell's variables.
open_runtimes_start_command="$1"

. "$OPEN_RUNTIMES_SERVER_DIR/helpers/before-start.sh"

# bash execs the last simple command of -c, so the server replaces this shell (dash would not).
exec bash -c "$open_runtimes_start_command"
