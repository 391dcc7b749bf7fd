#!/bin/bash
# berth keygen / publish / update on the host, against real images and a real
# HTTP server on loopback: compose v1 (with a disk) and v2 (one package more),
# publish both to a TUF repository, `berth update apply --disk v1.raw`, and
# check the other slot with veritysetup and the ESP with mtools. Then every
# bad input of issue 9 (signatures, keys, thresholds, expiry, replay, target
# hash/length, truncation, downgrade, architecture, bad-listed version,
# repository down/404/500/hanging, a state directory full from the start or
# filled by the download): each must fail with
# one error line and leave the disk file's SHA-256 unchanged.
#
# The composed images and their keys are kept in $BERTH_BUILD_DIR/update-test
# and reused while the specs and the composer binary are the same.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"

need veritysetup
need sfdisk
need mcopy
need python3
python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is not installed"

PLAIN=${BERTH_PLAIN_BUILD:-$BERTH_BUILD_DIR}
COMPOSE_BERTH=$PLAIN/src/berth
FIX=$BERTH_SOURCE_ROOT/tests/fixtures
TOOL="python3 $FIX/tuf-tool.py"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export MTOOLS_SKIP_CHECK=1
KEEP=$BERTH_BUILD_DIR/update-test
TMP=$(mktemp -d /var/tmp/berth-test-update.XXXXXX)
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        mountpoint -q "$TMP/full" 2>/dev/null && umount "$TMP/full"
        mountpoint -q "$TMP/fill" 2>/dev/null && umount "$TMP/fill"
        rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$KEEP"

# --- images, keys (kept between runs) -------------------------------------
spec() { # VERSION EXTRA-PACKAGE
        sed -e "s/^Version=.*/Version=$1/" \
            -e "s/^Include=linux-image-amd64 /Include=linux-image-amd64 $2 /" \
            "$BERTH_SOURCE_ROOT/images/container-host.conf"
        printf '\n[Update]\nRoot=%s\nRepository=http://127.0.0.1:9/berth\nChannel=stable\n' "$KEEP/keys/root.json"
}
# Composed again when the specs or the sources of what goes into an image
# change; BERTH_UPDATE_TEST_REUSE=1 reuses them regardless (while developing).
stamp=$( (spec 1.0.0 ""; spec 2.0.0 less
          find "$BERTH_SOURCE_ROOT"/src/{lib,shared,compose,init} "$BERTH_SOURCE_ROOT/data" -type f -print0 |
                  sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1)
if [ "${BERTH_UPDATE_TEST_REUSE:-0}" = 1 ] && [ -f "$KEEP/v1/disk.raw" ] && [ -f "$KEEP/v2/usr.erofs" ]; then
        stamp=$(cat "$KEEP/stamp")
fi
if [ "$(cat "$KEEP/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$KEEP/v1/disk.raw" ] || [ ! -f "$KEEP/v2/usr.erofs" ]; then
        step "compose v1 (disk) and v2 (one package more, no disk)"
        rm -rf "$KEEP/keys" "$KEEP/v1" "$KEEP/v2"
        "$COMPOSE_BERTH" keygen --output "$KEEP/keys" >/dev/null
        spec 1.0.0 "" > "$KEEP/v1.conf"
        spec 2.0.0 less > "$KEEP/v2.conf"
        "$COMPOSE_BERTH" build --bindir "$PLAIN/src" --output "$KEEP/v1" "$KEEP/v1.conf" > "$TMP/v1.log"
        "$COMPOSE_BERTH" build --no-disk --bindir "$PLAIN/src" --output "$KEEP/v2" "$KEEP/v2.conf" > "$TMP/v2.log"
        echo "$stamp" > "$KEEP/stamp"
else
        step "reusing the composed v1 and v2 in $KEEP"
fi
R1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$KEEP/v1/manifest.json")
R2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$KEEP/v2/manifest.json")

step "keygen: private keys 0600, root metadata signed"
"$BERTH" keygen --output "$TMP/k2" --threshold 2 >/dev/null
check "keygen --threshold 2 wrote two keys per role, mode 0600" \
        test "$(stat -c %a "$TMP/k2/timestamp.key") $(stat -c %a "$TMP/k2/timestamp-2.key")" = "600 600"
check "root.json verifies with an independent Ed25519 + canonical JSON" \
        $TOOL verify "$KEEP/keys/root.json" "$KEEP/keys/root.json"

step "publish v1 and v2"
REPO=$TMP/repo
"$BERTH" publish --repo "$REPO" --key "$KEEP/keys" "$KEEP/v1" >/dev/null
cp "$REPO/timestamp.json" "$TMP/timestamp-v1.json"
# No usr image patch here: the delta cases below fetch ranges ("patches"
# further down use a repository with one).
"$BERTH" publish --repo "$REPO" --key "$KEEP/keys" --patch-bases 0 "$KEEP/v2" >/dev/null
check "repository metadata verifies independently" \
        $TOOL verify "$REPO/root.json" "$REPO/timestamp.json" "$REPO/2.snapshot.json" "$REPO/2.targets.json" "$REPO/1.root.json"
check "targets carry version, channel, architecture and root hash" python3 - "$REPO/2.targets.json" "$R2" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["signed"]["targets"]["container-host/2.0.0/usr.erofs"]
c = t["custom"]
assert (c["version"], c["channel"], c["architecture"], c["root_hash"]) == ("2.0.0", "stable", "amd64", sys.argv[2]), c
assert t["length"] > 0 and len(t["hashes"]["sha256"]) == 64
PY
cp -a "$KEEP/v2" "$TMP/v2-other"
echo " quiet" >> "$TMP/v2-other/cmdline"
"$BERTH" publish --repo "$REPO" --key "$KEEP/keys" "$TMP/v2-other" > /dev/null 2> "$TMP/republish.err" || true
check "publishing 2.0.0 again with other content is refused" \
        grep -q "container-host 2.0.0 is already published with other content (cmdline differs)" "$TMP/republish.err"

URL=$("$FIX/serve.sh" "$REPO" "$TMP/server.pid")
PIDS+=("$(cat "$TMP/server.pid")")

DISK=$TMP/v1.raw
cp --sparse=always "$KEEP/v1/disk.raw" "$DISK"
check "the new disk's empty pair is labelled _empty" \
        test "$(sfdisk -J "$DISK" | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["partitiontable"]["partitions"]))')" = "esp usr-a usr-a-verity _empty _empty root"
SUM=$(sha256sum < "$DISK" | cut -d' ' -f1)
UPD=(--disk "$DISK" --root "$KEEP/keys/root.json")

# --- bad input: one error line, disk unchanged ------------------------------
# bad NAME EXPECTED-MESSAGE-REGEX ARGS...: berth update apply must fail with
# one "berth: error:" line matching the regex, the disk untouched.
bad() {
        local name=$1 want=$2
        shift 2
        local rc=0
        "$BERTH" update apply "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
        local lines
        lines=$(grep -c . "$TMP/err" || true)
        if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -Eq "^berth: error: .*$want" "$TMP/err" &&
           [ "$(sha256sum < "$DISK" | cut -d' ' -f1)" = "$SUM" ]; then
                echo "ok   - $name: exit $rc, $(cat "$TMP/err")"
                _checks_passed=$((_checks_passed + 1))
        else
                echo "FAIL - $name: exit $rc, $lines line(s) on stderr:"
                sed 's/^/       /' "$TMP/err"
                [ "$(sha256sum < "$DISK" | cut -d' ' -f1)" = "$SUM" ] || echo "       the disk changed"
                _checks_failed=$((_checks_failed + 1))
        fi
}
# A served copy of the repository to spoil, and a state directory that has
# already seen the good repository (so replays are detectable).
spoiled() {
        rm -rf "$TMP/bad" "$TMP/bad-state"
        cp -a "$REPO" "$TMP/bad"
        cp -a "$TMP/seen-state" "$TMP/bad-state"
}
step "a state directory that has seen the repository"
"$BERTH" update check "${UPD[@]}" --state "$TMP/seen-state" --repo "$URL" > "$TMP/check.out"
check "check finds 2.0.0" grep -q "update available: container-host 2.0.0" "$TMP/check.out"
BADURL=$("$FIX/serve.sh" "$TMP/bad" "$TMP/bad.pid")
PIDS+=("$(cat "$TMP/bad.pid")")
ST=(--state "$TMP/bad-state" --repo "$BADURL")

step "bad metadata"
spoiled; $TOOL flip-sig "$TMP/bad/timestamp.json"
bad "bad signature" "timestamp.json: 0 valid timestamp signature.*does not verify" "${UPD[@]}" "${ST[@]}"
spoiled; $TOOL sign "$TMP/bad/timestamp.json" "$TMP/k2/timestamp.key"
bad "signature by an unknown key" "timestamp.json: 0 valid.*not trust" "${UPD[@]}" "${ST[@]}"
spoiled; $TOOL set "$TMP/bad/timestamp.json" expires '"2020-01-01T00:00:00Z"'
$TOOL sign "$TMP/bad/timestamp.json" "$KEEP/keys/timestamp.key"
bad "expired timestamp" "timestamp.json: expired at 2020-01-01T00:00:00Z" "${UPD[@]}" "${ST[@]}"
spoiled; $TOOL set "$TMP/bad/2.targets.json" expires '"2021-01-01T00:00:00Z"'
$TOOL sign "$TMP/bad/2.targets.json" "$KEEP/keys/targets.key"
$TOOL rehash "$TMP/bad/2.snapshot.json" targets.json "$TMP/bad/2.targets.json"
$TOOL sign "$TMP/bad/2.snapshot.json" "$KEEP/keys/snapshot.key"
$TOOL rehash "$TMP/bad/timestamp.json" snapshot.json "$TMP/bad/2.snapshot.json"
$TOOL sign "$TMP/bad/timestamp.json" "$KEEP/keys/timestamp.key"
bad "expired targets" "2.targets.json: expired at 2021-01-01" "${UPD[@]}" "${ST[@]}"
spoiled; cp "$TMP/timestamp-v1.json" "$TMP/bad/timestamp.json"
bad "replayed older timestamp/snapshot" "timestamp.json: version 1 is lower than version 2 seen before" "${UPD[@]}" "${ST[@]}"
spoiled; echo '{"x":1}' >> "$TMP/bad/2.snapshot.json"
bad "snapshot that differs from what timestamp signed" "2.snapshot.json" "${UPD[@]}" "${ST[@]}"

step "thresholds (keys with threshold 2)"
REPO2=$TMP/repo2
"$BERTH" publish --repo "$REPO2" --key "$TMP/k2" "$KEEP/v2" >/dev/null
check "threshold-2 metadata carries two signatures that verify" $TOOL verify "$REPO2/root.json" "$REPO2/timestamp.json"
$TOOL keep-sigs "$REPO2/timestamp.json" 1
URL2=$("$FIX/serve.sh" "$REPO2" "$TMP/r2.pid")
PIDS+=("$(cat "$TMP/r2.pid")")
bad "too few signatures for the threshold" "timestamp.json: 1 valid timestamp signature\(s\), 2 required" \
        --disk "$DISK" --root "$TMP/k2/root.json" --state "$TMP/st-k2" --repo "$URL2"

step "bad targets"
usr_target() { ls "$TMP/bad/targets/container-host/2.0.0/"*.usr.erofs; }
spoiled; python3 - "$(usr_target)" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 1]))
PY
# --full: the whole file is downloaded (a delta reads only the blocks it
# lacks; its own bad-block cases are under "delta" below).
bad "target whose hash differs" "SHA-256 mismatch" "${UPD[@]}" "${ST[@]}" --full
spoiled; head -c 4096 /dev/zero >> "$(usr_target)"
bad "target longer than signed" "more data than the expected" "${UPD[@]}" "${ST[@]}" --full
spoiled; truncate -s -4096 "$(usr_target)"
bad "truncated target" "size mismatch" "${UPD[@]}" "${ST[@]}" --full

