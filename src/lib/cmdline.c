/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"

int cmdline_get(const char *cmdline, const char *key, char *ret, size_t size) {
        size_t klen = strlen(key);
        const char *p = cmdline;
        int found = 0;

        for (;;) {
                char word[4096];
                size_t n = 0;
                bool quoted = false;

                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                for (; *p && (quoted || !strchr(" \t\n", *p)); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (n < sizeof word - 1)
                                word[n++] = *p;
                }
                word[n] = 0;

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

bool cmdline_module_blacklisted(const char *cmdline, const char *name) {
        char list[1024];
        if (!cmdline || cmdline_get(cmdline, "module_blacklist", list, sizeof list) <= 0)
                return false;
        /* Module names compare with '-' and '_' the same, as the kernel's. */
        for (char *save = NULL, *w = strtok_r(list, ",", &save); w;
             w = strtok_r(NULL, ",", &save)) {
                size_t i = 0;
                for (; w[i] && name[i]; i++)
                        if (w[i] != name[i] && !(strchr("-_", w[i]) && strchr("-_", name[i])))
                                break;
                if (!w[i] && !name[i])
                        return true;
        }
        return false;
}
