#!/bin/sh
# Sourced by start.sh: unpacks the artifact, loads .open-runtimes, enters the server dir.
# In pool mode (OPEN_RUNTIMES_POOL=1) there is no artifact yet: only the function dir is made.
set -e

echo "Preparing for start ..."

OPEN_RUNTIMES_FUNCTION_DIR="${OPEN_RUNTIMES_FUNCTION_DIR:-$OPEN_RUNTIMES_SERVER_DIR/src/function}"
export OPEN_RUNTIMES_FUNCTION_DIR

if [ "${OPEN_RUNTIMES_POOL:-}" = "1" ]; then
    # Pool mode: no function yet. The caller fills the function dir later and specializes the
    # running server, which then reads .open-runtimes itself.
    mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
else
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
fi

cd "$OPEN_RUNTIMES_SERVER_DIR"

echo "Starting ..."
