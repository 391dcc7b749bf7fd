#!/bin/bash
# SPDX-License-Identifier: MIT
# check-hardening.sh FORTIFY(yes|no) BINARY...: each of berth's binaries is a
# PIE with full RELRO (GNU_RELRO and BIND_NOW), a non-executable stack, calls
# the stack protector, and, where FORTIFY is on (not under ASan), at least one
# checked *_chk function. Read with readelf, as a reviewer would.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

command -v readelf >/dev/null || skip "readelf is not installed"
fortify=$1
shift
for bin in "$@"; do
        name=$(basename "$bin")
        hdr=$(readelf -h "$bin")
        seg=$(readelf -lW "$bin")
        dyn=$(readelf -dW "$bin")
        syms=$(readelf --dyn-syms -W "$bin")
        check "$name: PIE (ELF type DYN, FLAGS_1 PIE)" \
                sh -c 'echo "$1" | grep -q "Type: *DYN" && echo "$2" | grep -q "Flags:.*PIE"' _ "$hdr" "$dyn"
        check "$name: GNU_RELRO segment" sh -c 'echo "$1" | grep -q GNU_RELRO' _ "$seg"
        check "$name: BIND_NOW (full RELRO)" sh -c 'echo "$1" | grep -Eq "BIND_NOW|Flags:.* NOW"' _ "$dyn"
        check "$name: stack not executable" sh -c '! echo "$1" | grep -A1 GNU_STACK | grep -q RWE' _ "$seg"
        check "$name: stack protector (__stack_chk_fail)" \
                sh -c 'echo "$1" | grep -q __stack_chk_fail' _ "$syms"
        if [ "$fortify" = yes ]; then
                check "$name: FORTIFY (a *_chk function)" \
                        sh -c 'echo "$1" | grep -Eq "__[a-z_]+_chk(@|$)"' _ "$syms"
        fi
done
finish
