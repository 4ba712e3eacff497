#!/usr/bin/env bash
# tools/fuzz.sh - build the libFuzzer harnesses (tests/fuzz) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer in ./build-fuzz, and run
# each for FUZZ_SECONDS (default 60) over a copy of its seed corpus
# (tests/fuzz/corpus/<harness>). Prints each harness's executions; exits
# non-zero on any crash, leak, UB report, broken contract, timeout or
# out-of-memory, naming the reproducer (replay it with
# `build-fuzz/tests/fuzz/fuzz_<harness> FILE`; keep it in
# tests/fuzz/regress/<harness>/ once fixed).
#   FUZZ_SECONDS=600 tools/fuzz.sh            all harnesses, 10 min each
#   tools/fuzz.sh npy csv                     some of them
#   FUZZ_SEED=0 tools/fuzz.sh                 a random seed (default: seed 1, reproducible)
# Installs clang and its runtimes (Debian's clang, libclang-rt-dev) if
# missing (as root or through sudo).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(desc npy csv nir)

have_fuzzer() {
    command -v clang >/dev/null 2>&1 || return 1
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)(n & 0); }' >/tmp/norn-fz-probe.c
    clang -fsanitize=fuzzer,address,undefined -o /tmp/norn-fz-probe /tmp/norn-fz-probe.c >/dev/null 2>&1
    local rc=$?
    rm -f /tmp/norn-fz-probe /tmp/norn-fz-probe.c
    return $rc
}
if ! have_fuzzer; then
    echo "fuzz: installing clang and libFuzzer (libclang-rt-dev)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >&2 || exit 1
    have_fuzzer || { echo "fuzz: clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false -Dallocator=libc \
        -Db_sanitize=address,undefined -Db_lundef=false >&2 || exit 1
fi
ninja -C build-fuzz >&2 || exit 1

# UB is a finding, not a warning; leaks are checked at exit of each input.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
# leaks allocated inside libfyaml itself (tests/fuzz/lsan.supp says which and why)
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
work=$(mktemp -d /tmp/norn-fuzz-XXXXXX)
# the inputs the harnesses write go to memory when it can (/dev/shm)
files=$work
[ -d /dev/shm ] && [ -w /dev/shm ] && files=$(mktemp -d /dev/shm/norn-fuzz-XXXXXX)
export TMPDIR=$files
failed=0
for h in "${harnesses[@]}"; do
    bin=build-fuzz/tests/fuzz/fuzz_$h
    corpus=$work/corpus_$h
    art=$work/artifacts_$h/
    mkdir -p "$corpus" "$art"
    cp tests/fuzz/corpus/$h/* "$corpus"/
    [ -d tests/fuzz/regress/$h ] && cp tests/fuzz/regress/$h/* "$corpus"/ 2>/dev/null
    opts=(-max_len=8192)
    # a NIR recipe is short and every byte of it counts: no slow growth
    [ "$h" = nir ] && opts=(-max_len=1024 -len_control=0)
    [ -f tests/fuzz/$h.dict ] && opts+=(-dict=tests/fuzz/$h.dict)
    log=$work/$h.log
    # -rss_limit_mb: the harnesses cap what they build (entry.h); a unit
    # that needs more than 2 GB, or 30 s, is a finding.
    # a fixed seed (FUZZ_SEED, default 1; 0 = a random one) makes CI's runs
    # try the same inputs in the same order: a finding is reproducible, and
    # what CI reports does not depend on the draw of the day
    "$bin" "$corpus" "${opts[@]}" -seed="${FUZZ_SEED:-1}" -artifact_prefix="$art" -max_total_time="$secs" -timeout=30 \
        -rss_limit_mb=2560 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    repro=$(ls "$art" 2>/dev/null | head -n 1)
    if [ $rc -ne 0 ] || [ -n "$repro" ]; then
        failed=1
        echo "fuzz: $h: FAILED after ${execs:-?} executions (exit $rc)"
        grep -E "ERROR|runtime error|SUMMARY|broke|without a message|leak|changed" "$log" | head -n 20
        grep -E "^    #[0-9]+ " "$log" | head -n 15
        for f in "$art"*; do
            [ -e "$f" ] || continue
            echo "fuzz: $h: reproducer $f"
            # CI's /tmp does not outlive the run: the bytes go to the log too
            # (base64 -d > tests/fuzz/regress/$h/NAME to get it back)
            [ "$(stat -c %s "$f")" -le 16384 ] && base64 -w 100 "$f" | sed "s/^/fuzz: $h: base64 /"
        done
        echo "fuzz: $h: full log $log"
    else
        echo "fuzz: $h: ok, ${execs:-?} executions in ${secs} s (${cov:-cov ?}), corpus $(ls "$corpus" | wc -l) files"
    fi
done
rm -rf "$files"
if [ $failed -eq 0 ]; then
    rm -rf "$work"
    echo "fuzz: all ${#harnesses[@]} harnesses clean"
fi
exit $failed
