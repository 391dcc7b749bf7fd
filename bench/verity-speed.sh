#!/bin/sh
# SPDX-License-Identifier: MIT
# Times dm-verity hashing of the same file by `veritysetup format` (the
# reference) and by berth's verity_format() (src/shared/verity.c), checks both
# give the same root hash and hash file, and prints the time ratio.
#
#   bench/verity-speed.sh [BUILD_DIR] [SIZE_MIB]    (defaults: build, 256)
#
# BUILD_DIR must hold a built libshared.a and libbasic.a (ninja -C BUILD_DIR).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
size=${2:-256}
case $build in /*) ;; *) build=$src/$build ;; esac
salt=5f2a0c8e4b1d3a6978e0c2b4d6f8a1c3e5b7d9f1a3c5e7092b4d6f8a0c2e4b6d
uuid=1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91

command -v veritysetup >/dev/null || { echo "veritysetup missing: skipped"; exit 77; }
for f in "$build/src/shared/libshared.a" "$build/src/lib/libbasic.a"; do
        [ -f "$f" ] || { echo "$f missing: build first"; exit 1; }
done

work=$(mktemp -d /tmp/berth-verity-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

${CC:-cc} -O2 -I"$src/src/lib" -I"$src/src/shared" -o "$work/verity-bench" \
        "$src/bench/verity-bench.c" "$build/src/shared/libshared.a" "$build/src/lib/libbasic.a" \
        $(pkg-config --libs libcryptsetup libcrypto)

head -c $((size * 1024 * 1024)) /dev/urandom >"$work/data"
cat "$work/data" >/dev/null # warm the page cache for both runs

now() { date +%s.%N; }

best_ref=999999 best_berth=999999
for i in 1 2 3; do
        t0=$(now)
        ref=$(veritysetup format "$work/data" "$work/hash.ref" --salt=$salt --uuid=$uuid |
                awk '/^Root hash:/ { print $3 }')
        t1=$(now)
        berth=$("$work/verity-bench" "$work/data" "$work/hash.berth" $salt $uuid)
        t2=$(now)
        best_ref=$(echo "$t1 - $t0 $best_ref" | awk '{ d = $1 - $3; print (d < $4) ? d : $4 }')
        best_berth=$(echo "$t2 - $t1 $best_berth" | awk '{ d = $1 - $3; print (d < $4) ? d : $4 }')
done

[ "$ref" = "$berth" ] || { echo "root hash differs: $ref vs $berth"; exit 1; }
cmp -s "$work/hash.ref" "$work/hash.berth" || { echo "hash files differ"; exit 1; }

echo "data:            $size MiB"
echo "root hash:       $berth (same from both)"
echo "veritysetup:     ${best_ref} s (best of 3)"
echo "verity_format(): ${best_berth} s (best of 3)"
echo "ratio berth/ref: $(echo "$best_berth $best_ref" | awk '{ printf "%.2f", $1 / $2 }')"
