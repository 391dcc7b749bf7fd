/* SPDX-License-Identifier: MIT */
#include "modules.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "initutil.h"
#include "log.h"
#include "modload.h"
#include "strv.h"

const char *const modules_initrd_default[] = {
        "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci",
        "dm-verity",  "erofs",      "ext4",        "vfat",   NULL,
};

static int index_open(ModuleIndex **ret_idx) {
        int r = module_index_new(NULL, ret_idx);
        if (r < 0) {
                log_error("cannot read the module index: %s", error_message(r));
                return r;
        }
        return 0;
}

static int load_one(ModuleIndex *idx, const char *cmdline, const char *name) {
        const char *failed = NULL;
        if (cmdline_module_blacklisted(cmdline, name))
                return log_warning_errno(
                        -EPERM, "module %s: refused, on the kernel's module_blacklist", name);
        int r = module_load(idx, name, 0, &failed);
        if (r < 0) {
                log_warning("module %s: cannot load %s: %s", name, strna(failed), error_message(r));
                return r;
        }
        if (r == 0)
                /* Built in, not shipped, loaded already, or a driver for
                 * hardware this machine does not have: nothing to do. */
                log_debug("module %s: nothing loaded", name);
        return 0;
}

/* The running kernel's module index, and the command line (module_blacklist=). */
static int loader_open(ModuleIndex **ret_idx, char *cmdline, size_t size) {
        if (proc_cmdline_read(cmdline, size) < 0)
                cmdline[0] = 0;
        return index_open(ret_idx);
}

int modules_load(const char *const *names) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        char cmdline[4096];
        int failed = 0, r;

        r = loader_open(&idx, cmdline, sizeof cmdline);
        if (r < 0)
                return r;
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

int modules_load_list_file(const char *path, modules_found_t found, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = modules_read_list(path, &names);
        if (r == -ENOENT) {
                log_debug("%s absent, loading the default module list", path);
                return modules_load_until(modules_initrd_default, found, userdata);
        }
        if (r < 0)
                return log_error_errno(r, "cannot read %s", path);
        if (!names)
                return 0;
        return modules_load_until((const char *const *) names, found, userdata);
}

typedef void (*alias_visit_t)(const char *alias, void *userdata);

/* Calls visit with the modalias of every device under dfd: every device the
 * kernel knows exposes one, and loading the modules that match those aliases
 * is what udev does at coldplug (the NIC driver, qemu_fw_cfg, hardware
 * crypto...). */
static void alias_walk(int dfd, unsigned depth, alias_visit_t visit, void *userdata) {
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
                        visit(alias, userdata);
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
                alias_walk(sub, depth + 1, visit, userdata);
                (void) close(sub);
        }
}

static int devices_walk(alias_visit_t visit, void *userdata) {
        _cleanup_close_ int fd = open("/sys/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno, "cannot open /sys/devices");
        alias_walk(fd, 0, visit, userdata);
        return 0;
}

typedef struct Coldplug {
        ModuleIndex *idx;
        unsigned loaded;
} Coldplug;

static void coldplug_one(const char *alias, void *userdata) {
        Coldplug *c = userdata;
        int r = module_load(c->idx, alias, MODULE_LOAD_BLACKLIST | MODULE_LOAD_NEW_ONLY, NULL);
        if (r > 0)
                c->loaded += (unsigned) r;
}

int modules_coldplug(const char *const *only) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        int r;

        r = index_open(&idx);
        if (r < 0)
                return r;
        module_index_set_only(idx, only);
        Coldplug c = { .idx = idx };
        r = devices_walk(coldplug_one, &c);
        if (r < 0)
                return r;
        log_debug("coldplug: loaded %u modules for present devices", c.loaded);
        return (int) c.loaded;
}

typedef struct Wanted {
        ModuleIndex *idx;
        char **names;
} Wanted;

static void wanted_one(const char *alias, void *userdata) {
        Wanted *w = userdata;
        (void) module_resolve(w->idx, alias, &w->names);
}

int modules_load_until(const char *const *names, modules_found_t found, void *userdata) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_strv_free_ char **drivers = NULL;
        char cmdline[4096];
        int failed = 0, r;

        r = loader_open(&idx, cmdline, sizeof cmdline);
        if (r < 0)
                return r;

        /* File systems, device-mapper, ...: always. */
        for (size_t i = 0; names[i]; i++) {
                if (module_drives_devices(idx, names[i]) > 0) {
                        if (strv_extend(&drivers, names[i]) < 0)
                                return log_oom();
                } else if (load_one(idx, cmdline, names[i]) < 0)
                        failed++;
        }

        /* Drivers: for a device present only, the first wanted in list order,
         * then look again (virtio_pci makes the virtio devices virtio_blk
         * drives), until the disk is there. */
        size_t n = strv_length(drivers);
        _cleanup_free_ bool *done = calloc(n + 1, sizeof *done);
        if (!done)
                return log_oom();
        while (!found(userdata)) {
                Wanted w = { .idx = idx };
                size_t next = n;
                (void) devices_walk(wanted_one, &w);
                for (size_t i = 0; i < n && next == n; i++)
                        if (!done[i] && strv_contains(w.names, drivers[i]))
                                next = i;
                strv_free(w.names);
                if (next == n)
                        break;
                done[next] = true;
                if (load_one(idx, cmdline, drivers[next]) < 0)
                        failed++;
        }
        if (found(userdata)) {
                for (size_t i = 0; i < n; i++)
                        if (!done[i])
                                log_debug("module %s: not needed for the boot disk", drivers[i]);
                return failed;
        }

        /* No present device led to the disk (or it appears asynchronously,
         * behind a SCSI or NVMe scan): every other driver of the list. */
        for (size_t i = 0; i < n; i++)
                if (!done[i] && load_one(idx, cmdline, drivers[i]) < 0)
                        failed++;
        return failed;
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