step "releases the disk must not take"
REPO_ARM=$TMP/repo-arm
cp -a "$KEEP/v2" "$TMP/v2-arm"
python3 - "$TMP/v2-arm/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["architecture"] = "arm64"; m["version"] = "3.0.0"
json.dump(m, open(sys.argv[1], "w"), indent=1, sort_keys=True)
PY
"$BERTH" publish --repo "$REPO_ARM" --key "$KEEP/keys" "$TMP/v2-arm" >/dev/null
URL_ARM=$("$FIX/serve.sh" "$REPO_ARM" "$TMP/arm.pid")
PIDS+=("$(cat "$TMP/arm.pid")")
bad "wrong architecture" "releases for arm64 only, none for this machine's amd64" "${UPD[@]}" --state "$TMP/st-arm" --repo "$URL_ARM"
"$BERTH" update mark-bad 2.0.0 "${UPD[@]}" --state "$TMP/st-bad" > /dev/null
bad "bad-listed version" "release 2.0.0 is marked bad" "${UPD[@]}" --state "$TMP/st-bad" --repo "$URL"

step "repository faults"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
bad "repository down" "Could not connect|Connection refused|connect" "${UPD[@]}" --state "$TMP/st-down" --repo "http://127.0.0.1:$(port)"
for mode in 404 500 hang; do
        p=$(port)
        python3 "$FIX/fault-server.py" "$mode" "$p" > "$TMP/fault-$mode.out" 2>/dev/null &
        PIDS+=("$!")
        for _ in $(seq 1 50); do grep -q ready "$TMP/fault-$mode.out" 2>/dev/null && break; sleep 0.1; done
        case $mode in
        404) want="timestamp.json: not found \(404\)" ;;
        500) want="500" ;;
        hang) want="timed out after 3 tries" ;;
        esac
        start=$SECONDS
        bad "repository answers $mode" "$want" "${UPD[@]}" --state "$TMP/st-$mode" --repo "http://127.0.0.1:$p" --timeout 2
        [ "$mode" = hang ] && echo "       (hanging repository given up after $((SECONDS - start)) s)"
