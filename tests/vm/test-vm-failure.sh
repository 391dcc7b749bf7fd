#!/bin/bash
# SPDX-License-Identifier: MIT
# `berth vm` fails, and says why, when the guest never gets going: stage 1
# cannot find the usr partition (a usrhash= that matches nothing), with and
# without a payload. Direct kernel boot, so the test can change the command
# line; --no-reboot ends QEMU at the guest's reboot after the failure.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need --direct
IMG=$(vm_image_dir)
ZERO=$(printf '0%.0s' $(seq 64))

# boot NAME [berth vm options]: one boot; its status in RC, its output in OUT_NAME.
boot() {
        local name=$1
        shift
        echo "vm: berth vm --direct --no-reboot --cmdline usrhash=$ZERO $* $IMG"
        set +e
        flock "$BERTH_VM_LOCK" "$BERTH" vm --direct --no-reboot --timeout 300 \
                --log "$VM_TMP/$name.log" --cmdline "usrhash=$ZERO" "$@" "$IMG" \
                > "$VM_TMP/$name.out" 2>&1
        RC=$?
        set -e
        sed 's/^/    | /' "$VM_TMP/$name.out" | tail -n 6
}

step "no usr partition, no payload"
boot plain
check "berth vm exits non-zero (got $RC)" [ "$RC" != 0 ]
check "it names the failure" grep -q "vm: the guest failed to boot: boot failed: cannot find the usr partition PARTUUID=00000000-" "$VM_TMP/plain.out"
check "and not a timeout" sh -c "! grep -q 'after the timeout' '$VM_TMP/plain.out'"

step "no usr partition, with a payload"
printf 'echo should-not-run\nexit 0\n' > "$VM_TMP/p.sh"
NO_OCI=1 "$BERTH_SOURCE_ROOT/tests/fixtures/mkpayload.sh" "$VM_TMP/payload" "$VM_TMP/p.sh"
boot payload --payload "$VM_TMP/payload"
check "berth vm exits non-zero (got $RC)" [ "$RC" != 0 ]
check "it names the failure" grep -q "vm: the guest failed to boot: boot failed: cannot find the usr partition" "$VM_TMP/payload.out"
check "the payload never ran" sh -c "! tr -d '\r' < '$VM_TMP/payload.log' | grep -q should-not-run"

finish
