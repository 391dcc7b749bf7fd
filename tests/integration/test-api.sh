#!/bin/bash
# SPDX-License-Identifier: MIT
# berthd on the host against a temporary root (every path moved by options):
# the endpoints through curl --unix-socket and the berth CLI, bad JSON,
# unknown keys, oversized bodies, a slow client, a non-root peer, settings
# generations, commit twice, revert, apply (files rendered; a service that
# cannot be restarted makes apply fail and restore the previous generation),
# reboot and power-off as signals to the process given as PID 1.
# Not here: apply restarting a service through a real berth-init (needs PID 1;
# the VM test's part, not written yet).
set -uo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"
build=${BERTH_BUILD_DIR:-$BERTH_SOURCE_ROOT/build}
BERTH=${BERTH:-$build/src/berth}
BERTHD=${BERTHD:-$build/src/berthd}
[ -x "$BERTHD" ] || skip "no berthd at $BERTHD"
need curl
need setpriv
[ "$(id -u)" = 0 ] || skip "needs root (the API is root only)"
tmp=$(mktemp -d /tmp/berth-api.XXXXXX)
chmod 0755 "$tmp" # nobody reaches the socket (the non-root peer case)
pids=()
initpid=
cleanup() {
        # The stand-in PID 1 traps SIGTERM (it records it): SIGKILL for it.
        kill -KILL "$initpid" 2>/dev/null
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# The factory tree and an /etc made from it, as at boot.
mkdir -p "$tmp/factory/chrony" "$tmp/run/services"
cp "$BERTH_SOURCE_ROOT/data/factory/etc/chrony/chrony.conf" "$tmp/factory/chrony/"
cp "$BERTH_SOURCE_ROOT/data/factory/etc/hostname" "$BERTH_SOURCE_ROOT/data/factory/etc/dhcpcd.conf" \
        "$tmp/factory/"
cp -a "$tmp/factory" "$tmp/etc"
printf 'NAME=berth\nVERSION_ID="1.2.3"\n' > "$tmp/os-release"
echo 'usrhash=00 berth.slot=b quiet' > "$tmp/cmdline"
# The ESP: slot b's entry (systemd-boot counted one try) and slot a's.
mkdir -p "$tmp/esp/loader/entries"
printf 'title berth\nversion 1\noptions usrhash=00 berth.slot=b quiet\n' \
        > "$tmp/esp/loader/entries/berth-b+2-1.conf"
printf 'title berth\nversion 0\noptions usrhash=11 berth.slot=a quiet\n' \
        > "$tmp/esp/loader/entries/berth-a.conf"
# Stands in for PID 1's shutdown signals: records what it got.
bash -c 'trap "echo TERM >> '"$tmp"'/signals" TERM; trap "echo USR2 >> '"$tmp"'/signals" USR2;
         while :; do sleep 0.1; done' &
initpid=$!
pids+=("$initpid")

sock=$tmp/api.sock
# GET /v1/audit runs the berth CLI found in PATH.
export PATH=$(dirname "$BERTH"):$PATH
"$BERTHD" --socket "$sock" --settings-dir "$tmp/settings" --etc "$tmp/etc" \
        --factory "$tmp/factory" --run-dir "$tmp/run" --os-release "$tmp/os-release" \
        --cmdline "$tmp/cmdline" --init-pid "$initpid" --ready-timeout 5 --esp "$tmp/esp" \
        > "$tmp/berthd.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
check "berthd listens on its socket" [ -S "$sock" ]
check "the socket is root's alone (0600)" [ "$(stat -c %a "$sock")" = 600 ]

# api METHOD PATH [BODY]: prints the body, then the status on its own line.
api() {
        curl -s --max-time 20 --unix-socket "$sock" -X "$1" ${3+--data-binary "$3"} \
                -w '\n%{http_code}' "http://berth$2"
}
status_of() { tail -n1 <<< "$1"; }
body_of() { sed '$d' <<< "$1"; }

step "status"
out=$(api GET /v1/status)
check "GET /v1/status: 200" [ "$(status_of "$out")" = 200 ]
check "version from os-release" grep -q '"version": "1.2.3"' <<< "$out"
check "slot from the command line" grep -q '"slot": "b"' <<< "$out"
out=$("$BERTH" status --api "$sock")
check "berth status answers" grep -q '"slot": "b"' <<< "$out"
check "berth status: no user data marker yet, user_data null" grep -q '"user_data": null' <<< "$out"
echo "config drive /dev/sr0 (CIDATA)" > "$tmp/user-data.done"
check "berth status: user_data names the source in user-data.done" sh -c \
        '"$1" status --api "$2" | grep -q "\"user_data\": \"config drive /dev/sr0 (CIDATA)\""' _ "$BERTH" "$sock"
check "berth status: no reboot lock state, reboot_lock null" grep -q '"reboot_lock": null' <<< "$out"
mkdir -p "$tmp/update"
echo "waiting, not rebooting: reboot lock /berth/reboot/default: all 1 slots taken (holders: n1)" > "$tmp/update/reboot-lock"
check "berth status: reboot_lock is the agent's line (update/reboot-lock next to the settings)" sh -c \
        '"$1" status --api "$2" | grep -qF "\"reboot_lock\": \"waiting, not rebooting: reboot lock /berth/reboot/default: all 1 slots taken (holders: n1)\""' _ "$BERTH" "$sock"
out=$(BERTH_API=$sock "$BERTH" status)
check "BERTH_API points the CLI at the socket" grep -q '"version": "1.2.3"' <<< "$out"

step "audit: the CLI's checks through the API (this host fails many: an answer, not an error)"
out=$(api GET /v1/audit)
check "GET /v1/audit: 200" [ "$(status_of "$out")" = 200 ]
check "the audit's summary" grep -q '"summary": {' <<< "$out"
check "a check with its CIS id" grep -q '"id": "1.1.5"' <<< "$out"
out=$("$BERTH" audit --api "$sock")
check "berth audit --api answers" grep -q '"exceptions": 3' <<< "$out"

step "bad requests"
out=$(api PATCH /v1/settings '{"network": {"dns": ["1.1.1.1", "::1", "x"]}}')
check "bad value: 400" [ "$(status_of "$out")" = 400 ]
check "bad value: the JSON path" grep -q '"error": "network.dns\[2\]: not an IP address"' <<< "$out"
out=$(api PATCH /v1/settings '{"network": {"hostnam": "a"}}')
check "unknown key: 400 with its path" grep -q '"error": "network.hostnam: unknown setting"' <<< "$out"
out=$(api PATCH /v1/settings '{"network": ')
check "malformed JSON: 400" [ "$(status_of "$out")" = 400 ]
check "malformed JSON: line and column" grep -q '"error": "settings: line 1 column' <<< "$out"
deep=$(printf '{"a":%.0s' $(seq 40))
out=$(api PATCH /v1/settings "$deep")
check "deeply nested JSON: 400" [ "$(status_of "$out")" = 400 ]
big=$(head -c 70000 /dev/zero | tr '\0' ' ')
out=$(api PATCH /v1/settings "{$big}")
check "oversized body (70000 bytes): 413" [ "$(status_of "$out")" = 413 ]
out=$(api GET /v1/nothing)
check "unknown endpoint: 404" [ "$(status_of "$out")" = 404 ]
out=$(api DELETE /v1/settings)
check "wrong method: 404" [ "$(status_of "$out")" = 404 ]
check "no pending transaction after bad patches" \
        grep -q '"pending": null' <<< "$(api GET /v1/settings)"

step "a slow client is cut off"
start=$(date +%s)
python3 - "$sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")  # never finished
s.settimeout(60)
try:
    data = s.recv(100)