done
if mkdir -p "$TMP/full" && mount -t tmpfs -o size=2m tmpfs "$TMP/full" 2>/dev/null; then
        bad "full state directory" "No space left on device" "${UPD[@]}" --state "$TMP/full/state" --repo "$URL"
else
        skip_part "cannot mount a tmpfs here (full state directory)"
fi

# --- power cuts -----------------------------------------------------------------
step "apply killed (SIGKILL, whole process group) at 20 random points, each then re-run"
CUT=$TMP/cut.raw
CESP="$CUT@@$((2048 * 512))"
read -r A2 AN2 A3 AN3 B4 BN4 B5 BN5 < <(sfdisk -J "$KEEP/v1/disk.raw" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print(*[x for i in (1,2,3,4) for x in (p[i]["start"], p[i]["size"])])')
region() { dd if="$CUT" bs=512 skip="$1" count="$2" status=none | sha256sum | cut -d' ' -f1; }
slot_b_verifies() {
        dd if="$CUT" of="$TMP/cut.usr" bs=512 skip="$B4" count="$BN4" status=none
        dd if="$CUT" of="$TMP/cut.verity" bs=512 skip="$B5" count="$BN5" status=none
        veritysetup verify "$TMP/cut.usr" "$TMP/cut.verity" "$R2" && sfdisk -J "$CUT" | grep -q '"usr-b"'
}
cp --sparse=always "$KEEP/v1/disk.raw" "$CUT"
SLOT_A=$(region "$A2" "$AN2")$(region "$A3" "$AN3")
ENTRY_A=$(mtype -i "$CESP" ::/loader/entries/berth-a+3.conf | sha256sum)
cut_bad=0 resume_bad=0 steps=
for i in $(seq 1 20); do
        cp --sparse=always "$KEEP/v1/disk.raw" "$CUT"
        rm -f "$TMP/st-cut/journal"   # "download" below: cut before the first step
        # Even cuts: the release is downloaded first, so they fall in the
        # install steps (a cut in the first 0.7 s of a whole apply is a cut
        # in its download on a loaded machine).
        [ $((i % 2)) = 1 ] || "$BERTH" update download --disk "$CUT" --root "$KEEP/keys/root.json" \
                --state "$TMP/st-cut" --repo "$URL" > /dev/null 2>&1
        setsid "$BERTH" update apply --disk "$CUT" --root "$KEEP/keys/root.json" --state "$TMP/st-cut" \
                --repo "$URL" > /dev/null 2>&1 &
        pid=$!
        sleep "$((i % 2 * RANDOM % 2)).$(printf '%02d' $((RANDOM % 100)))"
        kill -9 -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        steps="$steps $(sed -n 's/^step=//p' "$TMP/st-cut/journal" 2>/dev/null || echo download)"
        # The old slot boots: its pair and entry are untouched. The new one
        # can be booted only if its entry exists, and then it is complete.
        ok=1
        [ "$(region "$A2" "$AN2")$(region "$A3" "$AN3")" = "$SLOT_A" ] || ok=0
        [ "$(mtype -i "$CESP" ::/loader/entries/berth-a+3.conf | sha256sum)" = "$ENTRY_A" ] || ok=0
        if mdir -b -i "$CESP" ::/loader/entries | grep -q berth-b; then
                slot_b_verifies > /dev/null 2>&1 || ok=0
        fi
        [ "$ok" = 1 ] || { cut_bad=$((cut_bad + 1)); echo "       cut $i broke the disk (journal: $(tr '\n' ' ' < "$TMP/st-cut/journal"))"; }
        # A re-run finishes the update.
        if ! "$BERTH" update apply --disk "$CUT" --root "$KEEP/keys/root.json" --state "$TMP/st-cut" \
                --repo "$URL" > "$TMP/cut.out" 2>&1 ||
           ! mdir -b -i "$CESP" ::/loader/entries | grep -q berth-b+3.conf || ! slot_b_verifies > /dev/null 2>&1; then
                resume_bad=$((resume_bad + 1))
                echo "       re-run after cut $i: $(cat "$TMP/cut.out")"
        fi
done
echo "       journal step at each cut:$(echo "$steps" | tr ' ' '\n' | grep . | sort | uniq -c | tr -s ' \n' ' ')"
check "after each of 20 cuts slot a is intact and an entry for b exists only with a complete slot b" test "$cut_bad" = 0
check "after each cut a re-run of apply finishes: entry berth-b+3.conf, slot b verifies" test "$resume_bad" = 0
rm -f "$CUT" "$TMP/cut.usr" "$TMP/cut.verity"

# --- delta: blocks from slot a, the rest in ranges --------------------------------
step "delta downloads: faults, resume, damaged base, corrupt store"
t_delta=$SECONDS
# Block numbers of v2's image: one fetched (not in v1) and one v1 holds (with
# its place in v1), so the cases below hit the path they mean to.
read -r FETCHED LOCAL_NEW LOCAL_OLD < <(python3 - "$KEEP/v1/usr.erofs" "$KEEP/v2/usr.erofs" <<'PY'
import hashlib, sys
def blocks(p):
    d = open(p, "rb").read()
    return [hashlib.sha256(d[i:i + 4096]).digest() for i in range(0, len(d), 4096)]
old, new = blocks(sys.argv[1]), blocks(sys.argv[2])
where = {h: i for i, h in enumerate(old)}
fetched = next(i for i, h in enumerate(new) if h not in where)
# a block both images hold exactly once, so a damaged copy has no twin
local = next(i for i, h in enumerate(new)
             if i > len(new) // 2 and h in where and old.count(h) == 1 and new.count(h) == 1)
print(fetched, local, where[new[local]])
PY
)
DL=(update download --disk "$DISK" --root "$KEEP/keys/root.json")
log0=$(wc -l < "$TMP/server.log")
"$BERTH" "${DL[@]}" --state "$TMP/st-delta" --repo "$URL" > "$TMP/delta.out"
cat "$TMP/delta.out" | sed 's/^/       /'
pct=$(sed -n 's/^download: .*(\([0-9.]*\) %).*/\1/p' "$TMP/delta.out")
check "a delta from slot a fetches under 5 % of the release ($pct %)" \
        awk -v p="$pct" 'BEGIN { exit !(p != "" && p < 5) }'
check "the assembled usr image is v2's" cmp "$TMP/st-delta/downloads/2.0.0/usr.erofs" "$KEEP/v2/usr.erofs"
check "kernel and initrd came from slot a's ESP, not the repository" \
        bash -c "tail -n +$((log0 + 1)) '$TMP/server.log' | grep -q usr.erofs && ! tail -n +$((log0 + 1)) '$TMP/server.log' | grep -Eq 'vmlinuz|initrd'"

# A slow server (50 KiB/s per connection, four in flight), so faults land in
# the middle of the ranges even on a loaded machine.
SLOWPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
slow_start() {
        SERVE_RATE=51200 python3 "$FIX/serve.py" "$REPO" "$SLOWPORT" 2>> "$TMP/slow.log" &
        SLOWPID=$!
        PIDS+=("$SLOWPID")
        for _ in $(seq 1 50); do
                python3 -c "import socket; socket.create_connection(('127.0.0.1', $SLOWPORT), 0.2)" 2>/dev/null && return 0
                sleep 0.1
        done
}
range_bytes() { awk '$2 ~ /usr.erofs$/ && $4 == 206 { n += $5 } END { print n + 0 }' "$TMP/slow.log"; }
need_bytes=$(( $(sed -n 's/^delta: .*, \([0-9.]*\) MiB fetched.*/\1/p' "$TMP/delta.out" | awk '{ printf "%d", $1 * 1048576 }') ))
JOURNAL=$TMP/st-kill/downloads/2.0.0/usr.erofs.delta-journal
: > "$TMP/slow.log"
slow_start
"$BERTH" "${DL[@]}" --state "$TMP/st-kill" --repo "http://127.0.0.1:$SLOWPORT" > "$TMP/kill.out" 2>&1 &
apid=$!
for _ in $(seq 1 600); do [ -f "$JOURNAL" ] && [ "$(range_bytes)" -gt 100000 ] && break; sleep 0.1; done
kill -9 "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true
check "agent SIGKILLed mid-delta left a journal of written blocks" test -f "$JOURNAL"
"$BERTH" "${DL[@]}" --state "$TMP/st-kill" --repo "http://127.0.0.1:$SLOWPORT" > "$TMP/kill2.out" 2>&1 || true
check "the re-run resumes and finishes (the image is v2's)" \
        bash -c "grep -q 'written by an interrupted run' '$TMP/kill2.out' && cmp -s '$TMP/st-kill/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"
got=$(range_bytes)
check "both runs fetched at most one 1 MiB request per connection more than needed ($got for $need_bytes bytes)" \
        test "$got" -le $((need_bytes + 4 * 1048576))

: > "$TMP/slow.log"
"$BERTH" "${DL[@]}" --state "$TMP/st-srv" --repo "http://127.0.0.1:$SLOWPORT" --timeout 2 > "$TMP/srv.out" 2>&1 &
apid=$!
for _ in $(seq 1 600); do [ "$(range_bytes)" -gt 100000 ] && break; sleep 0.1; done
kill -9 "$SLOWPID"; wait "$SLOWPID" 2>/dev/null || true
rc=0; wait "$apid" || rc=$?
check "server killed mid-delta (connections reset): the download fails with one error" \
        bash -c "[ $rc -ne 0 ] && grep -q '^berth: error: ' '$TMP/srv.out'"
slow_start
"$BERTH" "${DL[@]}" --state "$TMP/st-srv" --repo "http://127.0.0.1:$SLOWPORT" > "$TMP/srv2.out" 2>&1 || true
check "with the server back, the re-run resumes and finishes" \
        bash -c "grep -q 'written by an interrupted run' '$TMP/srv2.out' && cmp -s '$TMP/st-srv/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"
kill "$SLOWPID" 2>/dev/null || true

FLIPPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
SERVE_FLIP_RANGES=2 python3 "$FIX/serve.py" "$REPO" "$FLIPPORT" 2> "$TMP/flip.log" &
PIDS+=("$!")
sleep 0.5
"$BERTH" "${DL[@]}" --state "$TMP/st-flip" --repo "http://127.0.0.1:$FLIPPORT" > "$TMP/flip.out" 2>&1 || true
requests() { sed -n 's/.* fetched in \([0-9]*\) requests.*/\1/p' "$1"; }
check "blocks that arrive corrupt are refused and fetched again ($(requests "$TMP/flip.out") requests, $(requests "$TMP/delta.out") without faults)" \
        bash -c "cmp -s '$TMP/st-flip/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs' && [ '$(requests "$TMP/flip.out")' -eq $(( $(requests "$TMP/delta.out") + 2 )) ]"

spoiled; python3 - "$(usr_target)" "$FETCHED" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    off = int(sys.argv[2]) * 4096 + 100
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))
PY
bad "a corrupt block in the repository's image" "block $FETCHED of .* does not match the release's hash tree \(refused after 3 tries\)" "${UPD[@]}" "${ST[@]}"

