#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer rules of docs/architecture.md, checked over src/:

 - an outside library's headers are included only by its one wrapper in
   src/shared/ (libsolv: the composer's solve.c);
 - src/lib/ includes only src/lib/ headers; src/shared/ only src/lib/ and
   src/shared/; a tool (compose, init, vm, ...) only lib, shared and its own
   folder. The CLI front end (src/berth.c) may include every tool's header.

Prints one line per violation (file:line: what) and exits 1 if any."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
src = os.path.join(root, "src")

# header prefix -> the files allowed to include it
WRAPPERS = {
    # berth loads kernel modules itself (src/shared/modload.c), without libkmod.
    "libkmod.h": set(),
    "libcryptsetup.h": {"src/shared/verity.c"},
    "libfdisk.h": {"src/shared/gpt.c"},
    "libfdisk/": {"src/shared/gpt.c"},
    "blkid.h": {"src/shared/blockdev.c"},
    "blkid/": {"src/shared/blockdev.c"},
    "archive.h": {"src/shared/deb.c"},
    "archive_entry.h": {"src/shared/deb.c"},
    "jansson.h": {"src/shared/json-util.h"},
    # libssl's own headers belong to its wrapper tls.c; the rest of openssl/
    # is libcrypto (digest.c), whose error and X.509 verification calls
    # tls.c needs to report a failed handshake.
    "openssl/ssl.h": {"src/shared/tls.c"},
    "openssl/tls1.h": {"src/shared/tls.c"},
    "openssl/": {"src/shared/digest.c", "src/shared/tls.c"},
    "lzma.h": {"src/shared/compress.c"},
    "zstd.h": {"src/shared/zstd-util.c"},
    "zstd_errors.h": {"src/shared/zstd-util.c"},
    "solv/": {"src/compose/solve.c"},
    "microhttpd.h": {"src/api/http.c"},
    "seccomp.h": {"src/shared/seccomp-util.c"},
    "libdevmapper.h": set(),
}

LAYERS = {"lib": {"lib"}, "shared": {"lib", "shared"}}

inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
headers = {}  # header name -> layer folder
for d in os.listdir(src):
    p = os.path.join(src, d)
    if os.path.isdir(p):
        for f in os.listdir(p):
            if f.endswith(".h"):
                headers.setdefault(f, set()).add(d)

bad = 0
for dirpath, _, files in os.walk(src):
    for f in sorted(files):
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(dirpath, f)
        rel = os.path.relpath(path, root)
        folder = os.path.relpath(dirpath, src).split(os.sep)[0]
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = inc_re.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                if kind == "<":
                    for prefix, allowed in WRAPPERS.items():
                        if name == prefix or (prefix.endswith("/") and name.startswith(prefix)):
                            if rel not in allowed:
                                print(f"{rel}:{n}: <{name}> outside its wrapper "
                                      f"({', '.join(sorted(allowed)) or 'not used'})")
                                bad += 1
                    continue
                owners = headers.get(os.path.basename(name))
                if not owners or folder == ".":
                    continue  # a header of the same folder, generated, or the CLI front end
                may = LAYERS.get(folder, {"lib", "shared", folder})
                if not owners & may:
                    print(f'{rel}:{n}: "{name}" is in src/{"/".join(sorted(owners))}/, '
                          f"which src/{folder}/ may not include")
                    bad += 1
if bad:
    print(f"check-layers: {bad} violation(s)")
    sys.exit(1)
print("check-layers: ok")
