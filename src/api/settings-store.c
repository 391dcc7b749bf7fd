/* SPDX-License-Identifier: MIT */
/* Settings generations on disk (settings-store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "settings-store.h"

#define GEN_MAX 1000000000u

static int store_lock(const char *dir) {
        _cleanup_free_ char *p = NULL;
        int fd, r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", dir);
        p = path_join(dir, "lock");
        if (!p)
                return -ENOMEM;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_wrapf(-errno, "cannot open %s", p);
        if (flock(fd, LOCK_EX) < 0) {
                r = -errno;
                safe_close(fd);
                return error_wrapf(r, "cannot lock %s", p);
        }
        return fd;
}

/* Reads a stored settings file and checks it still validates. */
static int read_json(const char *path, json_t **ret) {
        _cleanup_free_ char *data = NULL, *msg = NULL;
        _cleanup_(settings_freep) Settings *s = NULL;
        size_t size;
        json_t *j;
        int r;

        r = read_full_file(path, &data, &size, JSON_SIZE_MAX);
        if (r < 0)
                return r == -ENOENT ? r : error_wrapf(r, "cannot read %s", path);
        r = json_parse_bounded(data, size, &j, &msg);
        if (r < 0)
                return r == -ENOMEM ? r : error_setf(EBADMSG, "%s: %s", path, strna(msg));
        r = settings_from_json(j, &s);
        if (r < 0) {
                json_decref(j);
                return error_wrapf(r, "%s", path);
        }
        *ret = j;
        return 0;
}

static int write_json(const char *path, json_t *j) {
        _cleanup_free_ char *text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
        int r;

        if (!text)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0600);
        return r < 0 ? error_wrapf(r, "cannot write %s", path) : 0;
}

static char *gen_path(const char *dir, unsigned gen) {
        return strdup_printf("%s/%u.json", dir, gen);
}

static int read_pointer(const char *dir, const char *name, unsigned *ret) {
        _cleanup_free_ char *p = path_join(dir, name), *data = NULL;
        unsigned long n;
        char *end;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, &data, NULL, 64);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        errno = 0;
        n = strtoul(data, &end, 10);
        if (errno || end == data || (*end && !streq(end, "\n")) || n == 0 || n > GEN_MAX)
                return error_setf(EBADMSG, "%s: not a generation number", p);
        *ret = n;
        return 0;
}

static int write_pointer(const char *dir, const char *name, unsigned gen) {
        _cleanup_free_ char *p = path_join(dir, name);
        char buf[16];
        int r;

        if (!p)
                return -ENOMEM;
        (void) snprintf(buf, sizeof buf, "%u\n", gen);
        r = write_file_atomic(p, buf, strlen(buf), 0600);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 0;
}

/* The generation numbers on disk: the largest below
 * `below` (0: none) and the largest of all. */
/* Removes DIR/NAME (fine if absent) and syncs DIR. */
static int remove_file(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);

        if (!p)
                return -ENOMEM;
        if (unlink(p) < 0 && errno != ENOENT)
                return error_wrapf(-errno, "cannot remove %s", p);
        return fsync_directory(dir);
}

static int read_current(const char *dir, unsigned *ret) {
        return read_pointer(dir, "current", ret);
}

static int write_current(const char *dir, unsigned gen) {
        return write_pointer(dir, "current", gen);
}

static int scan(const char *dir, unsigned below, unsigned *ret_prev, unsigned *ret_max) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        unsigned prev = 0, max = 0;
        struct dirent *de;

        if (!d)
                return error_wrapf(-errno, "cannot open %s", dir);
        while ((de = readdir(d))) {
                unsigned long n;
                char *end;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                errno = 0;
                n = strtoul(de->d_name, &end, 10);
                if (errno || !streq(end, ".json") || n == 0 || n > GEN_MAX)
                        continue;
                max = MAX(max, (unsigned) n);
                if (n < below)
                        prev = MAX(prev, (unsigned) n);
        }
        if (ret_prev)
                *ret_prev = prev;
        if (ret_max)
                *ret_max = max;
        return 0;
}

static int load_current(const char *dir, unsigned *ret_gen, json_t **ret_json) {
        _cleanup_free_ char *p = NULL;
        unsigned gen;
        int r;

        r = read_current(dir, &gen);
        if (r < 0)
                return r;
        if (ret_json) {
                if (gen == 0) {
                        *ret_json = json_object();
                        if (!*ret_json)
                                return -ENOMEM;
                } else {
                        p = gen_path(dir, gen);
                        if (!p)
                                return -ENOMEM;
                        r = read_json(p, ret_json);
                        if (r == -ENOENT)
                                return error_setf(EBADMSG, "%s/current: generation %u is missing",
                                                  dir, gen);
                        if (r < 0)
                                return r;
                }
        }
        if (ret_gen)
                *ret_gen = gen;
        return 0;
}

int settings_store_current(const char *dir, unsigned *ret_gen, json_t **ret_json) {
        _cleanup_close_ int lock = store_lock(dir);

        if (lock < 0)
                return lock;
        return load_current(dir, ret_gen, ret_json);
}

