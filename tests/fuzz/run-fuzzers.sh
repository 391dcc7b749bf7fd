#!/bin/bash
# SPDX-License-Identifier: MIT
# Fuzz smoke test: builds the libFuzzer targets (clang, ASan+UBSan) in a build
# directory of their own and runs each tests/fuzz/fuzz-*.c target for
# FUZZ_SECONDS (default 15) on a copy of its seed corpus, corpus/<name>/ for
# fuzz-<name>, plus what an executable seeds-<name>.* DIR writes (binary
# seeds are generated, not committed). Fails, printing the sanitizer report, if
# any target crashes, leaks, times out on one input or runs out of memory; the
# input that did it is kept under <fuzz build>/fuzz-artifacts/. Exit 77
# (skipped) without clang or its libFuzzer runtime.
#
#   FUZZ_SECONDS=600 tests/fuzz/run-fuzzers.sh             every target, longer
#   FUZZ_SECONDS=600 tests/fuzz/run-fuzzers.sh fuzz-release  one target
#
# The fuzz build lives in $BERTH_FUZZ_BUILD_DIR, by default build-fuzz next to
# $BERTH_BUILD_DIR; it is set up once and reused (ninja brings it up to date).
set -euo pipefail

src=${BERTH_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${BERTH_BUILD_DIR:-$src/build}
fuzz_build=$(realpath -m "${BERTH_FUZZ_BUILD_DIR:-$build/../build-fuzz}")
seconds=${FUZZ_SECONDS:-15}
# Honour the caller's sanitizer settings, but a UBSan report must stop the run.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"

if ! command -v clang >/dev/null; then
        echo "clang is not installed: skipping the fuzz smoke test"
        exit 77
fi

work=$(mktemp -d /tmp/berth-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Debian splits the libFuzzer runtime from clang; without it nothing links.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$work/t.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$work/t" "$work/t.c" 2>"$work/t.log"; then
        cat "$work/t.log"
        echo "clang cannot link libFuzzer targets: skipping the fuzz smoke test"
        exit 77
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
        for f in "$src"/tests/fuzz/fuzz-*.c; do
                targets+=("$(basename "$f" .c)")
        done
fi

# One setup at a time: parallel test runs share the directory. The lock is
# on the parent directory, so that no lock file is left in the source tree.
mkdir -p "$(dirname "$fuzz_build")"
exec 9<"$(dirname "$fuzz_build")"
flock 9
if [ ! -f "$fuzz_build/build.ninja" ]; then
        rm -rf "$fuzz_build"
        echo "setting up $fuzz_build"
        CC=clang meson setup "$fuzz_build" "$src" -Dfuzz=true -Dtests=false \
                -Db_sanitize=address,undefined -Db_lundef=false >"$work/setup.log" 2>&1 ||
                { cat "$work/setup.log"; exit 1; }
fi
ninja -C "$fuzz_build" "${targets[@]/#/tests/fuzz/}" >"$work/ninja.log" 2>&1 ||
        { cat "$work/ninja.log"; exit 1; }
flock -u 9

failed=0
for t in "${targets[@]}"; do
        name=${t#fuzz-}
        corpus=$src/tests/fuzz/corpus/$name
        run=$work/$t
        mkdir -p "$run/corpus"
        # A copy: libFuzzer adds what it finds to its first corpus directory.
        if [ -d "$corpus" ]; then
                cp -r "$corpus/." "$run/corpus/"
        fi
        # Binary seeds are generated, not committed: seeds-<name>.* DIR adds them.
        for g in "$src/tests/fuzz/seeds-$name".*; do
                [ -x "$g" ] || continue
                "$g" "$run/corpus" || { echo "FAIL $t: seed generator $g failed"; failed=1; }
        done
        if [ -z "$(ls -A "$run/corpus")" ]; then
                echo "$t: no seeds (neither $corpus nor a seeds-$name generator), starting empty"
        fi
        start=$SECONDS
        rc=0
        "$fuzz_build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
                -artifact_prefix="$run/" -print_final_stats=1 "$run/corpus" >"$run/log" 2>&1 ||
                rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -1)
        if [ "$rc" -ne 0 ]; then
                failed=1
                echo "FAIL $t (exit $rc after $((SECONDS - start)) s):"
                # The report, without libFuzzer's progress lines.
                grep -v '^#[0-9]' "$run/log" | tail -n 80
                mkdir -p "$fuzz_build/fuzz-artifacts"
                for a in "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-*; do
                        [ -e "$a" ] || continue
                        cp "$a" "$fuzz_build/fuzz-artifacts/$t-$(basename "$a")"
                        echo "$t: input kept as $fuzz_build/fuzz-artifacts/$t-$(basename "$a")" \
                                "(reproduce: $fuzz_build/tests/fuzz/$t <that file>)"
                done
        else
                echo "ok $t: ${runs:-?} inputs in $((SECONDS - start)) s," \
                        "corpus $(ls "$run/corpus" | wc -l) files"
        fi
done
exit $failed
