#!/bin/sh
# Start phase (runtimes spec 6.3): sh helpers/start.sh "<start command>"
# Unpacks the artifact, then replaces itself with the start command (the server).
set -e

. "${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}/helpers/before-start.sh"

# dash would linger as the server's parent; bash execs the last simple command itself.
exec bash -c "$1"
