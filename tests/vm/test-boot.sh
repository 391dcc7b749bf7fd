#!/bin/bash
# SPDX-License-Identifier: MIT
# The test image (images/test.conf: the default image plus the payload hook)
# end to end, the real way: UEFI (OVMF) -> systemd-boot ->
# berth-init stage 1 -> dm-verity /usr -> stage 2 supervisor. A payload in the
# guest runs a container (containerd + crun), looks at /usr, cgroups, the
# loaded kernel modules and the supervisor's restart of a killed service, the
# service status files and `berth service restart`, efivarfs and the read-only
# ESP at /efi, the first-boot markers, and prints one "T: ok NAME" or
# "T: FAIL NAME" line per check; the host turns each into a check. The
# machine's disk is 512 MiB larger than the image: the root partition and its
# ext4 must have grown on first boot. The update agent must have blessed the
# entry that systemd-boot counted (berth-a+2-1.conf -> berth-a.conf) before
# the payload starts (docs/updates.md, "Boot assessment").
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need
need mdir
IMG=$(vm_image_dir)

cat > "$VM_TMP/boot.sh" <<'GUEST'
fails=0
t() {
        name=$1
        shift
        if "$@"; then
                echo "T: ok $name"
        else
                echo "T: FAIL $name"
                fails=$((fails + 1))
        fi
}
has() { echo "$1" | grep -q "$2"; }
wait_for() { # wait_for TRIES(0.25 s each) COMMAND...
        n=$1
        shift
        while ! "$@"; do
                n=$((n - 1))
                [ $n -gt 0 ] || return 1
                sleep 0.25
        done
}

echo "--- containerd + crun"
t containerd-socket wait_for 480 test -S /run/containerd/containerd.sock
t image-import ctr -n default images import /run/berth/payload/busybox-oci.tar
out=$(ctr -n default run --rm --runc-binary /usr/bin/crun berth.local/busybox:latest boot-test \
        /bin/sh -c 'echo "container-says $((6 * 7))"; id -u' 2>&1)
echo "$out" | sed 's/^/container| /'
t container-output has "$out" '^container-says 42$'
t container-ran-as-root has "$out" '^0$'
t container-removed test -z "$(ctr -n default containers ls -q)"

echo "--- /usr from dm-verity"
grep ' /usr ' /proc/mounts
t usr-mounted-erofs-ro grep -Eq '^/dev/(mapper/usr|dm-0) /usr erofs ro[, ]' /proc/mounts
t usr-dm-name test "$(cat /sys/block/dm-0/dm/name)" = usr
slaves=$(ls /sys/block/dm-0/slaves | tr '\n' ' ')
echo "dm-0 slaves: $slaves"
t usr-dm-two-vda-partitions test "$(ls /sys/block/dm-0/slaves | grep -c '^vda[0-9][0-9]*$')" = 2
echo "dm-0 uuid: $(cat /sys/block/dm-0/dm/uuid)"
t usr-dm-verity-target grep -q '^CRYPT-VERITY-' /sys/block/dm-0/dm/uuid
t usr-not-writable sh -c '! touch /usr/.berth-write-test 2>/dev/null'

echo "--- cgroup v2 only"
grep cgroup /proc/mounts
t cgroup2-mounted grep -q '^cgroup2 /sys/fs/cgroup cgroup2 ' /proc/mounts
t no-cgroup-v1 sh -c '! grep -q " cgroup " /proc/mounts'
echo "cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
t cgroup-controllers has "$(cat /sys/fs/cgroup/cgroup.controllers)" 'memory'
t cgroup-subtree-control has "$(cat /sys/fs/cgroup/system.slice/cgroup.subtree_control)" 'pids'

t containerd-in-its-cgroup grep -qx '0::/system.slice/containerd.service' /proc/$(pidof containerd)/cgroup

echo "--- the supervisor restarts a killed service"
old=$(pidof chronyd)
echo "chronyd pid before: $old"
t chronyd-running test -n "$old"
kill -9 $old
new_pid() { new=$(pidof chronyd) && [ -n "$new" ] && [ "$new" != "$old" ]; }
t chronyd-restarted wait_for 120 new_pid
echo "chronyd pid after: $(pidof chronyd)"

echo "--- kernel modules: stage 1's list, modules-load.d ([Kernel] Load=), coldplug (the NIC)"
for m in dm_verity erofs overlay br_netfilter virtio_net; do
        t module-$m wait_for 40 grep -q "^$m " /proc/modules
