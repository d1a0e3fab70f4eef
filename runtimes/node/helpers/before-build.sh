#!/bin/sh
# Sourced by build.sh: checks the entrypoint, copies the source into the build dir and enters it.
set -e
echo "Preparing for build ..."

OPR_CODE_DIR="${OPEN_RUNTIMES_CODE_DIR:-/mnt/code}"
OPR_BUILD_DIR="${OPEN_RUNTIMES_BUILD_DIR:-/usr/local/build}"
OPR_ENTRYPOINT="${OPEN_RUNTIMES_ENTRYPOINT-}"

opr_fail() {
    echo "$1" >&2
    exit 1
}

# The entrypoint is written unquoted into .open-runtimes and sourced at start: keep it shell-safe.
[ -n "$OPR_ENTRYPOINT" ] || opr_fail "OPEN_RUNTIMES_ENTRYPOINT is empty: set it to the function's main file, e.g. index.js."
case "$OPR_ENTRYPOINT" in
    /*) opr_fail "OPEN_RUNTIMES_ENTRYPOINT must be a relative path, got \"$OPR_ENTRYPOINT\"." ;;
esac
case "/$OPR_ENTRYPOINT/" in
    */../*) opr_fail "OPEN_RUNTIMES_ENTRYPOINT must not contain a \"..\" segment, got \"$OPR_ENTRYPOINT\"." ;;
esac
case "$OPR_ENTRYPOINT" in
    *[!A-Za-z0-9._/-]*) opr_fail "OPEN_RUNTIMES_ENTRYPOINT may only use A-Z a-z 0-9 . _ / -, got \"$OPR_ENTRYPOINT\"." ;;
esac

[ -d "$OPR_CODE_DIR" ] || opr_fail "Code directory $OPR_CODE_DIR does not exist."
OPR_FIRST=""
for OPR_ENTRY in "$OPR_CODE_DIR"/*; do
    if [ -e "$OPR_ENTRY" ] || [ -L "$OPR_ENTRY" ]; then OPR_FIRST="$OPR_ENTRY"; break; fi
done
[ -n "$OPR_FIRST" ] || opr_fail "Code directory $OPR_CODE_DIR is empty: nothing to build."

mkdir -p "$OPR_BUILD_DIR"
# Visible entries only: top-level dotfiles stay out of the build, as in v3.
cp -R "$OPR_CODE_DIR"/* "$OPR_BUILD_DIR"/
cd "$OPR_BUILD_DIR"

echo "Building ..."
