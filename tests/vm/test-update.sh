#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 9's update cycle in a real guest: compose v1 and v2 of the test image
# (images/test.conf plus [Update]; v2 has one package more), publish both to a
# TUF repository served over HTTP on the host's loopback, boot v1 under UEFI
# (systemd-boot counts the boot; the update agent assesses it and blesses
# v1's entry), run `berth update apply` in the guest (it reaches the host at
# 10.0.2.2), power off, boot the same disk again: systemd-boot picks v2's
# entry, v2 runs from slot b and the agent blesses its entry. Then v3, whose
# service test-neverready never becomes ready: applied from v2, it boots three
# times (each time the agent reboots after HealthTimeout=), systemd-boot falls
# back to v2, which marks 3.0.0 bad and refuses to install it again. The
# composed images and keys are kept in $BERTH_BUILD_DIR/update-vm-test while
# the specs and the binaries that go into them are the same.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need
need mdir
export MTOOLS_SKIP_CHECK=1
. "$BERTH_SOURCE_ROOT/tests/vm/update-images.sh"
update_images
R2=$(update_root_hash v2)
update_repo

# One payload script for every boot; BOOT (set in front) tells them apart.
# The agent is ready as soon as it runs, so the payload starts while it is
# still assessing the boot: the script waits for what it checks.
cat >"$VM_TMP/guest.sh" <<'GUEST'
fails=0
t() {
        name=$1
        shift
        if "$@"; then echo "T: ok $name"; else echo "T: FAIL $name"; fails=$((fails + 1)); fi
}
wait_for() { # up to 5 minutes (TCG)
        n=0
        until "$@"; do
                n=$((n + 1))
                [ $n -le 600 ] || return 1
                sleep 0.5
        done
}
slot=$(sed -n 's/.*berth\.slot=\([ab]\).*/\1/p' /proc/cmdline)
version=$(sed -n 's/^VERSION_ID=//p' /usr/lib/os-release | tr -d '"')
echo "running: slot $slot, version $version"
# The agent's first word on this boot (it also notes a rollback before it).
wait_for grep -Eq 'boot assessment|waiting for health' /var/log/berth/update.log 2>/dev/null
# Back on v2 after v3's tries: its agent notes the rollback first.
if [ "$BOOT" = 4 ] && [ "$version" = 2.0.0 ]; then
        wait_for grep -q 'release 3.0.0 in slot a ran out of boot tries' /var/log/berth/update.log
fi
if [ "$BOOT" = 4 ] && [ "$version" = 3.0.0 ]; then
        # v3 on its tries: the agent finds it unhealthy and reboots; PID 1
        # stops this payload on the way down (no power-off).
        echo "v3 is on a try: waiting for the agent to reboot"
        sleep 3600