done
# The module work above ran in berth-stage1 --modules children: PID 1 in
# the real root maps none of stage 1's or libkmod's libraries (docs/init.md,
# "Memory").
t init-maps-no-stage1-libs sh -c '! grep -Eq "libcryptsetup|libkmod|libcrypto|libfdisk|libdevmapper" /proc/1/maps'
# berth loads modules itself (src/shared/modload.c): no libkmod in the image.
t no-libkmod-in-image sh -c '! ls /usr/lib/x86_64-linux-gnu | grep -q "^libkmod"'
t init-is-berth-init test "$(cat /proc/1/comm)" = berth-init
echo "RSS-KB init=$(awk '/^Rss:/ { print $2 }' /proc/1/smaps_rollup)"

echo "--- the root file system grew with the disk on first boot"
echo "root-kib: $(df -k /var | awk 'NR == 2 { print $2 }')"

echo "--- service state for other processes, control by the berth CLI"
status() { sed -n "s/^$2=//p" /run/berth/services/$1; }
cat /run/berth/services/containerd | sed 's/^/containerd-status| /'
t status-containerd-ready test "$(status containerd state)" = ready
t status-containerd-pid test "$(status containerd pid)" = "$(pidof containerd)"
t status-containerd-ready-time test -n "$(status containerd ready_time)"
t berth-cli-in-image test -x /usr/bin/berth
berth service | sed 's/^/berth-service| /'
t berth-service-lists has "$(berth service)" '^containerd  *ready '
t berth-service-status has "$(berth service status containerd)" '^state: ready$'
t status-file-root-only-socket test "$(stat -c %a /run/berth/init.sock)" = 600
wait_for 40 sh -c 'test "$(sed -n s/^state=//p /run/berth/services/chrony)" = ready'
before_pid=$(status chrony pid)
before_restarts=$(status chrony restarts)
echo "chrony before: pid $before_pid, restarts $before_restarts"
out=$(berth service restart chrony 2>&1)
echo "berth service restart chrony: $out"
t berth-service-restart-accepted has "$out" '^restarting chrony$'
restarted() {
        [ "$(status chrony state)" = ready ] && [ "$(status chrony pid)" != "$before_pid" ] &&
                [ "$(status chrony restarts)" -gt "$before_restarts" ]
}
t chrony-restarted-by-request wait_for 120 restarted
echo "chrony after: pid $(status chrony pid), restarts $(status chrony restarts)"
# With its seccomp filter (-F 1) chronyd forks a privileged helper: the
# service's main process is the first chronyd.
t chrony-new-pid-is-chronyd test "$(status chrony pid)" = "$(pidof chronyd | tr ' ' '\n' | sort -n | head -n1)"
t berth-service-unknown sh -c '! berth service restart nosuchservice 2>/dev/null'

echo "--- firmware and the ESP"
grep -E ' /efi | efivarfs ' /proc/mounts | sed 's/^/mounts| /'
t efivarfs-mounted grep -Eq '^efivarfs /sys/firmware/efi/efivars efivarfs [^ ]*nosuid,nodev,noexec' /proc/mounts
t efivars-readable sh -c 'ls /sys/firmware/efi/efivars | grep -q .'
t esp-mounted-ro grep -Eq '^/dev/vda1 /efi vfat ro,nosuid,nodev,noexec' /proc/mounts
t esp-has-loader test -f /efi/loader/loader.conf
t esp-not-writable sh -c '! touch /efi/.berth-write-test 2>/dev/null'

echo "--- first boot"
ls -l /var/lib/berth/firstboot | sed 's/^/firstboot| /'
t firstboot-growfs-done test -f /var/lib/berth/firstboot/growfs
t firstboot-machine-id-done test -f /var/lib/berth/firstboot/machine-id
t first-boot-flag test -f /run/berth/first-boot
t test-payload-marker test -f /usr/lib/berth/test-payload

echo "--- boot assessment: the update agent is ready at once and blesses in the background"
# Ready as soon as it runs (the payload does not wait for HealthGrace=);
# without a Repository= it exits 0 after the assessment.
t update-agent-ready sh -c 'case "$(sed -n s/^state=//p /run/berth/services/update)" in ready|exited) true ;; *) false ;; esac'
n=0
until grep -q 'blessed slot a' /var/log/berth/update.log 2>/dev/null || [ $n -gt 600 ]; do
        n=$((n + 1))
        sleep 0.5
