/* SPDX-License-Identifier: MIT */
#include "verity.h"

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define VERITY_HASH_SIZE 32 /* sha256 */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

/* libcryptsetup reports details through its log callback; keep errors at
 * debug level here (the caller logs the failure once, with context). */
static void verity_log(int level, const char *msg, void *userdata) {
        if (level == CRYPT_LOG_ERROR)
                log_debug("libcryptsetup: %s", msg);
}

int verity_salt_for_image(const char *name, char ret[static 65]) {
        _cleanup_free_ char *s = NULL;

        if (!name)
                return -EINVAL;
        s = strdup_printf("berth verity salt\n%s", name);
        if (!s)
                return -ENOMEM;
        return sha256_buffer_hex(s, strlen(s), ret);
}

static int pad_to_block(const char *path, uint64_t *ret_blocks) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (st.st_size == 0)
                return -EINVAL;
        uint64_t size = (uint64_t) st.st_size;
        if (size % VERITY_BLOCK_SIZE != 0) {
                size = (size + VERITY_BLOCK_SIZE - 1) / VERITY_BLOCK_SIZE * VERITY_BLOCK_SIZE;
                if (ftruncate(fd, (off_t) size) < 0)
                        return -errno;
        }
        *ret_blocks = size / VERITY_BLOCK_SIZE;
        return 0;
}

int verity_format(const char *data_path, const char *hash_path, const char *salt_hex,
                  const char *uuid, char ret_root_hash[static 65]) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        _cleanup_free_ char *tmp = NULL;
        uint8_t salt[32], root[VERITY_HASH_SIZE];
        size_t root_size = sizeof root;
        uint64_t blocks = 0;
        int r;

        if (!data_path || !hash_path || !salt_hex)
                return -EINVAL;
        r = hex_decode(salt_hex, salt, sizeof salt);
        if (r < 0)
                return r;
        r = pad_to_block(data_path, &blocks);
        if (r < 0)
                return r;

        tmp = strdup_printf("%s.tmp", hash_path);
        if (!tmp)
                return -ENOMEM;
        /* libcryptsetup writes into an existing file: start from an empty one. */
        {
                _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
        }

        struct crypt_params_verity params = {
                .hash_name = "sha256",
                .data_device = data_path,
                .salt = (const char *) salt,
                .salt_size = sizeof salt,
                .hash_type = 1,
                .data_block_size = VERITY_BLOCK_SIZE,
                .hash_block_size = VERITY_BLOCK_SIZE,
                .data_size = blocks,
                .hash_area_offset = 0,
                .flags = CRYPT_VERITY_CREATE_HASH,
        };

        crypt_set_log_callback(NULL, verity_log, NULL);
        r = crypt_init_data_device(&cd, tmp, data_path);
        if (r >= 0) {
                crypt_set_log_callback(cd, verity_log, NULL);
                r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, uuid, NULL, 0, &params);
        }
        if (r >= 0)
                r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *) root, &root_size, NULL, 0);
        if (r >= 0 && root_size != VERITY_HASH_SIZE)
                r = -EIO;
        crypt_free(TAKE_PTR(cd));
        if (r >= 0) {
                _cleanup_close_ int fd = open(tmp, O_RDWR | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0)
                        r = -errno;
        }
        if (r >= 0 && rename(tmp, hash_path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        hex_encode(root, sizeof root, ret_root_hash);
        return 0;
}

int verity_verify(const char *data_path, const char *hash_path, const char *root_hash_hex) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        uint8_t root[VERITY_HASH_SIZE];
        int r;

        if (!data_path || !hash_path || !root_hash_hex)
                return -EINVAL;
        r = hex_decode(root_hash_hex, root, sizeof root);
        if (r < 0)
                return r;

        /* CHECK_HASH makes the activation below (with no name) read every
         * block in userspace and compare the computed root hash. */
        struct crypt_params_verity params = {
                .data_device = data_path,
                .flags = CRYPT_VERITY_CHECK_HASH,
        };

        crypt_set_log_callback(NULL, verity_log, NULL);
        r = crypt_init_data_device(&cd, hash_path, data_path);
        if (r < 0)
                return r;
        crypt_set_log_callback(cd, verity_log, NULL);
        r = crypt_load(cd, CRYPT_VERITY, &params);
        if (r < 0)
                return r;
        r = crypt_activate_by_volume_key(cd, NULL, (const char *) root, sizeof root, 0);
        /* libcryptsetup: -EPERM for a corrupt data or hash block, -EFAULT
         * for a root hash that does not match. */
        if (r == -EPERM || r == -EFAULT)
                return -EPERM;
        return r < 0 ? r : 0;
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
