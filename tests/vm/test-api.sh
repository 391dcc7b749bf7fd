#!/bin/bash
# SPDX-License-Identifier: MIT
# The node API in a real guest (docs/api.md), two boots (direct kernel boot):
#
# 1. User data through fw_cfg (berth vm --user-data) sets the host name, a
#    sysctl, a time server and a registry mirror and writes a file under /var
#    and one under /etc; a payload in the guest checks each, that berthd is
#    started on demand (berth-init listens on its socket, berthd does not run
#    until `berth status` connects, then answers) and that no TCP socket
#    listens.
#    Meanwhile the host reaches the guest's API through berth vm --api (a
#    virtio-serial port berthd relays): `berth --api PATH set` + `apply`
#    changes the time server (a sysctl value the kernel cannot take is refused
#    first, naming the field), only chrony is restarted, `berth status` shows
#    it ready; `BERTH_API=PATH berth revert` brings the old server back. The
#    guest checks the restarts (chronyd's pid changes, containerd's and
#    dhcpcd's do not) and the rendered chrony.conf; at the end, that berthd
#    exited after 30 s without a connection and the next request starts it
#    again.
# 2. Invalid user data: the console line names the field, the report is on
#    the ESP, no service started, the guest powered off.
# 3-6. The other sources (docs/api.md, "User data"), on boot 2's machine, on
#    which nothing was applied: a vfat config drive (berth vm --cidata, a
#    virtio disk) and then an iso9660 one (--cidata-fs iso9660, a CD-ROM),
#    each with invalid data, stop the boot naming their source and field,
#    although the ESP holds valid user data (a CIDATA drive comes first);
#    boot 5, with no drive, applies the ESP's berth/user-data; boot 6, with a
#    valid iso9660 drive attached and the ESP file still there, applies
#    nothing: the data is read once per machine, and `berth status` says
#    where it came from.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need --direct
need mtype
need mcopy
need xorriso
IMG=$(vm_image_dir)
SOCK=$VM_TMP/api.sock

cat > "$VM_TMP/user-data.json" <<'EOF'
{"network": {"hostname": "ud-node"},
 "kernel": {"sysctl": {"vm.swappiness": 13}},
 "time": {"servers": ["10.0.2.2"]},
 "containerd": {"registry-mirrors": {"docker.io": ["http://10.0.2.2:5000"]}},
 "files": [{"path": "/var/lib/ud/token", "mode": "0600", "content": "secret\n"},
           {"path": "/etc/ud/app.conf", "mode": 420, "content": "x=1\n"}]}
EOF

cat > "$VM_TMP/guest.sh" <<'GUEST'
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
wait_for() { # wait_for TRIES(0.25 s each) COMMAND...
        n=$1
        shift
        while ! "$@"; do
                n=$((n - 1))
                [ $n -gt 0 ] || return 1
                sleep 0.25
        done
}
state() { sed -n "s/^state=//p" /run/berth/services/$1; }
pidof1() { sed -n "s/^pid=//p" /run/berth/services/$1; }
is_ready() { test "$(state $1)" = ready; }
# berthd processes but berthd-vport's relay (berthd --vport-relay).
berthd_procs() {
        for d in /proc/[0-9]*; do
                [ "$(cat "$d/comm" 2>/dev/null)" = berthd ] || continue
                tr '\0' ' ' < "$d/cmdline" | grep -q -- --vport-relay || echo "${d#/proc/}"
        done
}
# berthd idle: berth-init listens, no berthd process (by status and by /proc).
berthd_idle() {
        test "$(state berthd)" = listening && test "$(pidof1 berthd)" = 0 &&
                test -z "$(berthd_procs)"
}
# ready_new NAME OLD_PID: ready again, under a new pid.
ready_new() { is_ready $1 && test "$(pidof1 $1)" != "$2"; }

