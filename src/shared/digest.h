/* SPDX-License-Identifier: MIT */
/* digest.h: SHA-256 of buffers and files, and Ed25519 keys and signatures
 * (the update repository's metadata): the only place that calls OpenSSL. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hexuuid.h"

#define SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

int sha256_buffer_hex(const void *data, size_t size, char ret_hex[static SHA256_HEX_SIZE]);
int sha256_buffer(const void *data, size_t size, uint8_t ret[static 32]);
int sha256_file_hex(const char *path, char ret_hex[static SHA256_HEX_SIZE]);

#define ED25519_KEY_SIZE 32
#define ED25519_SIG_SIZE 64

/* A new key pair from OpenSSL's random generator (raw 32-byte keys). */
int ed25519_generate(uint8_t ret_public[static ED25519_KEY_SIZE],
                     uint8_t ret_private[static ED25519_KEY_SIZE]);
/* The public key of a raw private key. */
int ed25519_public_key(const uint8_t private_key[static ED25519_KEY_SIZE],
                       uint8_t ret_public[static ED25519_KEY_SIZE]);
/* Signs data (pure Ed25519, no prehash). */
int ed25519_sign(const uint8_t private_key[static ED25519_KEY_SIZE], const void *data, size_t size,
                 uint8_t ret_sig[static ED25519_SIG_SIZE]);
/* 0 if sig is a valid signature of data by public_key, -EKEYREJECTED if not. */
int ed25519_verify(const uint8_t public_key[static ED25519_KEY_SIZE], const void *data, size_t size,
                   const uint8_t sig[static ED25519_SIG_SIZE]);
