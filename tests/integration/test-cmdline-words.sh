#!/bin/bash
# SPDX-License-Identifier: MIT
# Every word of the default image's [Kernel] Cmdline= (images/container-host.conf)
# exists in the kernel the image ships: each word names the kernel config
# option that makes the kernel know it, and that option is set in the config
# of the linux-image package in the package cache (build-real fills it). A
# word this table does not know fails the test: add it with its option. The
# guest side (the kernel does not report the words unknown) is in vm-audit.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"

SPEC=$BERTH_SOURCE_ROOT/images/container-host.conf
CACHE=${BERTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}
deb=$(ls -t "$CACHE"/debs/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || skip "no linux-image package in $CACHE/debs (build-real fills it)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/config-*'
config=$(ls "$tmp"/boot/config-*)
echo "kernel config: $(basename "$config") from $(basename "$deb")"

# word (the part before '=') -> the option(s) that must be y.
need_option() {
        case $1 in
        console | panic | init_on_alloc | init_on_free) echo CONFIG_MMU ;;
        cgroup_no_v1) echo CONFIG_CGROUPS ;;
        lockdown) echo CONFIG_SECURITY_LOCKDOWN_LSM ;;
        module.sig_enforce) echo CONFIG_MODULE_SIG ;;
        module_blacklist) echo CONFIG_MODULES ;;
        slab_nomerge) echo CONFIG_SLUB ;;
        randomize_kstack_offset) echo CONFIG_RANDOMIZE_KSTACK_OFFSET ;;
        page_alloc.shuffle) echo CONFIG_SHUFFLE_PAGE_ALLOCATOR ;;
        vsyscall) echo CONFIG_X86_VSYSCALL_EMULATION ;;
        iommu.strict) echo CONFIG_IOMMU_API ;;
        debugfs) echo CONFIG_DEBUG_FS ;;
        apparmor) echo CONFIG_SECURITY_APPARMOR ;;
        security) echo CONFIG_SECURITY ;;
        audit | audit_backlog_limit) echo CONFIG_AUDITSYSCALL ;;
        *) echo UNKNOWN ;;
        esac
}

words=$(sed -n 's/^Cmdline=//p' "$SPEC" | tr ' ' '\n' | sed '/^$/d')
check "the spec has hardening words" sh -c 'echo "$1" | grep -q "^lockdown="' _ "$words"
for w in $words; do
        key=${w%%=*}
        opt=$(need_option "$key")
        check "$w: $opt=y in the kernel config" grep -qx "$opt=y" "$config"
done

# What the words choose must exist too: the lockdown mode, the LSM, and each
# blacklisted module a known name (a built module or a CIS name the kernel
# does not build, listed so a later kernel's module is refused too).
check "AppArmor is built in" grep -qx CONFIG_SECURITY_APPARMOR=y "$config"
# lockdown=integrity and module.sig_enforce=1 refuse unsigned modules: the
# package's modules must carry signatures (Debian signs them after the build).
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './lib/modules/*/kernel/fs/erofs/erofs.ko*'
mod=$(find "$tmp/lib/modules" -name 'erofs.ko*' | head -n1)
check "the package's modules are signed (erofs: '~Module signature appended~')" \
        sh -c 'case "$1" in *.xz) xz -dc "$1" ;; *) cat "$1" ;; esac | tail -c 28 | grep -q "Module signature appended"' _ "$mod"
for m in $(echo "$words" | sed -n 's/^module_blacklist=//p' | tr , ' '); do
        case $m in
        cramfs) o=CONFIG_CRAMFS ;; freevxfs) o=CONFIG_VXFS_FS ;; hfs) o=CONFIG_HFS_FS ;;
        hfsplus) o=CONFIG_HFSPLUS_FS ;; jffs2) o=CONFIG_JFFS2_FS ;; squashfs) o=CONFIG_SQUASHFS ;;
        udf) o=CONFIG_UDF_FS ;; usb_storage) o=CONFIG_USB_STORAGE ;; uas) o=CONFIG_USB_UAS ;;
        dccp) o=CONFIG_IP_DCCP ;; sctp) o=CONFIG_IP_SCTP ;; rds) o=CONFIG_RDS ;; tipc) o=CONFIG_TIPC ;;
        *) o=UNKNOWN ;;
        esac
        check "blacklisted $m ($o) is a module or not built, never built in" \
                sh -c '! grep -qx "$1=y" "$2" && [ "$1" != UNKNOWN ]' _ "$o" "$config"
done
finish
