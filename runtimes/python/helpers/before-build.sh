#!/bin/sh
# Sourced by build.sh: checks the entrypoint, copies the source into the build dir, then
# creates and activates the function's virtual environment (runtimes spec 6.2, step 2).
set -e

echo "Preparing for build ..."

OPEN_RUNTIMES_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPEN_RUNTIMES_BUILD_DIR="${OPEN_RUNTIMES_BUILD_DIR:-/usr/local/build}"
OPEN_RUNTIMES_SERVER_DIR="${OPEN_RUNTIMES_SERVER_DIR:-/usr/local/server}"

# The entrypoint ends up unquoted in .open-runtimes, which start.sh sources: keep it shell-safe.
entrypoint="${OPEN_RUNTIMES_ENTRYPOINT:-}"
case "$entrypoint" in
    "")
        echo "Build failed: OPEN_RUNTIMES_ENTRYPOINT is empty." >&2
        exit 1 ;;
    /*)
        echo "Build failed: OPEN_RUNTIMES_ENTRYPOINT must be a relative path, got \"$entrypoint\"." >&2
        exit 1 ;;
    *[!A-Za-z0-9._/-]*)
        echo "Build failed: OPEN_RUNTIMES_ENTRYPOINT may only use A-Z a-z 0-9 . _ / - characters." >&2
        exit 1 ;;
esac
case "/$entrypoint/" in
    */../*)
        echo "Build failed: OPEN_RUNTIMES_ENTRYPOINT must not contain a \"..\" segment." >&2
        exit 1 ;;
esac

has_source=""
for entry in "$OPEN_RUNTIMES_CODE_DIR"/*; do
    if [ -e "$entry" ] || [ -L "$entry" ]; then
        has_source=1
        break
    fi
done
if [ -z "$has_source" ]; then
    echo "Build failed: the code directory \"$OPEN_RUNTIMES_CODE_DIR\" is empty or missing." >&2
    exit 1
fi

mkdir -p "$OPEN_RUNTIMES_BUILD_DIR"
# Visible entries only: top-level dotfiles stay out of the build, as in v3.
cp -R "$OPEN_RUNTIMES_CODE_DIR"/* "$OPEN_RUNTIMES_BUILD_DIR"/
cd "$OPEN_RUNTIMES_BUILD_DIR"

python3 -m venv runtime-env
export VIRTUAL_ENV="$OPEN_RUNTIMES_BUILD_DIR/runtime-env"
export PATH="$VIRTUAL_ENV/bin:$PATH"
# The packages the venv was seeded with (pip, setuptools): after-build.sh drops the unused ones.
open_runtimes_seed_dists=$(cd "$VIRTUAL_ENV"/lib/python3*/site-packages && ls -d -- *.dist-info 2>/dev/null || true)

echo "Building ..."
