/* SPDX-License-Identifier: MIT */
/* First-boot user data (userdata.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "blockdev.h"
#include "error.h"
#include "fileio.h"
#include "modload.h"
#include "settings-store.h"
#include "settings.h"
#include "userdata.h"

UserData *userdata_free(UserData *u) {
        if (!u)
                return NULL;
        json_decref(u->settings);
        for (size_t i = 0; i < u->n_files; i++) {
                free(u->files[i].path);
                free(u->files[i].content);
        }
        free(u->files);
        free(u);
        return NULL;
}

/* /etc/NAME or /var/NAME, no empty, "." or ".." components. */
static bool user_path_is_valid(const char *p) {
        if (!strneq(p, "/etc/", 5) && !strneq(p, "/var/", 5))
                return false;
        for (const char *s = p + 5;;) {
                const char *e = strchrnul(s, '/');
                if (e == s || (e - s == 1 && s[0] == '.') ||
                    (e - s == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                if (!*e)
                        return true;
                s = e + 1;
        }
}

static int parse_mode(json_t *v, size_t i, mode_t *ret) {
        long long m = -1;

        if (json_is_integer(v))
                m = json_integer_value(v);
        else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end;

                if (*s && strspn(s, "01234567") == strlen(s) && strlen(s) <= 5)
                        m = strtoll(s, &end, 8);
        } else
                return error_setf(EINVAL, "files[%zu].mode: not an octal string or an integer", i);
        if (m < 0 || m > 07777)
                return error_setf(EINVAL, "files[%zu].mode: not a file mode (0 to 07777)", i);
        *ret = (mode_t) m;
        return 0;
}

static int parse_file(json_t *o, size_t i, UserFile *f) {
        const char *key;
        json_t *v;

        if (!json_is_object(o))
                return error_setf(EINVAL, "files[%zu]: not an object", i);
        f->mode = 0644;
        json_object_foreach(o, key, v) {
                if (streq(key, "path")) {
                        if (!json_is_string(v))
                                return error_setf(EINVAL, "files[%zu].path: not a string", i);
                        if (strlen(json_string_value(v)) > 4096 ||
                            !user_path_is_valid(json_string_value(v)))
                                return error_setf(EINVAL,
                                                  "files[%zu].path: not a clean path under "
                                                  "/etc/ or /var/",
                                                  i);
                        f->path = strdup(json_string_value(v));
                        if (!f->path)
                                return -ENOMEM;
                } else if (streq(key, "mode")) {
                        int r = parse_mode(v, i, &f->mode);
                        if (r < 0)
                                return r;
                } else if (streq(key, "content")) {
                        if (!json_is_string(v))
                                return error_setf(EINVAL, "files[%zu].content: not a string", i);
                        f->content = strdup(json_string_value(v));
                        if (!f->content)
                                return -ENOMEM;
                } else
                        return error_setf(EINVAL, "files[%zu].%s: unknown key", i, key);
        }
        if (!f->path)
                return error_setf(EINVAL, "files[%zu].path: missing", i);
        if (!f->content)
                return error_setf(EINVAL, "files[%zu].content: missing", i);
        return 0;
}

int userdata_parse(const char *data, size_t size, UserData **ret) {
        _cleanup_(userdata_freep) UserData *u = calloc(1, sizeof *u);
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *msg = NULL;
        json_t *j = NULL, *files;
        size_t i;
        int r;

        if (!u)
                return -ENOMEM;
        if (size > USERDATA_SIZE_MAX)
                return error_setf(EINVAL, "larger than %u bytes", USERDATA_SIZE_MAX);
        r = json_parse_bounded(data, size, &j, &msg);
        if (r < 0)
                return r == -ENOMEM ? r : error_setf(EINVAL, "not JSON: %s", strna(msg));
        u->settings = j;
        if (!json_is_object(j))
                return error_setf(EINVAL, "not a JSON object");
        files = json_object_get(j, "files");
        if (files) {
                if (!json_is_array(files))
                        return error_setf(EINVAL, "files: not a list");
                if (json_array_size(files) > USERDATA_FILES_MAX)
                        return error_setf(EINVAL, "files: more than %d entries",
                                          USERDATA_FILES_MAX);
                u->files = calloc(json_array_size(files) + 1, sizeof(UserFile));
                if (!u->files)
                        return -ENOMEM;
                for (i = 0; i < json_array_size(files); i++) {
                        r = parse_file(json_array_get(files, i), i, &u->files[i]);
                        u->n_files = i + 1;
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < i; k++)
                                if (streq(u->files[k].path, u->files[i].path))
                                        return error_setf(EINVAL, "files[%zu].path: %s given twice",
                                                          i, u->files[i].path);
                }
                if (json_object_del(j, "files") < 0)
                        return -ENOMEM;
        }
        /* The rest is settings: the API's validation, word for word. */
        r = settings_from_json(j, &s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

static int read_source_file(const char *path, char **ret_data, size_t *ret_size) {
        int r = read_full_file(path, ret_data, ret_size, USERDATA_SIZE_MAX + 1);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", path);
        return 1;
}

/* berthd --boot runs before berth-init's coldplug, and the kernel has no
 * modprobe to call: what a config drive needs is loaded here. Failures show
 * as a missing drive or a failed mount. */
static void load_module(ModuleIndex **idx, const char *alias) {
        if (!*idx && module_index_new(NULL, idx) < 0)
                return;
        (void) module_load(*idx, alias, MODULE_LOAD_BLACKLIST | MODULE_LOAD_NEW_ONLY, NULL);
}

/* The drivers of the PCI mass storage controllers present (class 01: SATA,
 * SCSI, NVMe): stage 1 loads only what the usr disk needs, and a config
 * drive may sit on another controller (a CD-ROM on q35's AHCI, where clouds
 * put a NoCloud seed). Then every SCSI host is scanned through its sysfs
 * file, which returns once the scan (libata: the port probe) is done, so
 * the drives are there before they are looked for. Only before user data
 * was consumed, that is on a machine's first boot. */
static void load_storage_controllers(ModuleIndex **idx) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/bus/pci/devices");
        _cleanup_(closedirp) DIR *h = NULL;
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *c = NULL, *m = NULL, *class = NULL, *alias = NULL;

                if (de->d_name[0] == '.')
                        continue;
                c = strdup_printf("/sys/bus/pci/devices/%s/class", de->d_name);
                m = strdup_printf("/sys/bus/pci/devices/%s/modalias", de->d_name);
                if (!c || !m || read_full_file(c, &class, NULL, 64) < 0 ||
                    !strneq(class, "0x01", 4) || read_full_file(m, &alias, NULL, 256) < 0)
                        continue;
                alias[strcspn(alias, "\n")] = 0;
                load_module(idx, alias);
        }
        h = opendir("/sys/class/scsi_host");
        while (h && (de = readdir(h))) {
                _cleanup_free_ char *scan = NULL;

                if (de->d_name[0] == '.')
                        continue;
                scan = strdup_printf("/sys/class/scsi_host/%s/scan", de->d_name);
                if (scan)
                        (void) write_string_file(scan, "- - -");
        }
}