echo "--- user data applied on the first boot"
t hostname test "$(cat /proc/sys/kernel/hostname)" = ud-node
t etc-hostname test "$(cat /etc/hostname)" = ud-node
t sysctl test "$(cat /proc/sys/vm/swappiness)" = 13
t chrony-conf grep -qx 'server 10.0.2.2 iburst' /etc/chrony/chrony.conf
t chrony-no-pool sh -c '! grep -q "^pool" /etc/chrony/chrony.conf'
t mirror grep -q 'http://10.0.2.2:5000' /etc/containerd/certs.d/docker.io/hosts.toml
t var-file test "$(cat /var/lib/ud/token)" = secret
t var-file-mode test "$(stat -c %a /var/lib/ud/token)" = 600
t etc-file test "$(cat /etc/ud/app.conf)" = x=1
t user-data-once test -f /var/lib/berth/user-data.done
t generation-1 test "$(cat /var/lib/berth/settings/current)" = 1

echo "--- berthd, started on demand"
# Nothing has connected yet (the host waits for GUEST-READY).
t berthd-not-running-at-boot berthd_idle
t api-socket-root-only test "$(stat -c %a /run/berth/api.sock)" = 600
t api-socket-held-by-init sh -c 'ls -l /proc/1/fd | grep -q socket: && test -S /run/berth/api.sock'
out=$(berth status 2>&1)
echo "$out" | sed 's/^/status| /'
t berth-status-in-guest sh -c 'echo "$1" | grep -q "\"name\": \"chrony\""' _ "$out"
t berthd-ready is_ready berthd
# Its sandbox (berthd.service): CAP_SYS_ADMIN, CAP_NET_ADMIN and
# CAP_DAC_READ_SEARCH (bits 21, 12, 2) bound, no new privileges.
bpid=$(pidof1 berthd)
grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/$bpid/status | sed 's/^/berthd-/'
t berthd-capabilities-bounded grep -qx 'CapBnd:[[:space:]]*0000000000201004' /proc/$bpid/status
t berthd-no-new-privileges grep -qx 'NoNewPrivs:[[:space:]]*1' /proc/$bpid/status
t chrony-ready wait_for 240 is_ready chrony
t containerd-ready wait_for 480 is_ready containerd
# GET /v1/audit (berth audit under berthd's sandbox) finds what the CLI does.
# The summary's counts (the API's JSON has its keys sorted).
summary() {
        berth audit --json "$@" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"summary":{\([^}]*\)}.*/\1/p' |
                tr ',' '\n' | sort | tr '\n' ' '
}
local_audit=$(summary)
api_audit=$(summary --api /run/berth/api.sock)
echo "audit-summary| local $local_audit api $api_audit"
if [ "$local_audit" != "$api_audit" ]; then
        berth audit --json | tr -d ' \n' | sed 's/},{/}\n{/g' | sort >/tmp/audit-local
        berth audit --json --api /run/berth/api.sock | tr -d ' \n' | sed 's/},{/}\n{/g' | sort >/tmp/audit-api
        grep -vxFf /tmp/audit-local /tmp/audit-api | sed 's/^/audit-diff| api: /'
        grep -vxFf /tmp/audit-api /tmp/audit-local | sed 's/^/audit-diff| local: /'
