#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet reboot coordination (docs/updates.md, "Fleet reboots") against a real
# etcd (Debian's etcd-server) on loopback: `berth update lock take|release|
# status` as several agents at once, each a process with its own state
# directory, as the update agent takes a slot before it reboots. max=1 and
# max=2 hold exactly max, the others wait and go on after a release;
# concurrent takers all land (compare-and-swap retries); a malformed key is
# refused and left alone; etcd down means no slot (and so no reboot), said in
# the agent's state; an operator releases a holder.
set -uo pipefail
. "${BERTH_SOURCE_ROOT:?}/tests/lib.sh"

B=${BERTH:?}
need etcd
need etcdctl
need python3
need openssl
TMP=$(mktemp -d /tmp/berth-test-fleet-XXXXXX)
. "$BERTH_SOURCE_ROOT/tests/fixtures/etcd.sh"
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        etcd_stop
        rm -rf "$TMP"
}
trap cleanup EXIT

# One member, answering on http and on https (a test certificate).
SP=$(free_port)
ES=https://127.0.0.1:$SP
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=berth-test \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
ETCD_EXTRA_URLS=$ES etcd_start "$TMP" --cert-file "$TMP/cert.pem" --key-file "$TMP/key.pem" ||
        { echo "FAIL - etcd did not start"; exit 1; }
E=$ETCD_URL
CP=$ETCD_PORT

# lock ID GROUP ARGS...: one agent (its own state directory) runs a lock verb.
lock() {
        local id=$1 group=$2
        shift 2
        mkdir -p "$TMP/state-$id"
        "$B" update lock "$@" --etcd "$E" --group "$group" --id "$id" --state "$TMP/state-$id"
}
holders() { etcd_holders "$1"; }
max_of() { etcdctl --endpoints "$E" get --print-value-only "/berth/reboot/$1" | python3 -c \
        'import json,sys; print(json.load(sys.stdin)["max"])'; }
# take_bg ID GROUP MAX: an agent waiting for a slot (up to 30 s), in the background.
take_bg() {
        lock "$1" "$2" take --max "$3" --wait 30 --poll-max 1 > "$TMP/take-$1.out" 2>&1 &
        PIDS+=("$!")
        eval "PID_$1=$!"
}
alive() { kill -0 "$1" 2>/dev/null; }
# wait_done PID: the agent finished (within 10 s) with exit status 0.
wait_done() {
        local p=$1
        for _ in $(seq 1 100); do alive "$p" || break; sleep 0.1; done
        wait "$p"
}

step "max=1"
check "the first agent takes the slot and the key is created with max 1" \
        bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock a one take --max 1 >/dev/null && \
        test \"\$(etcdctl --endpoints '$E' get --print-value-only /berth/reboot/one | sed 's/[0-9]\{6,\}/L/')\" = '{\"holders\":[\"a\"],\"leases\":{\"a\":\"L\"},\"max\":1}'"
check "taking it again (a reboot between take and reboot) is fine" bash -c "$(declare -f lock); \
        B='$B' E='$E' TMP='$TMP' lock a one take >/dev/null"
check "still one holder" test "$(holders one)" = "a"
lock b one take > "$TMP/full.out" 2>&1
check "a second agent without --wait: exit 75, 'all 1 slots taken (holders: a)'" \
        bash -c "[ $? -eq 75 ] && grep -q 'reboot lock /berth/reboot/one: all 1 slots taken (holders: a)' '$TMP/full.out'"
take_bg b one 1
sleep 1.5
check "the waiting agent is still waiting" alive "$PID_b"
check "its state says so" grep -q "waiting, not rebooting: .*all 1 slots taken" "$TMP/state-b/reboot-lock"
check "exactly one holder while it waits" test "$(holders one)" = "a"
lock a one status > "$TMP/status.out" 2>&1
check "lock status lists the holder and the agent's state" bash -c "grep -q '^/berth/reboot/one: max 1, 1 held' '$TMP/status.out' && \
        grep -Eqx 'holder: a \(lease [0-9]+, [0-9]+ s left\)' '$TMP/status.out' && grep -q '^agent: holding a slot of /berth/reboot/one' '$TMP/status.out'"
