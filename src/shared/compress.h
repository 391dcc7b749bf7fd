/* SPDX-License-Identifier: MIT */
/* compress.h: in-memory decompression with liblzma, the only place in berth
 * that calls it. (Streams of other formats go through archive-util.h.) */
#pragma once

#include <stddef.h>

/* If *data (of *size bytes) is an xz stream, replaces it with its decompressed
 * bytes (freeing the old buffer) and returns 1; returns 0 and leaves it alone
 * if it is not xz; -EBADMSG for a corrupt stream. */
int xz_decompress(char **data, size_t *size);
