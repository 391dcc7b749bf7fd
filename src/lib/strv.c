/* SPDX-License-Identifier: MIT */
#include "strv.h"

#include <string.h>

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **nl;
        if (!s)
                return -ENOMEM;
        nl = realloc(*l, sizeof(char *) * (n + 2));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_push(l, strdup(s));
}

int strv_extend_words(char ***l, const char *s, bool commas) {
        const char *sep = commas ? " \t\r\n," : " \t\r\n";
        while (*s) {
                size_t skip = strspn(s, sep), len;
                s += skip;
                len = strcspn(s, sep);
                if (len == 0)
                        break;
                int r = strv_push(l, strndup(s, len));
                if (r < 0)
                        return r;
                s += len;
        }
        return 0;
}

int strv_update_words(char ***l, const char *s, bool (*valid)(const char *), char **ret_invalid) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        if (!*s) {
                *l = strv_free(*l);
                return 0;
        }
        r = strv_extend_words(&words, s, false);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words)
                if (valid && !valid(*w)) {
                        if (ret_invalid) {
                                *ret_invalid = strdup(*w);
                                if (!*ret_invalid)
                                        return -ENOMEM;
                        }
                        return -EINVAL;
                }
        STRV_FOREACH(w, words) {
                r = strv_extend(l, *w);
                if (r < 0)
                        return r;
        }
        return 0;
}

char **strv_copy(char *const *l) {
        char **n = calloc(strv_length(l) + 1, sizeof(char *));
        if (!n)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                n[i] = strdup(l[i]);
                if (!n[i])
                        return strv_free(n);
        }
        return n;
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp);
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 1, ls = strlen(sep);
        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + ls;
        char *r = malloc(n), *p = r;
        if (!r)
                return NULL;
        *p = 0;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, l[i]);
        }
        return r;
}
