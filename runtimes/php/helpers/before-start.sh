#!/bin/sh
# Sourced by start.sh: unpacks the artifact, loads .open-runtimes, enters the server dir.
set -e

echo "Preparing for start ..."

OPEN_RUNTIMES_FUNCTION_DIR="${OPEN_RUNTIMES_FUNCTION_DIR:-$OPEN_RUNTIMES_SERVER_DIR/src/function}"
export OPEN_RUNTIMES_FUNCTION_DIR

if [ ! -r "$OPEN_RUNTIMES_CODE_DIR/code.tar.gz" ]; then
    echo "No readable build artifact at $OPEN_RUNTIMES_CODE_DIR/code.tar.gz; build the function first." >&2
    exit 1
fi

mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
tar -xzf "$OPEN_RUNTIMES_CODE_DIR/code.tar.gz" -C "$OPEN_RUNTIMES_FUNCTION_DIR"

if [ ! -f "$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes" ]; then
    echo "The artifact has no .open-runtimes file; rebuild it with helpers/build.sh." >&2
    exit 1
fi
# The build-time entrypoint wins over the environment.
set -a
. "$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes"
set +a

cd "$OPEN_RUNTIMES_SERVER_DIR"

echo "Starting ..."
