#!/bin/sh
# Sourced by start.sh: unpacks the artifact into the function dir, exports the build-time
# settings and activates the function's venv (runtimes spec 6.3, step 2).
set -e

echo "Preparing for start ..."

OPEN_RUNTIMES_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPEN_RUNTIMES_SERVER_DIR="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}"
OPEN_RUNTIMES_FUNCTION_DIR="${OPEN_RUNTIMES_FUNCTION_DIR:-$OPEN_RUNTIMES_SERVER_DIR/src/function}"
export OPEN_RUNTIMES_FUNCTION_DIR

# Pool mode (extension): no function yet. The server waits for the specialization request,
# then reads .open-runtimes and activates the venv itself from the function dir, filled by then.
if [ "${OPEN_RUNTIMES_POOL:-}" = "1" ]; then
    mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
    cd "$OPEN_RUNTIMES_SERVER_DIR"
    echo "Starting ..."
    return 0
fi

archive="$OPEN_RUNTIMES_CODE_DIR/code.tar.gz"
if [ ! -f "$archive" ] || [ ! -r "$archive" ]; then
    echo "Start failed: $archive is missing or unreadable. Build the function first." >&2
    exit 1
fi
mkdir -p "$OPEN_RUNTIMES_FUNCTION_DIR"
if ! tar -xzf "$archive" -C "$OPEN_RUNTIMES_FUNCTION_DIR"; then
    echo "Start failed: could not extract $archive." >&2
    exit 1
fi

marker="$OPEN_RUNTIMES_FUNCTION_DIR/.open-runtimes"
if [ ! -f "$marker" ]; then
    echo "Start failed: the artifact has no .open-runtimes file. Rebuild the function." >&2
    exit 1
fi
# The entrypoint recorded at build time wins over the environment.
set -a
. "$marker"
set +a

# The venv's own activate script holds build-dir paths, so activate by hand.
export VIRTUAL_ENV="$OPEN_RUNTIMES_FUNCTION_DIR/runtime-env"
export PATH="$VIRTUAL_ENV/bin:$PATH"

cd "$OPEN_RUNTIMES_SERVER_DIR"

echo "Starting ..."
