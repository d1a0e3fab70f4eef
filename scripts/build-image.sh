#!/bin/sh
# Builds the image of one runtime of runtimes/runtimes.tsv: scripts/build-image.sh node-18.0
# The Debian base is pulled, or made locally with debootstrap when pulling fails (spec 7.3).
set -eu
cd "$(dirname "$0")/.."
name="${1:?usage: build-image.sh RUNTIME}"
row=$(awk -F'\t' -v n="$name" '$1 == n' runtimes/runtimes.tsv)
[ -n "$row" ] || { echo "build-image: unknown runtime $name" >&2; exit 2; }
lang=$(printf '%s' "$row" | cut -f2)
version=$(printf '%s' "$row" | cut -f3)
image=$(printf '%s' "$row" | cut -f4)
base=$(printf '%s' "$row" | cut -f5)
suite=$(printf '%s' "$row" | cut -f6)
scripts/debian.sh image "$suite"
echo "build-image: $image (from $base)" >&2
docker build -q --network host \
    --build-arg BASE_IMAGE="$base" --build-arg RUNTIME_VERSION="$version" \
    -t "$image" "runtimes/$lang" >/dev/null
