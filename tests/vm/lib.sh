# SPDX-License-Identifier: MIT
# tests/vm/lib.sh: the one harness for the QEMU end-to-end tests. Source it
# from a test script (bash, set -euo pipefail):
#
#   . "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"
#   vm_need                                   # exit 77 without QEMU (and OVMF)
#   IMG=$(vm_image_dir)                       # a `berth build` output to boot
#   vm_boot_payload my-script.sh --direct --timeout 300
#   vm_expect "$VM_LOG" 'hello from berth'
#   check "payload exit 0" [ "$(vm_payload_status "$VM_LOG")" = 0 ]
#   finish
#
# Environment (tests/run and meson set the first four):
#   BERTH_SOURCE_ROOT   the source tree (default: two levels up from here)
#   BERTH               the berth binary to run (default: $BERTH_PLAIN_BUILD/src/berth)
#   BERTH_PLAIN_BUILD   the plain build whose binaries go into images (default: ./build)
#   BERTH_BUILD_DIR     where the cached images live: $BERTH_BUILD_DIR/vm-test-image
#                       (VM_SPEC), vm-image (the default image, left by build-real)
#                       (default: $BERTH_PLAIN_BUILD)
#   BERTH_IMAGE_DIR     boot this image instead of building/caching one
#   BERTH_VM_LOCK       lock file that lets one QEMU run at a time (/tmp/berth-vm.lock)
#   BERTH_VM_KEEP=1     keep the test's temporary directory

