/* SPDX-License-Identifier: MIT */
/* ini.h: the INI dialect of berth's image specs and service files.
 *
 *   # comment            ; comment
 *   [Section]
 *   Key=value            (whitespace around key and value is trimmed)
 *   Key=long \           (a trailing backslash continues the value on the next line)
 *       value
 *
 * A key before any section, a line without '=', an empty key or an unclosed
 * section header is an error naming path:line. The handler sees every
 * key/value in file order, with the line it started on; it returns < 0 to stop
 * (it is expected to log with path:line itself). Needs only libc. */
#pragma once

#include <stddef.h>

typedef int (*ini_handler_t)(const char *path, unsigned line, const char *section,
                             const char *key, const char *value, void *userdata);

/* Called for each section header too, with key == NULL and value == NULL, so
 * the handler can reject unknown sections at their own line. */
int ini_parse_string(const char *path, const char *data, size_t size, ini_handler_t handler,
                     void *userdata);
int ini_parse_file(const char *path, ini_handler_t handler, void *userdata);
