/* SPDX-License-Identifier: MIT */
#include "compress.h"

#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

bool xz_is_stream(const void *data, size_t size) {
        static const uint8_t magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
        return size >= sizeof magic && memcmp(data, magic, sizeof magic) == 0;
}

int xz_decompress(char **data, size_t *size) {
        lzma_stream s = LZMA_STREAM_INIT;
        _cleanup_free_ char *out = NULL;
        size_t alloc = 0;
        lzma_ret lr;

        if (!xz_is_stream(*data, *size))
                return 0;
        if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
                return -ENOMEM;
        s.next_in = (const uint8_t *) *data;
        s.avail_in = *size;
        do {
                if (s.avail_out == 0) {
                        size_t na = alloc ? alloc * 2 : *size * 4 + 4096;
                        char *n = realloc(out, na);
                        if (!n) {
                                lzma_end(&s);
                                return -ENOMEM;
                        }
                        out = n;
                        s.next_out = (uint8_t *) out + alloc;
                        s.avail_out = na - alloc;
                        alloc = na;
                }
                lr = lzma_code(&s, LZMA_FINISH);
        } while (lr == LZMA_OK);
        size_t n = alloc - s.avail_out;
        lzma_end(&s);
        if (lr != LZMA_STREAM_END)
                return -EBADMSG;
        free(*data);
        *data = TAKE_PTR(out);
        *size = n;
        return 1;
}