except OSError:
    data = b""
sys.exit(0 if data == b"" or data.startswith(b"HTTP/1.1 4") else 1)
PY
rc=$?
took=$(($(date +%s) - start))
check "an unfinished request is closed (rc $rc, after ${took}s, limit 10 s idle)" \
        [ "$rc" = 0 ] && [ "$took" -le 30 ]
check "berthd still answers after it" [ "$(status_of "$(api GET /v1/status)")" = 200 ]

step "non-root peer"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --unix-socket "$sock" \
        http://berth/v1/status 2>&1)
check "nobody cannot connect to the 0600 socket" [ -z "$out" ]
err=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BERTH" status --api "$sock" 2>&1)
rc=$?
check "berth status as nobody: exit 74 (got $rc: '$err')" [ "$rc" = 74 ]
# With the mode opened up, the peer-credential check still refuses.
chmod 0666 "$sock"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --unix-socket "$sock" \
        -w '\n%{http_code}' http://berth/v1/status 2>&1)
check "SO_PEERCRED: nobody gets 403" [ "$(status_of "$out")" = 403 ]
check "SO_PEERCRED: the message" grep -q '"error": "the berth API is root only"' <<< "$out"
err=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BERTH" status --api "$sock" 2>&1)
rc=$?
check "berth status as nobody past the mode: exit 74 (got $rc)" [ "$rc" = 74 ]
check "berth status as nobody: one line (got '$err')" \
        [ "$err" = "berth: error: the berth API is root only" ]
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --unix-socket "$sock" \
        -X PATCH --data-binary '{"network":{"hostname":"evil"}}' -w '\n%{http_code}' \
        http://berth/v1/settings 2>&1)
