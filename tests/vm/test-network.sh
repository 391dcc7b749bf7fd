#!/bin/bash
# SPDX-License-Identifier: MIT
# The node is online: the default image gets its network from DHCP, DNS from
# the lease, pulls an image by name from a real registry and runs it; a NIC
# hot-added later gets an address too.
#
# The host runs a real OCI registry on 127.0.0.1 (Debian's docker-registry,
# tests/fixtures/registry.sh) holding the busybox image; the guest reaches it
# through QEMU's user network at 10.0.2.2. The payload disk carries no image
# (NO_OCI=1): whatever runs in the guest came over the network. After the pull
# the payload asks for a second NIC, which the host adds over QMP (device_add
# on a PCIe root port), and waits for its address; that lease names the host.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need --direct
need python3
IMG=$(vm_image_dir)

step "a registry on the host's loopback, with the busybox image in it"
set +e
"$BERTH_SOURCE_ROOT/tests/fixtures/registry.sh" "$VM_TMP/registry"
rc=$?
set -e
[ $rc = 77 ] && skip "docker-registry or skopeo is not installed (scripts/deps)"
[ $rc = 0 ] || { echo "registry.sh failed ($rc)"; exit 1; }
REG_PID=$(cat "$VM_TMP/registry/pid")
PORT=$(cat "$VM_TMP/registry/port")
trap 'kill $REG_PID 2>/dev/null || true; _vm_cleanup' EXIT
REF=10.0.2.2:$PORT/berth/busybox:latest

cat > "$VM_TMP/net.sh" <<GUEST
REF=$REF
PORT=$PORT
GUEST
cat >> "$VM_TMP/net.sh" <<'GUEST'
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
has() { echo "$1" | grep -q -- "$2"; }
up() { cut -d' ' -f1 /proc/uptime; }
wait_for() { # wait_for TRIES(0.25 s each) COMMAND...
        n=$1
        shift
        while ! "$@"; do
                n=$((n - 1))
                [ $n -gt 0 ] || return 1
                sleep 0.25
        done
}

echo "--- the network (payload started at $(up) s, after every service settled)"
ip addr show eth0
ip route
ip -6 route show default
# Whether eth0 existed when dhcpcd started (its driver comes by coldplug,
# beside the first services): informational, the timing varies.
echo "dhcpcd's log, first lines:"
sed -n 1,8p /var/log/berth/network.log | sed 's/^/  | /'
echo "resolv.conf:"
sed 's/^/  /' /etc/resolv.conf
t eth0-up test "$(cat /sys/class/net/eth0/operstate)" = up
t eth0-lease-address has "$(ip -4 addr show eth0)" 'inet 10\.0\.2\.15/24 '
t default-route has "$(ip -4 route show default)" '^default via 10\.0\.2\.2 dev eth0'
t resolv-conf-from-lease grep -qx 'nameserver 10\.0\.2\.3' /etc/resolv.conf
t resolv-conf-rendered grep -q '^# berth: rendered by berth-netevent' /etc/resolv.conf
t accept-ra-2 test "$(cat /proc/sys/net/ipv6/conf/eth0/accept_ra)" = 2
t ipv6-forwarding-on test "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1
# QEMU's router advertises fec0::/64: the kernel took it while forwarding.
t ipv6-slaac-from-ra wait_for 40 sh -c 'ip -6 addr show eth0 | grep -q "inet6 fec0::"'
t ipv6-default-route-from-ra has "$(ip -6 route show default)" 'via fe80::2 dev eth0'
t no-local-image-on-payload test ! -e /run/berth/payload/busybox-oci.tar

echo "--- containerd's effective configuration (what it parsed, not just the file)"
dump=$(containerd --config /etc/containerd/config.toml config dump 2>/dev/null)
echo "$dump" | grep -E 'config_path|unset_seccomp_profile' | sed 's/^/  /'
t cri-registry-config-path has "$dump" 'config_path = "/etc/containerd/certs.d"'
t cri-default-seccomp has "$dump" 'unset_seccomp_profile = "runtime/default"'

