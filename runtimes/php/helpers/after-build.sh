#!/bin/sh
# Sourced by build.sh after the build command: writes .open-runtimes and packs code.tar.gz.
set -e

echo "Packing build ..."

cd "$OPEN_RUNTIMES_BUILD_DIR"
mkdir -p vendor
printf 'OPEN_RUNTIMES_ENTRYPOINT=%s\n' "$OPEN_RUNTIMES_ENTRYPOINT" > .open-runtimes

# Pack into a temporary name first so a failed pack never leaves a half artifact behind.
tar --exclude=./code.tar.gz -czf "$OPEN_RUNTIMES_CODE_DIR/.code.tar.gz.tmp" .
mv "$OPEN_RUNTIMES_CODE_DIR/.code.tar.gz.tmp" "$OPEN_RUNTIMES_CODE_DIR/code.tar.gz"

if [ -n "${open_runtimes_composer_home:-}" ]; then
    rm -rf "$open_runtimes_composer_home"
fi

echo "Build finished."