int settings_store_pending(const char *dir, json_t **ret_json) {
        _cleanup_close_ int lock = store_lock(dir);
        _cleanup_free_ char *p = path_join(dir, "pending.json");

        if (lock < 0)
                return lock;
        if (!p)
                return -ENOMEM;
        return read_json(p, ret_json);
}

int settings_store_patch(const char *dir, const char *body, size_t size, const char *proc_sys) {
        _cleanup_close_ int lock = store_lock(dir);
        _cleanup_free_ char *p = path_join(dir, "pending.json"), *msg = NULL;
        _cleanup_(settings_freep) Settings *s = NULL;
        json_t *patch = NULL, *base = NULL, *canon = NULL;
        int r;

        if (lock < 0)
                return lock;
        if (!p)
                return -ENOMEM;
        r = json_parse_bounded(body, size, &patch, &msg);
        if (r < 0)
                return r == -ENOMEM ? r : error_setf(EINVAL, "settings: %s", strna(msg));
        if (!json_is_object(patch)) {
                r = error_setf(EINVAL, "settings: not a JSON object");
                goto finish;
        }
        r = read_json(p, &base);
        if (r == -ENOENT)
                r = load_current(dir, NULL, &base);
        if (r < 0)
                goto finish;
        r = settings_merge_patch(base, patch);
        if (r < 0)
                goto finish;
        r = settings_from_json(base, &s);
        if (r >= 0)
                r = settings_check_sysctl(s, proc_sys);
        if (r < 0)
                goto finish;
        r = settings_to_json(s, &canon);
        if (r < 0)
                goto finish;
        r = write_json(p, canon);
finish:
        json_decref(patch);
        json_decref(base);
        json_decref(canon);
        return r;
}

int settings_store_discard(const char *dir) {
        _cleanup_close_ int lock = store_lock(dir);

        if (lock < 0)
                return lock;
        return remove_file(dir, "pending.json");
}

int settings_store_commit(const char *dir, unsigned *ret_gen) {
        _cleanup_close_ int lock = store_lock(dir);
        _cleanup_free_ char *p = path_join(dir, "pending.json"), *g = NULL;
        unsigned max;
        json_t *j = NULL;
        int r;

        if (lock < 0)
                return lock;
        if (!p)
                return -ENOMEM;
        r = read_json(p, &j);
        if (r == -ENOENT)
                return error_setf(ENOENT, "no pending settings transaction");
        if (r < 0)
                return r;
        r = scan(dir, 0, NULL, &max);
        if (r >= 0 && max >= GEN_MAX)
                r = error_setf(ERANGE, "%s: no generation number left", dir);
        if (r >= 0 && !(g = gen_path(dir, max + 1)))
                r = -ENOMEM;
        if (r >= 0)
                r = write_json(g, j);
        json_decref(j);
        if (r < 0)
                return r;
        /* The generation is durable before the pointer moves to it; the
         * transaction is closed last (a crash before that leaves it open,
         * and committing it again makes an equal newer generation). */
        r = write_current(dir, max + 1);
        if (r < 0)
                return r;
        if (unlink(p) < 0)
                return error_wrapf(-errno, "cannot remove %s", p);
        r = fsync_directory(dir);
        if (r < 0)
                return error_wrapf(r, "cannot sync %s", dir);
        if (ret_gen)
                *ret_gen = max + 1;
        return 0;
}

int settings_store_revert(const char *dir, unsigned *ret_gen) {
        _cleanup_close_ int lock = store_lock(dir);
        unsigned cur, prev;
        int r;

        if (lock < 0)
                return lock;
        r = read_current(dir, &cur);
        if (r < 0)
                return r;
        r = scan(dir, cur, &prev, NULL);
        if (r < 0)
                return r;
        if (cur == 0 || prev == 0)
                return error_setf(ENOENT, "no settings generation before %u", cur);
        r = write_current(dir, prev);
        if (r < 0)
                return r;
        if (ret_gen)
                *ret_gen = prev;
        return 0;
}

int settings_store_set_current(const char *dir, unsigned gen) {
        _cleanup_close_ int lock = store_lock(dir);
        _cleanup_free_ char *p = NULL;

        if (lock < 0)
                return lock;
        if (gen > 0) {
                p = gen_path(dir, gen);
                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) < 0)
                        return error_setf(ENOENT, "settings generation %u does not exist", gen);
                return write_current(dir, gen);
        }
        return remove_file(dir, "current");
}

int settings_store_applied(const char *dir, unsigned *ret_gen) {
        _cleanup_close_ int lock = store_lock(dir);

        if (lock < 0)
                return lock;
        return read_pointer(dir, "applied", ret_gen);
}

int settings_store_set_applied(const char *dir, unsigned gen) {
        _cleanup_close_ int lock = store_lock(dir);

        if (lock < 0)
                return lock;
        return write_pointer(dir, "applied", gen);
}
