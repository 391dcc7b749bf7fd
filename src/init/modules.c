/* SPDX-License-Identifier: MIT */
#include "modules.h"

#include <dirent.h>
#include <fcntl.h>
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
                if (r == -ENODEV)
                        /* A driver for hardware this machine does not have
                         * (hv_storvsc outside Hyper-V): expected, not a fault. */
                        log_debug("module %s: no such device here", name);
                else if (r < 0 && r != -EEXIST) {
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

/* Coldplug without udev: every device the kernel knows exposes a "modalias";
 * loading the modules that match those aliases is what udev would do at boot
 * (the NIC driver, qemu_fw_cfg, hardware crypto...). */
static void coldplug_walk(struct kmod_ctx *ctx, int dfd, unsigned depth, unsigned *loaded) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd;

        if (depth > 12)
                return;
        fd = openat(dfd, "modalias", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                char alias[512];
                ssize_t k = read(fd, alias, sizeof alias - 1);
                (void) close(fd);
                if (k > 0) {
                        alias[k] = 0;
                        alias[strcspn(alias, "\n")] = 0;
                        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
                        struct kmod_list *i;
                        if (kmod_module_new_from_lookup(ctx, alias, &list) >= 0)
                                kmod_list_foreach(i, list) {
                                        struct kmod_module *mod = kmod_module_get_module(i);
                                        if (kmod_module_get_initstate(mod) < 0 &&
                                            kmod_module_probe_insert_module(
                                                    mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL,
                                                    NULL, NULL) >= 0)
                                                (*loaded)++;
                                        kmod_module_unref(mod);
                                }
                }
        }

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return;
        }
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                /* Only real subdirectories: sysfs links (subsystem, driver) are DT_LNK. */
                int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue;
                coldplug_walk(ctx, sub, depth + 1, loaded);
                (void) close(sub);
        }
}

int modules_coldplug(void) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(NULL, NULL);
        _cleanup_close_ int fd = -EBADF;
        unsigned loaded = 0;

        if (!ctx)
                return log_error_code(ENOMEM, "cannot start libkmod");
        (void) kmod_load_resources(ctx);
        fd = open("/sys/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno, "cannot open /sys/devices");
        coldplug_walk(ctx, fd, 0, &loaded);
        log_debug("coldplug: loaded %u modules for present devices", loaded);
        return (int) loaded;
}

int modules_load_dir(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_strv_free_ char **files = NULL;
        struct dirent *de;
        int failed = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l > 5 && streq(de->d_name + l - 5, ".conf") && strv_extend(&files, de->d_name) < 0)
                        return log_oom();
        }
        strv_sort(files);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = path_join(dir, *f);
                if (!p)
                        return log_oom();
                int r = modules_load_list_file(p);
                if (r > 0)
                        failed += r;
        }
        return failed;
}