check "the operator releases holder a" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock op one release a | grep -q 'released the slot of a in /berth/reboot/one'"
check "the waiting agent takes the slot after the release" wait_done "$PID_b"
check "b is the only holder now" test "$(holders one)" = "b"
check "releasing a holder that holds nothing says so, exit 0" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock op one release a | grep -q 'a holds no slot'"
check "b gives its own slot back (the agent after a blessed boot)" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock b one release >/dev/null && \
        grep -q 'released its slot' '$TMP/state-b/reboot-lock'"
check "nobody holds a slot" test -z "$(holders one)"

step "max=2"
for n in c d e f; do take_bg "$n" two 2; done
sleep 2
running=0
for n in c d e f; do eval "alive \$PID_$n" && running=$((running + 1)); done
check "two of four agents hold a slot, two wait" test "$running" -eq 2
check "the key lists exactly two holders" test "$(holders two | wc -w)" -eq 2
first=$(holders two)
for h in $first; do lock op two release "$h" > /dev/null; done
rc=0
for n in c d e f; do eval "wait_done \$PID_$n" || rc=1; done
check "after two releases the other two go on" test "$rc" -eq 0
second=$(holders two)
check "and hold the slots now: two holders, none of the first two" bash -c \
        "[ \$(echo $second | wc -w) -eq 2 ] && for h in $first; do case ' $second ' in *\" \$h \"*) exit 1;; esac; done"

step "concurrent takers (compare-and-swap)"
for i in $(seq 1 10); do
        lock "n$i" ten take --max 10 > "$TMP/cas-$i.out" 2>&1 &
        PIDS+=("$!")
        CAS+=("$!")
done
rc=0
for p in "${CAS[@]}"; do wait "$p" || rc=1; done
check "ten agents taking at once all succeed" test "$rc" -eq 0
check "and all ten are listed (no write lost)" test "$(holders ten | wc -w)" -eq 10
echo "       lost compare-and-swaps retried: $(cat "$TMP"/cas-*.out | grep -c 'lost compare-and-swaps')"

step "malformed semaphore"
etcdctl --endpoints "$E" put /berth/reboot/bad '{"max": 2, "holders": "x"}' > /dev/null
lock g bad take --max 2 > "$TMP/bad.out" 2>&1
check "a key whose holders is not a list: exit 65, the key and field named" bash -c \
        "[ $? -eq 65 ] && grep -q 'etcd key /berth/reboot/bad (http://127.0.0.1:$CP): field \"holders\": not a list' '$TMP/bad.out'"
check "the key is left as it was" test "$(etcdctl --endpoints "$E" get --print-value-only /berth/reboot/bad)" = '{"max": 2, "holders": "x"}'
etcdctl --endpoints "$E" put /berth/reboot/bad 'not json' > /dev/null
lock g bad take > "$TMP/bad.out" 2>&1
check "a key that is not JSON: one error naming it" grep -q 'etcd key /berth/reboot/bad .*: not JSON' "$TMP/bad.out"
check "left as it was" test "$(etcdctl --endpoints "$E" get --print-value-only /berth/reboot/bad)" = 'not json'

step "configuration"
mkdir -p "$TMP/conf"
printf 'RebootCoordination=etcd\nEtcdEndpoints=http://127.0.0.1:%s,%s\nRebootGroup=cfg\nMaxUnavailable=3\n' "$(free_port)" "$E" > "$TMP/conf/update.conf"
check "update.conf's endpoints (a dead one first), group and max" bash -c \
        "'$B' update lock take --config '$TMP/conf' --id h1 --state '$TMP/state-h1' >/dev/null && \
         test \"\$(etcdctl --endpoints '$E' get --print-value-only /berth/reboot/cfg | sed 's/[0-9]\{6,\}/L/')\" = '{\"holders\":[\"h1\"],\"leases\":{\"h1\":\"L\"},\"max\":3}'"
printf 'RebootCoordination=yes\n' > "$TMP/conf/update.conf"
"$B" update lock status --config "$TMP/conf" --etcd "$E" > "$TMP/cfg.out" 2>&1
check "a bad RebootCoordination= is named" grep -q 'RebootCoordination=yes: not "etcd" or "off"' "$TMP/cfg.out"

