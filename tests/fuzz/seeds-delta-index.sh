#!/bin/bash
# SPDX-License-Identifier: MIT
# seeds-delta-index.sh DIR: seeds for fuzz-delta-index, made with the zstd
# tool (binary, so generated here rather than committed): concatenated zstd
# frames with zeros between them, and an initrd.frames for them.
set -euo pipefail
dir=${1:?usage: seeds-delta-index.sh DIR}
mkdir -p "$dir"
command -v zstd >/dev/null || exit 0
seq 1 3000 | zstd -q -3 -c > "$dir/one-frame"
{ seq 1 300 | zstd -q -19 -c; printf '\0\0\0'; echo small | zstd -q -c --no-check; } > "$dir/two-frames"
python3 - "$dir/two-frames" "$dir/index" <<'PY'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
# the first frame ends where the second magic starts (zeros go with it)
cut = d.index(b"\x28\xb5\x2f\xfd", 4)
parts = [d[:cut], d[cut:]]
out = b"berth-frames 1\n" + b"".join(struct.pack("<I", len(p)) + hashlib.sha256(p).digest() for p in parts)
open(sys.argv[2], "wb").write(out)
PY
