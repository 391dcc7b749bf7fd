#!/bin/bash
# SPDX-License-Identifier: MIT
# check-stage1-libs.sh BERTH-STAGE1: the initramfs's /init links no crypto
# library. Its DT_NEEDED entries (readelf -d) name none of libcrypto, libssl,
# libcryptsetup, libdevmapper or libkmod (which links libcrypto): dm-verity is
# opened with device-mapper's ioctls (src/shared/dm-verity.c), modules are
# loaded by berth's own loader (src/shared/modload.c), and a security update
# of OpenSSL must not change the initrd (docs/init.md, "Libraries of stage 1").
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

command -v readelf >/dev/null || skip "readelf is not installed"
bin=$1
needed=$(readelf -dW "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "$(basename "$bin") needs: $(echo $needed)"
check "$(basename "$bin") has DT_NEEDED entries (readelf read it)" [ -n "$needed" ]
for lib in libcrypto libssl libcryptsetup libdevmapper libkmod; do
        check "$(basename "$bin") does not link $lib" \
                sh -c '! echo "$1" | grep -q "^$2\.so"' _ "$needed" "$lib"
done
finish