cp --sparse=always "$KEEP/v1/disk.raw" "$TMP/damaged.raw"
python3 - "$TMP/damaged.raw" "$((A2 * 512 + LOCAL_OLD * 4096 + 100))" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    off = int(sys.argv[2]); f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))
PY
"$BERTH" update apply --disk "$TMP/damaged.raw" --root "$KEEP/keys/root.json" --state "$TMP/st-dmg" --repo "$URL" > "$TMP/dmg.out" 2>&1 || true
check "a flipped byte in slot a is detected; that block is fetched and the update installs" \
        bash -c "grep -q '1 damaged blocks of slot a refetched' '$TMP/dmg.out' && grep -q 'installed container-host 2.0.0 into slot b' '$TMP/dmg.out'"
cp --sparse=always "$KEEP/v1/disk.raw" "$TMP/damaged.raw"
dd if=/dev/zero of="$TMP/damaged.raw" bs=512 seek="$A3" count=8 conv=notrunc status=none
"$BERTH" "${DL[@]/$DISK/$TMP/damaged.raw}" --state "$TMP/st-nosb" --repo "$URL" > "$TMP/nosb.out" 2>&1 || true
check "slot a without a hash tree: a full download, and it says so" \
        bash -c "grep -q 'full download: slot a has no usable hash tree' '$TMP/nosb.out' && cmp -s '$TMP/st-nosb/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"
rm -f "$TMP/damaged.raw"
t_hints=$SECONDS

# Blocks of leaves are put together from the base's leaves by the parts hints
# (usr.verity.parts); parts fetched from a hash tree spoiled in the repository
# do not match the level above: the whole block is fetched, and refused.
spoiled; python3 - "$(ls "$TMP/bad/targets/container-host/2.0.0/"*.usr.verity)" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    d = bytearray(f.read())
    blocks = struct.unpack_from("<Q", d, 72)[0]
    start = len(d) - (blocks + 127) // 128 * 4096   # the leaves end the file
    for off in range(start, len(d), 512):
        d[off] ^= 1
    f.seek(0); f.write(d)
