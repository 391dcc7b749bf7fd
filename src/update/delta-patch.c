/* SPDX-License-Identifier: MIT */
#include "delta-patch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"
#include "usr-patch.h"
#include "zstd-util.h"

#define BLOCK VERITY_BLOCK_SIZE
#define PATCH_SIZE_MAX (UINT64_C(1) << 31) /* the frame and the blocks it carries */

static int check_header(const DeltaPatch *p, const UsrPatch *h) {
        uint8_t base[32], root[32];

        if (hex_decode(p->base_root_hash, base, sizeof base) < 0 ||
            hex_decode(p->root_hash, root, sizeof root) < 0)
                return -EINVAL;
        if (memcmp(h->base_root, base, 32) != 0)
                return error_setf(EBADMSG, "%s: base_root is not the root hash its target names",
                                  p->path);
        if (memcmp(h->new_root, root, 32) != 0)
                return error_setf(EBADMSG, "%s: new_root is not the release's root hash", p->path);
        if (h->new_blocks != p->leaves->blocks)
                return error_setf(EBADMSG,
                                  "%s: new_blocks is %" PRIu64 ", the release's image has %" PRIu64,
                                  p->path, h->new_blocks, p->leaves->blocks);
        if (h->base_blocks != p->base_blocks || h->base_blocks > p->base_size / BLOCK)
                return error_setf(EBADMSG,
                                  "%s: base_blocks is %" PRIu64 ", the running slot's hash tree "
                                  "covers %" PRIu64,
                                  p->path, h->base_blocks, p->base_blocks);
        if (h->carried > PATCH_SIZE_MAX / BLOCK)
                return error_setf(EBADMSG, "%s: carried is %" PRIu64 " blocks, more than 2 GiB",
                                  p->path, h->carried);
        return 0;
}

int delta_patch_apply(const DeltaPatch *p, DeltaPatchStats *ret) {
        _cleanup_(usr_patch_done) UsrPatch h = {};
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        DeltaPatchStats st = {};
        uint8_t hash[32];
        size_t size;
        int r;

        r = read_full_file(p->path, &data, &size, PATCH_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p->path);
        r = usr_patch_parse((const uint8_t *) data, size, &h);
        if (r < 0)
                return error_wrapf(r, "%s", p->path);
        r = check_header(p, &h);
        if (r < 0)
                return r;
        out = malloc(h.carried * BLOCK);
        if (!out)
                return -ENOMEM;

        /* The base: the slot's first base_blocks blocks, mapped from a page
         * boundary. */
        uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE), skew = p->base_offset % page;
        size_t map_size = (size_t) (skew + h.base_blocks * BLOCK);
        void *map = mmap(NULL, map_size, PROT_READ, MAP_PRIVATE, p->base_fd,
                         (off_t) (p->base_offset - skew));
        if (map == MAP_FAILED)
                return error_wrapf(-errno, "cannot map the running slot");
        r = zstd_decompress_with_prefix((const uint8_t *) map + skew, h.base_blocks * BLOCK,
                                        h.frame, h.frame_size, out, h.carried * BLOCK);
        (void) munmap(map, map_size);
        if (r < 0)
                return error_wrapf(r, "%s", p->path);

        uint64_t i = 0;
        for (size_t k = 0; k < h.n_runs; k++)
                for (uint64_t b = h.runs[k].first; b < h.runs[k].first + h.runs[k].count;
                     b++, i++) {
                        const uint8_t *blk = out + i * BLOCK;
                        if (!p->want(p->userdata, b))
                                continue;
                        r = verity_block_hash(p->leaves, blk, hash);
                        if (r < 0)
                                return r;
                        if (memcmp(hash, p->leaves->leaves + b * 32, 32) != 0) {
                                st.mismatched++;
                                continue;
                        }
                        r = p->put(p->userdata, b, blk);
                        if (r < 0)
                                return r;
                        st.written++;
                }
        *ret = st;
        return 0;
}
