/* SPDX-License-Identifier: MIT */
#include "verity-tree.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"

#define VERITY_HASH_SIZE 32 /* sha256 */

int verity_salt_for_image(const char *name, char ret[static 65]) {
        _cleanup_free_ char *s = NULL;

        if (!name)
                return -EINVAL;
        s = strdup_printf("berth verity salt\n%s", name);
        if (!s)
                return -ENOMEM;
        return sha256_buffer_hex(s, strlen(s), ret);
}

static int pread_full(int fd, void *buf, size_t size, uint64_t offset) {
        size_t done = 0;
        while (done < size) {
                ssize_t k = pread(fd, (uint8_t *) buf + done, size - done, (off_t) (offset + done));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO; /* short: the file ends inside the area */
                done += (size_t) k;
        }
        return 0;
}

/* sha256(salt || block), the hash of verity format 1. */
static int salted_hash(uint8_t *scratch, const uint8_t *salt, size_t salt_size,
                       const uint8_t *block, uint8_t ret[static VERITY_HASH_SIZE]) {
        memcpy(scratch, salt, salt_size);
        memcpy(scratch + salt_size, block, VERITY_BLOCK_SIZE);
        return sha256_buffer(scratch, salt_size + VERITY_BLOCK_SIZE, ret);
}

/* The superblock at hash_offset of hfd and the tree's layout: where each
 * level starts (in blocks of the hash file) and how many blocks it has, level
 * 0 (the leaves) first. */
typedef struct Layout {
        VeritySuperblock sb;
        uint64_t blocks;
        size_t salt_size;
        VerityTreeLayout tree;
} Layout;

static int read_layout(int hfd, const char *hash_path, uint64_t hash_offset, uint64_t data_max,
                       Layout *l) {
        int r;

        r = verity_superblock_read(hfd, hash_path, hash_offset, data_max, &l->sb);
        if (r < 0)
                return r;
        l->blocks = l->sb.data_blocks;
        l->salt_size = l->sb.salt_size;
        verity_tree_layout(l->blocks, hash_offset, &l->tree);
        return 0;
}

void verity_leaves_done(VerityLeaves *l) {
        if (!l)
                return;
        free(l->leaves);
        l->leaves = NULL;
}

int verity_leaves_read(const char *hash_path, uint64_t hash_offset, uint64_t data_max,
                       VerityLeaves *ret) {
        _cleanup_close_ int hfd = -EBADF;
        _cleanup_free_ uint8_t *leaves = NULL;
        Layout l;
        int r;

        if (!hash_path || !ret)
                return -EINVAL;
        hfd = open(hash_path, O_RDONLY | O_CLOEXEC);
        if (hfd < 0)
                return error_wrapf(-errno, "%s", hash_path);
        r = read_layout(hfd, hash_path, hash_offset, data_max, &l);
        if (r < 0)
                return r;
        if (l.blocks > (UINT64_C(1) << 32))
                return error_setf(EFBIG, "%s: %" PRIu64 " data blocks is too many", hash_path,
                                  l.blocks);
        leaves = malloc(l.blocks * VERITY_HASH_SIZE);
        if (!leaves)
                return -ENOMEM;
        if (l.tree.levels == 0) {
                /* One data block: the root hash is its hash, there are no leaves. */
                return error_setf(EBADMSG, "%s: a one-block tree has no leaves", hash_path);
        }
        r = pread_full(hfd, leaves, l.blocks * VERITY_HASH_SIZE,
                       l.tree.level_block[0] * VERITY_BLOCK_SIZE);
        if (r < 0)
                return error_wrapf(r, "%s: reading the hash tree's leaves", hash_path);
        *ret = (VerityLeaves){ .salt_size = l.salt_size, .blocks = l.blocks };
        memcpy(ret->salt, l.sb.salt, sizeof ret->salt);
        ret->leaves = TAKE_PTR(leaves);
        return 0;
}

int verity_block_hash(const VerityLeaves *l, const uint8_t *block, uint8_t ret[static 32]) {
        uint8_t scratch[256 + VERITY_BLOCK_SIZE];
        memcpy(scratch, l->salt, l->salt_size);
        memcpy(scratch + l->salt_size, block, VERITY_BLOCK_SIZE);
        return sha256_buffer(scratch, l->salt_size + VERITY_BLOCK_SIZE, ret);
}

