/* SPDX-License-Identifier: MIT */
#include "usr-patch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"
#include "unaligned.h"
#include "verity-tree.h"
#include "zstd-util.h"

#define BLOCK VERITY_BLOCK_SIZE

static int bad(const char *field, const char *what, uint64_t value) {
        return error_setf(EBADMSG, "usr patch: %s %" PRIu64 ": %s", field, value, what);
}

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *ret) {
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (*p >= end)
                        return -EBADMSG;
                uint8_t b = *(*p)++;
                if (shift == 63 && b > 1)
                        return -EBADMSG;
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

void usr_patch_done(UsrPatch *p) {
        free(p->runs);
        p->runs = NULL;
        p->n_runs = 0;
}

int usr_patch_parse(const uint8_t *data, size_t size, UsrPatch *ret) {
        UsrPatch p = {};
        uint32_t version, block, n_runs, runs_size;
        uint64_t pos = 0, total = 0;

        if (size < USR_PATCH_HEADER_SIZE)
                return bad("size", "shorter than the header", size);
        if (memcmp(data, USR_PATCH_MAGIC, 8) != 0)
                return error_setf(EBADMSG, "usr patch: no magic " USR_PATCH_MAGIC);
        version = unaligned_read_le32(data + 8);
        block = unaligned_read_le32(data + 12);
        if (version != USR_PATCH_VERSION)
                return bad("version", "not supported (1 is)", version);
        if (block != BLOCK)
                return bad("block_size", "not 4096", block);
        memcpy(p.base_root, data + 16, 32);
        memcpy(p.new_root, data + 48, 32);
        p.base_blocks = unaligned_read_le64(data + 80);
        p.new_blocks = unaligned_read_le64(data + 88);
        p.carried = unaligned_read_le64(data + 96);
        n_runs = unaligned_read_le32(data + 104);
        runs_size = unaligned_read_le32(data + 108);
        if (p.base_blocks == 0 || p.base_blocks > USR_PATCH_BLOCKS_MAX)
                return bad("base_blocks", "out of range", p.base_blocks);
        if (p.new_blocks == 0 || p.new_blocks > USR_PATCH_BLOCKS_MAX)
                return bad("new_blocks", "out of range", p.new_blocks);
        if (p.carried == 0 || p.carried > p.new_blocks)
                return bad("carried", "not between 1 and new_blocks", p.carried);
        if (n_runs == 0 || n_runs > p.carried)
                return bad("runs", "not between 1 and carried", n_runs);
        if (runs_size < 2u * n_runs || runs_size > 20u * (uint64_t) n_runs ||
            runs_size > size - USR_PATCH_HEADER_SIZE)
                return bad("runs_size", "does not fit the runs or the file", runs_size);
        p.runs = calloc(n_runs, sizeof(UsrPatchRun));
        if (!p.runs)
                return -ENOMEM;
        const uint8_t *q = data + USR_PATCH_HEADER_SIZE, *end = q + runs_size;
        for (uint32_t i = 0; i < n_runs; i++) {
                uint64_t gap, count;
                if (varint(&q, end, &gap) < 0 || varint(&q, end, &count) < 0) {
                        usr_patch_done(&p);
                        return bad("run", "cut short or not a varint", i);
                }
                if (count == 0 || gap > p.new_blocks - pos || count > p.new_blocks - pos - gap ||
                    (i > 0 && gap == 0)) {
                        usr_patch_done(&p);
                        return bad("run", "empty, touching the one before, or past new_blocks", i);
                }
                p.runs[i] = (UsrPatchRun){ .first = pos + gap, .count = count };
                pos += gap + count;
                total += count;
        }
        if (q != end) {
                usr_patch_done(&p);
                return bad("runs_size", "more bytes than the runs", runs_size);
        }
        if (total != p.carried) {
                usr_patch_done(&p);
                return bad("carried", "not the sum of the runs", p.carried);
        }
        p.n_runs = n_runs;
        p.frame = end;
        p.frame_size = size - (size_t) (end - data);
        *ret = p;
        return 0;
}

static void put_varint(uint8_t **p, uint64_t v) {
        do {
                uint8_t b = v & 0x7f;
                v >>= 7;
                *(*p)++ = b | (v ? 0x80 : 0);
        } while (v);
}

typedef struct Mapped {
        uint8_t *data;
        size_t size;
} Mapped;

static void mapped_done(Mapped *m) {
        if (m->data && m->data != MAP_FAILED)
                (void) munmap(m->data, m->size);
}

static int map_image(const char *path, uint64_t blocks, Mapped *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return error_wrapf(-errno, "%s", path);
        if ((uint64_t) st.st_size != blocks * BLOCK)
                return error_setf(EINVAL, "%s: %" PRIu64 " bytes, its hash tree covers %" PRIu64,
                                  path, (uint64_t) st.st_size, blocks * BLOCK);
        ret->size = (size_t) st.st_size;
        ret->data = mmap(NULL, ret->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (ret->data == MAP_FAILED)
                return error_wrapf(-errno, "cannot map %s", path);
        return 0;
}

static int cmp_leaf(const void *a, const void *b) {
        return memcmp(a, b, 32);
}

static int make(const UsrPatchMakeOptions *o, const VerityLeaves *nl, const VerityLeaves *bl,
                const Mapped *base, const Mapped *img, UsrPatchMakeStats *st) {
        _cleanup_free_ uint8_t *have = malloc(MAX(bl->blocks * 32, (uint64_t) 1)), *runs = NULL,
                               *carry = NULL, *file = NULL;
        _cleanup_free_ void *frame = NULL;
        uint8_t root[32];
        size_t frame_size, n_runs = 0;
        int r;

        if (!have)
                return -ENOMEM;
        /* The base's blocks under the new salt: its own leaves when the salt
         * is the same (every release of an image), else hashed anew. */
        bool same =
                bl->salt_size == nl->salt_size && memcmp(bl->salt, nl->salt, bl->salt_size) == 0;
        for (uint64_t b = 0; b < bl->blocks; b++) {
                if (same)
                        memcpy(have + b * 32, bl->leaves + b * 32, 32);
                else if ((r = verity_block_hash(nl, base->data + b * BLOCK, have + b * 32)) < 0)
                        return r;
        }
        qsort(have, bl->blocks, 32, cmp_leaf);
        carry = malloc(nl->blocks * BLOCK);
        runs = malloc(nl->blocks * 20 + 1);
        if (!carry || !runs)
                return -ENOMEM;
        uint8_t *q = runs;
        uint64_t end = 0, run_first = 0, run_count = 0;
        for (uint64_t b = 0; b < nl->blocks; b++) {
                if (bsearch(nl->leaves + b * 32, have, bl->blocks, 32, cmp_leaf))
                        continue;
                memcpy(carry + st->carried * BLOCK, img->data + b * BLOCK, BLOCK);
                st->carried++;
                if (run_count > 0 && run_first + run_count == b) {
                        run_count++;
                        continue;
                }
                if (run_count > 0) {
                        put_varint(&q, run_first - end);
                        put_varint(&q, run_count);
                        end = run_first + run_count;
                        n_runs++;
                }
                run_first = b;
                run_count = 1;
        }
        if (run_count > 0) {
                put_varint(&q, run_first - end);
                put_varint(&q, run_count);
                n_runs++;
        }
        if (st->carried == 0)
                return 0;
        r = zstd_compress_with_prefix(base->data, base->size, carry, st->carried * BLOCK, o->level,
                                      &frame, &frame_size);
        if (r < 0)
                return r;
        size_t runs_size = (size_t) (q - runs),
               size = USR_PATCH_HEADER_SIZE + runs_size + frame_size;
        st->size = size;
        if (size >= st->carried * BLOCK)
                return 0;
        file = malloc(size);
        if (!file)
                return -ENOMEM;
        memcpy(file, USR_PATCH_MAGIC, 8);
        unaligned_write_le32(file + 8, USR_PATCH_VERSION);
        unaligned_write_le32(file + 12, BLOCK);
        if ((r = hex_decode(o->base_root_hash, root, sizeof root)) < 0)
                return error_setf(EINVAL, "base root hash %s: not 64 hex digits",
                                  o->base_root_hash);
        memcpy(file + 16, root, 32);
        if ((r = hex_decode(o->new_root_hash, root, sizeof root)) < 0)
                return error_setf(EINVAL, "root hash %s: not 64 hex digits", o->new_root_hash);
        memcpy(file + 48, root, 32);
        unaligned_write_le64(file + 80, bl->blocks);
        unaligned_write_le64(file + 88, nl->blocks);
        unaligned_write_le64(file + 96, st->carried);
        unaligned_write_le32(file + 104, (uint32_t) n_runs);
        unaligned_write_le32(file + 108, (uint32_t) runs_size);
        memcpy(file + USR_PATCH_HEADER_SIZE, runs, runs_size);
        memcpy(file + USR_PATCH_HEADER_SIZE + runs_size, frame, frame_size);
        r = write_file_atomic(o->dest, file, size, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", o->dest) : 1;
}

int usr_patch_make(const UsrPatchMakeOptions *o, UsrPatchMakeStats *ret) {
        _cleanup_(verity_leaves_done) VerityLeaves nl = {}, bl = {};
        Mapped base = {}, img = {};
        UsrPatchMakeStats st = {};
        int r;

        r = verity_leaves_read(o->new_verity, 0, UINT64_MAX, &nl);
        if (r >= 0)
                r = verity_leaves_read(o->base_verity, 0, UINT64_MAX, &bl);
        if (r >= 0 && (nl.blocks > USR_PATCH_BLOCKS_MAX || bl.blocks > USR_PATCH_BLOCKS_MAX))
                r = error_setf(EFBIG, "%s: more than 1 TiB", o->new_image);
        if (r >= 0)
                r = map_image(o->base_image, bl.blocks, &base);
        if (r >= 0)
                r = map_image(o->new_image, nl.blocks, &img);
        if (r >= 0)
                r = make(o, &nl, &bl, &base, &img, &st);
        mapped_done(&base);
        mapped_done(&img);
        if (r >= 0)
                *ret = st;
        return r;
}
