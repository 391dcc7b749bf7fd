#!/bin/bash
# SPDX-License-Identifier: MIT
# Power cuts during `berth update apply` in a real guest (issue 9): boot the
# v1 test image under UEFI (one disk for the whole run), start an apply of
# v2 from a TUF repository on the host's loopback, and kill QEMU (SIGKILL: the
# guest's caches are lost, as in a power cut) after a random delay. The first
# boot times an uncut update (download, then apply); odd cuts fall anywhere
# in a whole apply (download included), even cuts anywhere in an apply whose
# release was downloaded first (the install steps). Each cut costs one boot,
# whose payload (the last cut comes right after the apply returned, before the
# guest kernel writes back what was not synced):
#
#   1. reports which slot and version run and the journal step the cut left
#      (the host checks: the machine booted, slot a runs v1 or slot b runs v2,
#      and a journal at "done" means the new entry is there, so b runs);
#   2. re-runs apply, which must finish the update (resuming the journal or a
#      partial download), and checks slot b against v2's signed targets
#      (every byte on the first boot; later the parts the zeros below cover)
#      and that the entry berth-b+3.conf is there;
#   3. undoes the update for the next cut: removes b's entry and the journal
#      and writes zeros over the ends of slot b's usr image and hash tree (so
#      a torn write shows), then starts the next apply, which the host cuts.
#
# The release downloads as a delta from slot a's blocks (issue 11): a cut
# during it must leave the next run resuming the delta, never falling back to
# a full download; the host counts the runs that resumed blocks.
#
# A cut after the entry was written boots v2 from slot b (dm-verity checks
# it); that boot removes b's entry again and the next boot is v1's. At the
# end the host checks slot b with veritysetup. The random delays come from
# BERTH_POWERCUT_SEED (printed; set it to replay a run), the number of cuts
# from BERTH_POWERCUT_CUTS (20; `make torture` runs 50).
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/vm/lib.sh"

