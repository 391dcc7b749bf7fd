/* SPDX-License-Identifier: MIT */
/* pe.h: reads one section of a PE/COFF file, enough to ask a unified kernel
 * image (systemd-stub + .osrel, .cmdline, .linux, .initrd) what it carries:
 * the updater reads a UKI's version from its .osrel, as systemd-boot does to
 * sort its entries. Every offset and size of the file is checked against
 * the file before it is used. Needs only libc. */
#pragma once

#include <stddef.h>

/* The contents of section name (at most 8 characters, e.g. ".osrel") of the
 * PE file path, NUL-terminated, at most max bytes (caller frees). -ENOENT
 * without that section, -EBADMSG for a file that is no PE image or whose
 * headers point outside it, -EFBIG for a section over max. */
int pe_read_section(const char *path, const char *name, size_t max, char **ret);

/* IMAGE_VERSION= (else VERSION_ID=) of os-release text, unquoted (caller
 * frees); -ENOENT if it has neither. */
int os_release_version(const char *text, char **ret);

/* The version of the UKI at path: its .osrel's IMAGE_VERSION or VERSION_ID. */
int uki_read_version(const char *path, char **ret);
