#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 9's update cycle in a real guest: compose v1 and v2 of the test image
# (images/test.conf plus [Update]; v2 has one package more), publish both to a
# TUF repository served over HTTP on the host's loopback, boot v1 under UEFI
# (systemd-boot counts the boot; the update agent assesses it and blesses
# v1's entry), run `berth update apply` in the guest (it reaches the host at
# 10.0.2.2). Fleet reboots (docs/updates.md) on the same boots: the host runs
# etcd on loopback and takes the group's one slot as another node first; the
# guest turns reboot coordination on (berth set) with a reboot window that
# opens in two hours, and its scheduled check (berth update periodic) finds
# v2 installed but waits for the window (berth status says until when; no
# slot asked for); the window set to all day, it waits for the full group:
# berth status and berth update lock status say why. The host releases the other
# node's slot: the guest takes it (the host sees it in the key with
# etcdctl), reboots itself, systemd-boot picks v2's entry, v2 runs from slot
# b, the agent blesses its entry and gives the slot back (no holder left in
# the key). Then v3, whose
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
. "$BERTH_SOURCE_ROOT/tests/fixtures/etcd.sh"
step "etcd on loopback for the fleet's reboot slot (the guest reaches it at 10.0.2.2)"
etcd_start "$VM_TMP" || exit 1
trap 'etcd_stop; kill "$(cat "$VM_TMP/server.pid")" 2>/dev/null || true; _vm_cleanup' EXIT
GUEST_ETCD=http://10.0.2.2:$ETCD_PORT

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
# Boot 1 reboots itself into v2 (the fleet's slot taken): the same payload
# runs again there, as boot 2.
if [ "$BOOT" = 1 ] && [ "$version" = 2.0.0 ]; then
        BOOT=2
