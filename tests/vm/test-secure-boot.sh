#!/bin/bash
# SPDX-License-Identifier: MIT
# The chain of trust end to end (docs/security.md). The test image
# (images/test.conf: the default image plus the payload hook), built with
# Secure Boot keys from `berth keygen --secure-boot`, boots under
# `berth vm --secure-boot --tpm`: berth vm writes the image's PK, KEK and db
# (the .auth files on its ESP) into the new machine's UEFI variable store, so
# OVMF's Secure Boot firmware starts in user mode with them; the firmware
# checks systemd-boot and the signed UKI, systemd-stub measures the UKI into
# PCR 11 of swtpm's TPM, and the kernel locks itself down. The guest checks
# Secure Boot on, lockdown integrity, a module with its signature stripped
# refused (and the same module signed loading), PCR 11 equal to the value
# computed on the host from the UKI's sections, and the TPM event log. Then
# the same machine (disk copy and UEFI variables) with one byte of the UKI
# changed: the firmware refuses it and `berth vm` says so, without waiting
# for its timeout. Last, A/B with UKIs: v2 of the image (signed with the same
# key) published to a TUF repository on loopback, `berth update apply --disk`
# installs its UKI as EFI/Linux/berth-b+3.efi, and the machine boots v2 from
# slot b under Secure Boot, where the update agent blesses the UKI.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need
need mdir
need mcopy
need objcopy
need python3
command -v swtpm >/dev/null || skip "swtpm is not installed (scripts/deps)"
command -v sbsign >/dev/null || skip "sbsigntool is not installed (scripts/deps)"
command -v sign-efi-sig-list >/dev/null || skip "efitools is not installed (scripts/deps)"
[ -r /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || skip "OVMF's Secure Boot build is not installed"

# The plain build composes (the sanitizer build is several times slower at it).
COMPOSER=${BERTH_VM_COMPOSER:-$BERTH_PLAIN_BUILD/src/berth}
[ -x "$COMPOSER" ] || COMPOSER=$BERTH
KEYS=$BERTH_BUILD_DIR/secure-boot-keys
step "Secure Boot keys ($KEYS) and the signed test image"
if [ ! -f "$KEYS/db.auth" ]; then
        rm -rf "$KEYS"
        "$BERTH" keygen --secure-boot --output "$KEYS"
fi
for k in PK KEK db; do
        check "keygen made $k.key, $k.crt, $k.auth" test -s "$KEYS/$k.key" -a -s "$KEYS/$k.crt" -a -s "$KEYS/$k.auth"
done
[ ! -d "$BERTH_BUILD_DIR/vm-sb-image" ] || [ ! "$KEYS/db.auth" -nt "$BERTH_BUILD_DIR/vm-sb-image/disk.raw" ] ||
        rm -rf "$BERTH_BUILD_DIR/vm-sb-image"
IMG=$(vm_spec_image "$VM_SPEC" vm-sb-image --secure-boot-keys "$KEYS")
check "sbverify: the UKI is signed by the db key" sbverify --cert "$KEYS/db.crt" "$IMG/uki.efi"

export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
esp="$IMG/disk.raw@@1048576"
listing=$(mdir -i "$esp" -/ -b ::)
echo "$listing" | sed 's/^/    esp| /'
check "the ESP has the signed UKI for slot a with 3 tries" sh -c 'echo "$1" | grep -qx "::/EFI/Linux/berth-a+3.efi"' _ "$listing"
check "the ESP has no loader entries, kernel or initrd" sh -c '! echo "$1" | grep -Eq "loader/entries|/berth/|vmlinuz|initrd"' _ "$listing"
check "the ESP has the keys for secure-boot-enroll" sh -c 'echo "$1" | grep -qx "::/loader/keys/auto/db.auth"' _ "$listing"
loader=$(mtype -i "$esp" ::/loader/loader.conf)
check "loader.conf: editor no, secure-boot-enroll force" sh -c 'echo "$1" | grep -qx "editor no" && echo "$1" | grep -qx "secure-boot-enroll force"' _ "$loader"
check "systemd-boot on the ESP is signed by the db key" sh -c \
        'mcopy -o -i "$1" ::/EFI/BOOT/BOOTX64.EFI "$2" && sbverify --cert "$3" "$2"' _ "$esp" "$VM_TMP/bootx64.efi" "$KEYS/db.crt"
objcopy -O binary --only-section=.cmdline "$IMG/uki.efi" "$VM_TMP/cmdline"
cmd=$(cat "$VM_TMP/cmdline")
echo "    UKI .cmdline: $cmd"
check "the UKI's command line has usrhash= and no berth.slot=" sh -c 'echo "$1" | grep -q "usrhash=[0-9a-f]\{64\}" && ! echo "$1" | grep -q berth.slot=' _ "$cmd"

# PCR 11 as systemd-stub 252 leaves it: from zero, for each UKI section it
# has (.linux, .osrel, .cmdline, .initrd in this order), extend with the
# SHA-256 of the section's name (with its NUL), then of its contents.
expected_pcr11=$(python3 - "$IMG/uki.efi" "$VM_TMP" <<'PY'
import hashlib, subprocess, sys
uki, tmp = sys.argv[1], sys.argv[2]
pcr = bytes(32)
for name in (".linux", ".osrel", ".cmdline", ".initrd"):
    out = f"{tmp}/section{name}"
    subprocess.run(["objcopy", "-O", "binary", f"--only-section={name}", uki, out], check=True)
    for data in (name.encode() + b"\0", open(out, "rb").read()):
        pcr = hashlib.sha256(pcr + hashlib.sha256(data).digest()).digest()
print(pcr.hex())
PY
)
echo "    PCR 11 expected from the UKI: $expected_pcr11"

cat > "$VM_TMP/trust.sh" <<'GUEST'
t() {
        name=$1
        shift
        if "$@"; then echo "T: ok $name"; else echo "T: FAIL $name"; fi
}
grep -q ' /sys/kernel/security ' /proc/mounts || mount -t securityfs securityfs /sys/kernel/security
grep -q ' /sys/firmware/efi/efivars ' /proc/mounts || mount -t efivarfs efivarfs /sys/firmware/efi/efivars

echo "--- Secure Boot and lockdown"
sb=$(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk '{print $NF}')
echo "SecureBoot efivar: $sb"
t secure-boot-on test "$sb" = 1
dmesg | grep -iE 'secure ?boot|lockdown' | head -5
t dmesg-secure-boot sh -c 'dmesg | grep -q "secureboot: Secure boot enabled"'
echo "lockdown: $(cat /sys/kernel/security/lockdown)"
t lockdown-integrity grep -q '\[integrity\]' /sys/kernel/security/lockdown

echo "--- module signatures"
m=$(find /usr/lib/modules/$(uname -r) -name crc7.ko.xz | head -n1)
echo "module: $m"
xz -dc "$m" > /tmp/signed.ko
size=$(wc -c < /tmp/signed.ko)
# The appended signature: ... signature, struct module_signature (12 bytes,
# its last 4 the signature length, big-endian), "~Module signature appended~\n".
magic=$(tail -c 28 /tmp/signed.ko | head -c 27)
t module-is-signed test "$magic" = "~Module signature appended~"
set -- $(tail -c 32 /tmp/signed.ko | head -c 4 | od -An -tu1)
siglen=$(($1 * 16777216 + $2 * 65536 + $3 * 256 + $4))
head -c $((size - 28 - 12 - siglen)) /tmp/signed.ko > /tmp/stripped.ko
echo "signed $size bytes, signature $siglen bytes, stripped $(wc -c < /tmp/stripped.ko) bytes"
out=$(insmod /tmp/stripped.ko 2>&1); rc=$?
echo "insmod stripped: rc=$rc $out"
dmesg | grep -i 'lockdown.*module\|module verification\|Key was rejected' | tail -2
t unsigned-module-refused test $rc -ne 0
t unsigned-module-not-loaded sh -c '! grep -q "^crc7 " /proc/modules'
out=$(insmod /tmp/signed.ko 2>&1); rc=$?
echo "insmod signed: rc=$rc $out"
t signed-module-loads grep -q '^crc7 ' /proc/modules

echo "--- TPM"
ls /sys/class/tpm/ 2>&1
pcr11=$(cat /sys/class/tpm/tpm0/pcr-sha256/11 2>/dev/null | tr 'A-F' 'a-f')
echo "PCR 11: $pcr11"
t pcr11-nonzero sh -c '[ -n "$1" ] && [ "$1" != 0000000000000000000000000000000000000000000000000000000000000000 ]' _ "$pcr11"
echo "PCR11=$pcr11"
log=/sys/kernel/security/tpm0/binary_bios_measurements
n=$(cat $log 2>/dev/null | wc -c)
echo "event log: $n bytes"
t event-log-readable test "$n" -gt 1000
# The agent blesses the counted UKI once the boot stayed healthy for its grace
# period; powering off before that would leave it counting.
n=0
until [ -f /efi/EFI/Linux/berth-a.efi ] || [ $n -ge 240 ]; do n=$((n + 1)); sleep 0.5; done
GUEST

step "boot 1: --secure-boot --tpm on a fresh machine (the image's keys enrolled by berth vm)"
disk=$VM_TMP/machine.raw
# berth vm's own time (vm_boot prints it): other tests' guests may hold the lock.
guest_seconds() { sed -n 's/^vm: berth vm ran \([0-9]*\) s with the lock held$/\1/p' "$1" | tail -n1; }
NO_OCI=1 vm_boot_payload "$VM_TMP/trust.sh" --secure-boot --tpm --disk-copy "$disk" \
        --timeout "${SECURE_BOOT_TIMEOUT:-300}" > "$VM_TMP/boot1.out" 2>&1
cat "$VM_TMP/boot1.out"
if tr -d '\r' < "$VM_LOG" | grep -E 'X64 Exception Type' >/dev/null; then
        tr -d '\r' < "$VM_LOG" | grep -E -B2 -A2 'X64 Exception Type' | sed 's/^/    | /' || true
fi
boot1=$(guest_seconds "$VM_TMP/boot1.out")
echo "    boot 1 (boot + checks): ${boot1:-?} s"
check "berth vm enrolled the image's PK, KEK and db into the new variable store" \
        grep -q "enrolled the image's PK, KEK and db" "$VM_TMP/boot1.out"
check "the variable store kept next to the disk copy holds them" test -s "$disk.efivars"
vm_expect_not "$VM_LOG" 'Enrolling secure boot keys' \
        "systemd-boot did not enroll (the firmware was in user mode already)"
vm_expect "$VM_LOG" 'EFI stub: UEFI Secure Boot is enabled' "systemd-stub saw Secure Boot on"
check "the payload ran and exited 0 (berth vm exit $VM_RC)" [ "$VM_PAYLOAD_STATUS" = 0 ]
vm_guest_results "$VM_LOG" secure-boot-on dmesg-secure-boot lockdown-integrity module-is-signed \
        unsigned-module-refused unsigned-module-not-loaded signed-module-loads pcr11-nonzero \
        event-log-readable
got_pcr11=$(tr -d '\r' < "$VM_LOG" | sed -n 's/^PCR11=\([0-9a-f]*\)$/\1/p' | tail -n1)
check "PCR 11 in the guest ($got_pcr11) is the UKI's measurement computed on the host" \
        [ "$got_pcr11" = "$expected_pcr11" ]

desp="$disk@@1048576"
check "the update agent blessed the UKI that systemd-boot counted (berth-a.efi)" \
        sh -c 'mdir -i "$1" -b ::/EFI/Linux | grep -q "/berth-a.efi$"' _ "$desp"

step "boot 2: the same machine, one byte of the UKI changed"
uki=$(mdir -i "$desp" -b ::/EFI/Linux | sed -n 's|.*/\(berth-a[^/]*\.efi\)$|\1|p' | head -n1)
echo "    the UKI on the machine's ESP: $uki"
mcopy -n -i "$desp" "::/EFI/Linux/$uki" "$VM_TMP/uki.efi"
# One byte inside the kernel's section, far from the signature, inverted.
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(5000000); b = f.read(1)[0]; f.seek(5000000); f.write(bytes([b ^ 0xff]))' "$VM_TMP/uki.efi"
mcopy -o -i "$desp" "$VM_TMP/uki.efi" "::/EFI/Linux/$uki"
check_fails "sbverify refuses the changed UKI" sbverify --cert "$KEYS/db.crt" "$VM_TMP/uki.efi"
vm_boot --secure-boot --tpm --disk-copy "$disk" --timeout 300 > "$VM_TMP/boot2.out" 2>&1
out=$(cat "$VM_TMP/boot2.out")
echo "$out" | sed 's/^/    /'
boot2=$(guest_seconds "$VM_TMP/boot2.out")
echo "    boot 2 (refused): ${boot2:-?} s"
check "berth vm failed (exit $VM_RC)" [ "$VM_RC" != 0 ]
vm_expect "$VM_LOG" 'Access Denied' "the firmware refused the changed UKI (Access Denied)"
check "berth vm says the firmware refused a boot binary" \
        sh -c 'echo "$1" | grep -q "the firmware refused a boot binary"' _ "$out"
check "berth vm stopped without waiting for its timeout of 300 s (${boot2:-?} s)" [ "${boot2:-999}" -lt 250 ]
vm_expect_not "$VM_LOG" 'berth: timeline init-start' "berth-init never started"

step "A/B with UKIs: v2 signed with the same key, published, applied to slot b"
# The original UKI back under the name boot counting gave it.
uki=$(mdir -i "$desp" -b ::/EFI/Linux | sed -n 's|.*/\(berth-a[^/]*\.efi\)$|\1|p' | head -n1)
mcopy -o -i "$desp" "$IMG/uki.efi" "::/EFI/Linux/$uki"
V2=$BERTH_BUILD_DIR/vm-sb-image-v2
printf '[Spec]\nInclude=%s\n\n[Image]\nVersion=0.2.0\n' "$VM_SPEC" > "$VM_TMP/v2.conf"
if [ ! -f "$V2/uki.efi" ] || [ "$IMG/uki.efi" -nt "$V2/uki.efi" ]; then
        rm -rf "$V2"
        "$COMPOSER" build --no-disk --bindir "$BERTH_PLAIN_BUILD/src" --secure-boot-keys "$KEYS" \
                --output "$V2" "$VM_TMP/v2.conf" > "$VM_TMP/v2.log" 2>&1 || { tail -n 20 "$VM_TMP/v2.log"; exit 1; }
fi
R2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$V2/manifest.json")
"$BERTH" keygen --output "$VM_TMP/tuf" > /dev/null
"$BERTH" publish --repo "$VM_TMP/repo" --key "$VM_TMP/tuf" "$IMG" > /dev/null
"$BERTH" publish --repo "$VM_TMP/repo" --key "$VM_TMP/tuf" "$V2" > /dev/null
check "the release has uki.efi as a target" grep -q 'uki.efi' "$VM_TMP"/repo/*.targets.json
URL=$("$BERTH_SOURCE_ROOT/tests/fixtures/serve.sh" "$VM_TMP/repo" "$VM_TMP/server.pid")
trap 'kill "$(cat "$VM_TMP/server.pid")" 2>/dev/null || true; _vm_cleanup' EXIT
"$BERTH" update apply --disk "$disk" --root "$VM_TMP/tuf/root.json" --state "$VM_TMP/state" \
        --repo "$URL" > "$VM_TMP/apply.out" 2>&1 || true
sed 's/^/    /' "$VM_TMP/apply.out"
check "berth update apply installed the UKI as berth-b+3.efi" grep -q 'entry berth-b+3.efi' "$VM_TMP/apply.out"
listing=$(mdir -i "$desp" -/ -b ::)
echo "$listing" | grep -E 'EFI/Linux|loader/entries|/berth/' | sed 's/^/    esp| /'
check "the ESP has slot b's UKI and no loader entries" sh -c 'echo "$1" | grep -qx "::/EFI/Linux/berth-b+3.efi" && ! echo "$1" | grep -q loader/entries' _ "$listing"
check "slot b's UKI is v2's signed UKI" sh -c 'mcopy -n -i "$1" ::/EFI/Linux/berth-b+3.efi "$2" && cmp -s "$2" "$3"' _ "$desp" "$VM_TMP/b.efi" "$V2/uki.efi"

step "boot 3: the machine boots v2 from slot b under Secure Boot"
cat > "$VM_TMP/v2.sh" <<'GUEST'
grep -q ' /sys/firmware/efi/efivars ' /proc/mounts || mount -t efivarfs efivarfs /sys/firmware/efi/efivars
echo "CMDLINE=$(cat /proc/cmdline)"
echo "SB=$(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | awk '{print $NF}')"
. /usr/lib/os-release
echo "VERSION=$IMAGE_VERSION"
# The UKI's command line names no slot: berth-init found it on the disk.
echo "SLOT=$(cat /run/berth/slot)"
echo "API-SLOT=$(berth status | tr -d ' \n' | sed -n 's/.*"slot":"\([ab]\)".*/\1/p')"
n=0
until [ -f /efi/EFI/Linux/berth-b.efi ] || [ $n -ge 240 ]; do n=$((n + 1)); sleep 0.5; done
GUEST
NO_OCI=1 vm_boot_payload "$VM_TMP/v2.sh" --secure-boot --tpm --disk-copy "$disk" \
        --timeout "${SECURE_BOOT_TIMEOUT:-420}" > "$VM_TMP/boot3.out" 2>&1
cat "$VM_TMP/boot3.out"
echo "    boot 3 (slot b, keys enrolled already): $(guest_seconds "$VM_TMP/boot3.out") s"
check "the payload ran and exited 0 (berth vm exit $VM_RC)" [ "$VM_PAYLOAD_STATUS" = 0 ]
vm_expect "$VM_LOG" "^CMDLINE=usrhash=$R2 " "the guest runs v2's usr (usrhash=${R2:0:16}...)"
vm_expect "$VM_LOG" '^VERSION=0.2.0$' "os-release says 0.2.0"
vm_expect "$VM_LOG" '^SB=1$' "Secure Boot is on"
vm_expect "$VM_LOG" '^SLOT=b$' "berth-init found slot b from the disk (no berth.slot= in a UKI)"
vm_expect "$VM_LOG" '^API-SLOT=b$' "berth status reports slot b"
listing=$(mdir -i "$desp" -/ -b ::/EFI/Linux)
echo "$listing" | sed 's/^/    esp| /'
check "the update agent blessed slot b's UKI (berth-b.efi)" sh -c 'echo "$1" | grep -qx "::/EFI/Linux/berth-b.efi"' _ "$listing"
finish