step "leases: a holder that dies does not block the group"
lease_of() { etcdctl --endpoints "$E" get --print-value-only "/berth/reboot/$1" | python3 -c \
        'import json,sys; print(json.load(sys.stdin).get("leases", {}).get(sys.argv[1], "none"))' "$2"; }
check "a slot taken with --ttl 3 holds an etcd lease" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' \
        lock dead lease take --max 1 --ttl 3 >/dev/null"
# Another node's lease runs out meanwhile, for the renewal below.
lock r1 renewal take --max 1 --ttl 3 >/dev/null
expiry=$((SECONDS + 4))
l1=$(lease_of lease dead)
check "the lease ($l1) is etcd's, its TTL at most 3 s" bash -c \
        "etcdctl --endpoints '$E' lease timetolive \$(printf %x '$l1') | grep -Eq 'granted with TTL\(3s\), remaining\([0-3]s\)'"
take_bg live lease 1
sleep 1
check "while the lease runs, another agent waits" alive "$PID_live"
check "the agent that died is still the holder" test "$(holders lease)" = dead
check "after its lease expired, the waiting agent takes the slot" wait_done "$PID_live"
check "and is the only holder" test "$(holders lease)" = live
check "its take says whose lease expired" grep -q "the lease $l1 of holder dead expired: its slot is free" "$TMP/take-live.out"
check "a holder with --ttl 0 has no lease" bash -c "$(declare -f lock); B='$B'; E='$E'; TMP='$TMP'; \
        lock keep keep take --max 1 --ttl 0 >/dev/null && lock keep keep status | grep -qx 'holder: keep (no lease: until given back)'"
check "and stays when another takes (exit 75)" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' \
        lock other keep take >/dev/null 2>&1; [ \$? -eq 75 ]"
check "the key has no leases field then" test "$(lease_of keep keep)" = none
# Renewal: what the agent does after its reboot until it is blessed.
l2=$(lease_of renewal r1)
while [ $SECONDS -le $expiry ]; do sleep 0.2; done
check "a lease that expired while its node was down (nobody took the slot): renew gives a new one" bash -c \
        "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock r1 renewal renew --ttl 60 | grep -qx 'renewed the lease of r1.s slot in /berth/reboot/renewal: 60 s'"
l3=$(lease_of renewal r1)
check "r1 still holds the slot, with a new lease ($l2 -> $l3)" bash -c "[ '$(holders renewal)' = r1 ] && [ '$l3' != '$l2' ] && [ '$l3' != none ]"
check "renewing a running lease keeps it (keepalive)" bash -c \
        "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock r1 renewal renew --ttl 60 | grep -q 'renewed' && [ \"\$(etcdctl --endpoints '$E' get --print-value-only /berth/reboot/renewal | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"leases\"][\"r1\"])')\" = '$l3' ]"
check "release revokes the lease" bash -c "$(declare -f lock); B='$B' E='$E' TMP='$TMP' lock r1 renewal release >/dev/null && \
        etcdctl --endpoints '$E' lease timetolive \$(printf %x '$l3') | grep -q 'already expired'"

step "reboot window (RebootWindow=)"
printf 'RebootCoordination=etcd\nEtcdEndpoints=%s\nRebootWindow=00:00-24:00\n' "$E" > "$TMP/conf/update.conf"
"$B" update lock status --config "$TMP/conf" --state "$TMP/state-w" > "$TMP/win.out" 2>&1
check "lock status shows the window, open at all times (every day, all day)" grep -qx 'reboot window: 00:00-24:00 UTC, open at all times' "$TMP/win.out"
today=$(date -u +%a)
printf 'RebootCoordination=etcd\nEtcdEndpoints=%s\nRebootWindow=%s 00:00-24:00\n' "$E" "$today" > "$TMP/conf/update.conf"
"$B" update lock status --config "$TMP/conf" --state "$TMP/state-w" > "$TMP/win.out" 2>&1
check "a window open now ($today, all day): open until tomorrow 00:00" \
        grep -qx "reboot window: $today 00:00-24:00 UTC, open now, until $(date -u -d tomorrow +%Y-%m-%d) 00:00 UTC" "$TMP/win.out"
