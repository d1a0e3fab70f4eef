#!/bin/sh
# Starts the server from code.tar.gz (runtimes spec 6.3), from the server dir:
#   sh helpers/start.sh "<start command>"        e.g. "node src/server.js"
set -e
OPR_START_COMMAND="${1-}"

. "${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}/helpers/before-start.sh"
# dash would linger as the server's parent; bash execs the command, so the server is this process.
exec bash -c "$OPR_START_COMMAND"
