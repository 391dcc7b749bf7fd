/* SPDX-License-Identifier: MIT */
#include "esp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "spawn-util.h"
#include "strv.h"

#define ESP_TEXT_MAX (64u << 10)

/* mtools without user configuration or geometry checks; FAT times in UTC. */
static char *const mtools_env[] = {
        (char *) "MTOOLS_SKIP_CHECK=1",
        (char *) "MTOOLSRC=/dev/null",
        (char *) "TZ=UTC",
        (char *) "LC_ALL=C",
        NULL,
};

static int mtool(Esp *e, const char *tool, char **ret_out, ...) {
        _cleanup_strv_free_ char **argv = NULL;
        va_list ap;
        int r;

        if (strv_extend(&argv, tool) < 0 || strv_extend(&argv, "-i") < 0 ||
            strv_extend(&argv, e->image) < 0)
                return -ENOMEM;
        va_start(ap, ret_out);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
                if (strv_extend(&argv, a) < 0) {
                        va_end(ap);
                        return -ENOMEM;
                }
        va_end(ap);
        r = spawn_run(argv, &(SpawnOptions){ .env_extra = mtools_env }, ret_out);
        return r;
}

static char *mpath(const char *path) {
        return strdup_printf("::/%s", path);
}

int esp_open_image(const char *disk, uint64_t offset, Esp *ret) {
        char *img = strdup_printf("%s@@%" PRIu64, disk, offset);
        if (!img)
                return -ENOMEM;
        *ret = (Esp){ .image = img };
        return 0;
}

int esp_open_dir(const char *dir, Esp *ret) {
        char *d = strdup(dir);
        if (!d)
                return -ENOMEM;
        *ret = (Esp){ .dir = d };
        return 0;
}

void esp_done(Esp *e) {
        if (e->remounted)
                (void) mount(NULL, e->dir, NULL, MS_REMOUNT | MS_RDONLY | e->remount_flags, NULL);
        free(e->image);
        free(e->dir);
        *e = (Esp){};
}

int esp_make_writable(Esp *e) {
        struct statvfs sv;

        if (!e->dir || e->remounted)
                return 0;
        if (statvfs(e->dir, &sv) < 0)
                return error_wrapf(-errno, "%s", e->dir);
        if (!(sv.f_flag & ST_RDONLY))
                return 0;
        unsigned long keep = (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
                             (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
                             (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
        if (mount(NULL, e->dir, NULL, MS_REMOUNT | keep, NULL) < 0)
                return error_wrapf(-errno, "cannot remount the ESP %s read-write", e->dir);
        e->remounted = true;
        e->remount_flags = keep;
        return 0;
}

/* Creates the parent directories of path on an ESP image. */
static int mkdirs_image(Esp *e, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                _cleanup_free_ char *m = mpath(p);
                if (!m)
                        return -ENOMEM;
                /* mmd fails for an existing directory: look first. */
                if (mtool(e, "mdir", NULL, "-b", m, NULL) < 0) {
                        int r = mtool(e, "mmd", NULL, m, NULL);
                        if (r < 0)
                                return error_wrapf(r, "cannot create %s on the ESP", p);
                }
                *s = '/';
        }
        return 0;
}

int esp_read(Esp *e, const char *path, char **ret) {
        if (e->dir) {
                _cleanup_free_ char *p = path_join(e->dir, path);
                size_t size;
                if (!p)
                        return -ENOMEM;
                return read_full_file(p, ret, &size, ESP_TEXT_MAX);
        }
        _cleanup_free_ char *m = mpath(path), *out = NULL;
        if (!m)
                return -ENOMEM;
        if (mtool(e, "mdir", NULL, "-b", m, NULL) < 0)
                return -ENOENT;
        int r = mtool(e, "mtype", &out, m, NULL);
        if (r < 0)
                return error_wrapf(r, "cannot read %s on the ESP", path);
        if (strlen(out) > ESP_TEXT_MAX)
                return -EFBIG;
        *ret = TAKE_PTR(out);
        return 0;
}

/* Makes a change to the directory holding path durable: the ESP is FAT,
 * whose directory entries the kernel writes back when it likes. */
static int fsync_parent(const char *path) {
        _cleanup_free_ char *d = strdup(path);
        if (!d)
                return -ENOMEM;
        if (strrchr(d, '/'))
                *strrchr(d, '/') = 0;
        int r = fsync_directory(d);
        return r < 0 ? error_wrapf(r, "cannot sync %s", d) : 0;
}

int esp_remove(Esp *e, const char *path) {
        if (e->dir) {
                _cleanup_free_ char *p = path_join(e->dir, path);
                if (!p)
                        return -ENOMEM;
                if (unlink(p) < 0) {
                        if (errno == ENOENT)
                                return 0;
                        return error_wrapf(-errno, "cannot remove %s", p);
                }
                /* An old entry that came back after a power cut would point
                 * at the slot being rewritten. */
                return fsync_parent(p);
        }
        _cleanup_free_ char *m = mpath(path);
        if (!m)
                return -ENOMEM;
        if (mtool(e, "mdir", NULL, "-b", m, NULL) < 0)
                return 0;
        int r = mtool(e, "mdel", NULL, m, NULL);
        return r < 0 ? error_wrapf(r, "cannot remove %s on the ESP", path) : 0;
}

int esp_rename(Esp *e, const char *from, const char *to) {
        if (e->dir) {
                _cleanup_free_ char *f = path_join(e->dir, from), *t = path_join(e->dir, to);
                if (!f || !t)
                        return -ENOMEM;
                if (rename(f, t) < 0)
                        return error_wrapf(-errno, "cannot rename %s", f);
                /* vfat writes the renamed file's new directory entry with
                 * no clusters and size 0, and fills them in only when the
                 * file's inode is written back: syncing the directory alone
                 * leaves an empty entry file on the disk after a power cut,
                 * which systemd-boot skips. */
                _cleanup_close_ int fd = open(t, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 || fsync(fd) < 0)
                        return error_wrapf(-errno, "cannot sync %s", t);
                return fsync_parent(t);
        }
        _cleanup_free_ char *mf = mpath(from), *mt = mpath(to);
        if (!mf || !mt)
                return -ENOMEM;
        /* mmove with a full target path renames (within one directory here). */
        int r = mtool(e, "mmove", NULL, "-D", "o", mf, mt, NULL);
        return r < 0 ? error_wrapf(r, "cannot rename %s on the ESP", from) : 0;
}

int esp_get_file(Esp *e, const char *path, const char *dest) {
        if (e->dir) {
                _cleanup_free_ char *p = path_join(e->dir, path);
                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) < 0)
                        return -errno;
                return copy_file(p, dest, 0644);
        }
        _cleanup_free_ char *m = mpath(path);
        if (!m)
                return -ENOMEM;
        if (mtool(e, "mdir", NULL, "-b", m, NULL) < 0)
                return -ENOENT;
        (void) unlink(dest);
        return mtool(e, "mcopy", NULL, "-n", m, dest, NULL);
}

