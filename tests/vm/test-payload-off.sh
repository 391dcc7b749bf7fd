#!/bin/bash
# SPDX-License-Identifier: MIT
# The default (production) image, images/container-host.conf, has no test
# payload hook: booted with berth.payload=1 and a disk labelled BERTHPAYLOAD,
# berth-init says it ignores the word and never mounts or runs the disk, while
# the services come up as usual. The payload would power the guest off, so
# here QEMU runs until its timeout; the test image (images/test.conf, with
# [Test] Payload=yes) runs the same kind of payload in vm-boot.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need --direct
IMG=$(vm_default_image_dir)

step "the default image has no payload marker in /usr"
check "manifest of $IMG names container-host" grep -q '"container-host"' "$IMG/manifest.json"
if command -v dump.erofs >/dev/null; then
        listing=$(dump.erofs --ls --path=/lib/berth "$IMG/usr.erofs" 2>&1 || true)
        echo "$listing" | sed 's/^/    /'
        check "usr.erofs has /lib/berth/berth-init" sh -c 'echo "$1" | grep -qw berth-init' _ "$listing"
        check "usr.erofs has no /lib/berth/test-payload" sh -c '! echo "$1" | grep -qw test-payload' _ "$listing"
fi

cat > "$VM_TMP/evil.sh" <<'GUEST'
echo "PAYLOAD-RAN-AS-ROOT uid=$(id -u)"
GUEST

step "boot it with berth.payload=1 and a BERTHPAYLOAD disk (direct kernel boot)"
NO_OCI=1 vm_boot_payload "$VM_TMP/evil.sh" --direct --timeout "${PAYLOAD_OFF_TIMEOUT:-90}"

step "the console"
vm_expect "$VM_LOG" 'berth: berth.payload ignored: this image has no test payload hook' \
        "berth-init says it ignores berth.payload"
vm_expect "$VM_LOG" 'berth: timeline containerd-ready' \
        "the services came up (containerd ready), past the point where a payload would run"
vm_expect_not "$VM_LOG" 'payload: mounted|PAYLOAD-RAN-AS-ROOT|payload exited with status' \
        "the payload disk was neither mounted nor run"
check "QEMU ran until the timeout (no payload powered it off; berth vm exit $VM_RC)" \
        [ "$VM_RC" != 0 ]
vm_expect_not "$VM_LOG" 'Kernel panic' "no kernel panic"
finish