PY
bad "a corrupt block of leaves in the repository's hash tree" \
        "block [0-9]+ of .*usr.verity does not match the release's hash tree \(refused after 3 tries\)" "${UPD[@]}" "${ST[@]}"
check "blocks of leaves were put together from parts before (the fault hit that path)" \
        grep -Eq "[1-9][0-9]* from parts" "$TMP/delta.out"
spoiled; python3 - "$(ls "$TMP/bad/targets/container-host/2.0.0/"*.usr.verity.parts)" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    d = bytearray(f.read()); f.seek(0); f.write(bytes(b ^ 0xff for b in d))
PY
"$BERTH" "${DL[@]}" "${ST[@]}" > "$TMP/parts.out" 2>&1 || true
check "a usr.verity.parts that is not its target's is not used; the delta still finishes" \
        bash -c "grep -q 'usr.verity.parts not used' '$TMP/parts.out' && cmp -s '$TMP/bad-state/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"

# The initrd: a release whose initrd has one new frame in front of v1's
# (every old frame moves); only that frame is fetched.
cp -a "$KEEP/v2" "$TMP/v2i"
python3 - "$TMP/extra.cpio" <<'PY'
import sys
def entry(name, data, mode):
    n = name.encode() + b"\0"
    h = b"070701" + b"".join(b"%08X" % v for v in (7, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
    pad = lambda x: b"\0" * ((4 - x % 4) % 4)
    return h + n + pad(110 + len(n)) + data + pad(len(data))
import random
# 256 KiB that do not compress: fetching the frame takes a while from the
# slow server (a kill lands in it, "patches" below)
data = random.Random(1).randbytes(256 * 1024)
open(sys.argv[1], "wb").write(entry("etc/berth/extra", data, 0o100644) + entry("TRAILER!!!", b"", 0))
PY
{ zstd -q -19 -c "$TMP/extra.cpio"; cat "$KEEP/v1/initrd"; } > "$TMP/v2i/initrd"
REPOI=$TMP/repo-initrd
"$BERTH" publish --repo "$REPOI" --key "$KEEP/keys" "$KEEP/v1" >/dev/null
"$BERTH" publish --repo "$REPOI" --key "$KEEP/keys" "$TMP/v2i" >/dev/null
URLI=$("$FIX/serve.sh" "$REPOI" "$TMP/ri.pid")
PIDS+=("$(cat "$TMP/ri.pid")")
extra=$(($(stat -c %s "$TMP/v2i/initrd") - $(stat -c %s "$KEEP/v1/initrd")))
cp -a "$REPOI" "$TMP/badi"
python3 - "$(ls "$TMP/badi/targets/container-host/2.0.0/"*.initrd)" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(20); b = f.read(1); f.seek(20); f.write(bytes([b[0] ^ 1]))
PY
BADURLI=$("$FIX/serve.sh" "$TMP/badi" "$TMP/badi.pid")
PIDS+=("$(cat "$TMP/badi.pid")")
bad "a corrupt initrd frame in the repository" \
        "the frame at byte 0 of .*initrd does not match the release's initrd.frames \(refused after 3 tries\)" \
        "${UPD[@]}" --state "$TMP/st-ini" --repo "$BADURLI"
"$BERTH" "${DL[@]}" --state "$TMP/st-ini" --repo "$URLI" > "$TMP/ini.out" 2>&1 || true
sed 's/^/       /' "$TMP/ini.out"
check "the initrd's old frames come from slot a (a killed run's copies resumed), its new frame is fetched" \
        bash -c "grep -Eq '^delta: initrd .*fetched in 1 requests .*written by an interrupted run' '$TMP/ini.out' && cmp -s '$TMP/st-ini/downloads/2.0.0/initrd' '$TMP/v2i/initrd'"
got=$(awk '$2 ~ /initrd$/ && $4 == 206 { n += $5 } END { print n + 0 }' "$TMP/ri.log")
check "the initrd's ranges were its one new frame ($got bytes, the frame $extra)" test "$got" -eq "$extra"
echo "       (delta cases: $((SECONDS - t_delta)) s, the hint file and initrd cases $((SECONDS - t_hints)) s of it)"

# --- patches: the usr image's new blocks against slot a's release ------------
# REPOI has v1 and then v2i (v2's usr image): publish wrote a patch of v2's new
# blocks against v1's image (usr.erofs.patch-ROOT16, usr-patch.h).
step "usr image patches: used, corrupt, damaged base, killed downloads"
t_patch=$SECONDS
PATCH=$(ls "$REPOI/targets/container-host/2.0.0/"*.usr.erofs.patch-"${R1:0:16}" 2>/dev/null || true)
check "publish wrote a patch against v1 as a signed target naming its base" python3 - "$REPOI/2.targets.json" "$R1" "${PATCH:-none}" <<'PY'
import json, os, sys
t = json.load(open(sys.argv[1]))["signed"]["targets"]["container-host/2.0.0/usr.erofs.patch-" + sys.argv[2][:16]]
assert t["custom"]["base_root_hash"] == sys.argv[2] and t["length"] == os.path.getsize(sys.argv[3]), t
PY
plen=$(stat -c %s "${PATCH:-/dev/null}")
patch_bytes() { awk '$2 ~ /usr.erofs.patch-/ && ($4 == 200 || $4 == 206) { n += $5 } END { print n + 0 }' "$1"; }
l0=$(wc -l < "$TMP/ri.log")
"$BERTH" "${DL[@]}" --state "$TMP/st-pat" --repo "$URLI" > "$TMP/pat.out" 2>&1 || true
sed 's/^/       /' "$TMP/pat.out"
tail -n +$((l0 + 1)) "$TMP/ri.log" > "$TMP/pat.log"
ranges=$(awk '$2 ~ /usr.erofs$/ && $4 == 206 { n += $5 } END { print n + 0 }' "$TMP/pat.log")
check "the delta took v2's new blocks from the patch ($plen bytes served, $ranges bytes of ranges) and the image is v2's" \
        bash -c "grep -q 'from a patch of' '$TMP/pat.out' && [ $(patch_bytes "$TMP/pat.log") -eq $plen ] && [ $ranges -eq 0 ] && cmp -s '$TMP/st-pat/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"

rm -rf "$TMP/badp"; cp -a "$REPOI" "$TMP/badp"
python3 - "$(ls "$TMP/badp/targets/container-host/2.0.0/"*.usr.erofs.patch-*)" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(200); b = f.read(1); f.seek(200); f.write(bytes([b[0] ^ 1]))
PY
BADURLP=$("$FIX/serve.sh" "$TMP/badp" "$TMP/badp.pid")
PIDS+=("$(cat "$TMP/badp.pid")")
"$BERTH" "${DL[@]}" --state "$TMP/st-badp" --repo "$BADURLP" > "$TMP/badp.out" 2>&1 || true
check "a corrupt patch in the repository is refused by its hash; the ranges finish the image" \
        bash -c "grep -q 'delta: patch not used: SHA-256 mismatch' '$TMP/badp.out' && grep -q ' fetched in ' '$TMP/badp.out' && cmp -s '$TMP/st-badp/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"

rm -f "$TMP/badp/targets/container-host/2.0.0/"*.usr.erofs.patch-*
"$BERTH" "${DL[@]}" --state "$TMP/st-nop" --repo "$BADURLP" > "$TMP/nop.out" 2>&1 || true
check "a patch missing from the server (404) is said in one line; the ranges finish the image" \
        bash -c "grep -q 'delta: patch not used: .*HTTP 404' '$TMP/nop.out' && cmp -s '$TMP/st-nop/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"
# A slot a whose partition UUID is not v1's root hash's: the patch is for
# another release.
cp --sparse=always "$KEEP/v1/disk.raw" "$TMP/other.raw"
sfdisk -q --part-uuid "$TMP/other.raw" 2 11111111-2222-4333-8444-555555555555 >/dev/null 2>&1
"$BERTH" "${DL[@]/$DISK/$TMP/other.raw}" --state "$TMP/st-other" --repo "$URLI" > "$TMP/other.out" 2>&1 || true
check "a patch for another release than slot a's is not used, and it says so" \
        bash -c "grep -q \"delta: no patch from slot a's release (1 for other releases)\" '$TMP/other.out' && cmp -s '$TMP/st-other/downloads/2.0.0/usr.erofs' '$KEEP/v2/usr.erofs'"
rm -f "$TMP/other.raw"

# A byte flipped in every block of slot a that v2 does not have: the patch
# refers to those (the old versions of the blocks that changed), so what it
# gives for them is wrong; they are fetched as ranges and the slot verifies.
cp --sparse=always "$KEEP/v1/disk.raw" "$TMP/damaged.raw"
python3 - "$TMP/damaged.raw" "$((A2 * 512))" "$KEEP/v1/usr.erofs" "$KEEP/v2/usr.erofs" <<'PY'
import hashlib, sys
def blocks(p):
    d = open(p, "rb").read()
    return [hashlib.sha256(d[i:i + 4096]).digest() for i in range(0, len(d), 4096)]
old, new = blocks(sys.argv[3]), set(blocks(sys.argv[4]))
with open(sys.argv[1], "r+b") as f:
    for i, h in enumerate(old):
        if h not in new:
            off = int(sys.argv[2]) + i * 4096 + 100
            f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 1]))
