/* SPDX-License-Identifier: MIT */
/* cmdline.h: reading a kernel command line (berth-init, berth audit). libc
 * only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Looks up KEY=VALUE in a command line string (words split on whitespace,
 * double quotes group). Returns 1 and copies the value (truncated to size)
 * into ret if found, 0 if absent. The last occurrence wins. A bare word KEY
 * counts as found with an empty value. */
int cmdline_get(const char *cmdline, const char *key, char *ret, size_t size);

/* True if name is in the module_blacklist= word of cmdline (comma-separated,
 * '-' and '_' alike): the kernel refuses to load it by any path. */
bool cmdline_module_blacklisted(const char *cmdline, const char *name);

/* True if name is in the comma-separated list of word KEY=
 * ("modprobe.blacklist"), '-' and '_' alike. */
bool cmdline_module_listed(const char *cmdline, const char *key, const char *name);

/* The parameters cmdline gives module NAME: its NAME.PARAM[=VALUE] words
 * (NAME with '-' and '_' alike), as "PARAM[=VALUE] ..." for init_module(2),
 * a value with spaces in double quotes. The kernel applies such words only
 * to built-in code; for a loadable module the loader passes them (as
 * modprobe does). Returns the length (0: none), -ENOBUFS if they do not fit
 * size. */
int cmdline_module_options(const char *cmdline, const char *name, char *ret, size_t size);
