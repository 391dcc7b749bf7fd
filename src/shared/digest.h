/* SPDX-License-Identifier: MIT */
/* digest.h: SHA-256 of buffers and files (OpenSSL), as lowercase hex. The only
 * place that calls OpenSSL's digest API. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hexuuid.h"

#define SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

int sha256_buffer_hex(const void *data, size_t size, char ret_hex[static SHA256_HEX_SIZE]);
int sha256_buffer(const void *data, size_t size, uint8_t ret[static 32]);
int sha256_file_hex(const char *path, char ret_hex[static SHA256_HEX_SIZE]);
