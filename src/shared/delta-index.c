/* SPDX-License-Identifier: MIT */
#include "delta-index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "verity-tree.h"

#define FRAMES_MAGIC "berth-frames 1\n"
#define FRAME_ENTRY (4u + 32u)

int verity_part_hash(const uint8_t *part, uint8_t ret[static VERITY_PART_HASH]) {
        uint8_t h[32];
        int r = sha256_buffer(part, VERITY_PART_SIZE, h);
        if (r < 0)
                return r;
        memcpy(ret, h, VERITY_PART_HASH);
        return 0;
}

int verity_parts_write(const char *hash_path, const char *dest) {
        _cleanup_free_ char *tree = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        VerityTreeLayout lay;
        size_t size;
        int r;

        r = read_full_file(hash_path, &tree, &size, 1u << 30);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", hash_path);
        _cleanup_(verity_leaves_done) VerityLeaves l = {};
        r = verity_leaves_read(hash_path, 0, UINT64_MAX, &l);
        if (r < 0)
                return r;
        verity_tree_layout(l.blocks, 0, &lay);
        if (lay.levels < 1 || lay.end_block * VERITY_BLOCK_SIZE > size)
                return error_setf(EBADMSG, "%s: the hash tree is shorter than its superblock says",
                                  hash_path);
        out = malloc(lay.level_size[0] * VERITY_PARTS_ENTRY);
        if (!out)
                return -ENOMEM;
        for (uint64_t i = 0; i < lay.level_size[0]; i++) {
                const uint8_t *page =
                        (const uint8_t *) tree + (lay.level_block[0] + i) * VERITY_BLOCK_SIZE;
                for (unsigned p = 0; p < VERITY_PARTS; p++) {
                        r = verity_part_hash(page + p * VERITY_PART_SIZE,
                                             out + i * VERITY_PARTS_ENTRY + p * VERITY_PART_HASH);
                        if (r < 0)
                                return r;
                }
        }
        r = write_file_atomic(dest, out, lay.level_size[0] * VERITY_PARTS_ENTRY, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", dest) : 0;
}

static uint32_t le24(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16;
}

/* The length of the zstd frame at data (RFC 8878, section 3.1.1), or 0. */
static size_t frame_length(const uint8_t *data, size_t size) {
        static const unsigned did_size[4] = { 0, 1, 2, 4 };
        size_t pos;

        if (size < 6 || memcmp(data, "\x28\xb5\x2f\xfd", 4) != 0)
                return 0;
        uint8_t fhd = data[4];
        unsigned fcs_flag = fhd >> 6, single = (fhd >> 5) & 1, checksum = (fhd >> 2) & 1;
        if (fhd & 0x08) /* reserved bit */
                return 0;
        unsigned fcs_size = fcs_flag == 0 ? single : 1u << fcs_flag;
        pos = 5 + (single ? 0 : 1) + did_size[fhd & 3] + fcs_size;
        for (;;) {
                if (pos + 3 > size)
                        return 0;
                uint32_t bh = le24(data + pos);
                unsigned last = bh & 1, type = (bh >> 1) & 3;
                size_t bsize = bh >> 3;
                if (type == 3)
                        return 0;
                pos += 3 + (type == 1 ? 1 : bsize);
                if (pos > size)
                        return 0;
                if (last)
                        break;
        }
        pos += checksum ? 4 : 0;
        return pos <= size ? pos : 0;
}

int zstd_frames_scan(const uint8_t *data, size_t size, ZstdFrame **ret, size_t *ret_n) {
        _cleanup_free_ ZstdFrame *fs = NULL;
        size_t n = 0, cap = 0;
        int r;

        for (size_t pos = 0; pos < size;) {
                if (data[pos] == 0 && n > 0) { /* zeros belong to the frame before */
                        pos++;
                        continue;
                }
                size_t len = frame_length(data + pos, size - pos);
                if (len == 0)
                        return -EBADMSG;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        ZstdFrame *t = reallocarray(fs, cap, sizeof *fs);
                        if (!t)
                                return -ENOMEM;
                        fs = t;
                }
                fs[n++] = (ZstdFrame){ .offset = pos };
                pos += len;
        }
        for (size_t i = 0; i < n; i++) {
                fs[i].length = (i + 1 < n ? fs[i + 1].offset : size) - fs[i].offset;
                r = sha256_buffer(data + fs[i].offset, fs[i].length, fs[i].sha256);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(fs);
        *ret_n = n;
        return 0;
}

int initrd_frames_write(const char *path, const char *dest) {
        _cleanup_free_ char *data = NULL, *out = NULL;
        _cleanup_free_ ZstdFrame *fs = NULL;
        size_t size, n, hl = strlen(FRAMES_MAGIC);
        int r;

        r = read_full_file(path, &data, &size, 1u << 30);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", path);
        r = zstd_frames_scan((const uint8_t *) data, size, &fs, &n);
        if (r == -EBADMSG)
                return error_setf(EBADMSG, "%s is not a sequence of zstd frames", path);
        if (r < 0)
                return r;
        out = malloc(hl + n * FRAME_ENTRY);
        if (!out)
                return -ENOMEM;
        memcpy(out, FRAMES_MAGIC, hl);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = (uint8_t *) out + hl + i * FRAME_ENTRY;
                if (fs[i].length > UINT32_MAX)
                        return error_setf(EFBIG, "%s: a frame of %llu bytes", path,
                                          (unsigned long long) fs[i].length);
                for (unsigned b = 0; b < 4; b++)
                        e[b] = (uint8_t) (fs[i].length >> (8 * b));
                memcpy(e + 4, fs[i].sha256, 32);
        }
        r = write_file_atomic(dest, out, hl + n * FRAME_ENTRY, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", dest) : 0;
}

int initrd_frames_parse(const uint8_t *data, size_t size, uint64_t total, ZstdFrame **ret,
                        size_t *ret_n) {
        _cleanup_free_ ZstdFrame *fs = NULL;
        size_t hl = strlen(FRAMES_MAGIC), n;
        uint64_t off = 0;

        if (size < hl || memcmp(data, FRAMES_MAGIC, hl) != 0 || (size - hl) % FRAME_ENTRY != 0)
                return -EBADMSG;
        n = (size - hl) / FRAME_ENTRY;
        fs = calloc(n ?: 1, sizeof *fs);
        if (!fs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = data + hl + i * FRAME_ENTRY;
                uint32_t len = (uint32_t) e[0] | (uint32_t) e[1] << 8 | (uint32_t) e[2] << 16 |
                               (uint32_t) e[3] << 24;
                if (len == 0)
                        return -EBADMSG;
                fs[i] = (ZstdFrame){ .offset = off, .length = len };
                memcpy(fs[i].sha256, e + 4, 32);
                off += len;
        }
        if (off != total)
                return -EBADMSG;
        *ret = TAKE_PTR(fs);
        *ret_n = n;
        return 0;
}
