# SPDX-License-Identifier: MIT
# guest-bench.sh KIND: the measurements taken inside a guest, the same for
# berth and for the reference. Run by busybox sh from the payload disk
# (mounted at /run/berth/payload in both guests): berth runs the payload's
# `run` (berth.payload=1), the reference runs it from bench.service after
# containerd.service. KIND is berth or ref; it only decides which processes
# count as the host's own (init and its daemons, not containerd's).
#
# Prints `bench: KEY VALUE` lines on stdout (the serial console in both):
#   init-start S          when the kernel ran init (kmsg "Run /init as init process")
#   root-init S           (ref) when systemd started in the real root
#   containerd-ready S    uptime when containerd's socket first accepts (seen
#                         from here; berth's figure is its timeline's, since
#                         its payload starts only after the network is up)
#   network-ready S       (ref, from bench-net.service) address + default
#                         route, bench/netwait.c; berth: its timeline
#   containerd-active S   (ref) when systemd saw containerd's READY=1
#   ctr-answers S         uptime after the first `ctr version` answered
#   own-rss-kb N          total VmRSS of the host's own processes
#   own-procs LIST        which ones (comm:pid:kB)
#   init-rss-kb N         (berth) VmRSS of PID 1, berth-init
#   berthd-rss-kb N       (berth) VmRSS of berthd, the node API, if it runs at idle
#   transient-left LIST   (berth) services other than network, chrony and
#                         containerd still running when RSS was sampled
#                         (none: the agent and berthd had exited)
#   all-rss-kb N          total VmRSS of every process, for context
#   containerd-rss-kb N   containerd and its shims
#   memavailable-kb N     MemAvailable
#   first-output S        uptime printed by the first container itself
#   ctr-run S ...         `ctr run --rm` of the busybox image, $pay/runs times
#   ctr-run-median S
#   done
PATH=/run/berth/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
kind=${1:-berth}
pay=/run/berth/payload
image=berth.local/busybox:latest
crun=/usr/bin/crun
runs=$(cat $pay/runs 2>/dev/null || echo 20) # written by bench/run

up() { read -r u _ </proc/uptime; echo "$u"; }
say() { echo "bench: $*"; }

# Init start: the kernel's "Run /init as init process" (PID 1's own start
# time in /proc/1/stat is when the kernel made the task, long before it execs
# init). The reference's systemd in the real root: its first kmsg line.
kmsg_time() { dmesg | grep -m1 "$1" | sed 's/^\[ *\([0-9.]*\)\].*/\1/'; }
say init-start "$(kmsg_time 'Run .* as init process')"
[ "$kind" = ref ] && say root-init "$(kmsg_time 'systemd\[1\]: systemd .* running in system mode')"
say script-start "$(up)"

# Ready = the socket accepts a connection (bench/sockready.c, polled every
# 10 ms); then one `ctr version` must answer through it.
r=$(sockready /run/containerd/containerd.sock 600) || { say error "containerd socket never answered"; say done; exit 1; }
say containerd-ready "$r"
if [ "$kind" = ref ]; then
        # What systemd itself saw: containerd's READY=1 (Type=notify).
        say containerd-active "$(systemctl show -p ActiveEnterTimestampMonotonic --value containerd |
                awk '{ printf "%.2f", $1 / 1e6 }')"
fi
ctr version >/dev/null 2>&1 || { say error "ctr version failed"; say done; exit 1; }
say ctr-answers "$(up)"
# Both go on with the network up (berth's payload starts after it anyway).
netwait 300 >/dev/null || say error "network not ready"
say payload-network "$(up)"

