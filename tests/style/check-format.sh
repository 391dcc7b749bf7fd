#!/bin/bash
# SPDX-License-Identifier: MIT
# Every C file in the tree is formatted as .clang-format says (systemd's style
# at 100 columns). Prints clang-format's complaints and the command that fixes
# them; exits 77 without clang-format (scripts/deps installs it).
#
#   tests/style/check-format.sh            check
#   clang-format -i FILE...                fix
set -euo pipefail

src=${BERTH_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"

if ! command -v clang-format >/dev/null; then
        echo "SKIP: clang-format is not installed"
        exit 77
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h')
else
        mapfile -t files < <(find src tests -name '*.[ch]' | sort)
fi
bad=()
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
echo "$(clang-format --version): ${#files[@]} files checked, ${#bad[@]} not formatted"
if [ ${#bad[@]} -gt 0 ]; then
        for f in "${bad[@]}"; do
                clang-format --dry-run "$f" 2>&1 | head -20 || true
        done
        echo "fix with: clang-format -i ${bad[*]}"
        exit 1
fi
