/* SPDX-License-Identifier: MIT */
/* libFuzzer target: depmod's text indexes as berth's module loader reads
 * them (src/shared/modload.c) from a module tree: /usr of another slot, the
 * initramfs, or a tree the composer unpacked. The input is modules.dep,
 * modules.builtin, modules.alias and modules.softdep, in this order,
 * separated by form feeds ('\f'). An index that parses must answer lookups
 * and walks of every word in it, and the cut-down index the composer writes
 * for the initramfs from a walk must parse again and resolve each walked
 * name. A rejected one must say which file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "modload.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Collects the built-in modules of a walk: a name of a built-in module may
 * also match an alias pattern, which takes precedence (modprobe's order). */
static int visit(const char *name, const char *path, void *userdata) {
        if (!name || !*name)
                abort();
        return path ? 0 : strv_extend(userdata, name);
}

static int refuse(const char *name, int fd, const void *image, size_t size, const char *params,
                  void *userdata) {
        abort(); /* no files: nothing may reach the kernel */
}

static int loaded(const char *name, void *userdata) {
        return 0;
}

static void check_subset(ModuleIndex *idx, char **seen, char **builtins) {
        char *texts[_MODULE_FILE_MAX] = {};
        ModuleIndex *sub = NULL;
        size_t n;

        for (ModuleFile f = 0; f < _MODULE_FILE_MAX; f++)
                if (module_index_format(idx, f, seen, &texts[f], &n) < 0 || strlen(texts[f]) != n)
                        abort();
        if (module_index_parse(NULL, (const char *const *) texts, &sub) < 0)
                abort();
        STRV_FOREACH(s, seen) {
                char **names = NULL;
                if (strv_contains(builtins, *s))
                        continue;
                if (module_resolve(sub, *s, &names) < 0 || !strv_contains(names, *s))
                        abort();
                strv_free(names);
        }
        module_index_free(sub);
        for (ModuleFile f = 0; f < _MODULE_FILE_MAX; f++)
                free(texts[f]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy = malloc(size + 1), *texts[_MODULE_FILE_MAX] = {}, **words = NULL;
        ModuleIndex *idx = NULL;
        int r;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = 0;
        char *p = copy;
        for (ModuleFile f = 0; f < _MODULE_FILE_MAX && p; f++) {
                texts[f] = p;
                p = strchr(p, '\f');
                if (p)
                        *p++ = 0;
        }
        /* A tree that does not exist: loads fail at open, before the kernel. */
        r = module_index_parse("/nonexistent/modules", (const char *const *) texts, &idx);
        if (r < 0) {
                if (!strstr(error_message(r), "/nonexistent/modules/modules.") && r != -ENOMEM)
                        abort();
                free(copy);
                return 0;
        }
        ModuleKernel k = { .insert = refuse, .loaded = loaded };
        module_index_set_kernel(idx, &k);
        (void) module_index_set_cmdline(idx, "x.y=1 modprobe.blacklist=a,b");
        for (ModuleFile f = 0; f < _MODULE_FILE_MAX; f++)
                if (texts[f])
                        (void) strv_extend_words(&words, texts[f], false);
        size_t i = 0;
        STRV_FOREACH(w, words) {
                char **seen = NULL, **names = NULL, **builtins = NULL;
                if (i++ >= 64)
                        break;
                (void) module_resolve(idx, *w, &names);
                (void) module_drives_devices(idx, *w);
                r = module_index_walk(idx, *w, &seen, visit, &builtins);
                if (r < 0 && r != -ENOENT && r != -ELOOP && r != -ENOMEM)
                        abort();
                if (r == 0)
                        check_subset(idx, seen, builtins);
                /* Without files every load fails before the kernel, or finds
                 * nothing to do (built in, loaded, blacklisted). */
                (void) module_load(idx, *w, MODULE_LOAD_BLACKLIST, NULL);
                strv_free(seen);
                strv_free(names);
                strv_free(builtins);
        }
        strv_free(words);
        module_index_free(idx);
        free(copy);
        return 0;
}