done
echo "assessment| blessed by $(cut -d' ' -f1 /proc/uptime) s of uptime"
sed 's/^/update-log| /' /var/log/berth/update.log
ls /efi/loader/entries | sed 's/^/entries| /'
t update-agent-blessed-counted-entry grep -q 'blessed slot a (.*): berth-a+2-1.conf -> berth-a.conf' /var/log/berth/update.log
t esp-read-only-after-bless grep -Eq '^/dev/vda1 /efi vfat ro,nosuid,nodev,noexec' /proc/mounts

echo "--- service logs: /var/log/berth, time-stamped, rotated at 1 MiB, 3 kept"
logs=/var/log/berth
sections_start=$(cut -d' ' -f1 /proc/uptime)
t log-containerd-stamped grep -qE '^20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z ' $logs/containerd.log
# 5 MB more into containerd's stderr, the pipe berth-init reads: past the
# bound of 4 files of 1 MiB. berth-init must keep supervising meanwhile.
pid=$(status containerd pid)
line=$(head -c 99 /dev/zero | tr '\0' x)
start=$(cut -d' ' -f1 /proc/uptime)
t log-5mb-written sh -c "yes $line | head -c 5000000 > /proc/$pid/fd/2; echo log-end-marker > /proc/$pid/fd/2"
t log-all-written wait_for 240 grep -q 'Z log-end-marker$' $logs/containerd.log
t log-rotated-3 test -s $logs/containerd.log.3
echo "log-spam-seconds: $start $(cut -d' ' -f1 /proc/uptime)"
ls -l $logs | sed 's/^/logs| /'
t log-keep-3 test ! -e $logs/containerd.log.4
t log-files-under-1mib test -z "$(find $logs -name 'containerd.log*' -size +1048576c)"
t log-total-under-4mib test "$(cat $logs/containerd.log* | wc -c)" -le 4194304
t log-rotated-full test "$(wc -c < $logs/containerd.log.2)" -gt 1040000
grep -h 'lines dropped' $logs/containerd.log* | sed 's/^/log-drops| /'
t log-supervision-alive test "$(status containerd state)" = ready

echo "--- kernel audit: records in /var/log/berth/audit.log (no auditd)"
t audit-log-exists test -s $logs/audit.log
t audit-on-from-boot grep -qw 'audit=1' /proc/cmdline
mkdir -p /run/audit-test
mount -t tmpfs -o size=1m audit-test /run/audit-test && umount /run/audit-test
echo x > /var/lib/berth/audit-test && rm /var/lib/berth/audit-test
head -c 64 /dev/zero > /run/not-a-module.ko
insmod /run/not-a-module.ko 2>/dev/null # refused, and the attempt is on record
date -s "$(date '+%Y-%m-%d %H:%M:%S')" > /dev/null
audit_has() { grep -q "key=\"$1\"" $logs/audit.log; }
for key in mounts berth-state modules time-change; do
        t audit-$key wait_for 40 audit_has $key
        grep "key=\"$key\"" $logs/audit.log | tail -n1 | cut -c1-240 | sed 's/^/audit| /'
done
t audit-log-stamped grep -qE '^20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z type=SYSCALL msg=audit\(' $logs/audit.log
echo "logs-audit-sections-seconds: $sections_start $(cut -d' ' -f1 /proc/uptime)"

echo "checks failed: $fails"
exit $fails
GUEST

step "the machine's disk is 512 MiB larger than the image, as a cloud volume would be"
DISK=$VM_TMP/disk.raw
cp --sparse=always "$IMG/disk.raw" "$DISK"
truncate -s +512M "$DISK"
# The root partition is the last one; its size in the image, in KiB.
ROOT_KIB=$(sfdisk --dump "$IMG/disk.raw" | awk -F'size= *' '/start=/ { split($2, a, ","); s = a[1] } END { printf "%d\n", s / 2 }')
echo "root partition in the image: $ROOT_KIB KiB"

step "boot through UEFI and systemd-boot, run the payload"
vm_boot_payload "$VM_TMP/boot.sh" --timeout 400 --disk-copy "$DISK"