check "SO_PEERCRED: a PATCH from nobody is refused" [ "$(status_of "$out")" = 403 ]
check "and writes nothing" [ ! -e "$tmp/settings/pending.json" ]
chmod 0600 "$sock"

step "generations"
out=$("$BERTH" settings --api "$sock" set network.hostname=node-1 update.channel=beta \
        'kernel.sysctl."vm.swappiness"=10' 'update.health-command=["/usr/bin/ctr","version"]')
check "berth settings set: pending has the host name" grep -q '"hostname": "node-1"' <<< "$out"
check "berth settings set: a sysctl by its quoted name" grep -q '"vm.swappiness": "10"' <<< "$out"
err=$("$BERTH" settings --api "$sock" set network.dns=x 2>&1)
rc=$?
check "berth settings set with a bad value: exit 65 (got $rc)" [ "$rc" = 65 ]
check "and one line naming the path (got '$err')" \
        [ "$err" = "berth: error: network.dns: not a list" ]
err=$("$BERTH" settings --api "$sock" set 'update.health-command=["ctr"]' 2>&1)
check "a health command that is not an absolute path: one line (got '$err')" \
        [ "$err" = "berth: error: update.health-command[0]: not an absolute path" ]
out=$(api POST /v1/settings/commit)
check "commit: generation 1" grep -q '"generation": 1' <<< "$out"
out=$(api POST /v1/settings/commit)
check "commit twice: 404" [ "$(status_of "$out")" = 404 ]
check "commit twice: the message" grep -q 'no pending settings transaction' <<< "$out"
err=$("$BERTH" settings --api "$sock" commit 2>&1)
rc=$?
check "berth settings commit with nothing pending: exit 69 (got $rc)" [ "$rc" = 69 ]
check "generation 1 on disk" [ -f "$tmp/settings/1.json" ] && [ "$(cat "$tmp/settings/current")" = 1 ]

step "apply without services to restart"
out=$("$BERTH" settings --api "$sock" apply)
check "apply: generation 1" grep -q '"generation": 1' <<< "$out"
check "apply: nothing restarted" grep -q '"restarted": \[\]' <<< "$out"
check "apply: a sysctl needs a reboot" grep -q '"reboot-required": true' <<< "$out"
check "/etc/hostname rendered" [ "$(cat "$tmp/etc/hostname")" = node-1 ]
check "/etc/berth/update.conf rendered" grep -qx 'Channel=beta' "$tmp/etc/berth/update.conf"
check "with the health command" grep -qx 'HealthCommand=/usr/bin/ctr version' "$tmp/etc/berth/update.conf"
check "/etc/sysctl.d rendered" grep -qx 'vm.swappiness = 10' "$tmp/etc/sysctl.d/60-berth-settings.conf"
check "chrony.conf left as it was" cmp -s "$tmp/etc/chrony/chrony.conf" "$tmp/factory/chrony/chrony.conf"
out=$(api GET /v1/status)
check "status: applied generation 1" grep -q '"applied": 1' <<< "$out"

