/* SPDX-License-Identifier: MIT */
#include "json-util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"

static unsigned json_depth(const json_t *j, unsigned limit) {
        unsigned max = 0;

        if (limit == 0)
                return 1;
        if (json_is_object(j)) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *) j, k, v) {
                        unsigned d = json_depth(v, limit - 1);
                        if (d > max)
                                max = d;
                }
                return max + 1;
        }
        if (json_is_array(j)) {
                size_t i;
                json_t *v;
                json_array_foreach(j, i, v) {
                        unsigned d = json_depth(v, limit - 1);
                        if (d > max)
                                max = d;
                }
                return max + 1;
        }
        return 1;
}

int json_parse_bounded(const char *data, size_t size, json_t **ret, char **ret_msg) {
        json_error_t err;
        json_t *j;

        if (ret_msg)
                *ret_msg = NULL;
        if (size > JSON_SIZE_MAX) {
                if (ret_msg)
                        *ret_msg = strdup_printf("larger than %u bytes", JSON_SIZE_MAX);
                return -EBADMSG;
        }
        /* Nesting is checked before the tree is walked: jansson's own parser
         * limit (2048) bounds the recursion here. */
        j = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
        if (!j) {
                if (ret_msg)
                        *ret_msg = strdup_printf("line %d column %d: %s", err.line, err.column,
                                                 err.text);
                return -EBADMSG;
        }
        if (json_depth(j, JSON_DEPTH_MAX + 1) > JSON_DEPTH_MAX) {
                json_decref(j);
                if (ret_msg)
                        *ret_msg = strdup_printf("nested deeper than %d levels", JSON_DEPTH_MAX);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int json_set(json_t *obj, const char *key, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

int json_append(json_t *arr, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_array_append_new(arr, v) < 0 ? -ENOMEM : 0;
}

json_t *json_string_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}