fi
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
        # Fleet reboots: the host's etcd holds the group's one slot for
        # another node. Coordination on through the settings, and a reboot
        # window that opens in two hours (WINDOW, from the host's clock).
        echo "machine-id: $(cat /etc/machine-id)"
        berth set update.reboot-coordination=etcd "update.etcd-endpoints=[\"$ETCD\"]" \
                "update.reboot-window=$WINDOW" >/dev/null
        berth apply >/dev/null
        sed 's/^/update-conf| /' /etc/berth/update.conf
        t coordination-rendered grep -qx 'RebootCoordination=etcd' /etc/berth/update.conf
        t window-rendered grep -qx "RebootWindow=$WINDOW" /etc/berth/update.conf
        # The scheduled check, by hand (update-check.service's command):
        # v2 is installed, so it only waits for the window and a slot, then
        # reboots.
        # A run that meets another berth update's lock (exit 75) tries again;
        # the log shows how each run ended (the window checks below failed
        # once with no run waiting: cause not found yet).
        (
                while :; do
                        berth update periodic --repo "$URL" --poll-max 2
                        rc=$?
                        echo "periodic: exit $rc"
                        [ $rc = 75 ] || break
                        echo "periodic: exit 75 (another berth update runs), again in 1 s"
                        sleep 1
                done
        ) >/var/log/berth/periodic.log 2>&1 &
        in_window_wait() { berth update status 2>/dev/null | grep -q '^reboot lock: waiting for the reboot window'; }
        t periodic-waits-for-window wait_for in_window_wait
        berth update status 2>&1 | sed 's/^/status-window| /'
        berth status 2>&1 | grep reboot_lock | sed 's/^/api-status-window| /'
        # (Retried: once, at 00:18 UTC, one status read in between said "no
        # slot taken by this agent"; not understood yet, see the notes.)
        t window-status-says-when wait_for sh -c 'berth update status | grep -qx "reboot lock: waiting for the reboot window $1 UTC, not rebooting before $2"' _ "$WINDOW" "$OPENS"
        t window-status-opens wait_for sh -c 'berth update status | grep -qx "reboot window: $1 UTC, opens $2"' _ "$WINDOW" "$OPENS"
        t window-api-status-says-when wait_for sh -c 'berth status | grep -qF "\"reboot_lock\": \"waiting for the reboot window $1 UTC, not rebooting before $2\""' _ "$WINDOW" "$OPENS"
        berth update status 2>&1 | grep '^reboot lock' | sed 's/^/status-window-after| /'
        sed 's/^/periodic-log| /' /var/log/berth/periodic.log
        # Outside the window no slot is asked for: the host checks the key
        # when it sees this line, then the window opens to all day.
        echo "FLEET: waiting for the window"
        sleep 3
        berth set update.reboot-window=00:00-24:00 >/dev/null
        berth apply >/dev/null
        waiting() { berth update status 2>/dev/null | grep -q '^reboot lock: waiting, not rebooting'; }
        t periodic-waits wait_for waiting
        berth update status 2>&1 | sed 's/^/status-waiting| /'
        berth status 2>&1 | sed 's/^/api-status-waiting| /'
        berth update lock status 2>&1 | sed 's/^/lock-status-waiting| /'
        full='reboot lock /berth/reboot/default: all 1 slots taken (holders: other-node)'
        t status-says-why sh -c 'berth update status | grep -qF "reboot lock: waiting, not rebooting: $1"' _ "$full"
        t api-status-says-why sh -c 'berth status | grep -qF "\"reboot_lock\": \"waiting, not rebooting: $1\""' _ "$full"
        t lock-status-holder sh -c 'berth update lock status | grep -Eqx "holder: other-node \(lease [0-9]+, [0-9]+ s left\)"'
        sleep 3
        t not-rebooted-while-full test "$(sed -n 's/^VERSION_ID=//p' /usr/lib/os-release | tr -d '"')" = 1.0.0
        # The host releases the other node's slot when it sees this line;
        # the agent then takes it and reboots (PID 1 stops this payload).
        echo "FLEET: waiting for a slot"
        sleep 3600
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
        # Blessed: the agent gives the fleet's slot back. (Its lease, 3600 s,
        # outlived the reboot; the agent renews it while it assesses, if the
        # network is up before the blessing: shown, not checked.)
        grep 'renew' /var/log/berth/update.log | sed 's/^/lease-renewal| /'
        t v2-slot-released wait_for grep -q "released the slot of $(cat /etc/machine-id) in /berth/reboot/default" \
                /var/log/berth/update.log
        berth update lock status 2>&1 | sed 's/^/lock-status-after| /'
        t v2-lock-state-released sh -c 'berth update status | grep -q "^reboot lock: released its slot of /berth/reboot/default"'
        t v2-key-no-holder sh -c 'berth update lock status | grep -q "^/berth/reboot/default: max 1, 0 held"'
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
        printf 'BOOT=%s\nURL=%s\nR2=%s\nETCD=%s\nWINDOW=%s\nOPENS=%q\n' "$1" "$GUEST_URL" "$R2" \
                "$GUEST_ETCD" "$WINDOW" "$OPENS" >"$VM_TMP/update-$1.sh"
        cat "$VM_TMP/guest.sh" >>"$VM_TMP/update-$1.sh"
        echo "$VM_TMP/update-$1.sh"
}
export NO_OCI=1

step "boot v1 under UEFI: the agent blesses its entry; berth update apply; with the fleet's slot taken it does not reboot"
# The group's one slot is another node's before the guest asks.
"$BERTH" update lock take --etcd "$ETCD_URL" --id other-node --max 1 --state "$VM_TMP/other" >/dev/null
check "the host's etcd: other-node holds the group's one slot" test "$(etcd_holders default)" = other-node
guest_lease=
# A window from the next full hour but one, an hour long: closed now.
WINDOW="$(date -u -d '+2 hours' +%H):00-$(date -u -d '+3 hours' +%H):00"
OPENS=$(date -u -d "$(date -u -d '+2 hours' '+%Y-%m-%d %H'):00" '+%Y-%m-%d %H:%M UTC')
echo "reboot window for the guest: $WINDOW (opens $OPENS)"
vm_boot_bg --payload "$(vm_make_payload "$(guest 1)")" --timeout 900 --disk-copy "$DISK"
# The guest's time, not the wait for another test's QEMU (the lock).
while [ ! -s "$VM_LOG" ] && kill -0 "$VM_PID" 2>/dev/null; do sleep 0.2; done
start=$SECONDS
if vm_wait_console '^FLEET: waiting for the window' 600; then
        check "outside its reboot window the guest asked for no slot: the key holds only other-node" \
                test "$(etcd_holders default)" = other-node
