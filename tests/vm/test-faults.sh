#!/bin/bash
# SPDX-License-Identifier: MIT
# Faults, one boot each, each judged by the console:
#   a. usr-A corrupted (erofs superblock): dm-verity turns the read into an I/O
#      error; stage 1 prints berth's error line and reboots; nothing starts.
#      a2 (with a): usr-A-verity's superblock spoiled: stage 1 names the
#      partition and what is wrong before device-mapper is asked.
#   b. a usrhash= that is not the image's: the usr partitions it names do not
#      exist; stage 1 says so and reboots. b2 (with b): a wrong usrhash= that
#      still names the image's partitions; dm-verity refuses it.
#   c. a service that crashes at start: restarted with a doubling backoff.
#   d. a service that never becomes ready: failed after ReadyTimeout=, and the
#      service that needs it is never started.
#   e. containerd killed under a running container: the supervisor restarts it,
#      the container lives on and can still be killed and deleted.
# c and d boot tests/vm/faults.conf (built once into
# $BERTH_BUILD_DIR/vm-faults-image); the others the test image (images/test.conf).
# VM_FAULTS="a c" runs only some cases (default: all).
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need --direct
need python3
need sfdisk
CASES=${VM_FAULTS:-a b c d e}
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }

DEFAULT_IMG=$(vm_image_dir)
usrhash=$(sed -n 's/.*usrhash=\([0-9a-f]*\).*/\1/p' "$DEFAULT_IMG/cmdline")
[ ${#usrhash} = 64 ] || { echo "no usrhash= in $DEFAULT_IMG/cmdline"; exit 1; }

# Shown when a case fails: what berth printed.
berth_lines() { tr -d '\r' < "$VM_LOG" | grep -E 'berth: |verity|erofs' | sed 's/^/    | /' | tail -n 40; }

if want a; then
        step "a. corrupted usr-A: dm-verity refuses, stage 1 fails clearly and reboots"
        disk=$VM_TMP/corrupt.raw
        cp --sparse=always "$DEFAULT_IMG/disk.raw" "$disk"
        start=$(sfdisk -d "$disk" | sed -n 's/.*start= *\([0-9]*\),.*name="usr-a".*/\1/p')
        check "found the usr-a partition (start sector ${start:-?})" [ -n "$start" ]
        # Flip every bit of the 128 bytes of the erofs superblock (offset 1024
        # of block 0): verity's hash of block 0 no longer matches.
        python3 - "$disk" $((${start:-0} * 512 + 1024)) <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(128)
    f.seek(off)
    f.write(bytes(x ^ 0xFF for x in b))
PY
        vm_boot --direct --no-reboot --timeout 180 --disk-copy "$disk"
        vm_expect "$VM_LOG" 'berth: error: boot failed: cannot (open dm-verity for usr|mount /dev/mapper/usr).*— rebooting' \
                "berth: error: boot failed: line about usr, then rebooting"
        vm_expect "$VM_LOG" 'verity.*(corrupt|[Ii]/?O error)|Input/output error|corruption' \
                "the error is dm-verity's corruption / I/O error"
        vm_expect "$VM_LOG" 'berth: timeline init-start' "stage 1 ran"
        vm_expect_not "$VM_LOG" 'berth: timeline switch-root' "no switch to the real root"
        vm_expect_not "$VM_LOG" 'berth: starting ' "no service started"
        # QEMU ended at the guest's reboot (--no-reboot); berth vm names the
        # failure and exits 65 (docs/errors.md), not 0 and not at the timeout.
        check "berth vm failed with the guest's failure (exit $VM_RC)" [ "$VM_RC" = 65 ]
        [ $_checks_failed = 0 ] || berth_lines

        step "a2. usr-a-verity without its superblock: stage 1 names the partition and the field"
        cp --sparse=always "$DEFAULT_IMG/disk.raw" "$disk"
        vstart=$(sfdisk -d "$disk" | sed -n 's/.*start= *\([0-9]*\),.*name="usr-a-verity".*/\1/p')
        check "found the usr-a-verity partition (start sector ${vstart:-?})" [ -n "$vstart" ]
        # "verity\0\0" -> "Xerity\0\0": stage 1 reads the superblock itself
        # (src/shared/dm-verity.c) before device-mapper sees a table.
        printf X | dd of="$disk" bs=1 seek=$((${vstart:-0} * 512)) conv=notrunc status=none
        vm_boot --direct --no-reboot --timeout 180 --disk-copy "$disk"
        vm_expect "$VM_LOG" 'berth: error: boot failed: cannot open dm-verity for usr \(data /dev/vda[0-9]+, hash /dev/vda[0-9]+\): /dev/vda[0-9]+: no verity superblock at offset 0 — rebooting' \
                "berth: error: boot failed: no verity superblock on the hash partition, then rebooting"
        vm_expect_not "$VM_LOG" 'berth: timeline switch-root' "no switch to the real root"
        check "berth vm failed with the guest's failure (exit $VM_RC)" [ "$VM_RC" = 65 ]
        [ $_checks_failed = 0 ] || berth_lines
fi

if want b; then
        step "b. wrong root hash: the usr partitions it names are not there"
        # Same length, first digit changed: names a usr partition UUID that
        # does not exist. The later usrhash= wins (stage 1 takes the last).
        first=${usrhash:0:1}
        [ "$first" = 0 ] && other=1 || other=0
        bad=$other${usrhash:1}
        vm_boot --direct --no-reboot --timeout 180 --cmdline "usrhash=$bad"
        # The usr partition's PARTUUID derived from the bad hash (stage 1's rule).
        vm_expect "$VM_LOG" "berth: slot a: usr partition ${bad:0:8}-" "stage 1 used the later usrhash="
        vm_expect "$VM_LOG" 'berth: error: boot failed: cannot find the usr partition PARTUUID=[0-9a-f-]+ \(slot a\) — rebooting' \
                "berth: error: boot failed: cannot find the usr partition, then rebooting"
        vm_expect_not "$VM_LOG" 'berth: timeline switch-root' "no switch to the real root"
        vm_expect_not "$VM_LOG" 'berth: starting ' "no service started"
        # QEMU ended at the guest's reboot (--no-reboot); berth vm names the
        # failure and exits 65 (docs/errors.md), not 0 and not at the timeout.
        check "berth vm failed with the guest's failure (exit $VM_RC)" [ "$VM_RC" = 65 ]
        [ $_checks_failed = 0 ] || berth_lines

        step "b2. wrong root hash naming the right partitions: dm-verity refuses it"
        # The partition UUIDs ignore the high nibble of byte 6 of each half
        # (it becomes the UUID version), so changing hex digit 12 keeps both
        # partitions findable while the root hash is wrong.
        d=${usrhash:12:1}
        [ "$d" = 7 ] && o=6 || o=7
        bad2=${usrhash:0:12}$o${usrhash:13}
        vm_boot --direct --no-reboot --timeout 180 --cmdline "usrhash=$bad2"
        vm_expect "$VM_LOG" "berth: slot a: usr partition ${usrhash:0:8}-" "the partitions are the image's"
        vm_expect "$VM_LOG" 'device-mapper: verity: .*block [0-9]+ is corrupted' \
                "the kernel's dm-verity rejects the hash tree"
        vm_expect "$VM_LOG" 'berth: error: boot failed: cannot (open dm-verity for usr|mount /dev/mapper/usr).*— rebooting' \
                "berth: error: boot failed: line about dm-verity/usr, then rebooting"
        vm_expect_not "$VM_LOG" 'berth: timeline switch-root' "no switch to the real root"
        vm_expect_not "$VM_LOG" 'berth: starting ' "no service started"
        # QEMU ended at the guest's reboot (--no-reboot); berth vm names the
        # failure and exits 65 (docs/errors.md), not 0 and not at the timeout.
        check "berth vm failed with the guest's failure (exit $VM_RC)" [ "$VM_RC" = 65 ]
        [ $_checks_failed = 0 ] || berth_lines
fi

if want c || want d; then
        step "c, d. crashing and never-ready services (tests/vm/faults.conf)"
        if [ -n "${BERTH_FAULTS_IMAGE_DIR:-}" ]; then
                FIMG=$BERTH_FAULTS_IMAGE_DIR
        else
                FIMG=$(vm_spec_image "$BERTH_SOURCE_ROOT/tests/vm/faults.conf" vm-faults-image)
        fi
        # Runs once every service settled, i.e. after test-neverready's 5 s
        # timeout; stays a while so that test-crash's backoff reaches 4 s and 8 s.
        cat > "$VM_TMP/faults-cd.sh" <<'GUEST'
t() { tname=$1; shift; if "$@"; then echo "T: ok $tname"; else echo "T: FAIL $tname"; fi; }
t never-path-absent test ! -e /run/never
# Every service has a log file (docs/services.md, Logs): it stays empty.
t dependent-never-ran test ! -s /var/log/berth/test-dependent.log
t neverready-gone sh -c '! pidof ctr >/dev/null'
t containerd-unaffected test -S /run/containerd/containerd.sock
sleep 12
t crash-log-written grep -q 'no-such-flag' /var/log/berth/test-crash.log
GUEST
        NO_OCI=1 IMG=$FIMG vm_boot_payload "$VM_TMP/faults-cd.sh" --direct --timeout 300
        vm_guest_results "$VM_LOG" never-path-absent dependent-never-ran neverready-gone \
                containerd-unaffected crash-log-written
        check "payload ran and exited 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
        if want c; then
                vm_expect_order "$VM_LOG" \
                        'berth: test-crash exited with status [1-9][0-9]*, restarting in 1s' \
                        'berth: test-crash exited with status [1-9][0-9]*, restarting in 2s' \
                        'berth: test-crash exited with status [1-9][0-9]*, restarting in 4s' \
                        'berth: test-crash exited with status [1-9][0-9]*, restarting in 8s' \
                        -- "c. test-crash restarted after 1s, 2s, 4s, 8s"
                vm_expect_not "$VM_LOG" 'test-crash .*restarting in (16|32)s' \
                        "c. the backoff stops at RestartMaxSec=8"
        fi
        if want d; then
                vm_expect_order "$VM_LOG" \
                        'berth: starting test-neverready' \
                        'berth: error: test-neverready did not become ready within 5s, stopping it' \
                        'berth: test-neverready (killed by signal TERM|exited with status [0-9]+), failed' \
                        'berth: error: test-dependent: not started, it needs test-neverready which failed' \
                        -- "d. test-neverready failed after 5s; test-dependent not started"
                vm_expect_not "$VM_LOG" 'berth: (starting|started) test-dependent' "d. test-dependent never started"
                vm_expect_not "$VM_LOG" 'berth: started test-neverready' "d. test-neverready never ready"
                vm_expect_order "$VM_LOG" 'berth: error: test-dependent: not started' \
                        'berth: starting payload' -- "d. the payload waited until everything settled"
        fi
        [ $_checks_failed = 0 ] || berth_lines
fi

if want e; then
        step "e. containerd killed while a container runs"
        cat > "$VM_TMP/faults-e.sh" <<'GUEST'
fails=0
t() { tname=$1; shift; if "$@"; then echo "T: ok $tname"; else echo "T: FAIL $tname"; fails=$((fails + 1)); fi; }
wait_for() { tries=$1; shift; while ! "$@"; do tries=$((tries - 1)); [ $tries -gt 0 ] || return 1; sleep 0.25; done; }
task() { ctr -n default task ls 2>/dev/null | awk -v id=long '$1 == id { print $2, $3 }'; }
running() { task | grep -q ' RUNNING$'; }
stopped() { task | grep -q ' STOPPED$'; }
t containerd-socket wait_for 480 test -S /run/containerd/containerd.sock
t image-import ctr -n default images import /run/berth/payload/busybox-oci.tar
t run-detached ctr -n default run -d --runc-binary /usr/bin/crun berth.local/busybox:latest long sleep 600
t task-running wait_for 120 running
before=$(task)
echo "task before: $before"
old=$(pidof containerd)
echo "containerd pid before: $old"
kill -9 $old
answers() { new=$(pidof containerd) && [ "$new" != "$old" ] && ctr version >/dev/null 2>&1; }
t containerd-back wait_for 480 answers
echo "containerd pid after: $(pidof containerd)"
ctr -n default task ls
t task-still-running running
t task-same-pid test "$(task)" = "$before"
t task-kill ctr -n default task kill -s SIGKILL long
t task-stopped wait_for 120 stopped
t task-delete ctr -n default task delete long
t container-delete ctr -n default containers delete long
t nothing-left test -z "$(ctr -n default containers ls -q)"
exit $fails
GUEST
        IMG=$DEFAULT_IMG vm_boot_payload "$VM_TMP/faults-e.sh" --direct --timeout 300
        vm_guest_results "$VM_LOG" containerd-socket image-import run-detached task-running \
                containerd-back task-still-running task-same-pid task-kill task-stopped task-delete \
                container-delete nothing-left
        check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
        vm_expect_order "$VM_LOG" 'berth: containerd killed by signal KILL, restarting in 1s' \
                'berth: started containerd' -- "e. berth restarted containerd after 1s"
        [ $_checks_failed = 0 ] || berth_lines
fi

finish
