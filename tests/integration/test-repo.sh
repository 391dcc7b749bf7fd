#!/bin/bash
# SPDX-License-Identifier: MIT
# Repository trust and download behaviour over HTTP on loopback, against the
# generated repository (tests/fixtures/mkrepo.sh), through repo-tool:
# signatures, Valid-Until, index checksums, cache repair and resume.
set -uo pipefail

src=${BERTH_SOURCE_ROOT:?}
tool=${REPO_TOOL:?}
for t in apt-ftparchive gpg gpgv dpkg-deb python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

tmp=$(mktemp -d /tmp/berth-test-repo-XXXXXX)
pidfile=$tmp/server.pid
cleanup() {
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; fails=$((fails + 1)); }

"$src/tests/fixtures/mkrepo.sh" "$tmp/repo" >/dev/null || { echo "mkrepo failed"; exit 1; }
url=$("$src/tests/fixtures/serve.sh" "$tmp/repo" "$pidfile") || { echo "serve failed"; exit 1; }
key=$tmp/repo/keyring.gpg
# run_in CACHE_DIR ARGS...: repo-tool with that cache; its output in $out and $err.
run_in() {
        "$tool" "$@" 2>"$tmp/err" >"$tmp/out" </dev/null
        rc=$?
        out=$(cat "$tmp/out")
        err=$(cat "$tmp/err")
        return $rc
}

# 1. A good signature passes; the newest version across suites wins.
if run_in "$tmp/c1" --keyring "$key" "$url" stable,updates main berth-test-app &&
   grep -q "^berth-test-lib 1.2 " <<<"$out" && ! grep -q "^berth-test-alt " <<<"$out"; then
        pass "good signature over HTTP, closure resolved"
else
        fail "good signature: $err"
fi

# 2. A tampered InRelease fails, naming the URL and gpgv's verdict.
cp -a "$tmp/repo" "$tmp/tampered"
sed -i 's/^Label: BerthTest/Label: Evil/' "$tmp/tampered/dists/stable/InRelease"
mv "$tmp/repo" "$tmp/repo.good" && mv "$tmp/tampered" "$tmp/repo"
if ! run_in "$tmp/c2" --keyring "$key" "$url" stable main berth-test-app &&
   grep -q "$url/dists/stable/InRelease" <<<"$err" && grep -qi "bad signature" <<<"$err"; then
        pass "tampered InRelease rejected: $(head -n1 <<<"$err")"
else
        fail "tampered InRelease: rc=$rc $err"
fi
rm -rf "$tmp/repo" && mv "$tmp/repo.good" "$tmp/repo"

# 3. Signed by a key that is not in the keyring.
if ! run_in "$tmp/c3" --keyring "$key" "$url" unknown main berth-test-app &&
   grep -q "$url/dists/unknown/InRelease" <<<"$err" && grep -qi "public key" <<<"$err"; then
        pass "unknown signing key rejected"
else
        fail "unknown key: rc=$rc $err"
fi

# 4. Valid-Until in the past: an error when checked, a notice when not.
if ! run_in "$tmp/c4" --keyring "$key" "$url" expired main berth-test-app &&
   grep -q "expired on" <<<"$err"; then
        pass "expired Valid-Until rejected"
else
        fail "expired (checking): rc=$rc $err"
fi
if run_in "$tmp/c5" --no-check-valid-until --keyring "$key" "$url" expired main berth-test-app &&
   grep -q "Valid-Until .*ignored.*Check-Valid-Until false" <<<"$err"; then
        pass "expired Valid-Until accepted with a notice when checking is off"
else
        fail "expired (not checking): rc=$rc $err"
fi

# 5. A Packages index whose content does not match the signed digest.
pk=$tmp/repo/dists/stable/main/binary-amd64/Packages.xz
cp "$pk" "$tmp/Packages.xz.good"
python3 - "$pk" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(b)
EOF
if ! run_in "$tmp/c6" --keyring "$key" "$url" stable main berth-test-app &&
   grep -q "SHA-256 mismatch for $url/dists/stable/main/binary-amd64/Packages.xz: expected [0-9a-f]\{64\}, got [0-9a-f]\{64\}" <<<"$err"; then
        pass "Packages checksum mismatch rejected"
else
        fail "Packages checksum: rc=$rc $err"
fi
cp "$tmp/Packages.xz.good" "$pk"

# 6. A corrupted .deb in the cache is never used: it is fetched again.
c=$tmp/c7
if run_in "$c" --fetch --keyring "$key" "$url" stable,updates main berth-test-app; then
        deb=$c/debs/berth-test-app_1.0_amd64.deb
        good=$(sha256sum <"$tmp/repo/pool/main/berth-test-app_1.0_amd64.deb")
        printf 'X' | dd of="$deb" bs=1 seek=100 conv=notrunc status=none
        if run_in "$c" --fetch --keyring "$key" "$url" stable,updates main berth-test-app &&
           [ "$(sha256sum <"$deb")" = "$good" ] && grep -q "corrupt" <<<"$err"; then
                pass "corrupted cached .deb fetched again"
        else
                fail "corrupt cache: rc=$rc $err"
        fi
        # The cached, verified Packages index is reused (no new download of it).
        : >"$tmp/server.log"
        if run_in "$c" --keyring "$key" "$url" stable,updates main berth-test-app &&
           ! grep -q "Packages.xz" "$tmp/server.log" && grep -q "InRelease" "$tmp/server.log"; then
                pass "cached Packages index reused"
        else
                fail "index cache: $(cat "$tmp/server.log")"
        fi

        # 7. Resume: a .partial holding the first half is completed with a Range request.
        deb=$c/debs/berth-test-base_1.0_amd64.deb
        orig=$tmp/repo/pool/main/berth-test-base_1.0_amd64.deb
        size=$(stat -c %s "$orig")
        rm -f "$deb"
        head -c $((size / 2)) "$orig" >"$deb.partial"
        : >"$tmp/server.log"
        if run_in "$c" --fetch --keyring "$key" "$url" stable,updates main berth-test-app &&
           cmp -s "$deb" "$orig" && [ ! -e "$deb.partial" ] &&
           grep -q "berth-test-base_1.0_amd64.deb bytes=$((size / 2))- 206" "$tmp/server.log"; then
                pass "download resumed from .partial with a Range request"
        else
                fail "resume: rc=$rc $err $(cat "$tmp/server.log")"
        fi

        # A .partial with garbage in it: the digest fails, the file is fetched whole.
        rm -f "$deb"
        head -c $((size / 2)) /dev/urandom >"$deb.partial"
        if run_in "$c" --fetch --keyring "$key" "$url" stable,updates main berth-test-app &&
           cmp -s "$deb" "$orig"; then
                pass "bad .partial replaced by a whole download"
        else
                fail "bad partial: rc=$rc $err"
        fi
else
        fail "fetch: rc=$rc $err"
fi

# 8. A missing file is a clear 404 error naming the URL.
if ! run_in "$tmp/c8" --keyring "$key" "$url" nosuchsuite main berth-test-app &&
   grep -q "$url/dists/nosuchsuite/InRelease" <<<"$err" && grep -q "404" <<<"$err"; then
        pass "missing suite reported with its URL"
else
        fail "missing suite: rc=$rc $err"
fi

[ "$fails" -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
