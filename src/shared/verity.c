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

#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
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
