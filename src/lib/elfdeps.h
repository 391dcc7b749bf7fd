/* SPDX-License-Identifier: MIT */
/* elfdeps.h: what an ELF64 little-endian file needs to run: its DT_NEEDED
 * names and its PT_INTERP. Needs only libc. The file is outside input (it
 * comes from a package): every offset is checked against size. */
#pragma once

#include <stddef.h>

/* Appends each DT_NEEDED name of the file in data (not already in *needed)
 * to *needed, and replaces *ret_interp (if not NULL) with the PT_INTERP path.
 * data must be aligned as malloc() aligns. A static file adds nothing.
 * Returns 0, -ENOEXEC if it is not ELF, -EBADMSG if it is not a usable ELF64
 * little-endian file (an offset or string out of range, an empty, "." or ".."
 * needed name), -ENOMEM. */
int elf_read_deps(const char *data, size_t size, char ***needed, char **ret_interp);

/* The value of key (e.g. "depends") in a kernel module's .modinfo section
 * (NUL-separated key=value strings), copied to *ret_value; NULL when the file
 * has no such section or key. Same errors as elf_read_deps(). */
int elf_read_modinfo(const char *data, size_t size, const char *key, char **ret_value);