PY
"$BERTH" update apply --disk "$TMP/damaged.raw" --root "$KEEP/keys/root.json" --state "$TMP/st-pdmg" --repo "$URLI" > "$TMP/pdmg.out" 2>&1 || true
sed 's/^/       /' "$TMP/pdmg.out"
check "slot a with damaged blocks: the patch's blocks that do not match are fetched, the update installs verified" \
        bash -c "grep -Eq '[1-9][0-9]* blocks of the patch did not match' '$TMP/pdmg.out' && grep -q 'installed container-host 2.0.0 into slot b' '$TMP/pdmg.out'"
rm -f "$TMP/damaged.raw"

# Killed on a slow server in the initrd's delta (fetching its new frame): the
# re-run keeps the frames in initrd.delta. Then killed in the patch's download
# (a state that has the initrd already): the re-run resumes the patch.
PSLOWPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
SERVE_RATE=51200 SERVE_SLOW_FILES='usr.erofs.patch-' python3 "$FIX/serve.py" "$REPOI" "$PSLOWPORT" 2> "$TMP/pslow.log" &
PIDS+=("$!")
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PSLOWPORT), 0.2)" 2>/dev/null && break; sleep 0.1; done
PSLOW=http://127.0.0.1:$PSLOWPORT
SK=$TMP/st-ikill/downloads/2.0.0
"$BERTH" "${DL[@]}" --state "$TMP/st-ikill" --repo "$PSLOW" > "$TMP/ikill.out" 2>&1 &
apid=$!
for _ in $(seq 1 100); do [ -f "$SK/initrd.delta" ] && break; sleep 0.1; done
sleep 1
kill -9 "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true
check "agent SIGKILLed during the initrd's delta left initrd.delta, no initrd" \
        bash -c "[ -f '$SK/initrd.delta' ] && [ ! -f '$SK/initrd' ]"
"$BERTH" "${DL[@]}" --state "$TMP/st-ikill" --repo "$URLI" > "$TMP/ikill2.out" 2>&1 || true
check "the re-run keeps the frames the killed run wrote and finishes (initrd v2i's, usr image v2's)" \
        bash -c "grep -Eq '^delta: initrd .*some written by an interrupted run' '$TMP/ikill2.out' && cmp -s '$SK/initrd' '$TMP/v2i/initrd' && cmp -s '$SK/usr.erofs' '$KEEP/v2/usr.erofs'"

SP=$TMP/st-pkill/downloads/2.0.0
mkdir -p "$SP" && cp "$SK/initrd" "$SP/initrd"
"$BERTH" "${DL[@]}" --state "$TMP/st-pkill" --repo "$PSLOW" > "$TMP/pkill.out" 2>&1 &
apid=$!
for _ in $(seq 1 150); do [ "$(stat -c %s "$SP/usr.erofs.patch.partial" 2>/dev/null || echo 0)" -gt 30000 ] && break; sleep 0.1; done
kill -9 "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true
check "agent SIGKILLed during the patch's download left a partial patch" test -s "$SP/usr.erofs.patch.partial"
"$BERTH" "${DL[@]}" --state "$TMP/st-pkill" --repo "$PSLOW" > "$TMP/pkill2.out" 2>&1 || true
sed 's/^/       /' "$TMP/pkill2.out"
# the server logs an answer after its last byte: wait for the resumed one's line
for _ in $(seq 1 30); do grep -Eq 'usr.erofs.patch-[0-9a-f]+ bytes=[0-9]+- 206 ' "$TMP/pslow.log" && break; sleep 0.1; done
got=$(patch_bytes "$TMP/pslow.log")
kib=$(sed -n 's/.*(\([0-9]*\) KiB fetched in this run).*/\1/p' "$TMP/pkill2.out")
check "the re-run resumed the patch (${kib:-?} KiB of $((plen / 1024)) fetched; $got bytes served for it in all) and the image is v2's" \
        bash -c "[ -n '$kib' ] && [ '$kib' -lt $((plen / 1024)) ] && [ $got -le $((plen + 65536)) ] && cmp -s '$SP/usr.erofs' '$KEEP/v2/usr.erofs'"
echo "       (patch cases: $((SECONDS - t_patch)) s)"

