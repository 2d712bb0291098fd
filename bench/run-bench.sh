#!/bin/bash
# Build hearthd (and hearth-worker) if needed, then run every benchmark in bench/ (side by side
# with the reference libvirtd when /work/shared/tools/reference-libvirtd or $REFERENCE_LIBVIRTD
# exists).
#   bench/run-bench.sh [--quick] [--no-reference] [--rebuild] [--json FILE] [--only definitions|guests]
# HEARTH_BUILDDIR selects the build directory (default <repo>/build); HEARTHD overrides the binary.
# With --json FILE the definition figures go to FILE and the guest figures to FILE.guests.json.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export HEARTH_BUILDDIR=${HEARTH_BUILDDIR:-$REPO/build}
REBUILD=0
ONLY=""
JSON=""
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rebuild) REBUILD=1 ;;
        --only) ONLY=$2; shift ;;
        --only=*) ONLY=${1#--only=} ;;
        --json) JSON=$2; shift ;;
        --json=*) JSON=${1#--json=} ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
case "$ONLY" in
    ""|definitions|guests) ;;
    *) echo "--only takes 'definitions' or 'guests'" >&2; exit 2 ;;
esac
BIN=${HEARTHD:-$HEARTH_BUILDDIR/daemon/hearthd}
WORKER=$HEARTH_BUILDDIR/daemon/worker/hearth-worker
if [ "$REBUILD" = 1 ] || [ ! -x "$BIN" ] || { [ "$ONLY" != definitions ] && [ ! -x "$WORKER" ]; }; then
    if [ -n "${HEARTHD:-}" ] && [ ! -x "$HEARTHD" ]; then
        echo "HEARTHD=$HEARTHD is not executable" >&2; exit 2
    fi
    if [ ! -f "$HEARTH_BUILDDIR/build.ninja" ]; then
        meson setup "$HEARTH_BUILDDIR" "$REPO" --buildtype=release
    fi
    meson compile -C "$HEARTH_BUILDDIR"
fi
if ! /usr/bin/python3 -c 'import libvirt' 2>/dev/null; then
    echo "python3-libvirt missing for /usr/bin/python3 (apt-get install python3-libvirt)" >&2; exit 2
fi
command -v virsh >/dev/null || { echo "virsh missing (apt-get install libvirt-clients)" >&2; exit 2; }
# always the system python: it is the one with python3-libvirt
RC=0
if [ "$ONLY" != guests ]; then
    /usr/bin/python3 "$HERE/bench_definitions.py" ${JSON:+--json "$JSON"} ${ARGS[@]+"${ARGS[@]}"} || RC=$?
fi
if [ "$ONLY" != definitions ]; then
    /usr/bin/python3 "$HERE/bench_guests.py" ${JSON:+--json "$JSON.guests.json"} ${ARGS[@]+"${ARGS[@]}"} || RC=$?
fi
exit $RC
