#!/bin/sh
# Sourced by start.sh: unpacks code.tar.gz into the function dir, loads .open-runtimes, enters the server dir.
# In pool mode (OPEN_RUNTIMES_POOL=1) there is no artifact yet: only the function dir is made, and
# the server reads .open-runtimes itself when it is specialized.
set -e
echo "Preparing for start ..."

OPR_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPR_SERVER_DIR="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}"
OPEN_RUNTIMES_FUNCTION_DIR="${OPEN_RUNTIMES_FUNCTION_DIR:-$OPR_SERVER_DIR/src/function}"

if [ "${OPEN_RUNTIMES_POOL-}" = "1" ]; then
    mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
    OPEN_RUNTIMES_FUNCTION_DIR="$(cd "$OPEN_RUNTIMES_FUNCTION_DIR" && pwd)"
    export OPEN_RUNTIMES_FUNCTION_DIR
    cd "$OPR_SERVER_DIR"
    echo "Starting ..."
    return 0
fi

if [ ! -f "$OPR_CODE_DIR/code.tar.gz" ]; then
    echo "Build artifact $OPR_CODE_DIR/code.tar.gz is missing: build the function first." >&2
    exit 1
fi
mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
# Absolute, so the server finds it from its own working directory.
OPEN_RUNTIMES_FUNCTION_DIR="$(cd "$OPEN_RUNTIMES_FUNCTION_DIR" && pwd)"
export OPEN_RUNTIMES_FUNCTION_DIR
if ! tar -xzf "$OPR_CODE_DIR/code.tar.gz" --no-same-owner -C "$OPEN_RUNTIMES_FUNCTION_DIR"; then
    echo "Build artifact $OPR_CODE_DIR/code.tar.gz cannot be unpacked." >&2
    exit 1
fi

if [ ! -f "$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes" ]; then
    echo "$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes is missing: the artifact was not made by build.sh." >&2
    exit 1
fi
# The entrypoint recorded at build time wins over the environment.
set -a
. "$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes"
set +a

cd "$OPR_SERVER_DIR"
echo "Starting ..."