# --- the update itself -------------------------------------------------------
step "apply v2 to the v1 disk"
"$BERTH" update apply "${UPD[@]}" --state "$TMP/state" --repo "$URL" | tee "$TMP/apply.out"
check "apply says what it did" grep -q "installed container-host 2.0.0 into slot b" "$TMP/apply.out"
read -r S4 N4 S5 N5 < <(sfdisk -J "$DISK" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print(p[3]["start"], p[3]["size"], p[4]["start"], p[4]["size"])')
dd if="$DISK" of="$TMP/b.usr" bs=512 skip="$S4" count="$N4" status=none
dd if="$DISK" of="$TMP/b.verity" bs=512 skip="$S5" count="$N5" status=none
check "slot b verifies with veritysetup against v2's root hash" veritysetup verify "$TMP/b.usr" "$TMP/b.verity" "$R2"
check_fails "slot b does not verify against v1's root hash" veritysetup verify "$TMP/b.usr" "$TMP/b.verity" "$R1"
check "slot b is labelled usr-b/usr-b-verity with the root hash's UUIDs" python3 - "$DISK" "$R2" <<'PY'
import json, subprocess, sys
p = json.loads(subprocess.check_output(["sfdisk", "-J", sys.argv[1]]))["partitiontable"]["partitions"]
h = sys.argv[2]
def uuid(x):
    b = bytearray(bytes.fromhex(x)); b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80
    s = b.hex(); return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}".upper()
assert [q["name"] for q in p] == ["esp", "usr-a", "usr-a-verity", "usr-b", "usr-b-verity", "root"], p
assert p[3]["uuid"] == uuid(h[:32]) and p[4]["uuid"] == uuid(h[32:]), (p[3]["uuid"], p[4]["uuid"])
PY
ESP="$DISK@@$((2048 * 512))"
check "the ESP holds berth-b+3.conf with version 2.0.0 and slot b's command line" \
        bash -c "mtype -i '$ESP' ::/loader/entries/berth-b+3.conf | grep -q '^version 2.0.0' &&
                 mtype -i '$ESP' ::/loader/entries/berth-b+3.conf | grep -q 'options usrhash=$R2 berth.slot=b '"
check "the ESP holds v2's kernel and initrd in berth/b" \
        bash -c "cmp <(mtype -i '$ESP' ::/berth/b/vmlinuz) '$KEEP/v2/vmlinuz' && cmp <(mtype -i '$ESP' ::/berth/b/initrd) '$KEEP/v2/initrd'"
check "slot a's entry is still there" bash -c "mdir -b -i '$ESP' ::/loader/entries | grep -q berth-a+3.conf"
"$BERTH" update apply "${UPD[@]}" --state "$TMP/state" --repo "$URL" > "$TMP/again.out"
check "a second apply is a no-op (up to date)" grep -q "up to date: 2.0.0" "$TMP/again.out"

step "a /var that fills up during apply: the download fits, the journal does not"
# A 3.0.0 (v2 relabelled) for the disk that now boots 2.0.0 from slot b: its
# target is slot a, which holds v1 and its entry. The state directory is a
# tmpfs exactly as large as a refresh and a download need (measured by a
# download into it first), so the first write after them, the journal's,
# fails: nothing of slot a (its entry, its labels) may have changed by then.
if mkdir -p "$TMP/fill" && mount -t tmpfs -o size=256m tmpfs "$TMP/fill" 2>/dev/null; then
        cp -a "$KEEP/v2" "$TMP/v3"
        python3 - "$TMP/v3/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["version"] = "3.0.0"
json.dump(m, open(sys.argv[1], "w"), indent=1, sort_keys=True)
PY
        "$BERTH" publish --repo "$TMP/repo-v3" --key "$KEEP/keys" "$TMP/v3" >/dev/null 2>&1
        URLV3=$("$FIX/serve.sh" "$TMP/repo-v3" "$TMP/v3.pid")
        PIDS+=("$(cat "$TMP/v3.pid")")
        # --full: a delta's assembly needs room beyond what it leaves behind.
        "$BERTH" update download --full "${UPD[@]}" --state "$TMP/fill/state" --repo "$URLV3" > /dev/null
        used=$(df --output=used "$TMP/fill" | tail -n1 | tr -d ' ')
        rm -rf "$TMP/fill/state"
        mount -o remount,size="${used}k" "$TMP/fill"
        SUM=$(sha256sum < "$DISK" | cut -d' ' -f1)
        bad "full /var after the download" "cannot write .*/journal: No space left on device" \
                --full "${UPD[@]}" --state "$TMP/fill/state" --repo "$URLV3"
        umount "$TMP/fill"
else
        skip_part "cannot mount a tmpfs here (full /var after the download)"
fi

step "an interrupted apply resumes from its journal"
# As after a power cut between the read-back check and the entry: journal at
# "written", the entry not yet there, the pair still _empty.
mdel -i "$ESP" ::/loader/entries/berth-b+3.conf
sfdisk --part-label "$DISK" 4 _empty >/dev/null 2>&1
sfdisk --part-label "$DISK" 5 _empty >/dev/null 2>&1
sed -i 's/^step=.*/step=written/' "$TMP/state/journal"
"$BERTH" update status "${UPD[@]}" --state "$TMP/state" > "$TMP/status.out"
check "status shows the journal at step written" grep -q "journal: 2.0.0 -> slot b, step written" "$TMP/status.out"
"$BERTH" update apply "${UPD[@]}" --state "$TMP/state" --repo "$URL" > "$TMP/resume.out"
check "the resumed apply finishes" grep -q "installed container-host 2.0.0 into slot b" "$TMP/resume.out"
check "the entry is back" bash -c "mdir -b -i '$ESP' ::/loader/entries | grep -q berth-b+3.conf"
check "the pair is labelled again" bash -c "sfdisk -J '$DISK' | grep -q '\"usr-b-verity\"'"

step "mark-good blesses the new slot's entry"
"$BERTH" update mark-good "${UPD[@]}" --state "$TMP/state" > /dev/null
check "berth-b+3.conf is now berth-b.conf" bash -c "mdir -b -i '$ESP' ::/loader/entries | grep -q 'berth-b.conf' && ! mdir -b -i '$ESP' ::/loader/entries | grep -q 'berth-b+3'"

