/* SPDX-License-Identifier: MIT */
#include "digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);

int sha256_buffer(const void *data, size_t size, uint8_t ret[static 32]) {
        unsigned len = 0;
        if (!EVP_Digest(data, size, ret, &len, EVP_sha256(), NULL) || len != 32)
                return -EIO;
        return 0;
}

int sha256_buffer_hex(const void *data, size_t size, char ret_hex[static SHA256_HEX_SIZE]) {
        uint8_t md[32];
        int r = sha256_buffer(data, size, md);
        if (r < 0)
                return r;
        hex_encode(md, 32, ret_hex);
        return 0;
}

int sha256_file_hex(const char *path, char ret_hex[static SHA256_HEX_SIZE]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        static __thread uint8_t buf[1 << 17];
        uint8_t md[32];
        unsigned len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                if (!EVP_DigestUpdate(ctx, buf, (size_t) k))
                        return -EIO;
        }
        if (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32)
                return -EIO;
        hex_encode(md, 32, ret_hex);
        return 0;
}
