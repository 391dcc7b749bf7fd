#!/bin/bash
# SPDX-License-Identifier: MIT
# seeds-usr-patch.sh DIR: seeds for fuzz-usr-patch (binary, so generated here
# rather than committed): a patch header with two runs of a 10-block image and
# a zstd frame of its 3 blocks (made with the zstd tool, without a reference).
set -euo pipefail
dir=${1:?usage: seeds-usr-patch.sh DIR}
mkdir -p "$dir"
command -v zstd >/dev/null || exit 0
python3 - "$dir/two-runs" <<'PY'
import struct, subprocess, sys
blocks = b"".join(bytes([i]) * 4096 for i in range(3))
frame = subprocess.run(["zstd", "-q", "-3", "-c", "--no-check"], input=blocks,
                       stdout=subprocess.PIPE, check=True).stdout
runs = bytes([2, 1, 2, 2])
h = b"BRTHPTCH" + struct.pack("<II", 1, 4096) + b"\x11" * 32 + b"\x22" * 32
h += struct.pack("<QQQII", 8, 10, 3, 2, len(runs)) + runs
open(sys.argv[1], "wb").write(h + frame)
PY