step "apply that fails restores the previous generation"
"$BERTH" settings --api "$sock" set 'time.servers=["ntp.example"]' network.hostname=node-2 >/dev/null
"$BERTH" settings --api "$sock" commit >/dev/null
check "generation 2 is current" [ "$(cat "$tmp/settings/current")" = 2 ]
err=$("$BERTH" settings --api "$sock" apply 2>&1)
rc=$?
check "apply with no PID 1 to restart chrony: exit 69 (got $rc)" [ "$rc" = 69 ]
# The files go back; restarting chrony for them fails as well here (no PID 1),
# and the caller is told both.
check "the caller gets the error (got '$err')" [ "$err" = "berth: error: apply of settings \
generation 2 failed: cannot restart chrony through $tmp/run/init.sock: No such file or directory; \
restoring generation 1 failed too: cannot restart chrony through $tmp/run/init.sock: No such file \
or directory" ]
check "generation 1 is current again" [ "$(cat "$tmp/settings/current")" = 1 ]
check "/etc/hostname back to generation 1" [ "$(cat "$tmp/etc/hostname")" = node-1 ]
check "chrony.conf back to the factory's" cmp -s "$tmp/etc/chrony/chrony.conf" "$tmp/factory/chrony/chrony.conf"

step "revert"
"$BERTH" settings --api "$sock" set update.channel=stable >/dev/null
"$BERTH" settings --api "$sock" commit >/dev/null
check "generation 3 after a restored 2 (never overwritten)" [ "$(cat "$tmp/settings/current")" = 3 ]
out=$("$BERTH" settings --api "$sock" revert)
check "revert: generation 1 (the newest before 3 that is older... 2)" grep -q '"generation": 2' <<< "$out"
out=$("$BERTH" settings --api "$sock" revert)
check "revert again: generation 1" grep -q '"generation": 1' <<< "$out"
err=$("$BERTH" settings --api "$sock" revert 2>&1)
rc=$?
check "revert past the first: exit 69 (got $rc)" [ "$rc" = 69 ]
check "revert past the first: '$err'" [ "$err" = "berth: error: no settings generation before 1" ]
out=$("$BERTH" settings --api "$sock" get)
check "get shows generation 1's settings" grep -q '"channel": "beta"' <<< "$out"

step "kernel.cmdline goes to the running slot's boot entry"
entry=$tmp/esp/loader/entries/berth-b+2-1.conf
out=$("$BERTH" --api "$sock" set 'kernel.cmdline=["mitigations=auto", "nosmt"]' 2>&1)
check "set kernel.cmdline" [ $? = 0 ]
out=$("$BERTH" --api "$sock" apply 2>&1)
check "apply says a reboot is needed" grep -q '"reboot-required": true' <<< "$out"
check "apply wrote the boot entry" grep -q '"boot-entry-written": true' <<< "$out"
check "slot b's entry has the words" \
        grep -qx 'options usrhash=00 berth.slot=b quiet mitigations=auto nosmt' "$entry"
check "slot a's entry is untouched" \
        grep -qx 'options usrhash=11 berth.slot=a quiet' "$tmp/esp/loader/entries/berth-a.conf"
# An update installed into slot a and not booted yet: the updater wrote its
# entry with the words applied then, so it follows the next change.
printf 'title berth\nversion 2\noptions usrhash=22 berth.slot=a quiet mitigations=auto nosmt\n' \
        > "$tmp/esp/loader/entries/berth-a+3.conf"
"$BERTH" --api "$sock" set 'kernel.cmdline=["nosmt", "quiet"]' > /dev/null &&
        "$BERTH" --api "$sock" apply > /dev/null
check "a change removes the old words (one each) and adds the new" \
        grep -qx 'options usrhash=00 berth.slot=b quiet nosmt quiet' "$entry"
check "the pending entry of slot a follows it" \
        grep -qx 'options usrhash=22 berth.slot=a quiet nosmt quiet' "$tmp/esp/loader/entries/berth-a+3.conf"
