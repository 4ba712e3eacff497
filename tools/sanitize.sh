#!/usr/bin/env bash
# tools/sanitize.sh - the whole test suite under AddressSanitizer and
# UndefinedBehaviorSanitizer: builds ./build-asan (gcc, debugoptimized,
# -Db_sanitize=address,undefined, UB fatal, libc's malloc behind
# engine/mem.c so ASan sees every block) and runs `meson test` there. Any
# sanitizer report fails the test that made it, and this script.
#   tools/sanitize.sh                  every suite
#   tools/sanitize.sh npy desc         some of them (meson test names)
# SANITIZE_TIMEOUT_MULTIPLIER (default 3) scales the suites' timeouts.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan --buildtype=debugoptimized -Dallocator=libc \
        -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fno-sanitize-recover=undefined >&2 || exit 1
fi
ninja -C build-asan >&2 || exit 1

# halt_on_error: a UB report is a failure, not a line in a log.
# allocator_may_return_null: a huge request returns NULL (as libc does),
# so the ENOMEM paths run instead of ASan aborting.
# LeakSanitizer runs at the end of every forked test; tests/lsan.supp
# lists the tests' own deliberate leaks (engine/mem.h's counts, which the
# suites assert on, cover the library's norn_* blocks; LSan also sees
# libfyaml's, libhdf5's and libc's).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:abort_on_error=1:detect_stack_use_after_return=0
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
meson test -C build-asan --print-errorlogs -t "${SANITIZE_TIMEOUT_MULTIPLIER:-3}" "$@"
rc=$?
log=build-asan/meson-logs/testlog.txt
if [ -f "$log" ]; then
    ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -n 1)
    fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -n 1)
    timeout=$(awk '/^Timeout:/ {print $2}' "$log" | tail -n 1)
    echo "sanitize: ${ok:-0} suites clean, $(( ${fail:-0} + ${timeout:-0} )) failed under ASan+UBSan"
    grep -E "ERROR: AddressSanitizer|runtime error:" "$log" | sort | uniq -c | head -n 20
fi
exit $rc