w="$(date -u -d '+2 hours' +%H):00-$(date -u -d '+3 hours' +%H):00"
opens=$(date -u -d "$(date -u -d '+2 hours' '+%Y-%m-%d %H'):00" '+%Y-%m-%d %H:%M UTC')
printf 'RebootCoordination=etcd\nEtcdEndpoints=%s\nRebootWindow=%s\n' "$E" "$w" > "$TMP/conf/update.conf"
"$B" update lock status --config "$TMP/conf" --state "$TMP/state-w" > "$TMP/win.out" 2>&1
check "a window two hours ahead: it says when it opens ($opens)" grep -qx "reboot window: $w UTC, opens $opens" "$TMP/win.out"
printf 'RebootCoordination=etcd\nEtcdEndpoints=%s\nRebootWindow=Mon-Fry 02:00-04:00\n' "$E" > "$TMP/conf/update.conf"
"$B" update lock status --config "$TMP/conf" --state "$TMP/state-w" > "$TMP/win.out" 2>&1
check "a bad RebootWindow=: exit 65, the key and what is wrong named" bash -c "[ $? -eq 65 ] && \
        grep -qx \"berth: error: update.conf: RebootWindow=Mon-Fry 02:00-04:00: 'Fry': not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)\" '$TMP/win.out'"

step "the agent gives its slot back after boot"
# update.service on this host: no berth slot was booted, so nothing to
# assess (as after a blessed boot); then the slot goes back to the fleet.
mkdir -p "$TMP/agent" "$TMP/services"
printf 'RebootCoordination=etcd\nEtcdEndpoints=%s\nRebootGroup=agent\nMaxUnavailable=1\n' "$E" > "$TMP/agent/update.conf"
"$B" update lock take --config "$TMP/agent" --id boot1 --state "$TMP/state-boot1" > /dev/null
check "boot1 holds the slot before its reboot" test "$(holders agent)" = "boot1"
timeout 60 "$B" update service --config "$TMP/agent" --id boot1 --state "$TMP/state-boot1" \
        --services "$TMP/services" > "$TMP/agent.out" 2>&1
check "the agent exits 0 and says it released the slot" bash -c "[ $? -eq 0 ] && \
        grep -q 'released the slot of boot1 in /berth/reboot/agent' '$TMP/agent.out'"
check "nobody holds a slot of the group" test -z "$(holders agent)"

step "https"
check "an https endpoint, its peer checked against the CA store (SSL_CERT_FILE)" bash -c \
        "SSL_CERT_FILE='$TMP/cert.pem' '$B' update lock status --etcd '$ES' --group cfg --state '$TMP/state-s' | \
         grep -q '^/berth/reboot/cfg: max 3, 1 held, revision [0-9]* ($ES)'"
SSL_CERT_FILE=/dev/null "$B" update lock status --etcd "$ES" --group cfg --state "$TMP/state-s" > "$TMP/tls.out" 2>&1
check "an untrusted certificate: refused, the endpoint named" bash -c \
        "[ $? -ne 0 ] && grep -q 'etcd unreachable: $ES/v3/kv/range: TLS: the certificate of 127.0.0.1 is not trusted' '$TMP/tls.out'"

step "etcd down"
etcd_stop
lock h one take --wait 2 --poll-max 1 > "$TMP/down.out" 2>&1
check "no slot without etcd: exit 69, the endpoint named" bash -c \
        "[ $? -eq 69 ] && grep -q 'etcd unreachable: $E/v3/kv/range: cannot connect to 127.0.0.1 port $CP' '$TMP/down.out'"
check "the agent's state says it is not rebooting, and why" \
        grep -q "waiting, not rebooting: etcd unreachable: $E" "$TMP/state-h/reboot-lock"
lock h one status > "$TMP/down-status.out" 2>&1
check "lock status shows that state and fails" bash -c "[ $? -ne 0 ] && grep -q '^agent: waiting, not rebooting: etcd unreachable' '$TMP/down-status.out'"
finish