check "slot a's blessed entry (a rollback's) is still untouched" \
        grep -qx 'options usrhash=11 berth.slot=a quiet' "$tmp/esp/loader/entries/berth-a.conf"
rm "$tmp/esp/loader/entries/berth-a+3.conf"
BERTH_API=$sock "$BERTH" revert > /dev/null
check "revert puts the previous words back" \
        grep -qx 'options usrhash=00 berth.slot=b quiet mitigations=auto nosmt' "$entry"

step "reboot and power-off"
# wait_signals N: until the stand-in PID 1 has recorded N signals (5 s at most).
wait_signals() {
        for _ in $(seq 50); do
                [ "$(wc -l 2>/dev/null < "$tmp/signals")" = "$1" ] && return
                sleep 0.1
        done
}
out=$("$BERTH" reboot --api "$sock")
check "berth reboot answers" grep -q '"status": "reboot"' <<< "$out"
wait_signals 1
out=$("$BERTH" poweroff --api "$sock")
check "berth poweroff answers" grep -q '"status": "poweroff"' <<< "$out"
wait_signals 2
check "PID 1 got SIGTERM (reboot) then SIGUSR2 (power-off)" \
        [ "$(tr '\n' ' ' < "$tmp/signals" 2>/dev/null)" = "TERM USR2 " ]

step "berthd --boot: first-boot user data, /etc rendered (docs/api.md, \"At boot\")"
b=$tmp/boot
mkdir -p "$b/esp" "$b/root"
cp -a "$tmp/factory" "$b/etc"
boot() {
        "$BERTHD" --boot --root "$b/root" --settings-dir "$b/root/var/lib/berth/settings" \
                --etc "$b/etc" --factory "$tmp/factory" --esp "$b/esp" --run-dir "$b/run" \
                --user-data "$b/user-data" 2>&1
}
echo '{"network": {"hostname": "ud-1"}, "time": {"servers": ["ntp.example", 5]}}' > "$b/user-data"
out=$(boot)
rc=$?
check "invalid user data: exit 65 (got $rc)" [ "$rc" = 65 ]
check "invalid user data: one line naming the field ($out)" [ "$out" = \
        "berth: invalid user data from fw_cfg opt/berth/user-data: time.servers[1]: not a string; boot stopped, nothing applied (report on the ESP: berth/user-data-error.txt)" ]
check "the report is on the ESP" grep -qx 'error: time.servers\[1\]: not a string' "$b/esp/berth/user-data-error.txt"
check "nothing applied: no settings generation" [ ! -e "$b/root/var/lib/berth/settings/current" ]
check "nothing applied: no marker" [ ! -e "$b/root/var/lib/berth/user-data.done" ]
for bad in '{"files": [{"path": "/etc/../x", "content": ""}]}|files[0].path: not a clean path under /etc/ or /var/' \
        '{"files": [{"path": "/usr/x", "content": ""}]}|files[0].path: not a clean path under /etc/ or /var/' \
        '{"files": [{"path": "/var/x", "content": "", "mode": "0999"}]}|files[0].mode: not a file mode (0 to 07777)' \
        '{"files": [{"path": "/var/x", "content": "", "owner": 0}]}|files[0].owner: unknown key' \
        '{"netwrk": {}}|netwrk: unknown setting' '[1]|not a JSON object'; do
        echo "${bad%%|*}" > "$b/user-data"
        out=$(boot)
        check "user data ${bad%%|*}: '${bad#*|}'" grep -qF "user-data: ${bad#*|}; boot stopped" <<< "$out"
done
echo '{"network": {"hostname": "ud-1"}, "time": {"servers": ["ntp.example"]},
       "files": [{"path": "/var/lib/x/token", "mode": "0600", "content": "s\n"},
                 {"path": "/etc/app/a.conf", "content": "a=1\n"}]}' > "$b/user-data"
out=$(boot)
rc=$?
check "valid user data: exit 0 (got $rc: $out)" [ "$rc" = 0 ]
check "valid user data: generation 1" [ "$(cat "$b/root/var/lib/berth/settings/current")" = 1 ]
check "valid user data: the refused boot's ESP report is removed" \
        [ ! -e "$b/esp/berth/user-data-error.txt" ]