BERTH_SOURCE_ROOT=${BERTH_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$BERTH_SOURCE_ROOT/tests/lib.sh"

BERTH_PLAIN_BUILD=${BERTH_PLAIN_BUILD:-$BERTH_SOURCE_ROOT/build}
BERTH=${BERTH:-$BERTH_PLAIN_BUILD/src/berth}
BERTH_BUILD_DIR=${BERTH_BUILD_DIR:-$BERTH_PLAIN_BUILD}
BERTH_VM_LOCK=${BERTH_VM_LOCK:-/tmp/berth-vm.lock}
# The test image: the default image plus the payload hook ([Test] Payload=yes);
# the default image itself ignores berth.payload=1.
VM_SPEC=${VM_SPEC:-$BERTH_SOURCE_ROOT/images/test.conf}

# The test's scratch directory, removed at exit unless BERTH_VM_KEEP=1.
VM_TMP=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-vmtest.XXXXXX")
_vm_cleanup() {
        if [ "${BERTH_VM_KEEP:-0}" = 1 ]; then
                echo "vm: kept $VM_TMP"
        else
                rm -rf "$VM_TMP"
        fi
}
trap _vm_cleanup EXIT

VM_LOG=
VM_RC=

# vm_need [--direct]: skip (77) unless QEMU, the berth binary, busybox-static
# and, for UEFI tests (no --direct), OVMF are there.
vm_need() {
        command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
        command -v qemu-img >/dev/null || skip "qemu-img is not installed"
        [ -x "$BERTH" ] || skip "no berth binary at $BERTH (build first)"
        [ -x /bin/busybox ] || skip "busybox-static is not installed"
        if [ "${1:-}" != --direct ]; then
                [ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -r /usr/share/OVMF/OVMF_CODE.fd ] ||
                        [ -r /usr/share/ovmf/OVMF.fd ] || [ -n "${BERTH_OVMF_CODE:-}" ] ||
                        skip "OVMF is not installed"
        fi
}

# vm_image_dir: prints the directory of the test image (VM_SPEC) to boot.
# BERTH_IMAGE_DIR if set; else $BERTH_BUILD_DIR/vm-test-image (vm_spec_image).
vm_image_dir() {
        if [ -n "${BERTH_IMAGE_DIR:-}" ]; then
                [ -f "$BERTH_IMAGE_DIR/disk.raw" ] || {
                        echo "vm: BERTH_IMAGE_DIR=$BERTH_IMAGE_DIR has no disk.raw" >&2
                        return 1
                }
                echo "$BERTH_IMAGE_DIR"
                return 0
        fi
        vm_spec_image "$VM_SPEC" vm-test-image
}

# vm_default_image_dir: the default (production) image, images/container-host.conf:
# $BERTH_BUILD_DIR/vm-image, which build-real leaves, (re)built when stale.
vm_default_image_dir() {
        vm_spec_image "$BERTH_SOURCE_ROOT/images/container-host.conf" vm-image
}

# vm_make_payload SCRIPT [DIR]: a payload directory (busybox, the busybox OCI
# archive, `run` from SCRIPT); prints its path. NO_OCI=1 leaves the archive out.
vm_make_payload() {
        local script=$1 dir=${2:-$VM_TMP/payload}
        rm -rf "$dir"
        "$BERTH_SOURCE_ROOT/tests/fixtures/mkpayload.sh" "$dir" "$script" >&2 || return 1
        echo "$dir"
}

# vm_boot [berth vm options...]: boots the image (vm_image_dir, or IMG if set)
# with the console in a fresh log. One QEMU at a time (flock on BERTH_VM_LOCK).
# Sets VM_LOG (the console log) and VM_RC (berth's exit status); returns 0 so a
# test can go on to inspect the log.
_vm_boot_n=0
vm_boot() {
        local img=${IMG:-}
        [ -n "$img" ] || img=$(vm_image_dir) || return 1
        _vm_boot_n=$((_vm_boot_n + 1))
        VM_LOG=$VM_TMP/console-$_vm_boot_n.log
        local start=$SECONDS
        echo "vm: berth vm $* $img (console: $VM_LOG)"
        set +e
        # The time with the lock held is the guest's; the rest was waiting
        # for other tests' guests.
        flock "$BERTH_VM_LOCK" bash -c 's=$SECONDS; "$@"; rc=$?
                echo "vm: berth vm ran $((SECONDS - s)) s with the lock held"; exit $rc' _ \
                "$BERTH" vm --log "$VM_LOG" "$@" "$img"
        VM_RC=$?
        set -e
        echo "vm: berth vm exited with $VM_RC after $((SECONDS - start)) s"
        return 0
}

# vm_boot_payload SCRIPT [--direct] [--timeout N] [other berth vm options...]:
# makes a payload from SCRIPT and boots it (default timeout 600 s). After it:
# VM_LOG, VM_RC, and VM_PAYLOAD_STATUS (the guest's report, or "none").
vm_boot_payload() {
        local script=$1
        shift
        local payload timeout=600 args=()
        while [ $# -gt 0 ]; do
                case $1 in
                --timeout)
                        timeout=$2
                        shift 2
                        ;;
                *)
                        args+=("$1")
                        shift
                        ;;
                esac
        done
        payload=$(vm_make_payload "$script") || return 1
        vm_boot --payload "$payload" --timeout "$timeout" "${args[@]}"
        VM_PAYLOAD_STATUS=$(vm_payload_status "$VM_LOG")
        echo "vm: payload status: $VM_PAYLOAD_STATUS"
}

# vm_payload_status LOG: the N of the last "berth: payload exited with status N", or "none".
vm_payload_status() {
        local s
        s=$(tr -d '\r' < "$1" | sed -n 's/.*berth: payload exited with status \([0-9]*\).*/\1/p' | tail -n1)
        echo "${s:-none}"
}

# vm_expect LOG PATTERN [WHAT]: a check that the console log matches the
# extended regular expression; on failure shows the log's last lines.
vm_expect() {
        local log=$1 pattern=$2 what=${3:-console shows /$2/}
        if tr -d '\r' < "$log" | grep -E -- "$pattern" >/dev/null; then
                check "$what" true
        else
                check "$what" false
                echo "    (last lines of $log:)"
                tail -n 25 "$log" | sed 's/^/    | /'
        fi
}

# vm_expect_not LOG PATTERN [WHAT]: the log must not match.
vm_expect_not() {
        local log=$1 pattern=$2 what=${3:-console does not show /$2/}
        if tr -d '\r' < "$log" | grep -E -- "$pattern" >/dev/null; then
                check "$what" false
                tr -d '\r' < "$log" | grep -E -- "$pattern" | head -n 5 | sed 's/^/    | /' || true
        else
                check "$what" true
        fi
}

