/* SPDX-License-Identifier: MIT */
#include "hexuuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void hex_encode(const uint8_t *data, size_t size, char *ret_hex) {
        static const char hexchars[] = "0123456789abcdef";
        for (size_t i = 0; i < size; i++) {
                ret_hex[2 * i] = hexchars[data[i] >> 4];
                ret_hex[2 * i + 1] = hexchars[data[i] & 15];
        }
        ret_hex[2 * size] = 0;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int hex_decode(const char *hex, uint8_t *ret, size_t size) {
        uint8_t b[256];
        if (!hex || size > sizeof b || strlen(hex) != size * 2)
                return -EINVAL;
        for (size_t i = 0; i < size; i++) {
                int hi = unhexchar(hex[2 * i]), lo = unhexchar(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                b[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret, b, size);
        return 0;
}

void uuid_from_bytes(const uint8_t b[16], char ret[static UUID_STRING_SIZE]) {
        uint8_t u[16];
        memcpy(u, b, 16);
        u[6] = (u[6] & 0x0f) | 0x40;
        u[8] = (u[8] & 0x3f) | 0x80;
        snprintf(ret, UUID_STRING_SIZE,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                 u[15]);
}
