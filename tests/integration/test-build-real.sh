#!/bin/bash
# Builds the real default spec from the build host's configured Debian mirror,
# twice, and checks: every artifact bit-identical, dm-verity accepts the usr
# image and rejects it after one flipped byte, the manifest and SBOM agree with
# the artifacts, the package set stays small and free of maintainer-script-only
# packages. The first build is kept as the image the VM tests boot.
set -euo pipefail
. "$BERTH_SOURCE_ROOT/tests/lib.sh"

need veritysetup
need python3

PLAIN=${BERTH_PLAIN_BUILD:-$BERTH_BUILD_DIR}
IMAGE=$BERTH_BUILD_DIR/vm-image
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
# The real Debian index is 50 MB; libsolv loading it under ASan takes minutes,
# so the real-mirror builds use the plain build's berth. The composer runs
# under ASan against the generated repository (build-errors, repo, unit tests).
BERTH=$PLAIN/src/berth
TMP=$(mktemp -d /var/tmp/berth-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

step "build the default image (first build)"
"$BERTH" build --bindir "$PLAIN/src" --output "$IMAGE" "$BERTH_SOURCE_ROOT/images/container-host.conf" \
        | tee "$TMP/build1.log"

step "build it again into another directory"
"$BERTH" build --bindir "$PLAIN/src" --output "$TMP/out2" "$BERTH_SOURCE_ROOT/images/container-host.conf" >/dev/null

step "every artifact is bit-identical"
for f in vmlinuz initrd usr.erofs usr.verity cmdline disk.raw manifest.json sbom.spdx.json; do
        a=$(sha256sum < "$IMAGE/$f" | cut -d' ' -f1)
        b=$(sha256sum < "$TMP/out2/$f" | cut -d' ' -f1)
        check "$f identical ($a)" [ "$a" = "$b" ]
done

step "veritysetup verify accepts the usr image and rejects one flipped byte"
ROOT_HASH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_hash"])' "$IMAGE/manifest.json")
check "cmdline carries usrhash=$ROOT_HASH" grep -q "usrhash=$ROOT_HASH" "$IMAGE/cmdline"
check "veritysetup verify accepts" veritysetup verify "$IMAGE/usr.erofs" "$IMAGE/usr.verity" "$ROOT_HASH"
cp "$IMAGE/usr.erofs" "$TMP/flipped.erofs"
python3 - "$TMP/flipped.erofs" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(8192 + 17)
    b = f.read(1)
    f.seek(8192 + 17)
    f.write(bytes([b[0] ^ 0x01]))
PY
check_fails "veritysetup verify rejects a flipped byte" veritysetup verify "$TMP/flipped.erofs" "$IMAGE/usr.verity" "$ROOT_HASH"

step "the initrd carries no crypto library of its own (docs/init.md)"
# The initrd is zstd frames of whole newc archives (docs/architecture.md):
# decompressed they are one stream of entries with a trailer after each run.
check "initrd: no libcryptsetup, libdevmapper, libssl, libcrypto, libkmod" \
        python3 - "$IMAGE/initrd" <<'PY'
import re, subprocess, sys
data = subprocess.run(["zstd", "-dcq", sys.argv[1]], capture_output=True, check=True).stdout
names, i = [], 0
while i + 110 <= len(data):
    if data[i:i + 6] != b"070701":
        break
    size, namesize = int(data[i + 54:i + 62], 16), int(data[i + 94:i + 102], 16)
    names.append(data[i + 110:i + 110 + namesize - 1].decode())
    i = (((i + 110 + namesize + 3) & ~3) + size + 3) & ~3
    while i < len(data) and data[i] == 0:
        i += 1  # padding between the archives of two frames
libs = sorted({re.sub(r"\.so(\..*)?$", "", n.rsplit("/", 1)[-1])
               for n in names if re.search(r"\.so(\.|$)", n)})
print(f"  {len(names)} entries; libraries: {' '.join(libs)}")
assert "init" in names, "no /init in the initrd"
# Stage 1 opens dm-verity with device-mapper's ioctls and loads modules with
# berth's own loader (libkmod links libcrypto, for module signatures).
for bad in ("libcryptsetup", "libdevmapper", "libssl", "libcrypto", "libkmod"):
    assert bad not in libs, f"{bad} is in the initrd"
PY

step "manifest, SBOM and package set"
check "manifest and SBOM agree with the artifacts; package set small" python3 - "$IMAGE" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
names = [p["name"] for p in m["packages"]]
print(f"  {len(names)} packages: {' '.join(names)}")
assert len(names) <= 60, f"too many packages: {len(names)}"
for bad in ("perl", "perl-base", "debconf", "adduser", "ucf", "init-system-helpers"):
    assert bad not in names, f"{bad} must stay out of the image"
for want in ("containerd", "crun", "chrony"):
    assert want in names, f"{want} missing"
# berth loads kernel modules itself (docs/architecture.md, "Kernel modules").
assert "libkmod2" not in names, "libkmod2 must stay out of the image"
# crun is the only OCI runtime (docs/size.md).
assert "runc" not in names, "runc must stay out of the default image"
for a in m["artifacts"]:
    h = hashlib.sha256(open(os.path.join(d, a["name"]), "rb").read()).hexdigest()
    assert h == a["sha256"], f"manifest sha256 of {a['name']} is wrong"
s = json.load(open(os.path.join(d, "sbom.spdx.json")))
assert s["spdxVersion"] == "SPDX-2.3"
spdx_names = {p["name"] for p in s["packages"]}
missing = set(names) - spdx_names
assert not missing, f"SBOM lacks {missing}"
print("  manifest and SBOM agree with the artifacts")
PY

finish
