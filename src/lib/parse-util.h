/* SPDX-License-Identifier: MIT */
/* parse-util.h: strict parsers for numbers and words from outside input
 * (specs, service files, the command line, settings). No signs, spaces or
 * base prefixes are accepted where a plain number is asked for. Needs only
 * libc. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only. -EINVAL for anything else, -ERANGE on overflow. */
int parse_u64(const char *s, uint64_t *ret);
/* parse_u64 within [min, max]: -ERANGE outside. */
int parse_unsigned_range(const char *s, unsigned min, unsigned max, unsigned *ret);
/* Octal file mode, at most 07777. */
int parse_mode(const char *s, uint32_t *ret);
/* Bytes: a number, optionally followed by K, M or G (powers of 1024). */
int parse_bytes(const char *s, uint64_t *ret);
/* yes/true/on/1 or no/false/off/0. */
int parse_bool(const char *s, bool *ret);

/* RFC 1123 host names: labels of letters, digits and '-', 1..63 long, not
 * starting or ending with '-'; dots between (a final dot is allowed); at most
 * 253 in all. */
bool dns_name_is_valid(const char *s);
/* An IPv4 or IPv6 address as inet_pton(3) reads it. */
bool ip_address_is_valid(const char *s);