echo "--- pull by name from the registry on the host (plain HTTP, hosts.toml)"
mkdir -p /etc/containerd/certs.d/10.0.2.2:$PORT
cat > /etc/containerd/certs.d/10.0.2.2:$PORT/hosts.toml <<EOF
server = "http://10.0.2.2:$PORT"
[host."http://10.0.2.2:$PORT"]
  capabilities = ["pull", "resolve"]
EOF
t containerd-socket test -S /run/containerd/containerd.sock
t image-pulled ctr -n default images pull --hosts-dir /etc/containerd/certs.d "$REF"
echo "berth: timeline image-pulled $(up)"
out=$(ctr -n default run --rm --runc-binary /usr/bin/crun "$REF" net-test \
        /bin/sh -c 'echo "pulled-and-ran $((6 * 7))"' 2>&1)
echo "$out" | sed 's/^/container| /'
t container-ran has "$out" '^pulled-and-ran 42$'

echo "--- a NIC added while the node runs"
echo "berth-test: hotplug now"
t eth1-appeared wait_for 240 test -e /sys/class/net/eth1
seen=$(up)
has_addr() { ip -4 addr show eth1 | grep -q 'inet 10\.0\.3\.15/'; }
t eth1-lease-address wait_for 120 has_addr
got=$(up)
echo "berth-test: eth1 appeared at $seen s, had its address at $got s"
ip addr show eth1
t eth1-address-within-10s awk -v a="$seen" -v b="$got" 'BEGIN { exit !(b - a <= 10) }'
# That lease (QEMU's second user network) names the host; eth0's did not.
t hostname-from-lease wait_for 40 sh -c 'test "$(hostname)" = node-from-lease'
t etc-hostname-from-lease grep -qx node-from-lease /etc/hostname
echo "hostname: $(hostname)"

echo "checks failed: $fails"
exit $fails
GUEST

step "boot the default image (direct kernel boot) with the payload"
PAYLOAD=$VM_TMP/payload
NO_OCI=1 "$BERTH_SOURCE_ROOT/tests/fixtures/mkpayload.sh" "$PAYLOAD" "$VM_TMP/net.sh"
check "the payload disk holds no OCI archive" [ ! -e "$PAYLOAD/busybox-oci.tar" ]
QMP=$VM_TMP/qmp.sock
vm_boot_bg --direct --payload "$PAYLOAD" --timeout 600 --qmp "$QMP"

step "hot-add a second NIC when the guest asks"
if vm_wait_console 'berth-test: hotplug now' 560; then
        t0=$(date +%s.%N)
        vm_qmp "$QMP" \
                '{"execute": "netdev_add", "arguments": {"type": "user", "id": "net1", "net": "10.0.3.0/24", "hostname": "node-from-lease"}}' \
                '{"execute": "device_add", "arguments": {"driver": "virtio-net-pci", "id": "nic1", "netdev": "net1", "bus": "hotplug0"}}'
        check "device_add accepted" true
        if vm_wait_console 'berth-test: eth1 appeared at' 120; then
                t1=$(date +%s.%N)
                secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
                echo "    device_add to address in the guest: $secs s (host clock)"
                check "hot-added NIC had its address within 10 s of device_add ($secs s)" \
                        awk -v s="$secs" 'BEGIN { exit !(s <= 10) }'
        else
                check "the guest reported the hot-added NIC" false
        fi
else
        check "the guest asked for the hot-added NIC" false
fi
vm_wait

