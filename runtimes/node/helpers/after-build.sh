#!/bin/sh
# Sourced by build.sh after the build command: writes .open-runtimes and packs code.tar.gz.
set -e
echo "Packing build ..."

printf 'OPEN_RUNTIMES_ENTRYPOINT=%s\n' "$OPR_ENTRYPOINT" > "$OPR_BUILD_DIR/.open-runtimes"

# Pack beside the target, then rename: a failed pack leaves no half-written artifact.
OPR_ARTIFACT_TMP="$OPR_CODE_DIR/.code.tar.gz.$$"
if ! tar -C "$OPR_BUILD_DIR" --exclude=./code.tar.gz -czf "$OPR_ARTIFACT_TMP" .; then
    rm -f "$OPR_ARTIFACT_TMP"
    echo "Packing the build into $OPR_CODE_DIR/code.tar.gz failed." >&2
    exit 1
fi
mv -f "$OPR_ARTIFACT_TMP" "$OPR_CODE_DIR/code.tar.gz"

echo "Build finished."
