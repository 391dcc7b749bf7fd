/* SPDX-License-Identifier: MIT */
#include "modules.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "fileio.h"
#include "initutil.h"
#include "kmod-util.h"
#include "log.h"
#include "strv.h"

const char *const modules_initrd_default[] = {
        "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci",
        "dm-verity",  "erofs",      "ext4",        "vfat",   NULL,
};

static int load_one(ModuleIndex *idx, const char *cmdline, const char *name) {
        const char *failed = NULL;
        if (cmdline_module_blacklisted(cmdline, name))
                return log_warning_errno(
                        -EPERM, "module %s: refused, on the kernel's module_blacklist", name);
        int r = module_load(idx, name, 0, &failed);
        if (r < 0)
                return log_warning_errno(r, "module %s: cannot load %s", name, strna(failed));
        if (r == 0)
                /* Built in, not shipped, loaded already, or a driver for
                 * hardware this machine does not have: nothing to do. */
                log_debug("module %s: nothing loaded", name);
        return 0;
}

int modules_load(const char *const *names) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        char cmdline[4096];
        int failed = 0, r;

        if (proc_cmdline_read(cmdline, sizeof cmdline) < 0)
                cmdline[0] = 0;
        r = module_index_new(NULL, &idx);
        if (r < 0)
                return log_error_errno(r, "cannot start libkmod");
        for (size_t i = 0; names[i]; i++)
                if (load_one(idx, cmdline, names[i]) < 0)
                        failed++;
        return failed;
}

int modules_read_list(const char *path, char ***ret_names) {
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **names = NULL;
        char *save = NULL;
        int r;

        r = read_full_file(path, &data, NULL, 0);
        if (r < 0)
                return r;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t\r");
                if (*line == '#' || *line == ';' || *line == 0)
                        continue;
                r = strv_extend_words(&names, line, false);
                if (r < 0)
                        return r;
        }
        *ret_names = TAKE_PTR(names);
        return 0;
}

int modules_load_list_file(const char *path) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = modules_read_list(path, &names);
        if (r == -ENOENT) {
                log_debug("%s absent, loading the default module list", path);
                return modules_load(modules_initrd_default);
        }
        if (r < 0)
                return log_error_errno(r, "cannot read %s", path);
        if (!names)
                return 0;
        return modules_load((const char *const *) names);
}

/* Coldplug without udev: every device the kernel knows exposes a "modalias";
 * loading the modules that match those aliases is what udev would do at boot
 * (the NIC driver, qemu_fw_cfg, hardware crypto...). */
static void coldplug_walk(ModuleIndex *idx, int dfd, unsigned depth, unsigned *loaded) {
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
                        int r = module_load(idx, alias,
                                            MODULE_LOAD_BLACKLIST | MODULE_LOAD_NEW_ONLY, NULL);
                        if (r > 0)
                                *loaded += (unsigned) r;
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
                int sub = openat(dirfd(d), de->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue;
                coldplug_walk(idx, sub, depth + 1, loaded);
                (void) close(sub);
        }
}

int modules_coldplug(void) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned loaded = 0;
        int r;

        r = module_index_new(NULL, &idx);
        if (r < 0)
                return log_error_errno(r, "cannot start libkmod");
        fd = open("/sys/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno, "cannot open /sys/devices");
        coldplug_walk(idx, fd, 0, &loaded);
        log_debug("coldplug: loaded %u modules for present devices", loaded);
        return (int) loaded;
}

int modules_read_dir(const char *dir, char ***ret_names) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_strv_free_ char **files = NULL, **names = NULL;
        struct dirent *de;
        int r;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l > 5 && streq(de->d_name + l - 5, ".conf") &&
                    strv_extend(&files, de->d_name) < 0)
                        return -ENOMEM;
        }
        strv_sort(files);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = path_join(dir, *f);
                _cleanup_strv_free_ char **more = NULL;
                if (!p)
                        return -ENOMEM;
                r = modules_read_list(p, &more);
                if (r == -ENOENT)
                        continue; /* removed since the listing */
                if (r < 0)
                        return r;
                STRV_FOREACH(n, more)
                        if (!strv_contains(names, *n) && strv_extend(&names, *n) < 0)
                                return -ENOMEM;
        }
        *ret_names = TAKE_PTR(names);
        return 0;
}

int modules_load_dir(const char *dir) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = modules_read_dir(dir, &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!names)
                return 0;
        return modules_load((const char *const *) names);
}
