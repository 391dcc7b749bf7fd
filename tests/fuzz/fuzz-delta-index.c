/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the delta updater's readers of zstd frames and of
 * initrd.frames (delta-index.h). The running initrd comes from an ESP, which
 * whoever can write the disk controls, and initrd.frames from a repository
 * (checked against its target first, but parsed as outside input). The same
 * bytes go to both readers; initrd.frames is parsed once against the total
 * its lengths give and once against another. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "delta-index.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ZstdFrame *fs = NULL;
        size_t n = 0;
        uint64_t total = 0;

        if (zstd_frames_scan(data, size, &fs, &n) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        if (fs[i].offset + fs[i].length > size)
                                abort();
                        total += fs[i].length;
                }
                free(fs);
                fs = NULL;
        }
        /* Against the total the frames give, and the total the index's own
         * lengths give (a well-formed index is parsed through then). */
        uint64_t own = 0;
        for (size_t off = 15; off + 36 <= size; off += 36)
                own += (uint64_t) data[off] | (uint64_t) data[off + 1] << 8 |
                       (uint64_t) data[off + 2] << 16 | (uint64_t) data[off + 3] << 24;
        const uint64_t totals[2] = { total, own };
        for (int k = 0; k < 2; k++) {
                if (initrd_frames_parse(data, size, totals[k], &fs, &n) < 0)
                        continue;
                uint64_t sum = 0;
                for (size_t i = 0; i < n; i++)
                        sum += fs[i].length;
                if (sum != totals[k])
                        abort();
                free(fs);
                fs = NULL;
        }
        return 0;
}
