/* SPDX-License-Identifier: MIT */
/* canonical-json.h: canonical JSON as The Update Framework signs it (the OLPC
 * rules securesystemslib implements): object keys sorted by byte value, no
 * whitespace, strings escaped only for '"' and '\', integers only (no
 * floats), true/false/null. Signatures cover exactly these bytes, so a
 * publisher and a client that agree on them agree on what was signed. */
#pragma once

#include <stddef.h>

#include "json-util.h"

/* Encodes j into a new NUL-terminated buffer (caller frees); *ret_size (may be
 * NULL) gets its length. -EINVAL (with a message) for a real number or a
 * string with a NUL byte, which canonical JSON cannot carry. */
int json_canonical(const json_t *j, char **ret, size_t *ret_size);