/* The CD-ROM driver for the SCSI (and ATAPI) CD-ROMs present: where clouds
 * and hypervisors put a NoCloud seed. */
static void load_cdrom_driver(ModuleIndex **idx) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/bus/scsi/devices");
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *alias = NULL;

                if (de->d_name[0] == '.')
                        continue;
                p = strdup_printf("/sys/bus/scsi/devices/%s/modalias", de->d_name);
                if (!p || read_full_file(p, &alias, NULL, 256) < 0)
                        continue;
                alias[strcspn(alias, "\n")] = 0;
                if (strneq(alias, "scsi:t-0x05", 11))
                        load_module(idx, alias);
        }
}

/* A CIDATA volume (NoCloud: cloud-init's label, either case). */
static int read_config_drive(const char *mnt, char **ret_data, size_t *ret_size,
                             char **ret_source) {
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_free_ char *file = path_join(mnt, "user-data"), *fs_alias = NULL;
        char dev[96];
        BlockInfo b;
        int r;

        if (!file)
                return -ENOMEM;
        load_storage_controllers(&idx);
        load_cdrom_driver(&idx);
        r = blockdev_find(blockdev_match_label, "CIDATA", &b);
        if (r == 0)
                r = blockdev_find(blockdev_match_label, "cidata", &b);
        if (r <= 0)
                return 0; /* none, or no /sys/class/block to look in */
        if (!streq(b.fstype, "vfat") && !streq(b.fstype, "iso9660"))
                return error_setf(EINVAL, "config drive /dev/%s: %s, not vfat or iso9660", b.name,
                                  b.fstype);
        snprintf(dev, sizeof dev, "/dev/%s", b.name);
        fs_alias = strdup_printf("fs-%s", b.fstype);
        if (!fs_alias)
                return -ENOMEM;
        load_module(&idx, fs_alias);
        r = mkdir_p(mnt, 0700);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", mnt);
        if (mount(dev, mnt, b.fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return error_wrapf(-errno, "cannot mount the config drive %s", dev);
        r = read_source_file(file, ret_data, ret_size);
        (void) umount2(mnt, MNT_DETACH);
        if (r <= 0)
                return r < 0 ? r : error_setf(ENOENT, "config drive %s has no user-data", dev);
        *ret_source = strdup_printf("config drive %s (%s)", dev, b.label);
        return *ret_source ? 1 : -ENOMEM;
}

int userdata_read(const UserDataSources *src, char **ret_data, size_t *ret_size,
                  char **ret_source) {
        int r;

        if (src->fw_cfg) {
                r = read_source_file(src->fw_cfg, ret_data, ret_size);
                if (r != 0) {
                        if (r > 0 && !(*ret_source = strdup("fw_cfg opt/berth/user-data")))
                                return -ENOMEM;
                        return r;
                }
        }
        if (src->config_drive) {
                r = read_config_drive(src->cidata_mount, ret_data, ret_size, ret_source);
                if (r != 0)
                        return r;
        }
        if (src->esp_file) {
                r = read_source_file(src->esp_file, ret_data, ret_size);
                if (r != 0) {
                        if (r > 0 && !(*ret_source = strdup_printf("ESP %s", src->esp_file)))
                                return -ENOMEM;
                        return r;
                }
        }
        return 0;
}

static int write_user_file(const char *base, const char *rel, const UserFile *f) {
        _cleanup_free_ char *p = path_join(base, rel);
        int r;

        if (!p)
                return -ENOMEM;
        r = mkdir_parents(p, 0755);
        if (r >= 0)
                r = write_file_atomic(p, f->content, strlen(f->content), f->mode);
        return r < 0 ? error_wrapf(r, "cannot write %s", f->path) : 0;
}

int userdata_apply(const UserData *u, const char *root, const char *keep_etc,
                   const char *settings_dir) {
        _cleanup_free_ char *patch = NULL;
        unsigned gen;
        int r;

        for (size_t i = 0; i < u->n_files; i++) {
                const UserFile *f = &u->files[i];
                bool etc = strneq(f->path, "/etc/", 5);

                r = write_user_file(etc ? keep_etc : root, etc ? f->path + 5 : f->path, f);
                if (r < 0)
                        return r;
        }
        if (json_object_size(u->settings) == 0)
                return 0;
        patch = json_dumps(u->settings, JSON_COMPACT);
        if (!patch)
                return -ENOMEM;
        r = settings_store_patch(settings_dir, patch, strlen(patch), NULL);
        if (r >= 0)
                r = settings_store_commit(settings_dir, &gen);
        return r;
}
