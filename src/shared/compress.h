/* SPDX-License-Identifier: MIT */
/* compress.h: in-memory decompression with liblzma, the only place in berth
 * that calls it. (Streams of other formats go through archive-util.h.) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True if data (size bytes, at least 6 looked at) starts an xz stream. */
bool xz_is_stream(const void *data, size_t size);

/* If *data (of *size bytes) is an xz stream, replaces it with its decompressed
 * bytes (freeing the old buffer) and returns 1; returns 0 and leaves it alone
 * if it is not xz; -EBADMSG for a corrupt stream. */
int xz_decompress(char **data, size_t *size);
