/* SPDX-License-Identifier: MIT */
/* hexuuid.h: hex encoding and the UUIDs berth derives from hashes. Needs only
 * libc, so berth-init and the composer share one definition: the usr
 * partition UUIDs the composer writes must be the ones PID 1 looks for. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define UUID_STRING_SIZE 37 /* 8-4-4-4-12 + NUL */

/* Writes 2*size lowercase hex digits and a NUL. */
void hex_encode(const uint8_t *data, size_t size, char *ret_hex);
/* Decodes exactly size bytes from hex (either case); -EINVAL on bad input,
 * ret untouched then. */
int hex_decode(const char *hex, uint8_t *ret, size_t size);

/* The UUID text of 16 bytes after setting the version-4 and RFC 4122 variant
 * bits, as systemd does for partition UUIDs derived from a verity root hash. */
void uuid_from_bytes(const uint8_t b[16], char ret[static UUID_STRING_SIZE]);

/* The value of one hex digit (either case), -1 if c is not one. */
int unhexchar(char c);