int esp_put_file(Esp *e, const char *src, const char *path) {
        _cleanup_free_ char *tmp = strdup_printf("%s.new", path);
        int r;

        if (!tmp)
                return -ENOMEM;
        if (e->dir) {
                _cleanup_free_ char *p = path_join(e->dir, tmp);
                if (!p)
                        return -ENOMEM;
                r = mkdir_parents(p, 0755);
                if (r >= 0)
                        r = copy_file(src, p, 0644);
                if (r < 0)
                        return error_wrapf(r, "cannot write %s", p);
                _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0)
                        return error_wrapf(-errno, "cannot sync %s", p);
        } else {
                _cleanup_free_ char *m = mpath(tmp);
                if (!m)
                        return -ENOMEM;
                r = mkdirs_image(e, path);
                if (r < 0)
                        return r;
                r = mtool(e, "mcopy", NULL, "-o", src, m, NULL);
                if (r < 0)
                        return error_wrapf(r, "cannot copy %s to the ESP", src);
        }
        r = esp_remove(e, path);
        if (r < 0)
                return r;
        return esp_rename(e, tmp, path);
}

int esp_put_text(Esp *e, const char *text, const char *path) {
        char tmp[] = "/tmp/berth-esp-XXXXXX";
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        int r;

        if (fd < 0)
                return error_wrapf(-errno, "cannot create a temporary file");
        r = loop_write(fd, text, strlen(text));
        if (r >= 0)
                r = esp_put_file(e, tmp, path);
        (void) unlink(tmp);
        return r;
}

int esp_list(Esp *e, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        if (e->dir) {
                _cleanup_free_ char *p = path_join(e->dir, path);
                _cleanup_(closedirp) DIR *d = NULL;
                struct dirent *de;
                if (!p)
                        return -ENOMEM;
                d = opendir(p);
                if (!d && errno != ENOENT)
                        return error_wrapf(-errno, "cannot list %s", p);
                while (d && (de = readdir(d)))
                        if (de->d_name[0] != '.' && strv_extend(&l, de->d_name) < 0)
                                return -ENOMEM;
        } else {
                _cleanup_free_ char *m = mpath(path), *out = NULL;
                if (!m)
                        return -ENOMEM;
                /* mdir -b prints one "::/dir/name" per line. */
                if (mtool(e, "mdir", &out, "-b", m, NULL) >= 0)
                        for (char *s = out, *nl; s && *s; s = nl ? nl + 1 : NULL) {
                                nl = strchr(s, '\n');
                                if (nl)
                                        *nl = 0;
                                const char *name = strrchr(s, '/');
                                name = name ? name + 1 : s;
                                if (*name && *name != '.' && strv_extend(&l, name) < 0)
                                        return -ENOMEM;
                        }
        }
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
