#!/bin/bash
# SPDX-License-Identifier: MIT
# Service logs end to end on the host: a real berth-init (--supervise, an
# ordinary process) runs a service that writes numbered lines into small
# rotated files (LogMaxSize=4K, LogKeep=2), and a real berthd reads them
# (docs/api.md, GET /v1/logs/SERVICE): the last N lines across rotations,
# follow mode over several rotations without a gap, names that would leave
# the log directory refused, bad query arguments, and `berth logs`.
set -uo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"
build=${BERTH_BUILD_DIR:-$BERTH_SOURCE_ROOT/build}
BERTH=${BERTH:-$build/src/berth}
BERTHD=${BERTHD:-$build/src/berthd}
INIT=${BERTH_INIT:-$build/src/init/berth-init}
[ -x "$BERTHD" ] || skip "no berthd at $BERTHD"
[ -x "$INIT" ] || skip "no berth-init at $INIT"
need curl
[ "$(id -u)" = 0 ] || skip "needs root (the API is root only)"
tmp=$(mktemp -d /tmp/berth-logs.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# "tick N" lines, 20 every 0.1 s: 4 KiB files rotate about twice a second.
mkdir -p "$tmp/root/services" "$tmp/run"
cat > "$tmp/root/services/ticker.service" <<'SVC'
[Service]
Exec=/bin/sh -c "i=0; while :; do j=0; while [ $j -lt 20 ]; do i=$((i+1)); j=$((j+1)); echo tick $i; done; sleep 0.1; done"
LogMaxSize=4K
LogKeep=2
SVC
cat > "$tmp/root/services/quiet.service" <<'SVC'
[Service]
Exec=/bin/sleep 1000
SVC
"$INIT" --supervise "$tmp/root/services" > "$tmp/init.log" 2>&1 &
pids+=("$!")
sock=$tmp/api.sock
"$BERTHD" --socket "$sock" --settings-dir "$tmp/settings" --run-dir "$tmp/run" \
        --log-dir "$tmp/root/log" --init-pid 999999 > "$tmp/berthd.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ -S "$sock" ] && [ -e "$tmp/root/log/ticker.log.2" ] && break; sleep 0.1; done
check "berthd listens" [ -S "$sock" ]
ls -l "$tmp/root/log" | sed 's/^/    /'

api() { # api PATH [curl options]: body, then the status on its own line
        local p=$1
        shift
        curl -s --max-time 20 --unix-socket "$sock" "$@" -w '\n%{http_code}' "http://berth$p"
}
status_of() { tail -n1 <<< "$1"; }
body_of() { sed '$d' <<< "$1" | sed '${/^$/d}'; }
# The numbers of "tick N" lines must run without a gap.
consecutive() {
        sed -n 's/^.*Z tick \([0-9]*\)$/\1/p' | awk 'NR > 1 && $1 != p + 1 { bad = 1 } { p = $1; n++ }
                END { exit (bad || n < 2) }'
}

step "the files: rotated at 4 KiB, two kept, each line time-stamped"
check "ticker.log.1 and .2 exist" [ -s "$tmp/root/log/ticker.log.1" -a -s "$tmp/root/log/ticker.log.2" ]
check "no ticker.log.3 (LogKeep=2)" [ ! -e "$tmp/root/log/ticker.log.3" ]
check "no file over 4096 bytes" [ -z "$(find "$tmp/root/log" -size +4096c)" ]
check "every line starts with a UTC time stamp" \
        sh -c '! grep -qv "^20[0-9-]*T[0-9:]*\.[0-9]\{3\}Z " "$1"' _ "$tmp/root/log/ticker.log.1"
check "a silent service has an empty log" [ -e "$tmp/root/log/quiet.log" -a ! -s "$tmp/root/log/quiet.log" ]

step "GET /v1/logs/SERVICE?lines=N"
out=$(api "/v1/logs/ticker?lines=5")
check "200" [ "$(status_of "$out")" = 200 ]
check "5 lines" [ "$(body_of "$out" | wc -l)" = 5 ]
check "in order, without a gap" consecutive <<< "$(body_of "$out")"
out=$(api "/v1/logs/ticker?lines=150")
n=$(body_of "$out" | wc -l)
check "150 lines reach back into the rotated files (got $n)" [ "$n" = 150 ]
check "150 lines without a gap" consecutive <<< "$(body_of "$out")"
out=$(api "/v1/logs/ticker")
check "default: 100 lines" [ "$(body_of "$out" | wc -l)" = 100 ]
out=$(api "/v1/logs/ticker?lines=10000")
n=$(body_of "$out" | wc -l)
check "lines=10000: everything kept, at most 3 files ($n lines)" [ "$n" -gt 150 -a "$n" -lt 400 ]
out=$(api "/v1/logs/quiet?lines=5")
check "an empty log: 200, nothing" [ "$(status_of "$out")" = 200 -a -z "$(body_of "$out")" ]

step "bad requests"
for bad in "lines=abc" "lines=-1" "lines=10001" "lines=" "follow=2" "colour=1"; do
        out=$(api "/v1/logs/ticker?$bad")
        check "?$bad: 400" [ "$(status_of "$out")" = 400 ]
done
check "the error names the argument" grep -q "query argument 'colour=1'" <<< "$out"
out=$(api "/v1/logs/nosuch")
check "unknown service: 404" [ "$(status_of "$out")" = 404 ]
check "unknown service: named" grep -q "no log for service 'nosuch'" <<< "$out"
out=$(api "/v1/logs/ticker" -X POST)
check "POST: 405" [ "$(status_of "$out")" = 405 ]
out=$(api "/v1/logs")
check "no service: 400" [ "$(status_of "$out")" = 400 ]

step "names that would leave the log directory"
echo "SECRET-CONTENT" > "$tmp/root/secret.log"
echo "SECRET-CONTENT" > "$tmp/secret.log"
for p in "/v1/logs/../secret" "/v1/logs/..%2fsecret" "/v1/logs/%2e%2e%2fsecret" \
        "/v1/logs/..%2F..%2Fsecret" "/v1/logs/%2Ftmp%2Fsecret" "/v1/logs/.hidden" \
        "/v1/logs/a%00b" "/v1/logs/ticker%2F..%2F..%2Fsecret"; do
        out=$(api "$p" --path-as-is)
        st=$(status_of "$out")
        check "$p: refused ($st)" [ "$st" = 400 -o "$st" = 404 ]
        check "$p: no file content" bash -c '! grep -q SECRET-CONTENT <<< "$1"' _ "$(body_of "$out")"
done
long=$(printf 'a%.0s' $(seq 70))
check "a 70-character name: 400" [ "$(status_of "$(api "/v1/logs/$long")")" = 400 ]

step "follow: lines as they are written, across rotations"
api "/v1/logs/ticker?lines=1&follow=1" -N --max-time 3 > "$tmp/follow.out"
n=$(grep -c ' tick ' "$tmp/follow.out")
first=$(sed -n 's/^.*Z tick \([0-9]*\)$/\1/p' "$tmp/follow.out" | head -n1)
last=$(sed -n 's/^.*Z tick \([0-9]*\)$/\1/p' "$tmp/follow.out" | tail -n1)
echo "    followed $n lines in 3 s: tick $first .. tick $last"
check "3 s of following got over 200 lines" [ "$n" -gt 200 ]
check "over 6 KiB followed: the stream crossed rotations" [ "$(stat -c %s "$tmp/follow.out")" -gt 6144 ]
check "followed lines without a gap" consecutive < "$tmp/follow.out"
check "berthd still answers after the client left" [ "$(status_of "$(api "/v1/logs/quiet")")" = 200 ]
# Slots are freed when clients go: more follows one after another than the limit.
ok=0
for i in $(seq 10); do
        api "/v1/logs/quiet?follow=1" -N --max-time 0.3 > /dev/null
        [ $? = 28 ] && ok=$((ok + 1))
done
check "10 follows in turn (over the limit of 8 at once) each served until the client left ($ok)" [ "$ok" = 10 ]
check "berthd answers a status request meanwhile" \
        [ "$(status_of "$(curl -s --max-time 5 --unix-socket "$sock" -w '\n%{http_code}' http://berth/v1/logs/quiet)")" = 200 ]

step "berth logs"
out=$("$BERTH" logs --api "$sock" --lines 3 ticker)
check "berth logs --lines 3: 3 lines" [ "$(wc -l <<< "$out")" = 3 ]
check "berth logs: time-stamped tick lines" consecutive <<< "$out"
out=$(BERTH_API=$sock timeout 2 "$BERTH" logs --follow -n 0 ticker)
n=$(grep -c ' tick ' <<< "$out")
check "berth logs --follow streams lines ($n in 2 s)" [ "$n" -gt 100 ]
check "berth logs --follow: without a gap" consecutive <<< "$out"
err=$("$BERTH" logs --api "$sock" nosuch 2>&1)
rc=$?
check "berth logs nosuch fails (rc $rc)" [ "$rc" != 0 ]
check "berth logs nosuch says why" grep -q "no log for service 'nosuch'" <<< "$err"
check_fails "berth logs ../x is a usage error" "$BERTH" logs --api "$sock" ../x
check_fails "berth logs --lines 10001 is a usage error" "$BERTH" logs --api "$sock" --lines 10001 ticker

step "both stop cleanly, berthd with a follow stream open (sanitizer builds report here)"
api "/v1/logs/quiet?follow=1" -N --max-time 20 > /dev/null &
follower=$!
sleep 0.5
start=$(date +%s%N)
kill -TERM "${pids[1]}"
wait "${pids[1]}"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
check "berthd exits 0 on SIGTERM with a follow stream open (rc $rc, ${took} ms)" [ "$rc" = 0 -a "$took" -lt 5000 ]
wait "$follower"
kill -TERM "${pids[0]}"
wait "${pids[0]}"
pids=()
for f in init berthd; do
        grep -E 'Sanitizer|runtime error' "$tmp/$f.log" | head -20 | sed "s/^/    $f: /"
        check "$f: no sanitizer report" bash -c '! grep -qE "Sanitizer|runtime error" "$1"' _ "$tmp/$f.log"
done
check "berth-init stopped the services" grep -q 'all services stopped' "$tmp/init.log"

finish
