/* SPDX-License-Identifier: MIT */
/* libFuzzer target: berth's HTTP response parser (src/shared/http-parse.c),
 * which reads what update repositories, package mirrors and the node API
 * answer. A whole response is parsed at once; the body is then decoded
 * again in pieces of varying size, which must give the same bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *in = (const char *) data;
        HttpResponse h, h2;
        char *body = NULL;
        size_t body_size = 0;

        int r = http_response_parse_full(in, size, &h, &body, &body_size);
        if (r < 0) {
                if (body || !error_message(r))
                        __builtin_trap();
                error_clear();
                return 0;
        }
        if (r < 100 || r > 599 || r != h.status || body_size > size || body[body_size] != 0)
                __builtin_trap();

        /* The same body, fed in pieces of 1, 2, 3, ... bytes. */
        int k = http_response_parse_head(in, size, &h2);
        if (k <= 0 || (size_t) k > size || h2.status != h.status)
                __builtin_trap();
        HttpBody b;
        size_t pos = (size_t) k, got = 0, step = 1;
        http_body_init(&b, &h2, false);
        while (pos < size) {
                const char *d;
                size_t used, n, piece = step < size - pos ? step : size - pos;
                int f = http_body_feed(&b, in + pos, piece, &used, &d, &n);
                if (f < 0 || used > piece || n > used || got + n > body_size ||
                    memcmp(body + got, d, n) != 0)
                        __builtin_trap();
                got += n;
                pos += used;
                if (f > 0)
                        break;
                step = step % 7 + 1;
        }
        if (http_body_eof(&b) < 0 || got != body_size)
                __builtin_trap();
        http_response_done(&h);
        http_response_done(&h2);
        free(body);
        return 0;
}
