/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the usr image patch reader (usr-patch.h). A patch comes
 * from a repository (checked against its signed target first, but parsed as
 * outside input: a publisher's bug or a stolen targets key). A header that
 * parses must describe runs inside the image that add up to what it says it
 * carries; a small frame is then decompressed against a fixed reference, as
 * the agent does, into a buffer of exactly the carried size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "usr-patch.h"
#include "zstd-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t prefix[64 * 1024];
        UsrPatch p = {};
        uint64_t sum = 0, end = 0;

        if (usr_patch_parse(data, size, &p) < 0) {
                error_clear();
                return 0;
        }
        for (size_t i = 0; i < p.n_runs; i++) {
                if (p.runs[i].count == 0 || p.runs[i].first < end ||
                    p.runs[i].first + p.runs[i].count > p.new_blocks)
                        abort();
                end = p.runs[i].first + p.runs[i].count;
                sum += p.runs[i].count;
        }
        if (sum != p.carried || p.frame < data || p.frame + p.frame_size != data + size)
                abort();
        if (p.carried <= 64) {
                size_t n = (size_t) p.carried * 4096;
                uint8_t *out = malloc(n);
                if (out) {
                        memset(prefix, 0x5a, sizeof prefix);
                        (void) zstd_decompress_with_prefix(prefix, sizeof prefix, p.frame,
                                                           p.frame_size, out, n);
                        error_clear();
                        free(out);
                }
        }
        usr_patch_done(&p);
        return 0;
}