check "valid user data: /etc rendered" grep -qx 'server ntp.example iburst' "$b/etc/chrony/chrony.conf"
check "valid user data: host name rendered" [ "$(cat "$b/etc/hostname")" = ud-1 ]
check "valid user data: /var file with its mode" [ "$(stat -c %a "$b/root/var/lib/x/token")" = 600 ]
check "valid user data: /etc file kept on /var" [ -f "$b/root/var/lib/berth/etc/app/a.conf" ]
check "valid user data: /etc file in /etc" [ "$(cat "$b/etc/app/a.conf")" = a=1 ]
rm -rf "$b/etc" && cp -a "$tmp/factory" "$b/etc"
echo '{"network": {"hostname": "other"}}' > "$b/user-data"
out=$(boot)
check "next boot: user data not read again, /etc rendered from generation 1" \
        [ "$(cat "$b/etc/hostname")" = ud-1 ]
check "next boot: the kept /etc file is back" [ -f "$b/etc/app/a.conf" ]
check "the marker names the source" \
        [ "$(cat "$b/root/var/lib/berth/user-data.done")" = "fw_cfg opt/berth/user-data" ]
rm -rf "$b/root" && mkdir -p "$b/esp/berth" "$b/root"
echo '{"network": {"hostname": "from-esp"}}' > "$b/esp/berth/user-data"
out=$("$BERTHD" --boot --root "$b/root" --settings-dir "$b/root/var/lib/berth/settings" \
        --etc "$b/etc" --factory "$tmp/factory" --esp "$b/esp" --run-dir "$b/run" \
        --user-data "$b/none" 2>&1)
check "no fw_cfg: the ESP's berth/user-data applied ($out)" [ "$(cat "$b/etc/hostname")" = from-esp ]
check "the marker names the ESP file" \
        [ "$(cat "$b/root/var/lib/berth/user-data.done")" = "ESP $b/esp/berth/user-data" ]

step "started on demand: the socket passed as fd 3 (LISTEN_FDS), idle exit"
asock=$tmp/act.sock
# What berth-init does for ListenStream= (docs/services.md): bind, listen,
# hand the socket over as fd 3 with LISTEN_FDS=1 and LISTEN_PID.
python3 - "$asock" "$BERTHD" --settings-dir "$tmp/settings" --etc "$tmp/etc" \
        --factory "$tmp/factory" --run-dir "$tmp/run" --os-release "$tmp/os-release" \
        --cmdline "$tmp/cmdline" --init-pid "$initpid" --esp "$tmp/esp" --idle-exit 2 \
        > "$tmp/act.log" 2>&1 <<'PY' &
import os, socket, sys
os.umask(0o177)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[2], sys.argv[2:])
PY
apid=$!
pids+=("$apid")
for _ in $(seq 100); do grep -q "serving the socket" "$tmp/act.log" && break; sleep 0.1; done
check "berthd takes the passed socket" grep -q "berthd: serving the socket passed as fd 3" "$tmp/act.log"
out=$("$BERTH" status --api "$asock" 2>&1)
check "berthd answers on the passed socket" grep -q '"version": "1.2.3"' <<< "$out"
t0=$SECONDS
for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
wait "$apid"
rc=$?
check "berthd exits 0 after --idle-exit 2 without a connection (exit $rc, $((SECONDS - t0)) s)" \
        [ "$rc" = 0 ]
check "its log says why" grep -q 'berthd: no connection for 2s, exiting' "$tmp/act.log"
check "the socket stays for the next start (PID 1's)" [ -S "$asock" ]

step "no API"
err=$("$BERTH" status --api "$tmp/none.sock" 2>&1)
rc=$?
check "no socket: exit 69 (got $rc)" [ "$rc" = 69 ]
check "no socket: one line (got '$err')" \
        [ "$err" = "berth: error: cannot reach the berth API at $tmp/none.sock: No such file or directory" ]
check_fails "berthd's log holds no sanitizer report" grep -q 'ERROR: \|runtime error' "$tmp/berthd.log"
finish