step "the guest's checks"
tr -d '\r' < "$VM_LOG" | grep -E '^(T: |[a-z-]+\| |chrony (before|after)|berth service restart|RSS-KB|log-spam-seconds|logs-audit-sections-seconds)' || true
vm_guest_results "$VM_LOG" containerd-socket image-import container-output container-ran-as-root \
        container-removed usr-mounted-erofs-ro usr-dm-name usr-dm-two-vda-partitions \
        usr-dm-verity-target usr-not-writable cgroup2-mounted no-cgroup-v1 cgroup-controllers \
        cgroup-subtree-control containerd-in-its-cgroup chronyd-running chronyd-restarted \
        module-dm_verity module-erofs module-overlay module-br_netfilter module-virtio_net \
        init-maps-no-stage1-libs no-libkmod-in-image init-is-berth-init \
        status-containerd-ready status-containerd-pid status-containerd-ready-time \
        berth-cli-in-image berth-service-lists berth-service-status status-file-root-only-socket \
        berth-service-restart-accepted chrony-restarted-by-request chrony-new-pid-is-chronyd \
        berth-service-unknown efivarfs-mounted efivars-readable esp-mounted-ro esp-has-loader \
        esp-not-writable firstboot-growfs-done firstboot-machine-id-done first-boot-flag \
        test-payload-marker update-agent-ready update-agent-blessed-counted-entry \
        esp-read-only-after-bless log-containerd-stamped log-5mb-written log-all-written \
        log-rotated-3 log-keep-3 \
        log-files-under-1mib log-total-under-4mib log-rotated-full log-supervision-alive \
        audit-log-exists audit-on-from-boot audit-mounts audit-berth-state audit-modules \
        audit-time-change audit-log-stamped
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
check "berth vm exit status 0 (got $VM_RC)" [ "$VM_RC" = 0 ]

step "the console"
vm_expect "$VM_LOG" 'berth: timeline init-start' "stage 1 ran"
vm_expect "$VM_LOG" 'berth: timeline switch-root' "stage 1 switched root"
vm_expect "$VM_LOG" 'berth: timeline containerd-ready' "containerd became ready"
vm_expect "$VM_LOG" 'berth: chrony killed by signal KILL, restarting in [0-9.]+s' \
        "berth logs the restart of the killed chronyd"
vm_expect "$VM_LOG" 'berth: poweroff$' "ordered power-off after the payload"
vm_expect "$VM_LOG" 'berth: kernel audit on, 4 rules, records in /var/log/berth/audit.log' \
        "PID 1 turned kernel auditing on"
vm_expect_not "$VM_LOG" 'berth: error: ' "no berth errors"
vm_expect_not "$VM_LOG" 'Kernel panic' "no kernel panic"
# Stage 1 loads storage drivers only for present devices until the usr
# partitions appear: the disk is virtio, so q35's AHCI controller gets its
# driver (if at all while the test runs) from coldplug in the real root.
first_line() { tr -d '\r' < "$VM_LOG" | grep -nE -- "$1" | head -n1 | cut -d: -f1; }
after_switch_root() {
        local sr ahci
        sr=$(first_line 'berth: timeline switch-root')
        ahci=$(first_line 'ahci 0000:')
        [ -n "$sr" ] && { [ -z "$ahci" ] || [ "$ahci" -gt "$sr" ]; }
}
check "stage 1 loaded no AHCI driver for a virtio disk" after_switch_root
vm_timeline "$VM_LOG"

step "first boot grew the root partition to the end of the disk, and its ext4 with it"
vm_expect "$VM_LOG" 'grew /dev/vda[0-9]+ to [0-9]+ MiB' "stage 1 logged the growth"
last_lba=$(sfdisk --dump "$DISK" | awk '/^last-lba:/ { print $2 }')
root_end=$(sfdisk --dump "$DISK" | awk -F'[=,]' '/start=/ { s = $2 + 0; z = $4 + 0 } END { print s + z - 1 }')
check "the root partition ends at the disk's last usable sector ($root_end = $last_lba)" \
        [ "$root_end" = "$last_lba" ]
check "sfdisk finds the grown table consistent" sfdisk --verify "$DISK"
guest_kib=$(tr -d '\r' < "$VM_LOG" | sed -n 's/^root-kib: //p')
check "the guest's root file system is over 400 MiB larger (${guest_kib:-?} KiB, was $ROOT_KIB)" \
        [ "${guest_kib:-0}" -gt $((ROOT_KIB + 400 * 1024)) ]

step "systemd-boot counted the boot (berth-a+2-1.conf, above); the agent blessed it"
entries=$(mdir -b -i "$DISK@@1M" ::/loader/entries 2>&1 || true)
echo "$entries" | sed 's/^/    /'
check "the disk copy's ESP holds the blessed berth-a.conf only" \
        sh -c 'echo "$1" | grep -q "berth-a\.conf$" && ! echo "$1" | grep -q "berth-a+"' _ "$entries"

finish
