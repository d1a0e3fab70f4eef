#!/bin/sh
# Sourced by build.sh: checks the entrypoint, copies the source into the build dir, enters it.
set -e

echo "Preparing for build ..."

OPEN_RUNTIMES_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPEN_RUNTIMES_BUILD_DIR="${OPEN_RUNTIMES_BUILD_DIR:-/usr/local/build}"

# The entrypoint ends up unquoted in .open-runtimes, so only shell-safe relative paths pass.
case "$OPEN_RUNTIMES_ENTRYPOINT" in
    "")
        echo "OPEN_RUNTIMES_ENTRYPOINT is empty; set it to the function's entry file, e.g. index.php." >&2
        exit 1 ;;
    /*)
        echo "OPEN_RUNTIMES_ENTRYPOINT must be a path relative to the function dir: $OPEN_RUNTIMES_ENTRYPOINT" >&2
        exit 1 ;;
    *[!A-Za-z0-9._/-]*)
        echo "OPEN_RUNTIMES_ENTRYPOINT may only use A-Z a-z 0-9 . _ / -: $OPEN_RUNTIMES_ENTRYPOINT" >&2
        exit 1 ;;
    ..|../*|*/..|*/../*)
        echo "OPEN_RUNTIMES_ENTRYPOINT must not contain a '..' segment: $OPEN_RUNTIMES_ENTRYPOINT" >&2
        exit 1 ;;
esac

if [ ! -d "$OPEN_RUNTIMES_CODE_DIR" ] || [ -z "$(ls -A "$OPEN_RUNTIMES_CODE_DIR" 2>/dev/null)" ]; then
    echo "The code dir $OPEN_RUNTIMES_CODE_DIR is empty or missing; nothing to build." >&2
    exit 1
fi

mkdir -p "$OPEN_RUNTIMES_BUILD_DIR"
# Visible entries only: top-level dotfiles stay out of the build, as in v3.
for entry in "$OPEN_RUNTIMES_CODE_DIR"/*; do
    if [ ! -e "$entry" ]; then
        echo "The code dir $OPEN_RUNTIMES_CODE_DIR holds only hidden files; nothing to build." >&2
        exit 1
    fi
    cp -R "$entry" "$OPEN_RUNTIMES_BUILD_DIR/"
done

# Composer refuses to run without a home; give it a temporary one outside the build dir.
if [ -z "${COMPOSER_HOME:-}" ] && [ -z "${HOME:-}" ]; then
    COMPOSER_HOME="$(mktemp -d)"
    open_runtimes_composer_home="$COMPOSER_HOME"
    export COMPOSER_HOME
fi

cd "$OPEN_RUNTIMES_BUILD_DIR"

echo "Building ..."
