/* SPDX-License-Identifier: MIT */
#include "modules.h"

#include <libkmod.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_ctx *, kmod_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_list *, kmod_module_unref_list);

const char *const modules_initrd_default[] = {
        "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci",
        "dm-verity",  "erofs",      "ext4",        "vfat",   NULL,
};

static int load_one(struct kmod_ctx *ctx, const char *name) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        struct kmod_list *i;
        int r, failed = 0;

        r = kmod_module_new_from_lookup(ctx, name, &list);
        if (r < 0)
                return log_warning_errno(r, "module %s: lookup failed", name);
        if (!list) {
                /* Built into the kernel, or not shipped: either way nothing to load. */
                log_debug("module %s: not found, assuming built in", name);
                return 0;
        }

        kmod_list_foreach(i, list) {
                struct kmod_module *mod = kmod_module_get_module(i);
                r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL,
                                                    NULL);
                if (r < 0 && r != -EEXIST) {
                        log_warning_errno(r, "module %s: cannot load %s", name,
                                          kmod_module_get_name(mod));
                        failed = r;
                }
                kmod_module_unref(mod);
        }
        return failed;
}

int modules_load(const char *const *names) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(NULL, NULL);
        int failed = 0;

        if (!ctx)
                return log_error_code(ENOMEM, "cannot start libkmod");
        if (kmod_load_resources(ctx) < 0)
                log_warning("libkmod: cannot load module indexes, continuing");

        for (size_t i = 0; names[i]; i++)
                if (load_one(ctx, names[i]) < 0)
                        failed++;
        return failed;
}

int modules_load_list_file(const char *path) {
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = read_full_file(path, &data, NULL, 0);
        if (r == -ENOENT) {
                log_debug("%s absent, loading the default module list", path);
                return modules_load(modules_initrd_default);
        }
        if (r < 0)
                return log_error_errno(r, "cannot read %s", path);

        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
                line += strspn(line, " \t");
                if (*line == '#' || *line == 0)
                        continue;
                r = strv_extend_words(&names, line, false);
                if (r < 0)
                        return r;
        }
        if (!names)
                return 0;
        return modules_load((const char *const *) names);
}