int verity_verify_at(const char *data_path, uint64_t data_offset, uint64_t data_max,
                     const char *hash_path, uint64_t hash_offset, const char *root_hash_hex) {
        _cleanup_close_ int dfd = -EBADF, hfd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL, *scratch = NULL, *upper = NULL, *lower = NULL;
        Layout lay;
        uint8_t root[VERITY_HASH_SIZE], h[VERITY_HASH_SIZE];
        int r;

        if (!data_path || !hash_path || !root_hash_hex ||
            hex_decode(root_hash_hex, root, sizeof root) < 0)
                return -EINVAL;
        dfd = open(data_path, O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return error_wrapf(-errno, "%s", data_path);
        hfd = open(hash_path, O_RDONLY | O_CLOEXEC);
        if (hfd < 0)
                return error_wrapf(-errno, "%s", hash_path);
        r = read_layout(hfd, hash_path, hash_offset, data_max, &lay);
        if (r < 0)
                return r;
        const VeritySuperblock sb = lay.sb;
        const uint64_t blocks = lay.blocks, *level_block = lay.tree.level_block,
                       *level_size = lay.tree.level_size;
        const size_t salt_size = lay.salt_size;
        const int levels = lay.tree.levels;
        buf = malloc(VERITY_BLOCK_SIZE);
        scratch = malloc(256 + VERITY_BLOCK_SIZE);
        if (!buf || !scratch)
                return -ENOMEM;
        if (levels == 0) {
                if ((r = pread_full(dfd, buf, VERITY_BLOCK_SIZE, data_offset)) < 0 ||
                    (r = salted_hash(scratch, sb.salt, salt_size, buf, h)) < 0)
                        return r;
                return memcmp(h, root, sizeof h) == 0
                               ? 0
                               : error_setf(EPERM, "%s: root hash mismatch", data_path);
        }
        /* Level 0 covers the data blocks; level i covers level i-1. */
        for (int i = 0; i < levels; i++) {
                uint64_t n = i == 0 ? blocks : level_size[i - 1];
                free(upper);
                upper = malloc(level_size[i] * VERITY_BLOCK_SIZE);
                if (!upper)
                        return -ENOMEM;
                r = pread_full(hfd, upper, level_size[i] * VERITY_BLOCK_SIZE,
                               level_block[i] * VERITY_BLOCK_SIZE);
                if (r < 0)
                        return error_wrapf(r, "%s: reading hash level %d", hash_path, i);
                for (uint64_t j = 0; j < n; j++) {
                        const uint8_t *block;
                        if (i == 0) {
                                r = pread_full(dfd, buf, VERITY_BLOCK_SIZE,
                                               data_offset + j * VERITY_BLOCK_SIZE);
                                if (r < 0)
                                        return error_wrapf(r, "%s: reading data block %" PRIu64,
                                                           data_path, j);
                                block = buf;
                        } else
                                block = lower + j * VERITY_BLOCK_SIZE;
                        r = salted_hash(scratch, sb.salt, salt_size, block, h);
                        if (r < 0)
                                return r;
                        if (memcmp(h, upper + j * VERITY_HASH_SIZE, VERITY_HASH_SIZE) != 0)
                                return i == 0 ? error_setf(EPERM,
                                                           "%s: data block %" PRIu64
                                                           " does not match its hash",
                                                           data_path, j)
                                              : error_setf(EPERM,
                                                           "%s: hash block %" PRIu64
                                                           " of level %d does not match",
                                                           hash_path, j, i - 1);
                }
                free(lower);
                lower = TAKE_PTR(upper);
        }
        r = salted_hash(scratch, sb.salt, salt_size, lower, h);
        if (r < 0)
                return r;
        if (memcmp(h, root, sizeof h) != 0)
                return error_setf(EPERM,
                                  "%s: the hash tree's top does not match root hash %.16s...",
                                  hash_path, root_hash_hex);
        return 0;
}
