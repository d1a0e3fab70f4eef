#!/bin/sh
# Sourced by build.sh after the build command: writes .open-runtimes, slims the venv and
# packs the build dir into <code dir>/code.tar.gz (runtimes spec 6.2, step 4).
set -e

echo "Packing build ..."

cd "$OPEN_RUNTIMES_BUILD_DIR"
printf 'OPEN_RUNTIMES_ENTRYPOINT=%s\n' "$OPEN_RUNTIMES_ENTRYPOINT" > .open-runtimes

# The server's own third-party packages, if it ever has any, travel in the artifact.
if grep -qs '^[[:space:]]*[^#[:space:]]' "$OPEN_RUNTIMES_SERVER_DIR/requirements.txt"; then
    pip install --no-cache-dir -r "$OPEN_RUNTIMES_SERVER_DIR/requirements.txt"
fi

# Every cold start extracts the artifact, so the seeded pip (and setuptools on 3.11), about
# 90% of an empty venv, are removed once the build command has run. A seed package is kept
# when requirements.txt names it or an installed package declares it as a dependency.
site_dir=$(echo "$VIRTUAL_ENV"/lib/python3*/site-packages)
for dist in $open_runtimes_seed_dists; do
    [ -f "$site_dir/$dist/RECORD" ] || continue
    name=${dist%%-*}
    if grep -qis "^[[:space:]]*$name\([^A-Za-z0-9_.-]\|\$\)" requirements.txt; then
        continue
    fi
    needed=""
    for metadata in "$site_dir"/*.dist-info/METADATA; do
        [ "$metadata" != "$site_dir/$dist/METADATA" ] || continue
        # Only unconditional dependencies count, not those of an extra.
        if grep -is "^Requires-Dist: *$name\([^A-Za-z0-9_.-]\|\$\)" "$metadata" \
            | grep -qv "extra *=="; then
            needed=1
        fi
    done
    [ -z "$needed" ] || continue
    # RECORD lists the files: remove the top-level entries it installed into site-packages
    # and the scripts it put in bin/ (recorded as ../../../bin/...).
    cut -d, -f1 "$site_dir/$dist/RECORD" | awk -F/ '
        $1 == ".." { print; next }
        { print $1 }' | sort -u | while IFS= read -r path; do
        case "$path" in
            ../../../bin/*) rm -f -- "$site_dir/$path" ;;
            ..*|"") ;;
            *) rm -rf -- "${site_dir:?}/$path" ;;
        esac
    done
    rm -rf -- "${site_dir:?}/$dist"
done

archive="$OPEN_RUNTIMES_CODE_DIR/code.tar.gz"
partial="$OPEN_RUNTIMES_CODE_DIR/.code.tar.gz.partial.$$"
if ! tar -czf "$partial" --anchored --exclude=./code.tar.gz -C "$OPEN_RUNTIMES_BUILD_DIR" .; then
    rm -f -- "$partial"
    echo "Build failed: could not pack $archive." >&2
    exit 1
fi
mv -f -- "$partial" "$archive"

echo "Build finished."
