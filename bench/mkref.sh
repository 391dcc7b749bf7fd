#!/bin/bash
# SPDX-License-Identifier: MIT
# mkref.sh OUTDIR: builds the reference image the benchmarks compare berth
# against: a minimal Debian 12 container host made with mmdebstrap (variant
# minbase, systemd as init, containerd, crun, runc, chrony, the same kernel
# package linux-image-amd64 with its stock initramfs-tools initrd), from the
# same apt sources the berth composer uses (the build machine's).
#
# OUTDIR gets the same shape as a berth image directory, plus facts:
#   rootfs.tar   the mmdebstrap output (cached, see below)
#   vmlinuz, initrd, cmdline
#   package_count, usr_bytes
# bench/mkrefdisk.sh turns rootfs.tar plus the guest script into disk.raw.
#
# The mmdebstrap tarball is cached in ${XDG_CACHE_HOME:-~/.cache}/berth/bench/,
# keyed by the Date: of every suite's InRelease, the package list and this
# script's recipe version, so a repeat run against the same mirror is fast.
set -euo pipefail

# All in a function, so bash has read the whole file before it runs any of it
# (editing the file during a run does not break that run).
main() {

out=${1:?usage: mkref.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/berth/bench
recipe=1
include=systemd,systemd-sysv,udev,kmod,containerd,crun,runc,chrony,linux-image-amd64,initramfs-tools,zstd
mkdir -p "$out" "$cache"

log() { echo "mkref: $*" >&2; }

# The build machine's apt sources as one-line entries "deb URI SUITE COMPS",
# from deb822 files (sources.list.d/*.sources) and one-line files.
sources() {
        local f
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] || continue
                awk '
                function flush() {
                        if (types ~ /(^| )deb( |$)/ && uris != "" && enabled != "no") {
                                nu = split(uris, u, " "); ns = split(suites, s, " ")
                                for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                                        print "deb " u[i] " " s[j] " " comps
                        }
                        types = uris = suites = comps = enabled = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                {
                        key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
                        if (key == "types") types = $0
                        else if (key == "uris") uris = $0
                        else if (key == "suites") suites = $0
                        else if (key == "components") comps = $0
                        else if (key == "enabled") enabled = tolower($0)
                }
                END { flush() }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -f "$f" ] || continue
                sed -n 's/\[[^]]*\]//; s/^[ \t]*\(deb[ \t].*\)$/\1/p' "$f" | tr -s ' \t' ' '
        done
}

mapfile -t lines < <(sources | awk '!seen[$0]++')
[ ${#lines[@]} -gt 0 ] || { log "no apt sources found in /etc/apt"; exit 1; }

# Cache key: each suite's InRelease Date (what the mirror serves now).
key_input="recipe=$recipe include=$include"
for l in "${lines[@]}"; do
        read -r _ uri suite _ <<<"$l"
        d=$(python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=60).read().decode("utf-8", "replace"))' \
                "${uri%/}/dists/$suite/InRelease" 2>/dev/null | sed -n 's/^Date: //p' | head -1) || true
        [ -n "$d" ] || d="unknown-$(date -u +%Y%m%d)"
        key_input+=" $l date=$d"
done
key=$(printf '%s' "$key_input" | sha256sum | cut -c1-16)
tarball=$cache/ref-$key.tar

if [ -s "$tarball" ]; then
        log "cached reference tree $tarball"
else
        log "mmdebstrap (minbase + $include) from:"
        printf '  %s\n' "${lines[@]}" >&2
        aptopt=()
        if apt-config dump | grep -qi '^Acquire::Check-Valid-Until "false"'; then
                log "Acquire::Check-Valid-Until is false on this machine: passing it on"
                aptopt+=(--aptopt='Acquire::Check-Valid-Until "false"')
        fi
        rm -f "$tarball.tmp"
        mmdebstrap --variant=minbase --include="$include" "${aptopt[@]}" \
                --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\n" | wc -l > "$1/.bench-package-count"' \
                --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
                --format=tar bookworm "$tarball.tmp" "${lines[@]}" >&2
        mv "$tarball.tmp" "$tarball"
        # Keep only the newest few cached trees.
        ls -1t "$cache"/ref-*.tar 2>/dev/null | tail -n +4 | xargs -r rm -f
fi

ln -sf "$tarball" "$out/rootfs.tar"
work=$(mktemp -d /tmp/berth-ref-XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xf "$tarball" ./boot ./.bench-package-count
cp -L "$work"/boot/vmlinuz-* "$out/vmlinuz"
cp -L "$work"/boot/initrd.img-* "$out/initrd"
cp "$work/.bench-package-count" "$out/package_count"
# Installed size of /usr (apparent bytes), from the tar listing.
tar -tvf "$tarball" ./usr | awk '$1 ~ /^-/ { s += $3 } END { print s }' >"$out/usr_bytes"
echo "root=/dev/vda rw console=ttyS0" >"$out/cmdline"
log "reference: $(cat "$out/package_count") packages, kernel $(basename "$work"/boot/vmlinuz-*)"
}

main "$@"
