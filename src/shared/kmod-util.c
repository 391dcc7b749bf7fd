/* SPDX-License-Identifier: MIT */
#include "kmod-util.h"

#include <errno.h>
#include <libkmod.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

struct ModuleIndex {
        struct kmod_ctx *ctx;
        char *failed;            /* name of the last module that failed to load */
        const char *const *only; /* module_load(): files under these only */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_list *, kmod_module_unref_list);

int module_index_new(const char *moddir, ModuleIndex **ret) {
        /* No modprobe.d from the build host when reading another tree. */
        const char *no_config[] = { NULL };
        ModuleIndex *idx = calloc(1, sizeof *idx);
        int r;

        if (!idx)
                return -ENOMEM;
        idx->ctx = kmod_new(moddir, moddir ? no_config : NULL);
        if (!idx->ctx) {
                free(idx);
                return -ENOMEM;
        }
        kmod_set_log_priority(idx->ctx, 0);
        r = kmod_load_resources(idx->ctx);
        if (r < 0 && moddir) {
                module_index_free(idx);
                return -ENOENT;
        }
        /* The running kernel without indexes: lookups fall back to files. */
        *ret = idx;
        return 0;
}

ModuleIndex *module_index_free(ModuleIndex *idx) {
        if (!idx)
                return NULL;
        kmod_unref(idx->ctx);
        free(idx->failed);
        free(idx);
        return NULL;
}

typedef struct Walk {
        char ***seen;
        module_visit_t visit;
        void *userdata;
} Walk;

static int walk_module(Walk *w, struct kmod_module *mod, unsigned depth);

static int walk_list(Walk *w, struct kmod_list *list, unsigned depth) {
        struct kmod_list *l;
        kmod_list_foreach(l, list) {
                struct kmod_module *m = kmod_module_get_module(l);
                int r = walk_module(w, m, depth);
                kmod_module_unref(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk_module(Walk *w, struct kmod_module *mod, unsigned depth) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *deps = NULL, *pre = NULL, *post = NULL;
        const char *name = kmod_module_get_name(mod);
        int r;

        if (depth > 64)
                return -ELOOP;
        if (strv_contains(*w->seen, name))
                return 0;
        r = strv_extend(w->seen, name);
        if (r < 0)
                return r;
        r = w->visit(name, kmod_module_get_path(mod), w->userdata);
        if (r < 0)
                return r;
        deps = kmod_module_get_dependencies(mod);
        r = walk_list(w, deps, depth + 1);
        if (r < 0)
                return r;
        r = kmod_module_get_softdeps(mod, &pre, &post);
        if (r < 0)
                return r;
        r = walk_list(w, pre, depth + 1);
        if (r < 0)
                return r;
        return walk_list(w, post, depth + 1);
}

int module_index_walk(ModuleIndex *idx, const char *name_or_alias, char ***seen,
                      module_visit_t visit, void *userdata) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        Walk w = { .seen = seen, .visit = visit, .userdata = userdata };
        int r;

        r = kmod_module_new_from_lookup(idx->ctx, name_or_alias, &list);
        if (r < 0)
                return r;
        if (!list)
                return -ENOENT;
        return walk_list(&w, list, 0);
}

void module_index_set_only(ModuleIndex *idx, const char *const *dirs) {
        idx->only = dirs;
}

static bool path_allowed(const ModuleIndex *idx, const char *path) {
        if (!idx->only)
                return true;
        if (!path)
                return false; /* built in: nothing to load anyway */
        for (size_t i = 0; idx->only[i]; i++)
                if (strstr(path, idx->only[i]))
                        return true;
        return false;
}

int module_load(ModuleIndex *idx, const char *name_or_alias, ModuleLoadFlags flags,
                const char **ret_failed) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        struct kmod_list *i;
        unsigned loaded = 0;
        int r, failed = 0;

        r = kmod_module_new_from_lookup(idx->ctx, name_or_alias, &list);
        if (r < 0)
                return r;
        kmod_list_foreach(i, list) {
                struct kmod_module *mod = kmod_module_get_module(i);
                if (((flags & MODULE_LOAD_NEW_ONLY) && kmod_module_get_initstate(mod) >= 0) ||
                    !path_allowed(idx, kmod_module_get_path(mod))) {
                        kmod_module_unref(mod);
                        continue;
                }
                r = kmod_module_probe_insert_module(
                        mod, (flags & MODULE_LOAD_BLACKLIST) ? KMOD_PROBE_APPLY_BLACKLIST : 0, NULL,
                        NULL, NULL, NULL);
                if (r == 0)
                        loaded++;
                else if (r > 0)
                        ; /* blacklisted: not loaded, not a failure */
                else if (r != -EEXIST && r != -ENODEV && failed == 0) {
                        failed = r;
                        free(idx->failed);
                        idx->failed = strdup(kmod_module_get_name(mod));
                }
                kmod_module_unref(mod);
        }
        if (failed < 0) {
                if (ret_failed)
                        *ret_failed = idx->failed ?: name_or_alias;
                return failed;
        }
        return (int) loaded;
}

int module_drives_devices(ModuleIndex *idx, const char *name) {
        struct kmod_list *info = NULL, *i;
        struct kmod_module *mod = NULL;
        int r;

        r = kmod_module_new_from_name(idx->ctx, name, &mod);
        if (r < 0)
                return r;
        r = kmod_module_get_info(mod, &info);
        kmod_module_unref(mod);
        if (r < 0)
                return r; /* built in, or not shipped */
        r = 0;
        kmod_list_foreach(i, info) {
                const char *key = kmod_module_info_get_key(i),
                           *value = kmod_module_info_get_value(i);
                /* Bus aliases (pci:v..., virtio:d..., acpi*:..., vmbus:...) name
                 * devices; fs-ext4, devname:mapper/control, char-major-10-236
                 * name file systems and device nodes. */
                if (key && value && streq(key, "alias") && strchr(value, ':') &&
                    !strneq(value, "devname:", 8)) {
                        r = 1;
                        break;
                }
        }
        kmod_module_info_free_list(info);
        return r;
}

int module_resolve(ModuleIndex *idx, const char *name_or_alias, char ***names) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        struct kmod_list *i;
        int r;

        r = kmod_module_new_from_lookup(idx->ctx, name_or_alias, &list);
        if (r < 0)
                return r;
        kmod_list_foreach(i, list) {
                struct kmod_module *mod = kmod_module_get_module(i);
                const char *name = kmod_module_get_name(mod);
                r = strv_contains(*names, name) ? 0 : strv_extend(names, name);
                kmod_module_unref(mod);
                if (r < 0)
                        return r;
        }
        return 0;
}