# Memory once boot-time device work is over (berth: its coldplug child has
# exited; reference: udev has settled), before any container work.
if [ "$kind" = berth ]; then
        n=0
        while grep -qx berth-coldplug /proc/[0-9]*/comm 2>/dev/null && [ $n -lt 300 ]; do
                sleep 0.1
                n=$((n + 1))
        done
        # Idle means the boot has settled: the update agent has assessed the
        # boot and exited, and no on-demand service (berthd, ListenStream=)
        # is running: every status file says pid=0 but for the long-running
        # services (up to 120 s; whatever still runs then is counted).
        n=0
        busy() {
                for f in /run/berth/services/*; do
                        case "${f##*/}" in network|chrony|containerd) continue ;; esac
                        grep -qx 'pid=0' "$f" || { echo "${f##*/}"; return 0; }
                done
                return 1
        }
        while b=$(busy) && [ $n -lt 1200 ]; do
                sleep 0.1
                n=$((n + 1))
        done
        say transient-left "$(busy || echo none)"
else
        udevadm settle --timeout=30 2>/dev/null || true
fi
say settled "$(up)"
own() {
        case "$kind" in
        berth) case "$2" in berth*) return 0 ;; esac ;;
        ref) case "$2" in systemd*|"(sd-pam)") return 0 ;; esac ;;
        esac
        [ "$1" = 1 ]
}
own_kb=0 all_kb=0 ctd_kb=0 list= procs= init_kb= berthd_kb=
for d in /proc/[0-9]*; do
        p=${d#/proc/}
        comm=$(cat "$d/comm" 2>/dev/null) || continue
        kb=$(awk '/^VmRSS:/ { print $2 }' "$d/status" 2>/dev/null)
        [ -n "$kb" ] || continue # kernel threads have no VmRSS
        all_kb=$((all_kb + kb))
        procs="$procs $comm"
        case "$comm" in containerd*) ctd_kb=$((ctd_kb + kb)) ;; esac
        [ "$p" = 1 ] && init_kb=$kb
        [ "$comm" = berthd ] && berthd_kb=$kb
        if own "$p" "$comm"; then
                own_kb=$((own_kb + kb))
                list="$list $comm:$p:$kb"
        fi
done
say own-rss-kb $own_kb
say own-procs $list
if [ "$kind" = berth ]; then
        say init-rss-kb "$init_kb"
        [ -n "$berthd_kb" ] && say berthd-rss-kb "$berthd_kb"
fi
say all-rss-kb $all_kb
say containerd-rss-kb $ctd_kb
say memavailable-kb "$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
say procs "$(echo $procs | tr ' ' '\n' | sort | uniq -c | awk '{ printf "%s%s*%s", s, $2, $1; s = "," }')"

# containerd's overlayfs snapshotter needs the overlay file system. If the
# image did not load it, say so and load it (busybox insmod), so the container
# figures can still be taken.
if ! grep -qw overlay /proc/filesystems; then
        say error "overlay file system not available after boot: loaded by the bench with insmod"
        insmod "/usr/lib/modules/$(uname -r)/kernel/fs/overlayfs/overlay.ko" 2>/dev/null ||
                insmod "/lib/modules/$(uname -r)/kernel/fs/overlayfs/overlay.ko" ||
                say error "insmod overlay failed"
fi

t0=$(up)
ctr images import "$pay/busybox-oci.tar" >/dev/null || { say error "import failed"; say done; exit 1; }
say import-s "$(echo "$t0 $(up)" | awk '{ printf "%.2f", $2 - $1 }')"

# The first container prints the uptime itself: that is its first output.
ctr run --rm --runc-binary $crun $image first \
        /bin/sh -c 'read u x </proc/uptime; echo "bench: first-output $u"' ||
        { say error "first container failed"; say done; exit 1; }

all=
n=0
while [ $n -lt "$runs" ]; do
        t0=$(up)
        ctr run --rm --runc-binary $crun $image "run$n" /bin/true || say error "run $n failed"
        all="$all $(echo "$t0 $(up)" | awk '{ printf "%.2f", $2 - $1 }')"
        n=$((n + 1))
done
say ctr-run $all
say ctr-run-median "$(echo $all | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
say done