# vm_timeline LOG: the "berth: timeline EVENT UPTIME" lines as a table.
vm_timeline() {
        tr -d '\r' < "$1" | sed -n 's/.*berth: timeline \([^ ]*\) \([0-9.]*\).*/\1 \2/p' |
                awk 'BEGIN { printf "  %-28s %10s\n", "event", "uptime s" }
                     { printf "  %-28s %10s\n", $1, $2 }'
}

# vm_spec_image SPEC NAME [BUILD OPTION...]: prints $BERTH_BUILD_DIR/NAME, (re)built from SPEC
# (with the options given to `berth build`)
# when missing or older than the composer (berth, berth-compose), berth-init,
# berth-netevent, berth-update, berthd, SPEC, the specs it may include (images/*.conf) or a file of data/.
# Concurrent tests wait for one build (flock). The composer is the plain build's berth when
# there is one (BERTH_VM_COMPOSER overrides): these images serve the guest
# tests, and the sanitizer build composes several times slower (build-real
# covers the composer under ASan).
vm_spec_image() {
        local spec=$1 img=$BERTH_BUILD_DIR/$2
        shift 2
        local build_args=("$@")
        local composer=${BERTH_VM_COMPOSER:-$BERTH_PLAIN_BUILD/src/berth}
        [ -x "$composer" ] || composer=$BERTH
        (
                flock 9
                local stale=0 f
                [ -f "$img/disk.raw" ] && [ -f "$img/manifest.json" ] || stale=1
                for f in "$composer" "$BERTH_PLAIN_BUILD/src/init/berth-init" \
                        "$BERTH_PLAIN_BUILD/src/init/berth-stage1" \
                        "$BERTH_PLAIN_BUILD/src/berth-compose" "$BERTH_PLAIN_BUILD/src/net/berth-netevent" \
                        "$BERTH_PLAIN_BUILD/src/berth-update" "$BERTH_PLAIN_BUILD/src/berthd" \
                        "$spec" "$BERTH_SOURCE_ROOT"/images/*.conf $(find "$BERTH_SOURCE_ROOT/data" -type f); do
                        [ -e "$f" ] && [ "$f" -nt "$img/disk.raw" ] && stale=1
                done
                if [ $stale = 1 ]; then
                        echo "vm: building $spec into $img" >&2
                        rm -rf "$img.new"
                        "$composer" build --bindir "$BERTH_PLAIN_BUILD/src" --output "$img.new" \
                                ${build_args[@]+"${build_args[@]}"} "$spec" >&2 ||
                                { echo "vm: berth build $spec failed" >&2; exit 1; }
                        rm -rf "$img"
                        mv "$img.new" "$img"
                fi
        ) 9>"$img.lock" || return 1
        echo "$img"
}

# vm_guest_results LOG NAME...: one check per NAME from the payload's
# "T: ok NAME" / "T: FAIL NAME" lines; a NAME without a line fails too.
vm_guest_results() {
        local log=$1 name
        shift
        for name in "$@"; do
                # grep -x without -q reads to the end: with pipefail, grep -q
                # exiting early could fail the pipeline on tr's SIGPIPE.
                # A kernel message may land behind a line the guest was
                # writing ("T: ok v2-has-less[   10.65] scsi host2: ahci").
                if tr -d '\r' < "$log" | grep -xE "T: ok $name(\[ *[0-9]+\.[0-9]+\] .*)?" > /dev/null; then
                        check "guest: $name" true
                elif tr -d '\r' < "$log" | grep -xE "T: FAIL $name(\[ *[0-9]+\.[0-9]+\] .*)?" > /dev/null; then
                        check "guest: $name" false
                else
                        check "guest: $name (no result line)" false
                fi
        done
}

# vm_expect_order LOG PATTERN... [-- WHAT]: the console shows lines matching
# each extended regular expression, in this order.
vm_expect_order() {
        local log=$1 what="" pats=() p line=0 n
        shift
        while [ $# -gt 0 ]; do
                if [ "$1" = -- ]; then
                        what=$2
                        break
                fi
                pats+=("$1")
                shift
        done
        [ -n "$what" ] || what="console shows in order: ${pats[*]}"
        for p in "${pats[@]}"; do
                n=$(tr -d '\r' < "$log" | tail -n +$((line + 1)) | grep -nE -- "$p" | head -n1 | cut -d: -f1 || true)
                if [ -z "$n" ]; then
                        check "$what" false
                        echo "    (no /$p/ after line $line of $log)"
                        return 0
                fi
                line=$((line + n))
        done
        check "$what" true
}

# vm_boot_bg [berth vm options...]: like vm_boot, in the background, so the
# test can act on the running guest (QMP, a registry...). Sets VM_LOG and
# VM_PID; vm_wait collects VM_RC. The lock is held until QEMU ends.
vm_boot_bg() {
        local img=${IMG:-}
        [ -n "$img" ] || img=$(vm_image_dir) || return 1
        _vm_boot_n=$((_vm_boot_n + 1))
        VM_LOG=$VM_TMP/console-$_vm_boot_n.log
        _vm_bg_start=$SECONDS
        echo "vm: berth vm $* $img (console: $VM_LOG, in the background)"
        flock "$BERTH_VM_LOCK" "$BERTH" vm --log "$VM_LOG" "$@" "$img" &
        VM_PID=$!
}

# vm_wait: waits for the background boot; sets VM_RC and VM_PAYLOAD_STATUS.
vm_wait() {
        set +e
        wait "$VM_PID"
        VM_RC=$?
        set -e
        echo "vm: berth vm exited with $VM_RC after $((SECONDS - _vm_bg_start)) s"
        VM_PAYLOAD_STATUS=$(vm_payload_status "$VM_LOG")
        echo "vm: payload status: $VM_PAYLOAD_STATUS"
}

# vm_wait_console PATTERN SECONDS: waits until the console log of the running
# background boot matches the extended regular expression; fails if QEMU ends
# or the time runs out first.
vm_wait_console() {
        local pattern=$1 until=$((SECONDS + $2))
        while [ $SECONDS -lt "$until" ]; do
                if [ -f "$VM_LOG" ] && tr -d '\r' < "$VM_LOG" | grep -E -- "$pattern" >/dev/null; then
                        return 0
                fi
                kill -0 "$VM_PID" 2>/dev/null || return 1
                sleep 0.2
        done
        return 1
}

# vm_qmp SOCKET JSON...: sends each QMP command (after qmp_capabilities) to
# the running guest's monitor (berth vm --qmp SOCKET); fails on an error reply.
vm_qmp() {
        python3 - "$@" <<'PY'
import json, socket, sys, time
path, cmds = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX)
for _ in range(50):
    try:
        s.connect(path)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rw")
def reply():
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m:
            return m
json.loads(f.readline())  # greeting
for c in ['{"execute": "qmp_capabilities"}'] + cmds:
    f.write(c + "\n")
    f.flush()
    m = reply()
    if "error" in m:
        sys.exit("qmp: %s: %s" % (c, m["error"]))
PY
}

# vm_power_cut: SIGKILL to the QEMU of the background boot (vm_boot_bg), as a
# power cut: the guest gets no chance to flush or stop, and what QEMU had
# already written to the disk file stays (as on a disk that lost power).
# vm_wait then collects berth vm.
vm_power_cut() {
        local pid
        pid=$(ps -e -o pid=,ppid=,comm= | awk -v root="$VM_PID" '
                { parent[$1] = $2; comm[$1] = $3 }
                END {
                        for (p in comm) {
                                if (comm[p] !~ /^qemu-system/) continue
                                for (q = parent[p]; q > 1; q = parent[q])
                                        if (q == root) { print p; exit }
                        }
                }')
        if [ -z "$pid" ]; then
                echo "vm: no QEMU under pid $VM_PID to cut" >&2
                return 1
        fi
        echo "vm: power cut: QEMU (pid $pid) killed after $(ps -o etimes= -p "$pid" | tr -d ' ') s"
        kill -KILL "$pid"
}