fi
sed 's/^/update-log| /' /var/log/berth/update.log 2>/dev/null || true
sed 's/^/update-status| /' /run/berth/services/update
ls /efi/loader/entries | sed 's/^/entries| /'
berth update status 2>&1 | sed 's/^/status| /'
if [ "$BOOT" = 1 ]; then
        t v1-slot-a test "$version" = 1.0.0
        # Ready at once; exited 0 once it blessed the boot (nothing stays resident).
        t v1-agent-ready grep -Eqx 'state=(ready|exited)' /run/berth/services/update
        # The log lives on /var across boots: wait for this boot's line.
        wait_for grep -q "blessed slot a ($version)" /var/log/berth/update.log
        sed 's/^/update-log| /' /var/log/berth/update.log
        t v1-entry-blessed test -f /efi/loader/entries/berth-a.conf
        # Nothing of the agent stays resident: it exits after blessing, and
        # berth-init starts the checks on the image's schedule.
        t v1-agent-exits wait_for grep -qx 'state=exited' /run/berth/services/update
        sed 's/^/update-check-status| /' /run/berth/services/update-check 2>/dev/null
        t v1-update-check-scheduled grep -qx 'state=scheduled' /run/berth/services/update-check
        # A kernel.cmdline setting is in the running slot's entry (berthd)
        # and must follow the update into the new slot's.
        berth set 'kernel.cmdline=["printk.devkmsg=on"]' 2>&1 | sed 's/^/set| /'
        berth apply 2>&1 | sed 's/^/settings-apply| /'
        t settings-words-in-entry grep -q '^options .* printk.devkmsg=on' /efi/loader/entries/berth-a.conf
        start=$(cut -d' ' -f1 /proc/uptime)
        out=$(berth update apply --repo "$URL" 2>&1)
        rc=$?
        echo "$out" | sed 's/^/apply| /'
        echo "apply-seconds: $start $(cut -d' ' -f1 /proc/uptime)"
        t apply-exit-0 test $rc = 0
        t apply-new-entry test -f /efi/loader/entries/berth-b+3.conf
        t new-entry-has-settings-words grep -q '^options .* printk.devkmsg=on' /efi/loader/entries/berth-b+3.conf
        t esp-read-only-again grep -Eq ' /efi vfat ro,nosuid,nodev,noexec' /proc/mounts
        t still-running-v1 test "$(sed -n 's/^VERSION_ID=//p' /usr/lib/os-release | tr -d '"')" = 1.0.0
        berth update status 2>&1 | sed 's/^/status-after| /'
elif [ "$BOOT" = 2 ]; then
        t v2-slot-b test "$slot" = b
        t v2-version test "$version" = 2.0.0
        t v2-has-less test -x /usr/bin/less
        t v2-root-hash grep -q "usrhash=$R2" /proc/cmdline
        t v2-settings-words grep -qw 'printk.devkmsg=on' /proc/cmdline
        # Ready at once; exited 0 once it blessed the boot (nothing stays resident).
        t v2-agent-ready grep -Eqx 'state=(ready|exited)' /run/berth/services/update
        wait_for grep -q "blessed slot b ($version)" /var/log/berth/update.log
        sed 's/^/update-log| /' /var/log/berth/update.log
        t v2-entry-blessed test -f /efi/loader/entries/berth-b.conf
        t v1-entry-kept test -f /efi/loader/entries/berth-a.conf
elif [ "$BOOT" = 3 ]; then
        out=$(berth update apply --repo "$URL" 2>&1)
        rc=$?
        echo "$out" | sed 's/^/apply| /'
        t v3-apply-exit-0 test $rc = 0
        t v3-entry-in-slot-a test -f /efi/loader/entries/berth-a+3.conf
        t v1-entry-replaced test ! -f /efi/loader/entries/berth-a.conf
else
        t rollback-slot-b test "$slot" = b
        t rollback-version test "$version" = 2.0.0
        t rollback-v3-out-of-tries test -f /efi/loader/entries/berth-a+0-3.conf
        t rollback-v3-bad sh -c 'berth update status | grep -qx "bad versions: 3.0.0"'
        out=$(berth update apply --repo "$URL" 2>&1)
        rc=$?
        echo "$out" | sed 's/^/apply-again| /'
        t rollback-v3-refused sh -c "test $rc != 0 && echo \"\$1\" | grep -q 3.0.0" _ "$out"
fi
echo "checks failed: $fails"
exit $fails
GUEST

DISK=$VM_TMP/machine.raw
update_machine "$DISK"
IMG=$KEEP/v1

guest() { # BOOT: the payload script for that boot
        printf 'BOOT=%s\nURL=%s\nR2=%s\n' "$1" "$GUEST_URL" "$R2" >"$VM_TMP/update-$1.sh"
        cat "$VM_TMP/guest.sh" >>"$VM_TMP/update-$1.sh"
        echo "$VM_TMP/update-$1.sh"
}
export NO_OCI=1

