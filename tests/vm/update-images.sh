# SPDX-License-Identifier: MIT
# tests/vm/update-images.sh: the releases the update VM tests install, composed
# once and shared (sourced after tests/vm/lib.sh by test-update.sh and
# test-powercut.sh). `update_images` makes, in KEEP=$BERTH_BUILD_DIR/update-vm-test:
#
#   keys/     berth keygen output (root.json is what the images trust)
#   v1/       images/test.conf + [Update], version 1.0.0, with disk.raw
#   v2/       2.0.0: one package more (less), no disk
#   v3/       3.0.0: like v2 plus test-neverready (never ready; HealthTimeout=20)
#
# and keeps them while the specs and the binaries that go into them are the
# same (a stamp over both); concurrent tests wait for one composition (flock).
# The repository URL baked into the images is never reached: the guest names
# the served one with --repo (its port is picked at run time).

KEEP=$BERTH_BUILD_DIR/update-vm-test
UPDATE_COMPOSER=${BERTH_VM_COMPOSER:-$BERTH_PLAIN_BUILD/src/berth}
[ -x "$UPDATE_COMPOSER" ] || UPDATE_COMPOSER=$BERTH

_update_spec() { # VERSION EXTRA-PACKAGES [EXTRA-SERVICES HEALTH-TIMEOUT]
        printf '[Spec]\nInclude=%s\n\n[Image]\nVersion=%s\n' "$BERTH_SOURCE_ROOT/images/test.conf" "$1"
        [ -z "$2" ] || printf '\n[Packages]\nInclude=%s\n' "$2"
        [ -z "${3:-}" ] || printf '\n[Services]\nEnable=%s\n' "$3"
        printf '\n[Update]\nRoot=%s\nRepository=http://10.0.2.2:9/berth\nHealthGrace=5\nHealthTimeout=%s\n' \
                "$KEEP/keys/root.json" "${4:-300}"
}

_update_compose() { # NAME [--no-disk]: KEEP/NAME from KEEP/NAME.conf
        local name=$1
        shift
        "$UPDATE_COMPOSER" build "$@" --bindir "$BERTH_PLAIN_BUILD/src" --output "$KEEP/$name" \
                "$KEEP/$name.conf" >"$KEEP/$name.log" 2>&1 ||
                { tail -n 20 "$KEEP/$name.log"; return 1; }
}

update_images() {
        mkdir -p "$KEEP"
        local stamp
        stamp=$( (_update_spec 1.0.0 ""; _update_spec 2.0.0 less; _update_spec 3.0.0 less test-neverready 20
                  cat "$BERTH_SOURCE_ROOT"/images/*.conf
                  find "$BERTH_SOURCE_ROOT/data" -type f -print0 | sort -z | xargs -0 cat
                  cat "$BERTH_PLAIN_BUILD"/src/{berth,berth-compose,berth-update} \
                      "$BERTH_PLAIN_BUILD/src/init/berth-init" "$BERTH_PLAIN_BUILD/src/init/berth-stage1" \
                      "$BERTH_PLAIN_BUILD/src/net/berth-netevent") |
                sha256sum | cut -d' ' -f1)
        (
                flock 9
                if [ "$(cat "$KEEP/stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$KEEP/v1/disk.raw" ] &&
                   [ -f "$KEEP/v2/usr.erofs" ] && [ -f "$KEEP/v3/usr.erofs" ]; then
                        step "reusing the composed v1, v2 and v3 in $KEEP"
                        exit 0
                fi
                step "compose v1 (disk), v2 (one package more) and v3 (a service never ready)"
                rm -rf "$KEEP/keys" "$KEEP/v1" "$KEEP/v2" "$KEEP/v3" "$KEEP/stamp"
                "$UPDATE_COMPOSER" keygen --output "$KEEP/keys" >/dev/null
                _update_spec 1.0.0 "" >"$KEEP/v1.conf"
                _update_spec 2.0.0 less >"$KEEP/v2.conf"
                _update_spec 3.0.0 less test-neverready 20 >"$KEEP/v3.conf"
                _update_compose v1 && _update_compose v2 --no-disk && _update_compose v3 --no-disk ||
                        exit 1
                echo "$stamp" >"$KEEP/stamp"
        ) 9>"$KEEP.lock"
}

# update_root_hash NAME: the root hash of KEEP/NAME's usr image.
update_root_hash() {
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$KEEP/$1/manifest.json"
}

# update_repo: publishes v1 and v2 to REPO=$VM_TMP/repo and serves it over
# HTTP on loopback: URL for the host, GUEST_URL for the guest (QEMU user
# networking reaches the host at 10.0.2.2). The server stops at exit; its
# request log is $VM_TMP/server.log.
update_repo() {
        step "publish v1 and v2, serve the repository on loopback"
        REPO=$VM_TMP/repo
        "$BERTH" publish --repo "$REPO" --key "$KEEP/keys" "$KEEP/v1" >/dev/null 2>&1
        "$BERTH" publish --repo "$REPO" --key "$KEEP/keys" "$KEEP/v2" >/dev/null 2>&1
        URL=$("$BERTH_SOURCE_ROOT/tests/fixtures/serve.sh" "$REPO" "$VM_TMP/server.pid")
        trap 'kill "$(cat "$VM_TMP/server.pid")" 2>/dev/null || true; _vm_cleanup' EXIT
        GUEST_URL=${URL/127.0.0.1/10.0.2.2}
        echo "repository: $URL (guest: $GUEST_URL)"
}

# update_machine DISK: a new machine's disk at DISK (raw, sparse): v1's
# disk.raw with 512 MiB more, so /var (grown on first boot) has room for a
# downloaded release.
update_machine() {
        cp --sparse=always "$KEEP/v1/disk.raw" "$1"
        truncate -s +512M "$1"
}

# update_guest_lib: what the update tests' payload scripts (busybox sh) start
# with: t NAME CMD... (one "T: ok NAME" or "T: FAIL NAME" line for
# vm_guest_results; failures counted in $fails), now (uptime, seconds), and
# the running $slot (berth.slot=) and $version (os-release).
update_guest_lib() {
        cat <<'GUEST'
fails=0
t() {
        name=$1
        shift
        if "$@"; then echo "T: ok $name"; else echo "T: FAIL $name"; fails=$((fails + 1)); fi
}
now() { cut -d' ' -f1 /proc/uptime; }
slot=$(sed -n 's/.*berth\.slot=\([ab]\).*/\1/p' /proc/cmdline)
version=$(sed -n 's/^VERSION_ID=//p' /usr/lib/os-release | tr -d '"')
GUEST
}