step "the guest's checks"
tr -d '\r' < "$VM_LOG" | grep -E '^(T: |container\| |berth-test: )' || true
vm_guest_results "$VM_LOG" eth0-up eth0-lease-address default-route resolv-conf-from-lease \
        resolv-conf-rendered accept-ra-2 ipv6-forwarding-on ipv6-slaac-from-ra \
        ipv6-default-route-from-ra no-local-image-on-payload cri-registry-config-path \
        cri-default-seccomp containerd-socket image-pulled \
        container-ran eth1-appeared eth1-lease-address eth1-address-within-10s \
        hostname-from-lease etc-hostname-from-lease
check "payload exit status 0 (got $VM_PAYLOAD_STATUS)" [ "$VM_PAYLOAD_STATUS" = 0 ]
check "berth vm exit status 0 (got $VM_RC)" [ "$VM_RC" = 0 ]

step "the registry served the guest"
grep -E '"(HEAD|GET) /v2/berth/busybox/' "$VM_TMP/registry/log" | grep containerd |
        sed 's/^/    /' || true
check "the guest resolved the tag at the registry (containerd's user agent)" \
        grep -Eq '"(HEAD|GET) /v2/berth/busybox/manifests/latest HTTP/1.1" 200 .*containerd' \
        "$VM_TMP/registry/log"
check "and fetched the manifest" \
        grep -Eq '"GET /v2/berth/busybox/manifests/sha256:[0-9a-f]+ HTTP/1.1" 200 .*containerd' \
        "$VM_TMP/registry/log"
check "and the layer blob" \
        grep -Eq '"GET /v2/berth/busybox/blobs/sha256:[0-9a-f]+ HTTP/1.1" 200 .*containerd' \
        "$VM_TMP/registry/log"

step "readiness is honest"
vm_timeline "$VM_LOG"
log=$(tr -d '\r' < "$VM_LOG")
ready=$(echo "$log" | sed -n 's/.*berth: timeline network-ready \([0-9.]*\).*/\1/p' | head -n1)
line=$(echo "$log" | grep -E 'berth: network: eth0 has 10\.0\.2\.15/24 \(since [0-9.]+ s\), default route via 10\.0\.2\.2 dev eth0' | head -n1 || true)
echo "    $line"
since=$(echo "$line" | sed -n 's/.*(since \([0-9.]*\) s).*/\1/p')
link=$(echo "$log" | sed -n 's/^\[ *\([0-9.]*\)\] .*eth0: link becomes ready.*/\1/p' | head -n1)
bound=$(echo "$log" | sed -n 's/^\[ *\([0-9.]*\)\] berth-netevent: eth0 BOUND 10\.0\.2\.15\/24.*/\1/p' | head -n1)
echo "    eth0 link up (kernel) ${link:-?} s, address added (kernel's stamp) ${since:-?} s," \
        "lease in the kernel log ${bound:-?} s, network-ready ${ready:-?} s"
check "network-ready names the lease's address and gateway" [ -n "$line" ]
check "the kernel log shows the lease (berth-netevent BOUND)" [ -n "$bound" ]
# The kernel prints "link becomes ready" only when the carrier comes after
# dhcpcd set eth0 up; coldplug loads the NIC's driver early, and its carrier
# is often on already by then (no line). The address, which DHCP adds only
# on a link that is up, bounds readiness either way.
if [ -n "$link" ]; then
        check "network-ready ($ready s) after eth0's link came up ($link s)" \
                awk -v a="$link" -v b="${ready:-0}" 'BEGIN { exit !(b + 0 > a + 0) }'
        vm_expect_order "$VM_LOG" 'eth0: link becomes ready' 'berth: timeline network-ready' \
                -- "console: eth0's link, then network-ready"
else
        echo "    (no 'eth0: link becomes ready' line: eth0 had its carrier when dhcpcd set it up)"
fi
check "network-ready ($ready s) not before the address was added ($since s)" \
        awk -v a="${since:-x}" -v b="${ready:-0}" 'BEGIN { exit !(a != "x" && b + 0.01 >= a + 0) }'
vm_expect_not "$VM_LOG" 'berth: error: ' "no berth errors"

finish
