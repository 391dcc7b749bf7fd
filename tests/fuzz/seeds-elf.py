#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# seeds-elf.py DIR: writes seed inputs for fuzz-elf into DIR (run-fuzzers.sh
# calls it on its copy of the corpus): two minimal ELF64 files made here (one
# dynamic, with PT_INTERP and two DT_NEEDED; one static) and, where the host
# has it, a real dynamically linked binary. Binaries are generated, never
# committed.
import os
import shutil
import struct
import sys

out = sys.argv[1]
BASE = 0x400000


def elf(dynamic):
    interp = b"/lib64/ld-linux-x86-64.so.2\0"
    strtab = b"\0libc.so.6\0libm.so.6\0"
    phnum = 3 if dynamic else 1
    ph_off = 64
    interp_off = ph_off + 56 * phnum
    dyn_off = (interp_off + len(interp) + 7) & ~7
    dyn = [(1, 1), (1, 11), (5, 0), (10, len(strtab)), (0, 0)]
    str_off = dyn_off + 16 * len(dyn)
    total = str_off + len(strtab) if dynamic else interp_off
    dyn[2] = (5, BASE + str_off)
    ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, ph_off, 0, 0, 64, 56, phnum, 64, 0, 0)
    phdrs = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, total, total, 0x1000)
    if dynamic:
        phdrs += struct.pack("<IIQQQQQQ", 3, 4, interp_off, BASE + interp_off,
                             BASE + interp_off, len(interp), len(interp), 1)
        phdrs += struct.pack("<IIQQQQQQ", 2, 6, dyn_off, BASE + dyn_off, BASE + dyn_off,
                             16 * len(dyn), 16 * len(dyn), 8)
    data = ehdr + phdrs
    if dynamic:
        data += interp + bytes(dyn_off - interp_off - len(interp))
        data += b"".join(struct.pack("<qQ", t, v) for t, v in dyn) + strtab
    assert len(data) == total
    return data


with open(os.path.join(out, "dynamic.elf"), "wb") as f:
    f.write(elf(True))
with open(os.path.join(out, "static.elf"), "wb") as f:
    f.write(elf(False))
for real in ("/usr/bin/true", "/bin/true"):
    if os.path.exists(real):
        shutil.copyfile(real, os.path.join(out, "true"))
        break
