#!/bin/bash
# SPDX-License-Identifier: MIT
# The one error path, seen from the command line: each bad input gives exactly
# one line on stderr, verbatim below (no strerror suffix on errors berth
# detects itself), and an exit code a script can tell apart (docs/errors.md).
# Needs nothing but the berth binary: every case fails before any download.
set -uo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"
BERTH=${BERTH:-$BERTH_SOURCE_ROOT/build/src/berth}
[ -x "$BERTH" ] || skip "no berth binary at $BERTH"
tmp=$(mktemp -d /tmp/berth-cli-errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# expect NAME EXIT-CODE 'stderr line' -- berth args...
expect() {
        local name=$1 want_rc=$2 want=$3
        shift 4
        local err rc
        err=$("$BERTH" "$@" 2>&1 >/dev/null)
        rc=$?
        check "$name: exit $want_rc (got $rc)" [ "$rc" = "$want_rc" ]
        check "$name: one line '$want' (got '$err')" [ "$err" = "$want" ]
}

spec() {
        printf "$2" > "$tmp/$1.conf"
        echo "$tmp/$1.conf"
}

s=$(spec key '[Image]\nName=x\nVersion=1\nColour=red\n')
expect "unknown key" 65 "berth: error: $s:4: unknown key 'Colour' in [Image]" -- build --no-disk -o "$tmp/out" "$s"
s=$(spec section '[Colours]\nA=b\n')
expect "unknown section" 65 "berth: error: $s:1: unknown section [Colours]" -- build -o "$tmp/out" "$s"
s=$(spec range '[Image]\nName=x\nVersion=1\n[Boot]\nTries=99\n')
expect "number out of range" 65 "berth: error: $s:5: Boot.Tries: '99' is not a number from 1 to 10" -- build -o "$tmp/out" "$s"
s=$(spec size '[Image]\nName=x\nVersion=1\n[Disk]\nSize=12Q\n')
expect "bad size" 65 "berth: error: $s:5: Disk.Size: '12Q' is not a size (bytes, or a number with K, M or G)" -- build -o "$tmp/out" "$s"
s=$(spec header '[Image\n')
expect "bad header" 65 "berth: error: $s:1: bad section header '[Image'" -- build -o "$tmp/out" "$s"
s=$(spec outside 'Name=x\n')
expect "key outside a section" 65 "berth: error: $s:1: key outside of any [Section]" -- build -o "$tmp/out" "$s"
expect "missing spec" 69 "berth: error: $tmp/none.conf: cannot read: No such file or directory" -- build -o "$tmp/out" "$tmp/none.conf"

expect "negative --jobs" 64 "berth: error: --jobs: '-1' is not a number from 1 to 64" -- build --jobs -1 "$s"
expect "--jobs 0" 64 "berth: error: --jobs: '0' is not a number from 1 to 64" -- build --jobs 0 "$s"
expect "--memory too small" 64 "berth: error: --memory: '12' is not a number from 128 to 1048576" -- vm --memory 12 "$tmp"
expect "--timeout not a number" 64 "berth: error: --timeout: '5s' is not a number from 0 to 604800" -- vm --timeout 5s "$tmp"
expect "unknown verb" 64 "berth: error: unknown verb 'frob' (try 'berth help')" -- frob
expect "--api without a path" 64 "berth: error: --api needs a socket path" -- --api
expect "--api= empty" 64 "berth: error: --api needs a socket path" -- --api=
expect "--api PATH to nothing" 69 "berth: error: cannot reach the berth API at $tmp/none.sock: No such file or directory" -- --api "$tmp/none.sock" status

s=$(spec cycle "[Spec]\nInclude=$tmp/cycle.conf\n")
expect "include cycle" 65 "berth: error: $s:2: Spec.Include: include cycle: $s -> $s" -- build -o "$tmp/out" "$s"
s=$(spec inc-missing "[Image]\nName=x\nVersion=1\n[Spec]\nInclude=nothere.conf\n")
expect "include of a missing file" 65 "berth: error: $s:5: Spec.Include: cannot read $tmp/nothere.conf: No such file or directory" -- build -o "$tmp/out" "$s"
expect "service: bad verb" 64 "berth: error: usage: berth service [status [NAME] | start NAME | stop NAME | restart NAME]" -- service reload chrony
expect "service: bad name" 64 "berth: error: '../x' is not a service name" -- service restart ../x
expect "service: no berth-init" 69 "berth: error: cannot talk to berth-init on $tmp/init.sock: No such file or directory" -- service --run-dir "$tmp" restart chrony
check "nothing was written" [ ! -e "$tmp/out" ]
# berth update (the berth-update helper)
expect "unknown update verb" 64 "berth: error: unknown update verb 'frob' (status, check, download, apply, mark-good, mark-bad, service, periodic, lock)" -- update frob
expect "update lock without etcd endpoints" 65 "berth: error: no etcd endpoints: no --etcd URL and no EtcdEndpoints= in update.conf" -- update lock status --config "$tmp/none" --state "$tmp/state"
expect "update lock with a bad holder ID" 64 "berth: error: --id a/b: not a holder ID ([A-Za-z0-9._:-])" -- update lock take --etcd http://127.0.0.1:9 --id a/b --config "$tmp/none" --state "$tmp/state"
expect "update lock release of a bad holder ID" 64 "berth: error: holder ID 'a/b': not of [A-Za-z0-9._:-]" -- update lock release a/b --etcd http://127.0.0.1:9 --config "$tmp/none" --state "$tmp/state"
expect "update lock with a bad group" 64 "berth: error: --group a/b: not a name of [A-Za-z0-9._:-]" -- update lock status --group a/b --etcd http://127.0.0.1:9 --config "$tmp/none" --state "$tmp/state"
expect "update lock with an unknown verb" 64 "berth: error: unknown lock verb 'grab' (status, take, release, renew)" -- update lock grab --etcd http://127.0.0.1:9 --config "$tmp/none" --state "$tmp/state"
expect "update without a repository" 69 "berth: error: no update repository: no --repo URL and no Repository= in $tmp/none/update.conf" -- update check --config "$tmp/none" --disk "$tmp/x.raw" --state "$tmp/st"
printf 'not a disk' > "$tmp/x.raw"
expect "update on a file without GPT" 65 "berth: error: $tmp/x.raw: no GPT partition table" -- update status --disk "$tmp/x.raw" --state "$tmp/st"
expect "update timeout out of range" 64 "berth: error: --timeout: '0' is not a number from 1 to 3600" -- update check --timeout 0

finish