fi
t audit-through-api-same test -n "$local_audit" -a "$local_audit" = "$api_audit"
echo "--- listening TCP sockets (state 0A) in /proc/net/tcp*"
owner() { # owner INODE: the comm of the process holding socket INODE
        for f in /proc/[0-9]*/fd/*; do
                if [ "$(readlink "$f" 2>/dev/null)" = "socket:[$1]" ]; then
                        cat "${f%/fd/*}/comm"
                        return
                fi
        done
}
# Only containerd's CRI streaming server (exec/attach/port-forward), on
# 127.0.0.1 and a random port: containerd 1.6 always starts it.
listeners_ok() {
        cat /proc/net/tcp /proc/net/tcp6 | awk '$4 == "0A" { print $2, $10 }' > /tmp/listen
        while read -r addr inode; do
                comm=$(owner "$inode")
                echo "tcp-listen| $addr inode $inode: $comm"
                [ "$comm" = containerd ] || return 1
                case $addr in 0100007F:*) ;; *) return 1 ;; esac
        done < /tmp/listen
}
t tcp-listeners-only-containerd-loopback listeners_ok
berth status >/dev/null 2>&1 # berthd runs for the next check
berthd_no_tcp() {
        test "$(pidof1 berthd)" != 0 || return 1
        for f in /proc/$(pidof1 berthd)/fd/*; do
                l=$(readlink "$f")
                case $l in socket:*) ;; *) continue ;; esac
                i=${l#socket:[}
                i=${i%]}
                if awk -v i="$i" '$10 == i { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6; then
                        echo "berthd holds TCP socket $i"
                        return 1
                fi
        done
}
t berthd-no-tcp-socket berthd_no_tcp

rss() { awk '/^VmRSS:/ { print $2 }' /proc/$1/status; }
echo "RSS-KB berth-init=$(rss 1) berthd=$(rss "$(pidof1 berthd)")"
chrony0=$(pidof1 chrony) containerd0=$(pidof1 containerd) network0=$(pidof1 network)
echo "GUEST-READY chrony=$chrony0 containerd=$containerd0 network=$network0"

echo "--- the host sets time.servers and applies"
t new-server-rendered wait_for 1200 grep -qx 'server 10.0.2.3 iburst' /etc/chrony/chrony.conf
t chrony-ready-again wait_for 240 ready_new chrony "$chrony0"
chrony1=$(pidof1 chrony)
# chronyd with its seccomp filter (-F 1) forks a privileged helper: two pids.
is_chronyd() { pidof chronyd | tr ' ' '\n' | grep -qx "$1"; }
t chronyd-is-new is_chronyd "$chrony1"
t containerd-not-restarted test "$(pidof1 containerd)" = "$containerd0"
t network-not-restarted test "$(pidof1 network)" = "$network0"
echo "GUEST-APPLIED"

echo "--- the host reverts"
t old-server-back wait_for 1200 grep -qx 'server 10.0.2.2 iburst' /etc/chrony/chrony.conf
t chrony-ready-after-revert wait_for 240 ready_new chrony "$chrony1"
t containerd-not-restarted-by-revert test "$(pidof1 containerd)" = "$containerd0"
t hostname-kept test "$(cat /proc/sys/kernel/hostname)" = ud-node
echo "--- berthd exits when idle, the next request starts it again"
t0=$(cut -d' ' -f1 /proc/uptime)
t berthd-idle-exit wait_for 960 berthd_idle
echo "berthd idle after $(awk -v t="$t0" '{ printf "%.0f", $1 - t }' /proc/uptime) s more"
grep -a 'berthd' /var/log/berth/berthd.log | tail -n 3 | sed 's/^/berthd-log| /'
t berthd-idle-exit-logged grep -q 'no connection for 30s, exiting' /var/log/berth/berthd.log
t berthd-exit-status-0 grep -qx 'last_exit_status=0' /run/berth/services/berthd
t berthd-answers-again sh -c 'berth status | grep -q "\"name\": \"chrony\""'
t berthd-started-again is_ready berthd
t berthd-vport-relays is_ready berthd-vport
echo "checks failed: $fails"
# The host powers the guest off through the API.
echo "GUEST-DONE"
sleep 600
GUEST

step "boot 1: user data by fw_cfg, the API on $SOCK"
start=$SECONDS
payload=$(NO_OCI=1 vm_make_payload "$VM_TMP/guest.sh")
vm_boot_bg --direct --payload "$payload" --timeout 900 --user-data "$VM_TMP/user-data.json" \
        --api "$SOCK"
# QEMU starts once the VM lock is ours (other tests may hold it).
until [ -s "$VM_LOG" ] || ! kill -0 "$VM_PID" 2>/dev/null; do sleep 1; done
start=$SECONDS
if vm_wait_console 'GUEST-READY' 700; then
        ready_s=$((SECONDS - start))
        echo "vm: guest ready after $ready_s s"
        api() { timeout 120 "$BERTH" --api "$SOCK" "$@"; }
        out=$(api status 2>&1) && rc=0 || rc=$?
        echo "$out" | sed 's/^/    host status| /'
        check "berth --api PATH status answers (exit $rc)" [ $rc = 0 ]
        check "the host sees the guest's services" grep -q '"name": "containerd"' <<<"$out"
        # A sysctl value this kernel cannot take is refused at set, naming
        # the field; nothing is committed (the next set makes generation 2).
        out=$(api set 'kernel.sysctl={"vm.swappiness": "many"}' 2>&1) && rc=0 || rc=$?
        echo "$out" | sed 's/^/    host set| /'
        check "set of vm.swappiness=\"many\" refused (exit $rc), naming the field and the kernel's value" \
                grep -q 'kernel.sysctl."vm.swappiness": "many" is not an integer (this kernel.s value: 13)' <<<"$out"
        check "the refused set exits 65 (bad input; got $rc)" [ "$rc" = 65 ]
        t0=$SECONDS
        out=$(api set 'time.servers=["10.0.2.3"]' 2>&1) && rc=0 || rc=$?
        echo "$out" | sed 's/^/    host set| /'
        check "berth --api PATH set time.servers (exit $rc)" [ $rc = 0 ]
        check "set committed generation 2" grep -q '"generation": 2' <<<"$out"
        out=$(api apply 2>&1) && rc=0 || rc=$?
        echo "$out" | sed 's/^/    host apply| /'
        check "berth --api PATH apply (exit $rc)" [ $rc = 0 ]
        restarted=$(tr -d ' \n' <<<"$out" | sed -n 's/.*"restarted":\[\([^]]*\)\].*/\1/p')
        check "apply restarted chrony alone (restarted: [$restarted])" [ "$restarted" = '"chrony"' ]
        check "apply changed only chrony.conf" grep -q '"chrony/chrony.conf"' <<<"$out"
        echo "vm: set + apply took $((SECONDS - t0)) s"
        out=$(api status 2>&1) || true
        check "berth status shows chrony ready after apply" \
                bash -c 'tr -d " \n" <<<"$1" | grep -q "\"name\":\"chrony\",\"pid\":[0-9]*,\"restarts\":[0-9]*,\"state\":\"ready\""' _ "$out"
        vm_wait_console 'GUEST-APPLIED' 300 || true
        out=$(BERTH_API=$SOCK timeout 120 "$BERTH" revert 2>&1) && rc=0 || rc=$?
        echo "$out" | sed 's/^/    host revert| /'
        check "BERTH_API=PATH berth revert (exit $rc)" [ $rc = 0 ]
        check "revert restarted chrony" grep -q '"chrony"' <<<"$out"
        check "status after revert: generation 1" sh -c \
                'timeout 60 "$1" --api "$2" status | tr -d " \n" | grep -q "\"generation\":1"' _ "$BERTH" "$SOCK"
        vm_wait_console 'GUEST-DONE' 300 || true
        out=$(api poweroff 2>&1) && rc=0 || rc=$?
        check "berth --api PATH poweroff (exit $rc)" grep -q '"status": "poweroff"' <<<"$out"
else
        check "the guest got ready for the host's requests" false
fi
vm_wait
echo "vm: boot 1 took $((SECONDS - start)) s (from QEMU's start)"
tr -d '\r' <"$VM_LOG" | grep -E '^(audit-summary|audit-diff|berthd-(CapBnd|CapEff|NoNewPrivs))' || true
vm_expect "$VM_LOG" '^checks failed: 0' "the guest's checks all passed"
vm_expect "$VM_LOG" 'berth: poweroff: killing remaining processes' \
        "berth-init powered the guest off (berth vm exit $VM_RC: the payload never ended)"
vm_guest_results "$VM_LOG" hostname etc-hostname sysctl chrony-conf chrony-no-pool mirror var-file \
        var-file-mode etc-file user-data-once generation-1 berthd-ready api-socket-root-only \
        berthd-capabilities-bounded berthd-no-new-privileges audit-through-api-same \
        berth-status-in-guest chrony-ready containerd-ready tcp-listeners-only-containerd-loopback \
        berthd-no-tcp-socket new-server-rendered \
        chrony-ready-again chronyd-is-new containerd-not-restarted network-not-restarted \
        old-server-back chrony-ready-after-revert \
        containerd-not-restarted-by-revert hostname-kept berthd-not-running-at-boot \
        api-socket-held-by-init berthd-idle-exit berthd-idle-exit-logged berthd-exit-status-0 \
        berthd-answers-again berthd-started-again berthd-vport-relays
vm_expect "$VM_LOG" 'berth: user data from fw_cfg opt/berth/user-data applied \(2 files\)' \
        "console: user data applied"
vm_expect_order "$VM_LOG" 'timeline etc-rendered' 'starting ' -- "/etc rendered before any service"

step "boot 2: invalid user data stops the boot"
echo '{"network": {"hostname": "ud-node"}, "time": {"servers": ["ntp example"]}}' \
        > "$VM_TMP/bad.json"
vm_boot --direct --timeout 300 --disk-copy "$VM_TMP/bad.raw" --user-data "$VM_TMP/bad.json"
vm_expect "$VM_LOG" '^berth: invalid user data from fw_cfg opt/berth/user-data: time\.servers\[0\]: .*; boot stopped, nothing applied \(report on the ESP: berth/user-data-error.txt\)' \
        "one console line naming the field"
vm_expect_not "$VM_LOG" 'starting [a-z]|timeline [a-z]*-ready' "no service started"
check "the guest powered off (berth vm exit $VM_RC)" [ "$VM_RC" = 0 ]
report=$(mtype -i "$VM_TMP/bad.raw@@1M" ::/berth/user-data-error.txt 2>&1 || true)
echo "$report" | sed 's/^/    esp report| /'
check "the ESP report names the field" grep -q '^error: time\.servers\[0\]' <<<"$report"
check "the ESP report names the source" grep -q '^source: fw_cfg opt/berth/user-data' <<<"$report"

# esp_report: the report berthd left on the ESP of boot 2's machine.
esp_report() {
        mtype -i "$VM_TMP/bad.raw@@1M" ::/berth/user-data-error.txt 2>&1 | tr -d '\r' || true
}
# expect_stopped SOURCE FIELD: the boot stopped on invalid data from SOURCE
# (a regular expression) naming FIELD (one too).
expect_stopped() {
        vm_expect "$VM_LOG" "^berth: invalid user data from $1: $2; boot stopped, nothing applied \\(report on the ESP: berth/user-data-error.txt\\)" \
                "one console line naming the source and the field"
        vm_expect_not "$VM_LOG" 'starting [a-z]|timeline [a-z]*-ready' "no service started"
        check "the guest powered off (berth vm exit $VM_RC)" [ "$VM_RC" = 0 ]
        report=$(esp_report)
        echo "$report" | sed 's/^/    esp report| /'
        check "the ESP report names the source and the field" \
                bash -c 'grep -qE "^source: $2\$" <<<"$1" && grep -qE "^error: $3" <<<"$1"' _ "$report" "$1" "$2"
}
# api_boot NAME [berth vm options...]: boots boot 2's machine with the API on
# $SOCK and waits until the host gets an answer from it; then api_done.
api_boot() {
        local name=$1 deadline
        shift
        vm_boot_bg --direct --timeout 400 --disk-copy "$VM_TMP/bad.raw" --api "$SOCK" "$@"
        until [ -s "$VM_LOG" ] || ! kill -0 "$VM_PID" 2>/dev/null; do sleep 1; done
        start=$SECONDS
        deadline=$((SECONDS + 300))
        # The port's driver comes with coldplug, after berth-init listens on
        # berthd's socket (berthd starts on the first request).
        vm_wait_console 'timeline berthd-listening' 240 || true
        until status=$(timeout 20 "$BERTH" --api "$SOCK" status 2>&1); do
                [ $SECONDS -lt $deadline ] && kill -0 "$VM_PID" 2>/dev/null || break
                sleep 1
        done
        echo "$status" | sed "s/^/    $name status| /"
        echo "vm: $name: the API answered after $((SECONDS - start)) s"
}
api_done() {
        timeout 60 "$BERTH" --api "$SOCK" poweroff > /dev/null 2>&1 || true
        vm_wait
        echo "vm: $1 took $((SECONDS - start)) s (from QEMU's start)"
}

step "boot 3: a vfat CIDATA drive with invalid user data comes before the ESP's"
t_sources=$SECONDS
mkdir -p "$VM_TMP/esp"
echo '{"network": {"hostname": "esp-node"}, "kernel": {"sysctl": {"vm.swappiness": 17}}}' \
        > "$VM_TMP/esp/user-data"
mcopy -o -i "$VM_TMP/bad.raw@@1M" "$VM_TMP/esp/user-data" ::/berth/user-data
echo '{"network": {"hostname": "bad_name!"}}' > "$VM_TMP/bad-vfat.json"
vm_boot --direct --timeout 300 --disk-copy "$VM_TMP/bad.raw" --cidata "$VM_TMP/bad-vfat.json"
expect_stopped 'config drive /dev/vd[a-z] \(CIDATA\)' 'network\.hostname: not a host name'

step "boot 4: an iso9660 CIDATA drive (a CD-ROM) with invalid user data"
mkdir -p "$VM_TMP/seed"
echo '{"files": [{"path": "/usr/lib/x", "content": ""}]}' > "$VM_TMP/seed/user-data"
echo 'instance-id: iid-berth-test' > "$VM_TMP/seed/meta-data"
vm_boot --direct --timeout 300 --disk-copy "$VM_TMP/bad.raw" --cidata "$VM_TMP/seed" \
        --cidata-fs iso9660
expect_stopped 'config drive /dev/sr0 \(CIDATA\)' 'files\[0\]\.path: not a clean path under /etc/ or /var/'

step "boot 5: no drive: the ESP's berth/user-data is applied"
api_boot "boot 5"
check "berth status: user_data from the ESP" grep -q '"user_data": "ESP /efi/berth/user-data"' <<<"$status"
check "berth status: settings generation 1" bash -c 'tr -d " \n" <<<"$1" | grep -qE "\"generation\":1[,}]"' _ "$status"
out=$(timeout 60 "$BERTH" --api "$SOCK" get 2>&1 || true)
check "the ESP's host name is set" grep -q '"hostname": "esp-node"' <<<"$out"
api_done "boot 5"
vm_expect "$VM_LOG" '^berth: user data from ESP /efi/berth/user-data applied \(0 files\)' \
        "console: user data from the ESP applied"
check "the refused boots' ESP report is removed (berth/user-data stays)" bash -c \
        'l=$(mdir -b -i "$1@@1M" ::/berth) && grep -q /user-data$ <<<"$l" && ! grep -q error <<<"$l"' \
        _ "$VM_TMP/bad.raw"

step "boot 6: a valid iso9660 drive on the provisioned machine is not read"
echo '{"network": {"hostname": "cd-node"}}' > "$VM_TMP/seed/user-data"
api_boot "boot 6" --cidata "$VM_TMP/seed" --cidata-fs iso9660
check "berth status: user_data still from the ESP" grep -q '"user_data": "ESP /efi/berth/user-data"' <<<"$status"
check "berth status: still generation 1" bash -c 'tr -d " \n" <<<"$1" | grep -qE "\"generation\":1[,}]"' _ "$status"
out=$(timeout 60 "$BERTH" --api "$SOCK" get 2>&1 || true)
check "the host name is still the ESP's" grep -q '"hostname": "esp-node"' <<<"$out"
api_done "boot 6"
vm_expect_not "$VM_LOG" 'user data from|invalid user data' "console: no user data read"
echo "vm: boots 3-6 took $((SECONDS - t_sources)) s"
finish