# As systemd-boot leaves it after three failed boots of slot b: berth-b+0-3.conf.
# The journal at done, or at boot-files: the power went between the entry's
# rename into place and the journal's last write, and slot b booted anyway.
for jstep in done boot-files; do
        step "a rollback marks the release bad (journal at $jstep)"
        cp --sparse=always "$DISK" "$TMP/rolled.raw"
        rm -rf "$TMP/st-rolled"
        cp -a "$TMP/state" "$TMP/st-rolled"
        RESP="$TMP/rolled.raw@@$((2048 * 512))"
        mmove -i "$RESP" ::/loader/entries/berth-b.conf ::/loader/entries/berth-b+0-3.conf
        sed -i "s/^step=.*/step=$jstep/" "$TMP/st-rolled/journal"
        "$BERTH" update status --disk "$TMP/rolled.raw" --root "$KEEP/keys/root.json" --state "$TMP/st-rolled" > "$TMP/rolled.out" 2>&1
        check "status: slot a runs again, b is out of tries, 2.0.0 is bad" \
                bash -c "grep -q 'slot a: usr pair labelled, running' '$TMP/rolled.out' &&
                         grep -q 'berth-b+0-3.conf (out of tries: bad)' '$TMP/rolled.out' &&
                         grep -q 'bad versions: 2.0.0' '$TMP/rolled.out'"
        rc=0
        "$BERTH" update apply --disk "$TMP/rolled.raw" --root "$KEEP/keys/root.json" --state "$TMP/st-rolled" --repo "$URL" > /dev/null 2> "$TMP/rolled.err" || rc=$?
        check "2.0.0 is not installed again" grep -q "release 2.0.0 is marked bad" "$TMP/rolled.err"
        rm -f "$TMP/rolled.raw"
done

step "root rotation"
SUM=$(sha256sum < "$DISK" | cut -d' ' -f1)
"$BERTH" keygen --output "$TMP/k3" --rotate "$KEEP/keys" >/dev/null
check "the rotated root is version 2, the chain came along" \
        test -f "$TMP/k3/1.root.json" -a -f "$TMP/k3/2.root.json"
check "root version 2 is signed by the old root key and by its own" \
        bash -c "$TOOL verify '$KEEP/keys/root.json' '$TMP/k3/2.root.json' && $TOOL verify '$TMP/k3/2.root.json' '$TMP/k3/2.root.json'"
REPO3=$TMP/repo3
"$BERTH" publish --repo "$REPO3" --key "$KEEP/keys" "$KEEP/v2" >/dev/null
"$BERTH" publish --repo "$REPO3" --key "$TMP/k3" "$KEEP/v2" >/dev/null
URL3=$("$FIX/serve.sh" "$REPO3" "$TMP/r3.pid")
PIDS+=("$(cat "$TMP/r3.pid")")
"$BERTH" update check "${UPD[@]}" --state "$TMP/st-rot" --repo "$URL3" > "$TMP/rot.out" 2>&1 || true
check "a client trusting root 1 follows the chain to root 2 and the new keys" \
        grep -q "up to date: 2.0.0" "$TMP/rot.out"
check "it keeps root 2 as its trusted root" grep -q '"version": 2' "$TMP/st-rot/metadata/root.json"
$TOOL sign "$REPO3/2.root.json" "$TMP/k3/root.key"
bad "a new root not signed by the old root keys" "2.root.json: 0 valid root signature\(s\), 1 required" \
        "${UPD[@]}" --state "$TMP/st-rot2" --repo "$URL3"

step "boot assessment with a health command (berth update service on a disk file)"
# The disk's entry counts tries (berth-a+3.conf); no services here, so only
# HealthCommand= decides. Not PID 1's services: an unhealthy verdict is an
# error (exit 75), not a reboot.
cp --sparse=always "$KEEP/v1/disk.raw" "$TMP/assess.raw"
mkdir -p "$TMP/assess-conf" "$TMP/assess-services"
printf 'HealthGrace=1\nHealthTimeout=3\nHealthCommand=/usr/bin/test -e %s\n' "$TMP/healthy" > "$TMP/assess-conf/update.conf"
AS=(--disk "$TMP/assess.raw" --config "$TMP/assess-conf" --services "$TMP/assess-services" --state "$TMP/st-assess")
AESP="$TMP/assess.raw@@$((2048 * 512))"
rc=0
"$BERTH" update service "${AS[@]}" > "$TMP/assess1.out" 2>&1 || rc=$?
check "a failing health command: not healthy, exit 75 (got $rc)" [ "$rc" = 75 ]
check "the error names the command and its status" \
        grep -q "boot assessment: 1.0.0 not healthy after 3s (health command /usr/bin/test exited with status 1)" "$TMP/assess1.out"
check "the entry still counts tries" bash -c "mdir -b -i '$AESP' ::/loader/entries | grep -q 'berth-a+3.conf'"
touch "$TMP/healthy"
rc=0
"$BERTH" update service "${AS[@]}" > "$TMP/assess2.out" 2>&1 || rc=$?
check "a passing health command: blessed, exit 0 (got $rc)" \
        bash -c "[ $rc = 0 ] && grep -q 'blessed slot a (1.0.0)' '$TMP/assess2.out'"
check "berth-a+3.conf is now berth-a.conf" bash -c "mdir -b -i '$AESP' ::/loader/entries | grep -q 'berth-a.conf'"
rm -f "$TMP/assess.raw"

step "the image carries the root it trusts under /usr"
if command -v fsck.erofs >/dev/null && fsck.erofs --extract="$TMP/usr" "$KEEP/v1/usr.erofs" >/dev/null 2>&1; then
        check "usr/share/berth/update/root.json is the spec's Root=" cmp "$TMP/usr/share/berth/update/root.json" "$KEEP/keys/root.json"
        check "update.conf names repository, channel, architecture, image" \
                bash -c "grep -qx 'Repository=http://127.0.0.1:9/berth' '$TMP/usr/share/berth/update/update.conf' &&
                         grep -qx 'Channel=stable' '$TMP/usr/share/berth/update/update.conf' &&
                         grep -qx 'Architecture=amd64' '$TMP/usr/share/berth/update/update.conf'"
        # The checks: berth-init starts them on the spec's schedule (defaults).
        check "update-check.service runs berth update periodic every 21600 s + up to 3600 s" \
                bash -c "grep -qx 'Exec=/usr/bin/berth update periodic' '$TMP/usr/lib/berth/services/update-check.service' &&
                         grep -qx 'StartEvery=21600' '$TMP/usr/lib/berth/services/update-check.service' &&
                         grep -qx 'StartJitter=3600' '$TMP/usr/lib/berth/services/update-check.service'"
        rm -rf "$TMP/usr"
else
        echo "skip - cannot extract the erofs image here"
fi

step "a downgrade is refused"
SUM=$(sha256sum < "$DISK" | cut -d' ' -f1)
REPO1=$TMP/repo1
"$BERTH" publish --repo "$REPO1" --key "$KEEP/keys" "$KEEP/v1" >/dev/null
URL1=$("$FIX/serve.sh" "$REPO1" "$TMP/r1.pid")
PIDS+=("$(cat "$TMP/r1.pid")")
bad "downgrade" "newest release in channel stable is 1.0.0, older than the installed 2.0.0: refusing a downgrade" \
        "${UPD[@]}" --state "$TMP/st-down1" --repo "$URL1"

finish
