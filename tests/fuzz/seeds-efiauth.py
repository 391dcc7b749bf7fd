#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# seeds-efiauth.py DIR: writes seed inputs for fuzz-efiauth into DIR
# (run-fuzzers.sh calls it on its copy of the corpus): `.auth` files laid out
# as sign-efi-sig-list writes them, one with a single X.509 signature list and
# one with two lists. Binaries are generated, never committed.
import os
import struct
import sys

out = sys.argv[1]
PKCS7 = bytes.fromhex("9dd2af4adf68ee498aa9347d375665a7")
X509 = bytes.fromhex("a159c0a5e494a74a87b5ab155c2bf072")
SHA256 = bytes.fromhex("2616c4c14c509a4c9e0a0ed9e7f4a2c4")[:16]


def sig_list(kind, size, count):
    sigs = b"".join(b"\x11" * 16 + bytes([i]) * (size - 16) for i in range(count))
    return kind + struct.pack("<III", 28 + len(sigs), 0, size) + sigs


def auth(lists):
    time = struct.pack("<HBBBBBBIhBB", 2026, 11, 26, 0, 0, 0, 0, 0, 0, 0, 0)
    pkcs7 = b"\x30\x82" + b"\x00" * 62
    cert = struct.pack("<IHH", 24 + len(pkcs7), 0x0200, 0x0EF1) + PKCS7 + pkcs7
    return time + cert + b"".join(lists)


os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "one-x509.auth"), "wb") as f:
    f.write(auth([sig_list(X509, 16 + 64, 1)]))
with open(os.path.join(out, "x509-and-hashes.auth"), "wb") as f:
    f.write(auth([sig_list(X509, 16 + 40, 1), sig_list(SHA256, 16 + 32, 3)]))
