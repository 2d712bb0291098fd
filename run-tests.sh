#!/bin/bash
# Sets everything up and runs the whole test suite: unit tests, the unit tests again under
# AddressSanitizer+UBSan, and the integration tests driving hearthd through stock virsh and
# python3-libvirt. Ends with a line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
top=$PWD

build-aux/install-deps.sh test || exit 1

status=0
step() { echo; echo "=== $*"; }

step "build"
[ -d build ] || meson setup build || exit 1
meson compile -C build || exit 1
clang_format_check() {
    command -v clang-format >/dev/null || return 0
    bad=$(git ls-files '*.c' '*.h' 2>/dev/null | xargs -r clang-format --dry-run -Werror 2>&1 | grep -c 'error:' || true)
    [ "$bad" = 0 ] || { echo "clang-format: $bad formatting problems (run clang-format -i)"; return 1; }
}

step "unit tests"
meson test -C build --print-errorlogs || status=1

step "unit tests under AddressSanitizer + UBSan"
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false || exit 1
meson compile -C build-asan || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs || status=1

step "integration tests (stock virsh and python3-libvirt against hearthd)"
rm -f build/pytest-junit.xml
HEARTH_BUILDDIR="$top/build" /usr/bin/python3 -m pytest -p no:cacheprovider -q \
    --junitxml="$top/build/pytest-junit.xml" tests/integration || status=1

step "formatting"
clang_format_check || status=1

step "summary"
/usr/bin/python3 tests/summarize.py build/meson-logs/testlog.json \
    build-asan/meson-logs/testlog.json build/pytest-junit.xml || status=1
exit $status
