/* SPDX-License-Identifier: MIT */
#include "zstd-util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zstd.h>

#include "error.h"
#include "macro.h"

#define WINDOW_LOG_MAX 31

static void cctx_freep(ZSTD_CCtx **c) {
        ZSTD_freeCCtx(*c);
}

static void dctx_freep(ZSTD_DCtx **d) {
        ZSTD_freeDCtx(*d);
}

/* The smallest window that reaches from the end of src back to the start of
 * prefix. */
static int window_log(size_t total) {
        int log = 10;
        while (log < WINDOW_LOG_MAX && ((size_t) 1 << log) < total)
                log++;
        return ((size_t) 1 << log) < total ? -EFBIG : log;
}

int zstd_compress_with_prefix(const void *prefix, size_t prefix_size, const void *src,
                              size_t src_size, int level, void **ret, size_t *ret_size) {
        _cleanup_(cctx_freep) ZSTD_CCtx *c = ZSTD_createCCtx();
        _cleanup_free_ void *out = NULL;
        int wlog = window_log(prefix_size + src_size);
        size_t bound = ZSTD_compressBound(src_size), n;

        if (wlog < 0)
                return error_setf(EFBIG,
                                  "zstd: %zu bytes and a reference of %zu are more than a "
                                  "window covers",
                                  src_size, prefix_size);
        out = malloc(bound ?: 1);
        if (!c || !out)
                return -ENOMEM;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1)) ||
            ZSTD_isError(ZSTD_CCtx_refPrefix(c, prefix, prefix_size)))
                return error_setf(EINVAL, "zstd: cannot set up level %d with window 2^%d", level,
                                  wlog);
        n = ZSTD_compress2(c, out, bound, src, src_size);
        if (ZSTD_isError(n))
                return error_setf(EIO, "zstd: %s", ZSTD_getErrorName(n));
        *ret = TAKE_PTR(out);
        *ret_size = n;
        return 0;
}

int zstd_decompress_with_prefix(const void *prefix, size_t prefix_size, const void *src,
                                size_t src_size, void *dst, size_t dst_size) {
        _cleanup_(dctx_freep) ZSTD_DCtx *d = ZSTD_createDCtx();
        unsigned long long content = ZSTD_getFrameContentSize(src, src_size);
        size_t frame = ZSTD_findFrameCompressedSize(src, src_size), n;

        if (!d)
                return -ENOMEM;
        if (ZSTD_isError(frame) || frame != src_size)
                return error_setf(EBADMSG, "not one zstd frame");
        if (content != (unsigned long long) dst_size)
                return error_setf(EBADMSG, "the zstd frame holds %llu bytes, %zu expected",
                                  content == ZSTD_CONTENTSIZE_UNKNOWN ||
                                                  content == ZSTD_CONTENTSIZE_ERROR
                                          ? 0ULL
                                          : content,
                                  dst_size);
        if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, WINDOW_LOG_MAX)) ||
            ZSTD_isError(ZSTD_DCtx_refPrefix(d, prefix, prefix_size)))
                return -ENOMEM;
        n = ZSTD_decompressDCtx(d, dst, dst_size, src, src_size);
        if (ZSTD_isError(n))
                return error_setf(EBADMSG, "zstd: %s", ZSTD_getErrorName(n));
        if (n != dst_size)
                return error_setf(EBADMSG, "the zstd frame gave %zu bytes, %zu expected", n,
                                  dst_size);
        return 0;
}