fi
if vm_wait_console '^FLEET: waiting for a slot' 600; then
        check "the guest waits for a slot (its payload says so)" true
        check "the key still holds only other-node" test "$(etcd_holders default)" = other-node
        "$BERTH" update lock release other-node --etcd "$ETCD_URL" --state "$VM_TMP/other" >/dev/null
        guest_id=$(tr -d '\r' <"$VM_LOG" | sed -n 's/^machine-id: //p' | head -n1)
        took=no
        for _ in $(seq 1 120); do
                [ "$(etcd_holders default)" = "$guest_id" ] && { took=yes; break; }
                sleep 0.5
        done
        check "after the host released other-node, the guest ($guest_id) holds the slot (etcdctl)" [ "$took" = yes ]
        guest_lease=$(etcdctl --endpoints "$ETCD_URL" get --print-value-only /berth/reboot/default | python3 -c \
                'import json,sys; print(json.load(sys.stdin).get("leases", {}).get(sys.argv[1], ""))' "$guest_id")
        check "its slot has an etcd lease ($guest_lease) that is running" sh -c \
                'etcdctl --endpoints "$1" lease timetolive "$(printf %x "$2")" | grep -q "granted with TTL(3600s)"' \
                _ "$ETCD_URL" "$guest_lease"
else
        check "the guest waits for a slot (its payload says so)" false
fi
vm_wait
tr -d '\r' <"$VM_LOG" | grep -E '^(T: |running:|apply|entries|status|update-|api-status|lock-status|machine-id)' || true
vm_guest_results "$VM_LOG" v1-slot-a v1-agent-ready v1-entry-blessed v1-agent-exits \
        v1-update-check-scheduled settings-words-in-entry apply-exit-0 apply-new-entry \
        new-entry-has-settings-words esp-read-only-again still-running-v1 coordination-rendered \
        window-rendered periodic-waits-for-window window-status-says-when window-status-opens \
        window-api-status-says-when periodic-waits status-says-why api-status-says-why \
        lock-status-holder not-rebooted-while-full
vm_expect "$VM_LOG" 'boot assessment: 1\.0\.0 healthy' "the agent found v1 healthy (its log)"
vm_expect "$VM_LOG" 'blessed slot a \(1\.0\.0\)' "the agent blessed v1's entry"
apply_s=$(tr -d '\r' <"$VM_LOG" | awk '/^apply-seconds:/ { printf "%.1f", $3 - $2 }')
echo "apply in the guest (TCG): ${apply_s:-?} s"

step "the same guest rebooted itself: systemd-boot picked v2 (slot b); the agent blessed it and gave the slot back"
vm_guest_results "$VM_LOG" v2-slot-b v2-version v2-has-less v2-root-hash v2-settings-words v2-agent-ready \
        v2-entry-blessed v1-entry-kept v2-slot-released v2-lock-state-released v2-key-no-holder
vm_expect "$VM_LOG" 'blessed slot b \(2\.0\.0\)' "the agent blessed v2's entry"
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
check "the host's etcd: the key holds no holder ($(etcd_holders default))" test -z "$(etcd_holders default)"
check "and no lease: the guest revoked its lease ${guest_lease:-?}" sh -c \
        '! etcdctl --endpoints "$1" get --print-value-only /berth/reboot/default | grep -q leases &&
         etcdctl --endpoints "$1" lease timetolive "$(printf %x "$2")" | grep -q "already expired"' _ "$ETCD_URL" "${guest_lease:-0}"
entries=$(mdir -b -i "$DISK@@1M" ::/loader/entries 2>&1 || true)
echo "$entries" | sed 's/^/    /'
check "the ESP holds berth-b.conf (blessed) and berth-a.conf" \
        sh -c 'echo "$1" | grep -q "berth-b\.conf$" && echo "$1" | grep -q "berth-a\.conf$"' _ "$entries"
echo "boots 1 and 2 with the fleet's slot (one QEMU, a reboot by the agent): $((SECONDS - start)) s (TCG, the lock held)"
# Boots 3 and 4 keep coordination on: v3's failed tries reboot without a
# slot (an unhealthy boot never waits for the fleet), and v2's agent after the
# fallback finds none to give back.

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
