/* SPDX-License-Identifier: MIT */
#include "parse-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

/* Plain decimal digits only: no sign, no spaces, no base prefixes. */
int parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return 0;
}

int parse_mode(const char *s, uint32_t *ret) {
        uint32_t v = 0;
        if (!*s || strlen(s) > 5)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '7')
                        return -EINVAL;
                v = v * 8 + (uint32_t) (*s - '0');
        }
        if (v > 07777)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_bytes(const char *s, uint64_t *ret) {
        _cleanup_free_ char *digits = strdup(s);
        uint64_t v, factor = 1;
        size_t n;
        int r;

        if (!digits)
                return -ENOMEM;
        n = strlen(digits);
        if (n > 0) {
                switch (digits[n - 1]) {
                case 'K':
                        factor = UINT64_C(1) << 10;
                        break;
                case 'M':
                        factor = UINT64_C(1) << 20;
                        break;
                case 'G':
                        factor = UINT64_C(1) << 30;
                        break;
                }
                if (factor > 1)
                        digits[n - 1] = 0;
        }
        r = parse_u64(digits, &v);
        if (r < 0)
                return r;
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = v * factor;
        return 0;
}

int parse_bool(const char *s, bool *ret) {
        if (streq(s, "yes") || streq(s, "true") || streq(s, "on") || streq(s, "1"))
                *ret = true;
        else if (streq(s, "no") || streq(s, "false") || streq(s, "off") || streq(s, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

int parse_unsigned_range(const char *s, unsigned min, unsigned max, unsigned *ret) {
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

bool dns_name_is_valid(const char *s) {
        size_t n = strlen(s), label = 0;
        if (n == 0 || n > 253 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                bool alnum =
                        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!alnum && !(c == '-' && label > 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[n - 1] != '-';
}

bool ip_address_is_valid(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}