step "boot v1 under UEFI: the agent blesses its entry; berth update apply"
vm_boot_payload "$(guest 1)" --timeout 600 --disk-copy "$DISK"
tr -d '\r' <"$VM_LOG" | grep -E '^(T: |running:|apply|entries|status|update-)' || true
vm_guest_results "$VM_LOG" v1-slot-a v1-agent-ready v1-entry-blessed v1-agent-exits \
        v1-update-check-scheduled settings-words-in-entry apply-exit-0 apply-new-entry \
        new-entry-has-settings-words \
        esp-read-only-again still-running-v1
vm_expect "$VM_LOG" 'boot assessment: 1\.0\.0 healthy' "the agent found v1 healthy (its log)"
vm_expect "$VM_LOG" 'blessed slot a \(1\.0\.0\)' "the agent blessed v1's entry"
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
apply_s=$(tr -d '\r' <"$VM_LOG" | awk '/^apply-seconds:/ { printf "%.1f", $3 - $2 }')
echo "apply in the guest (TCG): ${apply_s:-?} s"

step "the disk after the update: v2 in slot b with its entry counting"
entries=$(mdir -b -i "$DISK@@1M" ::/loader/entries 2>&1 || true)
echo "$entries" | sed 's/^/    /'
check "the ESP holds berth-b+3.conf and the blessed berth-a.conf" \
        sh -c 'echo "$1" | grep -q "berth-b+3\.conf$" && echo "$1" | grep -q "berth-a\.conf$"' _ "$entries"

step "boot again: systemd-boot picks v2 (slot b); the agent blesses it"
vm_boot_payload "$(guest 2)" --timeout 600 --disk-copy "$DISK"
tr -d '\r' <"$VM_LOG" | grep -E '^(T: |running:|entries|status|update-)' || true
vm_guest_results "$VM_LOG" v2-slot-b v2-version v2-has-less v2-root-hash v2-settings-words v2-agent-ready \
        v2-entry-blessed v1-entry-kept
vm_expect "$VM_LOG" 'blessed slot b \(2\.0\.0\)' "the agent blessed v2's entry"
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
entries=$(mdir -b -i "$DISK@@1M" ::/loader/entries 2>&1 || true)
echo "$entries" | sed 's/^/    /'
check "the ESP holds berth-b.conf (blessed) and berth-a.conf" \
        sh -c 'echo "$1" | grep -q "berth-b\.conf$" && echo "$1" | grep -q "berth-a\.conf$"' _ "$entries"

step "publish v3 (test-neverready never gets ready); apply it from v2"
"$BERTH" publish --repo "$REPO" --key "$KEEP/keys" "$KEEP/v3" >/dev/null
vm_boot_payload "$(guest 3)" --timeout 600 --disk-copy "$DISK"
tr -d '\r' <"$VM_LOG" | grep -E '^(T: |running:|apply|entries)' || true
vm_guest_results "$VM_LOG" v3-apply-exit-0 v3-entry-in-slot-a v1-entry-replaced
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]

step "boot: v3 fails its assessment three times, systemd-boot falls back to v2"
start=$SECONDS
vm_boot_payload "$(guest 4)" --timeout 600 --disk-copy "$DISK"
tr -d '\r' <"$VM_LOG" | grep -E '^(T: |running:|apply|entries|status|update-|berth: slot|berth: reboot)' || true
v3_boots=$(tr -d '\r' <"$VM_LOG" | grep -c '^berth: slot a: usr partition' || true)
check "v3 (slot a) booted exactly 3 times before the fallback (got $v3_boots)" [ "$v3_boots" = 3 ]
vm_expect "$VM_LOG" 'boot assessment: 3\.0\.0 not healthy after 20s \(service test-neverready is failed\)' \
        "the agent found v3 unhealthy and said why (its log)"
vm_expect "$VM_LOG" 'release 3\.0\.0 in slot a ran out of boot tries .*marked bad' \
        "v2's agent recorded the rollback (its log)"
vm_guest_results "$VM_LOG" rollback-slot-b rollback-version rollback-v3-out-of-tries rollback-v3-bad \
        rollback-v3-refused
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
echo "three failed boots of v3 and the fallback to v2: $((SECONDS - start)) s (TCG)"

finish
