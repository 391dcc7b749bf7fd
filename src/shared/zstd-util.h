/* SPDX-License-Identifier: MIT */
/* zstd-util.h: libzstd, the only place in berth that calls it: one frame
 * compressed and decompressed against a reference ("prefix"), as the usr
 * image patches use it (usr-patch.h). The initrd's frames are written by the
 * zstd program and only scanned (delta-index.h). */
#pragma once

#include <stddef.h>

/* Compresses src into one zstd frame that may refer back into prefix (the
 * older image), with a window covering prefix and src and long-distance
 * matching, and no checksum of its own (a damaged prefix then gives wrong
 * bytes where it was referred to, which the caller's own hashes find, rather
 * than no bytes at all). *ret is malloc()ed. -EFBIG when prefix and src are more than a
 * zstd window can cover (2 GiB). */
int zstd_compress_with_prefix(const void *prefix, size_t prefix_size, const void *src,
                              size_t src_size, int level, void **ret, size_t *ret_size);

/* Decompresses the one frame of src against prefix into dst, which must come
 * out exactly dst_size bytes; -EBADMSG (with a message) for anything else: a
 * corrupt frame, a frame of another size, or trailing bytes. */
int zstd_decompress_with_prefix(const void *prefix, size_t prefix_size, const void *src,
                                size_t src_size, void *dst, size_t dst_size);
