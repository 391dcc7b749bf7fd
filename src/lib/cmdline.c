/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

/* The next word of *p (whitespace separates, double quotes group and are
 * dropped), truncated to size; false at the end. */
static bool next_word(const char **p, char *word, size_t size) {
        size_t n = 0;
        bool quoted = false;

        *p += strspn(*p, " \t\n");
        if (!**p)
                return false;
        for (; **p && (quoted || !strchr(" \t\n", **p)); (*p)++) {
                if (**p == '"') {
                        quoted = !quoted;
                        continue;
                }
                if (n < size - 1)
                        word[n++] = **p;
        }
        word[n] = 0;
        return true;
}

int cmdline_get(const char *cmdline, const char *key, char *ret, size_t size) {
        size_t klen = strlen(key);
        const char *p = cmdline;
        char word[4096];
        int found = 0;

        while (next_word(&p, word, sizeof word)) {
                if (!strneq(word, key, klen))
                        continue;
                if (word[klen] == '=') {
                        if (size > 0)
                                snprintf(ret, size, "%s", word + klen + 1);
                        found = 1;
                } else if (word[klen] == 0) {
                        if (size > 0)
                                ret[0] = 0;
                        found = 1;
                }
        }
        return found;
}

/* Module names compare with '-' and '_' the same, as the kernel's: the first
 * n bytes of a against all of b. */
static bool module_name_eq(const char *a, size_t n, const char *b) {
        size_t i = 0;
        for (; i < n && b[i]; i++)
                if (a[i] != b[i] && !(strchr("-_", a[i]) && strchr("-_", b[i])))
                        return false;
        return i == n && !b[i];
}

bool cmdline_module_listed(const char *cmdline, const char *key, const char *name) {
        char list[1024];
        if (!cmdline || cmdline_get(cmdline, key, list, sizeof list) <= 0)
                return false;
        for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save))
                if (module_name_eq(w, strlen(w), name))
                        return true;
        return false;
}

bool cmdline_module_blacklisted(const char *cmdline, const char *name) {
        return cmdline_module_listed(cmdline, "module_blacklist", name);
}

int cmdline_module_options(const char *cmdline, const char *name, char *ret, size_t size) {
        const char *p = cmdline;
        char word[4096];
        size_t n = 0;

        if (size == 0)
                return -ENOBUFS;
        ret[0] = 0;
        while (p && next_word(&p, word, sizeof word)) {
                const char *dot = strchr(word, '.'), *eq = strchr(word, '=');
                if (!dot || (eq && eq < dot) || dot[1] == 0 || dot[1] == '=' ||
                    !module_name_eq(word, (size_t) (dot - word), name))
                        continue;
                /* The kernel's parser takes PARAM="A B" for a value with spaces. */
                bool quote = eq && strpbrk(eq + 1, " \t\n");
                int k = quote ? snprintf(ret + n, size - n, "%s%.*s\"%s\"", n ? " " : "",
                                         (int) (eq + 1 - dot - 1), dot + 1, eq + 1)
                              : snprintf(ret + n, size - n, "%s%s", n ? " " : "", dot + 1);
                if (k < 0 || (size_t) k >= size - n) {
                        ret[0] = 0;
                        return -ENOBUFS;
                }
                n += (size_t) k;
        }
        return (int) n;
}
