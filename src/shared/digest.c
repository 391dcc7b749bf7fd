/* SPDX-License-Identifier: MIT */
#include "digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>

#include "error.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);

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

int ed25519_generate(uint8_t ret_public[static ED25519_KEY_SIZE],
                     uint8_t ret_private[static ED25519_KEY_SIZE]) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        size_t pub_len = ED25519_KEY_SIZE, priv_len = ED25519_KEY_SIZE;

        if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &key) <= 0)
                return error_setf(EIO, "cannot generate an Ed25519 key");
        if (EVP_PKEY_get_raw_public_key(key, ret_public, &pub_len) <= 0 ||
            EVP_PKEY_get_raw_private_key(key, ret_private, &priv_len) <= 0 ||
            pub_len != ED25519_KEY_SIZE || priv_len != ED25519_KEY_SIZE)
                return error_setf(EIO, "cannot export an Ed25519 key");
        return 0;
}

int ed25519_public_key(const uint8_t private_key[static ED25519_KEY_SIZE],
                       uint8_t ret_public[static ED25519_KEY_SIZE]) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key =
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, ED25519_KEY_SIZE);
        size_t len = ED25519_KEY_SIZE;

        if (!key || EVP_PKEY_get_raw_public_key(key, ret_public, &len) <= 0 ||
            len != ED25519_KEY_SIZE)
                return error_setf(EINVAL, "not an Ed25519 private key");
        return 0;
}

int ed25519_sign(const uint8_t private_key[static ED25519_KEY_SIZE], const void *data, size_t size,
                 uint8_t ret_sig[static ED25519_SIG_SIZE]) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key =
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, ED25519_KEY_SIZE);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t len = ED25519_SIG_SIZE;

        if (!key || !ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) <= 0 ||
            EVP_DigestSign(ctx, ret_sig, &len, data, size) <= 0 || len != ED25519_SIG_SIZE)
                return error_setf(EIO, "Ed25519 signing failed");
        return 0;
}

int ed25519_verify(const uint8_t public_key[static ED25519_KEY_SIZE], const void *data, size_t size,
                   const uint8_t sig[static ED25519_SIG_SIZE]) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key =
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, ED25519_KEY_SIZE);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        if (!ctx)
                return -ENOMEM;
        if (!key)
                return -EKEYREJECTED; /* not a point on the curve */
        if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) <= 0)
                return -EIO;
        return EVP_DigestVerify(ctx, sig, ED25519_SIG_SIZE, data, size) == 1 ? 0 : -EKEYREJECTED;
}
