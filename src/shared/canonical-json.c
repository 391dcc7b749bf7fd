/* SPDX-License-Identifier: MIT */
#include "canonical-json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"

static int cmp_keys(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int put_string(FILE *f, const char *s, size_t len) {
        if (memchr(s, 0, len))
                return error_setf(EINVAL, "canonical JSON: string with a NUL byte");
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '"' || s[i] == '\\')
                        fputc('\\', f);
                fputc(s[i], f);
        }
        fputc('"', f);
        return 0;
}

static int put(FILE *f, const json_t *j, unsigned depth) {
        int r;

        if (depth > JSON_DEPTH_MAX * 4)
                return error_setf(EINVAL, "canonical JSON: nested too deep");
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                size_t n = json_object_size(j), i = 0;
                _cleanup_free_ const char **keys = calloc(MAX(n, (size_t) 1), sizeof(char *));
                const char *k;
                json_t *v;

                if (!keys)
                        return -ENOMEM;
                json_object_foreach((json_t *) j, k, v) keys[i++] = k;
                qsort(keys, n, sizeof(char *), cmp_keys);
                fputc('{', f);
                for (i = 0; i < n; i++) {
                        if (i > 0)
                                fputc(',', f);
                        r = put_string(f, keys[i], strlen(keys[i]));
                        if (r < 0)
                                return r;
                        fputc(':', f);
                        r = put(f, json_object_get(j, keys[i]), depth + 1);
                        if (r < 0)
                                return r;
                }
                fputc('}', f);
                return 0;
        }
        case JSON_ARRAY: {
                size_t i;
                json_t *v;

                fputc('[', f);
                json_array_foreach(j, i, v) {
                        if (i > 0)
                                fputc(',', f);
                        r = put(f, v, depth + 1);
                        if (r < 0)
                                return r;
                }
                fputc(']', f);
                return 0;
        }
        case JSON_STRING:
                return put_string(f, json_string_value(j), json_string_length(j));
        case JSON_INTEGER:
                fprintf(f, "%" PRIdMAX, (intmax_t) json_integer_value(j));
                return 0;
        case JSON_REAL:
                return error_setf(EINVAL, "canonical JSON: real numbers are not allowed");
        case JSON_TRUE:
                fputs("true", f);
                return 0;
        case JSON_FALSE:
                fputs("false", f);
                return 0;
        case JSON_NULL:
                fputs("null", f);
                return 0;
        }
        return -EINVAL;
}

int json_canonical(const json_t *j, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (!j)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = put(f, j, 0);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}