vm_need
CUTS=${BERTH_POWERCUT_CUTS:-20}
SEED=${BERTH_POWERCUT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "power cuts: $CUTS, seed $SEED (replay: BERTH_POWERCUT_SEED=$SEED)"
. "$BERTH_SOURCE_ROOT/tests/vm/update-images.sh"
update_images
R1=$(update_root_hash v1)
R2=$(update_root_hash v2)
start_all=$SECONDS

update_repo

# The payload of every boot; CUT (0: none, the last boot) and the expected
# bytes of slot b are set in front of it.
update_guest_lib >"$VM_TMP/guest.sh"
cat >>"$VM_TMP/guest.sh" <<'GUEST'
ST=/var/lib/berth/update
hash=$(sed -n 's/.*usrhash=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
case $hash in "$R1") usr=v1 ;; "$R2") usr=v2 ;; *) usr=other ;; esac
journal=$(sed -n 's/^step=//p' $ST/journal 2>/dev/null)
partial=$(cat $ST/downloads/*/*.partial 2>/dev/null | wc -c)
echo "state: slot=$slot version=$version usr=$usr journal=${journal:-absent} partial=$partial" \
        "entries=$(ls /efi/loader/entries | tr '\n' ,)"
mib=$(((LEN_USR + 1048575) / 1048576))
# Slot b holds v2's usr pair and its entry is there. The first boot compares
# every byte; later boots the hash tree and the first and last MiB of the usr
# image, the only parts of the slot that hold anything but v2 before an apply
# (the zeros below).
slot_b_is_v2() {
        # The agent writes through /dev/vda: nothing of vda4's or vda5's own
        # page cache (the zeros) may answer for the disk.
        sync && echo 3 >/proc/sys/vm/drop_caches
        test -f /efi/loader/entries/berth-b+3.conf || return 1
        test "$(head -c "$LEN_VER" /dev/vda5 | sha256sum | cut -d' ' -f1)" = "$SHA_VER" || return 1
        if [ "$CUT" = 1 ]; then
                test "$(head -c "$LEN_USR" /dev/vda4 | sha256sum | cut -d' ' -f1)" = "$SHA_USR"
        else
                test "$(dd if=/dev/vda4 bs=1M count=1 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$SHA_HEAD" &&
                        test "$(dd if=/dev/vda4 bs=1M skip=$((mib - 1)) count=1 2>/dev/null |
                                head -c $((LEN_USR - (mib - 1) * 1048576)) | sha256sum | cut -d' ' -f1)" = "$SHA_TAIL"
        fi
}
esp_rw() { mount -o remount,"$1" /efi; }
if [ "$CUT" = 1 ]; then
        # The first boot times an uncut update: download, then the rest.
        s=$(now)
        berth update download --repo "$URL" 2>&1 | sed 's/^/download| /'
        echo "download-seconds: $s $(now)"
fi
# The agent is ready as soon as it runs: on a counting entry (v2 in slot b)
# wait until it has blessed it, so the re-run below does not meet its lock.
if [ "$slot" = b ]; then
        n=0
        until [ -f /efi/loader/entries/berth-b.conf ] || [ $n -ge 600 ]; do n=$((n + 1)); sleep 0.5; done
fi
s=$(now)
# The agent holds the update lock while it assesses a counting entry (slot
# a's too, whose boots the cuts end before its grace): exit 75 means busy.
n=0
while :; do
        out=$(berth update apply --repo "$URL" 2>&1)
        rc=$?
        [ $rc = 75 ] && [ $n -lt 120 ] || break
        n=$((n + 1))
        sleep 0.5
done
echo "$out" | sed 's/^/apply| /'
echo "rerun-seconds: $s $(now)"
if [ "$slot" = a ]; then
        t rerun-finishes test $rc = 0
        t rerun-journal-done grep -qx step=done $ST/journal
        t slot-b-is-v2 slot_b_is_v2
        echo "verified: $(now)"
else
        # The cut came after the entry: this is v2, booted and blessed.
        t new-slot-runs-v2 test "$version.$usr" = 2.0.0.v2
        t rerun-up-to-date test "$rc.$(echo "$out" | grep -c 'up to date')" = 0.1
        # Back to v1 for the next cut: without b's entry slot a boots.
        esp_rw rw && rm -f /efi/loader/entries/berth-b*.conf && esp_rw ro && rm -f $ST/journal
        t back-to-slot-a test ! -e /efi/loader/entries/berth-b.conf
        CUT=0
fi
if [ "$CUT" != 0 ]; then
        esp_rw rw && rm -f /efi/loader/entries/berth-b*.conf && esp_rw ro && rm -f $ST/journal
        # Zeros over the first and last MiB of v2's usr image in slot b and
        # over its hash tree: a torn write of v2 then shows.
        dd if=/dev/zero of=/dev/vda4 bs=1M count=1 2>/dev/null
        dd if=/dev/zero of=/dev/vda4 bs=1M count=1 seek=$((mib - 1)) 2>/dev/null
        dd if=/dev/zero of=/dev/vda5 bs=1M count=1 2>/dev/null
        sync
        # Even cuts fall in the install steps only: the release is downloaded first.
        [ $((CUT % 2)) = 1 ] || berth update download --repo "$URL" >/dev/null 2>&1
        echo "checks failed: $fails"
        echo "apply-start $CUT $(now)"
        n=0
        until berth update apply --repo "$URL" >/dev/null 2>&1; rc=$?; [ $rc != 75 ] || [ $n -ge 120 ]; do
                n=$((n + 1))
                sleep 0.5
        done
        echo "apply-end $CUT $(now) rc=$rc"
        sleep 600
fi
echo "checks failed: $fails"
exit $fails
GUEST

DISK=$VM_TMP/machine.raw
update_machine "$DISK"
IMG=$KEEP/v1
export NO_OCI=1
PAYLOAD=$VM_TMP/payload

mib=$((($(stat -c %s "$KEEP/v2/usr.erofs") + 1048575) / 1048576))
SHA_HEAD=$(head -c 1048576 "$KEEP/v2/usr.erofs" | sha256sum | cut -d' ' -f1)
SHA_TAIL=$(dd if="$KEEP/v2/usr.erofs" bs=1M skip=$((mib - 1)) status=none | sha256sum | cut -d' ' -f1)

guest() { # CUT: a payload for the boot that starts cut CUT (0: none)
        {
                printf 'CUT=%s\nURL=%s\nR1=%s\nR2=%s\n' "$1" "$GUEST_URL" "$R1" "$R2"
                printf 'LEN_USR=%s\nSHA_USR=%s\n' "$(stat -c %s "$KEEP/v2/usr.erofs")" \
                        "$(sha256sum <"$KEEP/v2/usr.erofs" | cut -d' ' -f1)"
                printf 'LEN_VER=%s\nSHA_VER=%s\n' "$(stat -c %s "$KEEP/v2/usr.verity")" \
                        "$(sha256sum <"$KEEP/v2/usr.verity" | cut -d' ' -f1)"
                printf 'SHA_HEAD=%s\nSHA_TAIL=%s\n' "$SHA_HEAD" "$SHA_TAIL"
                cat "$VM_TMP/guest.sh"
        } >"$VM_TMP/boot.sh"
        vm_make_payload "$VM_TMP/boot.sh" "$PAYLOAD" >/dev/null
}

# What a boot's console says.
state_of() { tr -d '\r' <"$VM_LOG" | sed -n 's/^state: //p' | tail -n1; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
guest_fails() { tr -d '\r' <"$VM_LOG" | sed -n 's/^T: FAIL //p' | tr '\n' ' '; }

# One QEMU at a time machine-wide (lib.sh): the campaign's boots follow one
# another, so it takes the lock once for all of them (its boots then lock a
# file of their own) rather than queueing again for each boot.
exec 8>"$BERTH_VM_LOCK"
echo "vm: waiting for $BERTH_VM_LOCK"
flock 8
BERTH_VM_LOCK=$VM_TMP/vm.lock
locked=$SECONDS
cut=0 cut_made=0 boots=0 bad=0 in_b=0 install_s= download_s= phases=() deltas=0 resumed=0
declare -A landed=()
while :; do
        next=$((cut + 1))
        [ "$cut" -lt "$CUTS" ] || next=0
        guest "$next"
        boots=$((boots + 1))
        vm_boot_bg --payload "$PAYLOAD" --timeout 900 --disk-copy "$DISK"
        cut_at=
        if [ "$next" != 0 ] && vm_wait_console '^apply-start ' 900; then
                echo "    apply-start seen $((SECONDS - _vm_bg_start)) s after berth vm started"
                if [ -z "$install_s" ]; then
                        # The first boot timed an uncut update: the span the
                        # cuts are drawn from.
                        download_s=$(tr -d '\r' <"$VM_LOG" | awk '/^download-seconds:/ { printf "%.1f", $3 - $2 }')
                        install_s=$(tr -d '\r' <"$VM_LOG" | awk '/^rerun-seconds:/ { printf "%.1f", $3 - $2 }')
                        echo "uncut update in the guest: download $download_s s, then apply $install_s s"
                fi
                span=$install_s
                [ $((next % 2)) = 0 ] || span=$(awk -v a="$download_s" -v b="$install_s" 'BEGIN { print a + b }')
                RANDOM=$((SEED + next))
                cut_at=$(awk -v r="$RANDOM" -v d="$span" 'BEGIN { printf "%.2f", r / 32768 * d }')
                if [ "$next" = "$CUTS" ]; then
                        # The last cut comes right after the apply returned:
                        # whatever it left to the kernel's write-back (the
                        # ESP's directory entries and inodes) is lost, so
                        # what it said it finished must already be durable.
                        s0=$SECONDS
                        vm_wait_console '^apply-end ' 300 || true
                        cut_at=$((SECONDS - s0))
                        cut_what="right after the apply returned, $cut_at s after it started"
                else
                        sleep "$cut_at"
                        cut_what="$cut_at s (of $span) after apply started"
                fi
                vm_power_cut
        fi
        vm_wait
        st=$(state_of)
        slot=$(field "$st" slot)
        echo "boot $boots: $st"
        tr -d '\r' <"$VM_LOG" | grep -E '^(apply\||download|rerun-seconds|apply-end|verified|apply-start)' | sed 's/^/    /' || true
        # Cut $cut (made during the previous boot) is judged by this boot.
        what="boot $boots (after cut $cut)"
        ok=1
        [ -n "$st" ] || { ok=0; echo "    $what: the guest never reached its payload"; }
        if tr -d '\r' <"$VM_LOG" | grep -E 'berth: error: boot failed|Kernel panic|verity: .*corrupted' >/dev/null; then
                ok=0
                echo "    $what: a boot failed on the way:"
                tr -d '\r' <"$VM_LOG" | grep -E 'berth: error: boot failed|Kernel panic|verity: .*corrupted' | head -n 3 | sed 's/^/    | /' || true
        fi
        case "$slot.$(field "$st" version).$(field "$st" usr)" in
        a.1.0.0.v1) ;;
        b.2.0.0.v2) in_b=$((in_b + 1)) ;;
        *) ok=0; echo "    $what: neither v1 in slot a nor v2 in slot b runs" ;;
        esac
        if [ "$cut" -gt 0 ] && [ "$cut_made" = 1 ]; then
                j=$(field "$st" journal)
                [ "$j" != done ] || [ "$slot" = b ] || { ok=0; echo "    $what: journal done, yet slot a booted"; }
                # The entry is written in the last step: b boots only after it.
                case "$slot.$j" in
                b.boot-files | b.done | a.*) ;;
                *) ok=0; echo "    $what: slot b booted with the journal at $j (an entry before its slot was complete)" ;;
                esac
                [ "$j" != absent ] || j=download
                landed[$j]=$((${landed[$j]:-0} + 1))
                phases+=("$cut:$j:$slot")
        fi
        # The release downloads as a delta from slot a (issue 11): a cut in
        # the middle of one resumes it (the journal of written blocks), never
        # a fall back to downloading the whole image.
        if tr -d '\r' <"$VM_LOG" | grep -E '^(apply|download)\| .*full download' >/dev/null; then
                ok=0
                echo "    $what: the update fell back to a full download"
        fi
        if tr -d '\r' <"$VM_LOG" | grep -E '^apply\| delta: resuming: ' >/dev/null; then
                resumed=$((resumed + 1))
        fi
        tr -d '\r' <"$VM_LOG" | grep -qE '^(apply|download)\| delta: usr image ' && deltas=$((deltas + 1))
        f=$(guest_fails)
        [ -z "$f" ] || { ok=0; echo "    $what: failed in the guest: $f"; }
        [ "$ok" = 1 ] || bad=$((bad + 1))
        if [ "$boots" = 1 ] && [ "$ok" != 1 ]; then
                echo "    the first, uncut update failed: no cuts"
                break
        fi
        cut_made=0
        if [ -n "$cut_at" ]; then
                cut=$next cut_made=1
                end=$(tr -d '\r' <"$VM_LOG" | sed -n 's/^apply-end [0-9]* [0-9.]* //p')
                echo "    cut $cut: QEMU killed $cut_what${end:+ (apply had ended first, $end)}"
                [ -z "$end" ] || [ "$end" = rc=0 ] || { bad=$((bad + 1)); echo "    cut $cut: the apply failed before the cut"; }
                # The first boot is slower than the later ones (it grows the
                # root file system, caches are cold): an apply that ended
                # before its cut says how long the next ones take.
                took=$(tr -d '\r' <"$VM_LOG" | awk '/^apply-start / { s = $3 } /^apply-end / { printf "%.1f", $3 - s }')
                if [ -n "$took" ] && [ "$end" != rc=0 ]; then
                        :
                elif [ -n "$took" ] && [ $((cut % 2)) = 1 ]; then
                        download_s=$(awk -v t="$took" -v i="$install_s" 'BEGIN { d = t - i; printf "%.1f", (d > 0.5 ? d : 0.5) }')
                elif [ -n "$took" ]; then
                        install_s=$took
                fi
        elif [ "$next" != 0 ] && [ "$slot" = b ]; then
                : # a boot of the new slot: back to slot a, no cut made
        else
                break
        fi
        [ "$boots" -le $((CUTS * 2 + 2)) ] || { bad=$((bad + 1)); echo "too many boots"; break; }
done

exec 8>&-

# download: no journal yet; none: downloaded, nothing on the disk changed yet.
echo "journal step found after each cut (cut:step:slot booted): ${phases[*]}"
printf 'cuts per journal step:'
for k in download none cleared written verified labelled boot-files done; do
        printf ' %s=%s' "$k" "${landed[$k]:-0}"
done
echo
echo "delta downloads finished: $deltas, of which $resumed resumed blocks an earlier, cut run had written"
echo "$cut cuts, $boots boots ($in_b of v2 in slot b), $((SECONDS - locked)) s of boots with the QEMU lock held, $((SECONDS - start_all)) s in all (TCG)"
check "$CUTS power cuts made (got $cut)" [ "$cut" = "$CUTS" ]
check "the uncut update downloaded v2 as a delta from slot a" [ "$deltas" -ge 1 ]
check "after every cut the machine booted v1 (slot a) or v2 (slot b), and a re-run finished the update with slot b verified" \
        [ "$bad" = 0 ]

step "the disk after the last re-run: slot b verifies against v2's root hash"
if command -v veritysetup >/dev/null && command -v sfdisk >/dev/null; then
        read -r S4 N4 S5 N5 < <(sfdisk -J "$DISK" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print(p[3]["start"], p[3]["size"], p[4]["start"], p[4]["size"])')
        dd if="$DISK" of="$VM_TMP/b.usr" bs=512 skip="$S4" count="$N4" status=none
        dd if="$DISK" of="$VM_TMP/b.verity" bs=512 skip="$S5" count="$N5" status=none
        check "veritysetup verify slot b against v2's root hash" veritysetup verify "$VM_TMP/b.usr" "$VM_TMP/b.verity" "$R2"
else
        skip_part "veritysetup or sfdisk is not installed"
fi

finish
