/* SPDX-License-Identifier: MIT */
#include "tailor.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "digest.h"
#include "elfdeps.h"
#include "copy.h"
#include "error.h"
#include "fileio.h"
#include "spawn-util.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "tuf.h"

#define FACTORY_ETC "usr/share/factory/etc"

#define _cleanup_closedir_ _cleanup_(closedirp)

/* Run argv (argv[0] looked up in PATH) and wait; 0 only on exit status 0. */
static int run_command(char *const *argv) {
        pid_t pid;
        int r = spawn_start(argv, NULL, &pid);
        return r < 0 ? r : spawn_wait(pid, NULL);
}

/* Sorted names in a directory (without "." and ".."). */
static int list_dir(int dfd, const char *name, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = strv_extend(&l, de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno > 0)
                return -errno;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

typedef int (*walk_fn)(int dfd, const char *name, const char *path, const struct stat *st,
                       void *userdata);

/* Post-order walk of dfd/name (path is its root-relative name), never
 * following symlinks, children in sorted order. */
static int walk(int dfd, const char *name, const char *path, walk_fn fn, void *userdata) {
        struct stat st;
        int r;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_close_ int fd =
                        openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r = list_dir(dfd, name, &names);
                if (r < 0)
                        return r;
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *p = isempty(path) ? strdup(*n) : path_join(path, *n);
                        if (!p)
                                return -ENOMEM;
                        r = walk(fd, *n, p, fn, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return fn(dfd, name, path, &st, userdata);
}

/* ---- /etc and /var ---- */

/* Merge src into dst by rename; a file already in dst (berth's own factory
 * files) wins over the package's. */
static int merge_move(int src_dfd, const char *src, int dst_dfd, const char *dst,
                      const char *path) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;
        struct stat st;
        int r;

        if (fstatat(dst_dfd, dst, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                if (renameat(src_dfd, src, dst_dfd, dst) < 0)
                        return -errno;
                return 0;
        }
        struct stat sst;
        if (fstatat(src_dfd, src, &sst, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || !S_ISDIR(sst.st_mode)) {
                log_debug("tailor: %s: keeping the factory file over the package's", path);
                return 0;
        }
        r = list_dir(src_dfd, src, &names);
        if (r < 0)
                return r;
        sfd = openat(src_dfd, src, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        dfd = openat(dst_dfd, dst, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0 || dfd < 0)
                return -errno;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *p = path_join(path, *n);
                if (!p)
                        return -ENOMEM;
                r = merge_move(sfd, *n, dfd, *n, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int move_etc(const char *root, int root_fd) {
        _cleanup_free_ char *factory = path_join(root, FACTORY_ETC), *etc = path_join(root, "etc");
        struct stat st;
        int r;

        if (!factory || !etc)
                return -ENOMEM;
        if (fstatat(root_fd, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        r = mkdir_parents(factory, 0755);
        if (r < 0)
                return error_wrapf(r, "tailor: cannot create %s", factory);
        r = merge_move(root_fd, "etc", root_fd, FACTORY_ETC, "/etc");
        if (r < 0)
                return error_wrapf(r, "tailor: cannot move /etc to /%s", FACTORY_ETC);
        r = rm_rf(etc);
        if (r < 0)
                return error_wrapf(r, "tailor: cannot remove %s", etc);
        return 0;
}

static int drop_var(const char *root, int root_fd) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *var = path_join(root, "var");
        int r;

        if (!var)
                return -ENOMEM;
        r = list_dir(root_fd, "var", &names);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                STRV_FOREACH(n, names)
                        log_debug("tailor: dropping /var/%s", *n);
        r = rm_rf(var);
        if (r < 0)
                return error_wrapf(r, "tailor: cannot remove %s", var);
        return 0;
}

static int root_symlinks(int root_fd) {
        static const char *const dirs[] = { "bin", "sbin", "lib", "lib64" };
        char target[64], buf[64];
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(target, sizeof target, "usr/%s", dirs[i]);
                if (mkdirat(root_fd, "usr", 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (mkdirat(root_fd, target, 0755) < 0 && errno != EEXIST)
                        return error_wrapf(-errno, "tailor: cannot create /%s", target);
                if (fstatat(root_fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        ssize_t n;
                        if (!S_ISLNK(st.st_mode))
                                return error_setf(EEXIST,
                                                  "tailor: /%s is not a symlink: tree "
                                                  "not merged",
                                                  dirs[i]);
                        n = readlinkat(root_fd, dirs[i], buf, sizeof buf - 1);
                        if (n >= 0 && (buf[n] = 0, streq(buf, target)))
                                continue;
                        if (unlinkat(root_fd, dirs[i], 0) < 0)
                                return -errno;
                }
                if (symlinkat(target, root_fd, dirs[i]) < 0)
                        return error_wrapf(-errno, "tailor: cannot link /%s", dirs[i]);
        }
        return 0;
}

/* ---- generated files ---- */

/* Map an absolute image path to a root-relative one; /etc goes to the
 * factory tree, since /etc is rendered from it at boot. */
static int image_path(const char *root, const char *p, char **ret) {
        _cleanup_free_ char *rel = NULL;

        if (!p || p[0] != '/' || !path_is_safe_relative(p))
                return -EINVAL;
        while (*p == '/')
                p++;
        if (streq(p, "etc") || strneq(p, "etc/", 4))
                rel = strdup_printf("%s%s", FACTORY_ETC, p + 3);
        else
                rel = strdup(p);
        if (!rel)
                return -ENOMEM;
        *ret = path_join(root, rel);
        return *ret ? 0 : -ENOMEM;
}

static int write_tree_file(const char *root, const char *rel, const char *data, mode_t mode) {
        _cleanup_free_ char *p = path_join(root, rel);
        int r;

        if (!p)
                return -ENOMEM;
        r = mkdir_parents(p, 0755);
        if (r >= 0) {
                /* Never write through a symlink a package left there. */
                if (unlink(p) < 0 && errno != ENOENT && errno != EISDIR)
                        r = -errno;
        }
        if (r >= 0)
                r = write_file_atomic(p, data, strlen(data), mode);
        if (r < 0)
                return error_wrapf(r, "tailor: cannot write /%s", rel);
        return 0;
}

static bool field_ok(const char *s) {
        return !s || !strpbrk(s, ":\n");
}

static int cmp_user(const void *a, const void *b) {
        const SpecUser *x = *(SpecUser *const *) a, *y = *(SpecUser *const *) b;
        return x->uid < y->uid ? -1 : x->uid > y->uid ? 1 : strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b) {
        const SpecGroup *x = *(SpecGroup *const *) a, *y = *(SpecGroup *const *) b;
        return x->gid < y->gid ? -1 : x->gid > y->gid ? 1 : strcmp(x->name, y->name);
}

static int append(char **buf, size_t *size, FILE **f) {
        if (!*f) {
                *f = open_memstream(buf, size);
                if (!*f)
                        return -ENOMEM;
        }
        return 0;
}

static int write_users(const ImageSpec *spec, const char *root) {
        static SpecUser root_user = { .name = (char *) "root", .home = (char *) "/root" };
        static SpecGroup root_group = { .name = (char *) "root" };
        _cleanup_free_ const SpecUser **users = NULL;
        _cleanup_free_ const SpecGroup **groups = NULL;
        _cleanup_free_ SpecGroup *implied = NULL;
        _cleanup_free_ char *pw = NULL, *sh = NULL, *gr = NULL, *gsh = NULL;
        size_t n_users = 0, n_groups = 0, n_implied = 0, s1, s2, s3, s4;
        _cleanup_fclose_ FILE *fpw = NULL, *fsh = NULL, *fgr = NULL, *fgsh = NULL;
        bool have_root = false, have_root_group = false;
        int r;

        users = calloc(spec->n_users + 1, sizeof(SpecUser *));
        groups = calloc(spec->n_groups + spec->n_users + 1, sizeof(SpecGroup *));
        implied = calloc(spec->n_users + 1, sizeof(SpecGroup));
        if (!users || !groups || !implied)
                return -ENOMEM;

        for (size_t i = 0; i < spec->n_users; i++) {
                const SpecUser *u = &spec->users[i];
                if (isempty(u->name) || !field_ok(u->name) || !field_ok(u->home) ||
                    !field_ok(u->shell) || !field_ok(u->gecos))
                        return error_setf(EINVAL, "tailor: user '%s': bad field", strna(u->name));
                have_root = have_root || u->uid == 0 || streq(u->name, "root");
                users[n_users++] = u;
        }
        if (!have_root)
                users[n_users++] = &root_user;
        for (size_t i = 0; i < spec->n_groups; i++) {
                const SpecGroup *g = &spec->groups[i];
                if (isempty(g->name) || !field_ok(g->name))
                        return error_setf(EINVAL, "tailor: group '%s': bad name", strna(g->name));
                STRV_FOREACH(m, g->members)
                        if (!field_ok(*m) || strchr(*m, ','))
                                return error_setf(EINVAL, "tailor: group %s: bad member", g->name);
                have_root_group = have_root_group || g->gid == 0 || streq(g->name, "root");
                groups[n_groups++] = g;
        }
        if (!have_root_group)
                groups[n_groups++] = &root_group;
        /* A user's primary group that the spec did not declare gets the user's name. */
        for (size_t i = 0; i < n_users; i++) {
                bool found = false;
                for (size_t j = 0; j < n_groups && !found; j++)
                        found = groups[j]->gid == users[i]->gid;
                if (found)
                        continue;
                implied[n_implied] = (SpecGroup){ .name = users[i]->name, .gid = users[i]->gid };
                groups[n_groups++] = &implied[n_implied++];
        }
        qsort(users, n_users, sizeof(SpecUser *), cmp_user);
        qsort(groups, n_groups, sizeof(SpecGroup *), cmp_group);

        if (append(&pw, &s1, &fpw) < 0 || append(&sh, &s2, &fsh) < 0 ||
            append(&gr, &s3, &fgr) < 0 || append(&gsh, &s4, &fgsh) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n_users; i++) {
                const SpecUser *u = users[i];
                const char *shell = u->shell ?: (u->uid == 0 ? "/bin/sh" : "/usr/sbin/nologin");
                fprintf(fpw, "%s:x:%u:%u:%s:%s:%s\n", u->name, u->uid, u->gid, u->gecos ?: "",
                        u->home ?: "/nonexistent", shell);
                /* No passwords: berth has no password logins. */
                fprintf(fsh, "%s:!*:::::::\n", u->name);
        }
        for (size_t i = 0; i < n_groups; i++) {
                const SpecGroup *g = groups[i];
                _cleanup_free_ char *members = strv_join(g->members, ",");
                if (!members)
                        return -ENOMEM;
                fprintf(fgr, "%s:x:%u:%s\n", g->name, g->gid, members);
                fprintf(fgsh, "%s:!*::%s\n", g->name, members);
        }
        if (fflush(fpw) || fflush(fsh) || fflush(fgr) || fflush(fgsh))
                return -ENOMEM;

        if ((r = write_tree_file(root, FACTORY_ETC "/passwd", pw, 0644)) < 0 ||
            (r = write_tree_file(root, FACTORY_ETC "/group", gr, 0644)) < 0 ||
            (r = write_tree_file(root, FACTORY_ETC "/shadow", sh, 0600)) < 0 ||
            (r = write_tree_file(root, FACTORY_ETC "/gshadow", gsh, 0600)) < 0)
                return r;
        return 0;
}

static int write_sysctl(const ImageSpec *spec, const char *root) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size;

        if (spec->n_sysctls == 0)
                return 0;
        if (append(&buf, &size, &f) < 0)
                return -ENOMEM;
        fputs("# From the berth image spec's [Sysctl] section.\n", f);
        for (size_t i = 0; i < spec->n_sysctls; i++) {
                const SpecKV *kv = &spec->sysctls[i];
                if (isempty(kv->key) || strpbrk(kv->key, "\n= ") || !kv->value ||
                    strchr(kv->value, '\n'))
                        return error_setf(EINVAL, "tailor: bad sysctl '%s'", strna(kv->key));
                fprintf(f, "%s = %s\n", kv->key, kv->value);
        }
        if (fflush(f))
                return -ENOMEM;
        return write_tree_file(root, "usr/lib/sysctl.d/50-berth-spec.conf", buf, 0644);
}

/* Fleet reboot coordination keys of [Update], for update.conf (the node's
 * settings of the same names win: docs/updates.md, "Fleet reboots"). */
static int append_reboot_config(const ImageSpec *spec, char **conf) {
        _cleanup_free_ char *eps = strv_join(spec->update_etcd_endpoints, ",");
        char max[16] = "";
        if (!eps)
                return -ENOMEM;
        if (spec->update_max_unavailable > 0)
                (void) snprintf(max, sizeof max, "%u", spec->update_max_unavailable);
        char *n = strdup_printf(
                "%s%s%s%s%s%s%s%s%s%s%s%s%s", *conf,
                spec->update_reboot_coordination ? "RebootCoordination=" : "",
                strempty(spec->update_reboot_coordination),
                spec->update_reboot_coordination ? "\n" : "", *eps ? "EtcdEndpoints=" : "", eps,
                *eps ? "\n" : "", spec->update_reboot_group ? "RebootGroup=" : "",
                strempty(spec->update_reboot_group), spec->update_reboot_group ? "\n" : "",
                *max ? "MaxUnavailable=" : "", max, *max ? "\n" : "");
        if (!n)
                return -ENOMEM;
        free(*conf);
        *conf = n;
        if (spec->update_reboot_window) {
                n = strdup_printf("%sRebootWindow=%s\n", *conf, spec->update_reboot_window);
                if (!n)
                        return -ENOMEM;
                free(*conf);
                *conf = n;
        }
        return 0;
}

/* The update checks: berth-init starts `berth update periodic` on the spec's
 * schedule (StartEvery=, docs/services.md), and nothing stays resident in
 * between. Only where the agent is enabled and there is a repository. */
static int write_update_check(const ImageSpec *spec, const char *root) {
        _cleanup_free_ char *svc = NULL;

        if (!strv_contains(spec->services, "update") || isempty(spec->update_repository) ||
            spec->update_check_interval == 0)
                return 0;
        svc = strdup_printf("# Written by the composer from the image spec's [Update]\n"
                            "# CheckInterval= and CheckJitter= (docs/updates.md).\n"
                            "[Service]\n"
                            "Description=update check (berth update periodic)\n"
                            "Exec=/usr/bin/berth update periodic\n"
                            "After=update\n"
                            "StartEvery=%u\n"
                            "StartJitter=%u\n"
                            "StopTimeout=10\n",
                            spec->update_check_interval, spec->update_check_jitter);
        if (!svc)
                return -ENOMEM;
        return write_tree_file(root, "usr/lib/berth/services/update-check.service", svc, 0644);
}

/* [Update]: the root metadata the image trusts and where it looks for
 * releases, under /usr so dm-verity covers them. The root is checked to be
 * TUF root metadata here, so a wrong file fails the build, not the update. */
static int write_update_config(const ImageSpec *spec, const char *root) {
        _cleanup_(tuf_metadata_freep) TufMetadata *m = NULL;
        _cleanup_free_ char *src = NULL, *data = NULL, *conf = NULL;
        size_t size;
        int r;

        if (!spec->update_root)
                return 0;
        src = spec->update_root[0] == '/' || !spec->dir ? strdup(spec->update_root)
                                                        : path_join(spec->dir, spec->update_root);
        if (!src)
                return -ENOMEM;
        r = read_full_file(src, &data, &size, TUF_ROOT_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "[Update] Root=%s", src);
        r = tuf_parse(data, size, TUF_ROOT, src, &m);
        if (r < 0)
                return r;
        r = tuf_verify(m, m, TUF_ROOT, src);
        if (r < 0)
                return r;
        conf = strdup_printf("# From the berth image spec's [Update] section.\n"
                             "Repository=%s\nChannel=%s\nArchitecture=%s\nImage=%s\n"
                             "CheckInterval=%u\nCheckJitter=%u\nHealthGrace=%u\n"
                             "HealthTimeout=%u\n",
                             spec->update_repository, spec->update_channel ?: "stable",
                             spec->architecture ?: "amd64", spec->name, spec->update_check_interval,
                             spec->update_check_jitter, spec->update_health_grace,
                             spec->update_health_timeout);
        if (!conf)
                return -ENOMEM;
        r = append_reboot_config(spec, &conf);
        if (r < 0)
                return r;
        if ((r = write_tree_file(root, "usr/share/berth/update/root.json", data, 0644)) < 0 ||
            (r = write_tree_file(root, "usr/share/berth/update/update.conf", conf, 0644)) < 0)
                return r;
        return write_update_check(spec, root);
}

/* A value for os-release, double-quoted with shell escapes. */
static char *quote(const char *s) {
        size_t n = 3;
        for (const char *p = s; *p; p++)
                n += strchr("\"\\$`", *p) ? 2 : 1;
        char *q = malloc(n), *w = q;
        if (!q)
                return NULL;
        *w++ = '"';
        for (const char *p = s; *p; p++) {
                if (strchr("\"\\$`", *p))
                        *w++ = '\\';
                *w++ = *p == '\n' ? ' ' : *p;
        }
        *w++ = '"';
        *w = 0;
        return q;
}

static int write_os_release(const ImageSpec *spec, const char *root, int root_fd) {
        _cleanup_free_ char *version = quote(spec->version ?: ""), *name = quote(spec->name ?: ""),
                            *pretty = NULL, *qpretty = NULL, *data = NULL;
        int r;

        if (!version || !name)
                return -ENOMEM;
        pretty = strdup_printf("berth %s", spec->version ?: "");
        qpretty = pretty ? quote(pretty) : NULL;
        if (!qpretty)
                return -ENOMEM;
        data = strdup_printf("NAME=\"berth\"\n"
                             "ID=berth\n"
                             "VERSION_ID=%s\n"
                             "VERSION=%s\n"
                             "PRETTY_NAME=%s\n"
                             "IMAGE_ID=%s\n"
                             "IMAGE_VERSION=%s\n",
                             version, version, qpretty, name, version);
        if (!data)
                return -ENOMEM;
        r = write_tree_file(root, "usr/lib/os-release", data, 0644);
        if (r < 0)
                return r;
        _cleanup_free_ char *factory = path_join(root, FACTORY_ETC);
        if (!factory)
                return -ENOMEM;
        r = mkdir_p(factory, 0755);
        if (r < 0)
                return r;
        if (unlinkat(root_fd, FACTORY_ETC "/os-release", 0) < 0 && errno != ENOENT)
                return -errno;
        if (symlinkat("../usr/lib/os-release", root_fd, FACTORY_ETC "/os-release") < 0)
                return error_wrapf(-errno, "tailor: cannot link /etc/os-release");
        return 0;
}

static int make_links(const ImageSpec *spec, const char *root) {
        int r;

        for (size_t i = 0; i < spec->n_links; i++) {
                const SpecKV *kv = &spec->links[i];
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (isempty(kv->value) || image_path(root, kv->key, &p) < 0)
                        return error_setf(EINVAL, "tailor: bad link %s:%s", strna(kv->key),
                                          strna(kv->value));
                r = mkdir_parents(p, 0755);
                if (r < 0)
                        return error_wrapf(r, "tailor: link %s: cannot make parents", kv->key);
                if (lstat(p, &st) >= 0) {
                        if (S_ISDIR(st.st_mode))
                                return error_setf(EISDIR, "tailor: link %s: a directory is there",
                                                  kv->key);
                        if (unlink(p) < 0)
                                return -errno;
                }
                if (symlink(kv->value, p) < 0)
                        return error_wrapf(-errno, "tailor: cannot link %s -> %s", kv->key,
                                           kv->value);
        }
        return 0;
}

static int make_copies(const ImageSpec *spec, const char *root) {
        int r;

        for (size_t i = 0; i < spec->n_copies; i++) {
                const SpecCopy *c = &spec->copies[i];
                _cleanup_free_ char *src = NULL, *dst = NULL;

                if (isempty(c->source) || image_path(root, c->dest, &dst) < 0)
                        return error_setf(EINVAL, "tailor: bad copy %s -> %s", strna(c->source),
                                          strna(c->dest));
                src = c->source[0] == '/' || !spec->dir ? strdup(c->source)
                                                        : path_join(spec->dir, c->source);
                if (!src)
                        return -ENOMEM;
                r = mkdir_parents(dst, 0755);
                if (r >= 0)
                        r = copy_tree(src, dst, c->mode & 07777, 0);
                if (r < 0)
                        return error_wrapf(r, "tailor: cannot copy %s to %s", src, c->dest);
        }
        return 0;
}

/* ---- what maintainer scripts would have run ---- */

typedef struct CertList {
        char **paths;
} CertList;

static int collect_cert(int dfd, const char *name, const char *path, const struct stat *st,
                        void *userdata) {
        CertList *l = userdata;
        size_t n = strlen(path);
        if (!S_ISREG(st->st_mode) || n < 4 || !streq(path + n - 4, ".crt"))
                return 0;
        return strv_extend(&l->paths, path);
}

/* update-ca-certificates: every shipped certificate, sorted, in one bundle. */
static int ca_bundle(const char *root, int root_fd) {
        _cleanup_strv_free_ char **certs = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        CertList l = {};
        size_t size;
        int r;

        r = walk(root_fd, "usr/share/ca-certificates", "usr/share/ca-certificates", collect_cert,
                 &l);
        certs = l.paths;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "tailor: cannot read /usr/share/ca-certificates");
        if (!certs)
                return 0;
        strv_sort(certs);
        if (append(&buf, &size, &f) < 0)
                return -ENOMEM;
        STRV_FOREACH(c, certs) {
                _cleanup_free_ char *p = path_join(root, *c), *data = NULL;
                size_t n;
                r = read_full_file(p, &data, &n, 0);
                if (r < 0)
                        return error_wrapf(r, "tailor: cannot read %s", p);
                fwrite(data, 1, n, f);
                if (n > 0 && data[n - 1] != '\n')
                        fputc('\n', f);
        }
        if (fflush(f))
                return -ENOMEM;
        log_debug("tailor: CA bundle of %zu certificates", strv_length(certs));
        return write_tree_file(root, FACTORY_ETC "/ssl/certs/ca-certificates.crt", buf, 0644);
}

static int run_ldconfig(const char *root, int root_fd) {
        _cleanup_free_ char *etc = path_join(root, "etc"),
                            *conf = path_join(root, "etc/ld.so.conf"),
                            *cache = path_join(root, "etc/ld.so.cache"),
                            *dest = path_join(root, FACTORY_ETC "/ld.so.cache");
        static const char ld_conf[] = "include /" FACTORY_ETC "/ld.so.conf.d/*.conf\n";
        int r;

        if (!etc || !conf || !cache || !dest)
                return -ENOMEM;
        /* ldconfig -r chroots and writes ROOT/etc/ld.so.cache: lend it an /etc. */
        if (mkdir(etc, 0755) < 0)
                return error_wrapf(-errno, "tailor: cannot create %s for ldconfig", etc);
        r = write_file_atomic(conf, ld_conf, strlen(ld_conf), 0644);
        if (r >= 0) {
                r = run_command((char *const[]){ (char *) "ldconfig", (char *) "-X", (char *) "-r",
                                                 (char *) root, NULL });
                if (r < 0)
                        error_wrapf(r, "tailor: ldconfig -X -r %s failed", root);
        }
        if (r >= 0) {
                r = mkdir_parents(dest, 0755);
                if (r >= 0 && rename(cache, dest) < 0)
                        r = -errno;
                if (r < 0)
                        error_wrapf(r, "tailor: cannot move ld.so.cache to %s", dest);
        }
        int k = rm_rf(etc);
        if (r >= 0 && k < 0)
                r = k;
        /* ldconfig may have written its aux cache. */
        if (r >= 0)
                r = drop_var(root, root_fd);
        return r;
}

typedef struct PathList {
        char **paths;
} PathList;

static int collect_ko(int dfd, const char *name, const char *path, const struct stat *st,
                      void *userdata) {
        PathList *l = userdata;
        size_t n = strlen(path);
        if (!S_ISREG(st->st_mode) || n < 3 || !streq(path + n - 3, ".ko"))
                return 0;
        return strv_extend(&l->paths, path);
}

/* Kernel modules are stored as .ko.xz, as CONFIG_MODULE_COMPRESS_XZ would
 * make them: about half the size of the same modules in the lz4hc erofs.
 * berth-stage1 (modload.h) and depmod read them; xz writes no names or times, so the
 * output is reproducible. Runs before depmod, which indexes the .ko.xz names. */
#define MODULE_COMPRESS_ARGV "xz", "--check=crc32", "--lzma2=dict=1MiB", "-T1", "-q"

static char *module_cache_dir = NULL;

void tailor_set_module_cache(const char *dir) {
        free(module_cache_dir);
        module_cache_dir = dir ? strdup(dir) : NULL;
}

/* The cache entry for a module: DIR/<sha256 of the .ko>.ko.xz. xz output is a
 * pure function of its input and options, so a cached result is the bytes a
 * fresh compression would give; it only saves the time. */
static char *module_cache_path(const char *ko_path) {
        char hex[SHA256_HEX_SIZE];
        if (!module_cache_dir || sha256_file_hex(ko_path, hex) < 0)
                return NULL;
        return strdup_printf("%s/%s.ko.xz", module_cache_dir, hex);
}

/* Run xz over paths[0..n) in `jobs` processes at once. */
static int compress_parallel(char **paths, size_t n, unsigned jobs) {
        const char *head[] = { MODULE_COMPRESS_ARGV };
        pid_t pids[16];
        unsigned started = 0;
        int r = 0;

        jobs = MAX(1u, MIN(jobs, (unsigned) ELEMENTSOF(pids)));
        for (unsigned j = 0; j < jobs && (size_t) j < n; j++) {
                size_t from = n * j / jobs, to = n * (j + 1) / jobs;
                _cleanup_free_ char **argv =
                        calloc(ELEMENTSOF(head) + (to - from) + 1, sizeof(char *));
                size_t a = 0;
                if (!argv) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t i = 0; i < ELEMENTSOF(head); i++)
                        argv[a++] = (char *) head[i];
                for (size_t i = from; i < to; i++)
                        argv[a++] = paths[i];
                pid_t pid;
                r = spawn_start(argv, NULL, &pid);
                if (r < 0)
                        break;
                pids[started++] = pid;
        }
        for (unsigned j = 0; j < started; j++) {
                int k = spawn_wait(pids[j], NULL);
                if (r >= 0)
                        r = k;
        }
        return r;
}

/* The .ko files under /usr/lib/modules, sorted (NULL: there is no such
 * directory). */
static int list_modules(int root_fd, char ***ret) {
        PathList l = {};
        int r = walk(root_fd, "usr/lib/modules", "usr/lib/modules", collect_ko, &l);
        if (r == -ENOENT) {
                strv_free(l.paths);
                *ret = NULL;
                return 0;
        }
        if (r < 0) {
                strv_free(l.paths);
                return error_wrapf(r, "tailor: cannot read /usr/lib/modules");
        }
        strv_sort(l.paths);
        *ret = l.paths;
        return 0;
}

static int compress_modules(const char *root, int root_fd) {
        _cleanup_strv_free_ char **mods = NULL, **todo = NULL, **todo_cache = NULL;
        size_t n, hits = 0;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int r;

        r = list_modules(root_fd, &mods);
        if (r < 0)
                return r;
        n = strv_length(mods);
        if (module_cache_dir)
                (void) mkdir_p(module_cache_dir, 0755);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ko = path_join(root, mods[i]);
                _cleanup_free_ char *cached = ko ? module_cache_path(ko) : NULL;
                _cleanup_free_ char *xz = ko ? strdup_printf("%s.xz", ko) : NULL;
                if (!ko || !xz)
                        return -ENOMEM;
                if (cached && access(cached, R_OK) == 0 && copy_file(cached, xz, 0644) >= 0) {
                        if (unlink(ko) < 0)
                                return error_wrapf(-errno, "tailor: cannot remove %s", ko);
                        hits++;
                        continue;
                }
                r = strv_push(&todo, TAKE_PTR(ko));
                if (r >= 0)
                        r = strv_push(&todo_cache, cached ? TAKE_PTR(cached) : strdup(""));
                if (r < 0)
                        return r;
        }

        size_t m = strv_length(todo);
        if (m > 0) {
                r = compress_parallel(todo, m, cpus > 0 ? (unsigned) cpus : 1);
                if (r < 0)
                        return error_wrapf(r, "tailor: xz of kernel modules failed");
        }
        /* Fill the cache with what was compressed now (temp name, then rename). */
        for (size_t i = 0; i < m; i++) {
                if (isempty(todo_cache[i]))
                        continue;
                _cleanup_free_ char *xz = strdup_printf("%s.xz", todo[i]);
                _cleanup_free_ char *tmp =
                        strdup_printf("%s.tmp.%d", todo_cache[i], (int) getpid());
                if (!xz || !tmp)
                        return -ENOMEM;
                if (copy_file(xz, tmp, 0644) < 0 || rename(tmp, todo_cache[i]) < 0)
                        (void) unlink(tmp);
        }
        if (n > 0)
                log_debug("tailor: %zu kernel modules as .ko.xz (%zu from the cache)", n, hits);
        return 0;
}

/* A module's name as modules.dep and .modinfo depends= compare it: the file
 * name without directory and ".ko", '-' and '_' the same. */
static char *module_key(const char *path) {
        const char *b = strrchr(path, '/');
        char *k = strdup(b ? b + 1 : path);
        if (!k)
                return NULL;
        size_t n = strlen(k);
        if (n > 3 && streq(k + n - 3, ".ko"))
                k[n - 3] = 0;
        for (char *p = k; *p; p++)
                if (*p == '-')
                        *p = '_';
        return k;
}

static bool sorted_contains(char **l, size_t n, const char *s) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(l[mid], s);
                if (k == 0)
                        return true;
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

/* depmod drops a dependency whose module is gone without a word, and the
 * module that needs it then fails to load at boot. Every module names its
 * dependencies in .modinfo (depends=): each must still be in the tree. */
static int check_module_deps(const ImageSpec *spec, const char *root, int root_fd) {
        _cleanup_strv_free_ char **mods = NULL, **keys = NULL;
        size_t n;
        int r;

        r = list_modules(root_fd, &mods);
        if (r < 0)
                return r;
        STRV_FOREACH(m, mods) {
                r = strv_push(&keys, module_key(*m));
                if (r < 0)
                        return r;
        }
        n = strv_length(keys);
        strv_sort(keys);
        STRV_FOREACH(m, mods) {
                _cleanup_free_ char *p = path_join(root, *m), *data = NULL, *deps = NULL;
                size_t size;
                if (!p)
                        return -ENOMEM;
                r = read_full_file(p, &data, &size, 0);
                if (r < 0)
                        return error_wrapf(r, "tailor: cannot read /%s", *m);
                r = elf_read_modinfo(data, size, "depends", &deps);
                if (r == -ENOEXEC)
                        continue; /* not ELF: nothing to check */
                if (r < 0)
                        return error_wrapf(r, "tailor: /%s: bad kernel module", *m);
                char *save = NULL;
                for (char *d = deps ? strtok_r(deps, ",", &save) : NULL; d;
                     d = strtok_r(NULL, ",", &save)) {
                        _cleanup_free_ char *k = module_key(d);
                        if (!k)
                                return -ENOMEM;
                        if (!sorted_contains(keys, n, k))
                                return error_setf(ENOENT,
                                                  "%s: [Files] Remove= drops kernel module %s, "
                                                  "which /%s needs: keep both or neither",
                                                  spec->path ?: "spec", d, *m);
                }
        }
        return 0;
}

static int run_depmod(const char *root, int root_fd) {
        _cleanup_strv_free_ char **kvers = NULL;
        int r;

        r = list_dir(root_fd, "usr/lib/modules", &kvers);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "tailor: cannot read /usr/lib/modules");
        STRV_FOREACH(k, kvers) {
                _cleanup_free_ char *dep = strdup_printf("usr/lib/modules/%s/modules.dep", *k);
                struct stat st;

                if (!dep)
                        return -ENOMEM;
                /* depmod -b looks in ROOT/lib/modules: the root lib -> usr/lib link
                 * makes that the merged tree. */
                r = run_command((char *const[]){ (char *) "depmod", (char *) "-b", (char *) root,
                                                 *k, NULL });
                if (r < 0)
                        return error_wrapf(r, "tailor: depmod -b %s %s failed", root, *k);
                if (fstatat(root_fd, dep, &st, 0) < 0)
                        return error_wrapf(-errno, "tailor: depmod wrote no /%s", dep);
        }
        return 0;
}

/* ---- Remove=/Keep= ---- */

typedef enum Fate { FATE_NONE, FATE_REMOVE, FATE_KEEP } Fate;

typedef struct Pruner {
        char *const *remove, *const *keep;
        size_t removed;
} Pruner;

static bool glob_match(char *const *globs, const char *path) {
        /* A path in the factory tree also answers to its /etc name. */
        const char *f = "/" FACTORY_ETC;
        size_t fl = strlen(f);
        _cleanup_free_ char *alias = NULL;

        if (strneq(path, f, fl) && (path[fl] == 0 || path[fl] == '/'))
                alias = strdup_printf("/etc%s", path + fl);
        STRV_FOREACH(g, (char **) globs)
                if (fnmatch(*g, path, 0) == 0 || (alias && fnmatch(*g, alias, 0) == 0))
                        return true;
        return false;
}

static int prune(Pruner *p, int dfd, const char *name, const char *path, Fate fate) {
        struct stat st;
        int r;

        if (glob_match(p->keep, path))
                fate = FATE_KEEP;
        else if (fate == FATE_NONE && glob_match(p->remove, path))
                fate = FATE_REMOVE;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_close_ int fd =
                        openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r = list_dir(dfd, name, &names);
                if (r < 0)
                        return r;
                STRV_FOREACH(n, names) {
                        _cleanup_free_ char *c = strdup_printf("%s/%s", path, *n);
                        if (!c)
                                return -ENOMEM;
                        r = prune(p, fd, *n, c, fate);
                        if (r < 0)
                                return r;
                }
        }
        if (fate != FATE_REMOVE)
                return 0;
        if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
                /* A directory that still holds kept files stays. */
                if (S_ISDIR(st.st_mode) && (errno == ENOTEMPTY || errno == EEXIST))
                        return 0;
                return -errno;
        }
        p->removed++;
        return 0;
}

/* The fate prune() gives a path whose parent has the fate `parent`. */
static Fate path_fate(char *const *remove, char *const *keep, const char *path, Fate parent) {
        if (glob_match(keep, path))
                return FATE_KEEP;
        if (parent == FATE_NONE && glob_match(remove, path))
                return FATE_REMOVE;
        return parent;
}

/* Fate of the directory dir ("/usr/lib/..."), from the root down, with the
 * last directory asked about remembered (tar lists a directory's members
 * together). */
static Fate dir_fate(TailorUnpackFilter *f, const char *dir) {
        Fate fate = FATE_NONE;

        if (f->last_dir && streq(f->last_dir, dir))
                return (Fate) f->last_fate;
        for (const char *s = dir + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                _cleanup_free_ char *prefix = strndup(dir, (size_t) (s - dir));
                if (!prefix)
                        return FATE_NONE;
                fate = path_fate(f->spec->remove, f->spec->keep, prefix, fate);
                if (*s == 0)
                        break;
        }
        free(f->last_dir);
        f->last_dir = strdup(dir);
        f->last_fate = fate;
        return fate;
}

bool tailor_unpack_skip(const char *path, void *userdata) {
        TailorUnpackFilter *f = userdata;
        static const char modules[] = "usr/lib/modules/";
        _cleanup_free_ char *abs = NULL;
        char *slash;

        if (!strneq(path, modules, strlen(modules)) || strv_isempty(f->spec->remove))
                return false;
        abs = strdup_printf("/%s", path);
        if (!abs)
                return false;
        slash = strrchr(abs, '/');
        *slash = 0;
        Fate parent = dir_fate(f, abs);
        *slash = '/';
        if (path_fate(f->spec->remove, f->spec->keep, abs, parent) != FATE_REMOVE)
                return false;
        f->skipped++;
        return true;
}

void tailor_unpack_filter_done(TailorUnpackFilter *f) {
        free(f->last_dir);
        f->last_dir = NULL;
}

static int remove_globs(const ImageSpec *spec, int root_fd) {
        _cleanup_strv_free_ char **names = NULL;
        Pruner p = { .remove = spec->remove, .keep = spec->keep };
        int r;

        if (strv_length(spec->remove) == 0)
                return 0;
        r = list_dir(root_fd, ".", &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *c = strdup_printf("/%s", *n);
                if (!c)
                        return -ENOMEM;
                r = prune(&p, root_fd, *n, c, FATE_NONE);
                if (r < 0)
                        return error_wrapf(r, "tailor: removing globs under %s failed", c);
        }
        log_info("tailor: Remove= deleted %zu entries", p.removed);
        return 0;
}

static int set_mtime(int dfd, const char *name, const char *path, const struct stat *st,
                     void *userdata) {
        const struct timespec *ts = userdata;
        if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return error_wrapf(-errno, "tailor: cannot set the mtime of /%s", path);
        return 0;
}

int tailor_tree(const ImageSpec *spec, const char *root, int64_t source_date_epoch) {
        _cleanup_close_ int root_fd = -EBADF;
        struct timespec ts[2] = { { .tv_sec = source_date_epoch },
                                  { .tv_sec = source_date_epoch } };
        int r;

        if (!spec || !root)
                return -EINVAL;
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return error_wrapf(-errno, "tailor: cannot open %s", root);

        /* Order matters: the CA bundle is made before Remove= may delete its
         * sources; Link=/Copy= come after Remove= so the spec's own files stay;
         * ldconfig and depmod see the final set of libraries and modules. */
        if ((r = move_etc(root, root_fd)) < 0 || (r = drop_var(root, root_fd)) < 0 ||
            (r = root_symlinks(root_fd)) < 0 || (r = ca_bundle(root, root_fd)) < 0 ||
            (r = remove_globs(spec, root_fd)) < 0 || (r = write_users(spec, root)) < 0 ||
            (r = write_sysctl(spec, root)) < 0 || (r = write_os_release(spec, root, root_fd)) < 0 ||
            (r = write_update_config(spec, root)) < 0 || (r = make_links(spec, root)) < 0 ||
            (r = make_copies(spec, root)) < 0 || (r = run_ldconfig(root, root_fd)) < 0 ||
            (r = check_module_deps(spec, root, root_fd)) < 0 ||
            (r = compress_modules(root, root_fd)) < 0 || (r = run_depmod(root, root_fd)) < 0)
                return r;

        r = walk(root_fd, ".", "", set_mtime, ts);
        if (r < 0)
                return r;
        return 0;
}

int tailor_kernel_version(const char *root, char **ret_version) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *found = NULL;
        int r;

        fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = list_dir(fd, "usr/lib/modules", &names);
        if (r < 0)
                return error_wrapf(r, "tailor: no /usr/lib/modules in %s", root);
        STRV_FOREACH(n, names) {
                struct stat st;
                _cleanup_free_ char *p = strdup_printf("usr/lib/modules/%s", *n);
                if (!p)
                        return -ENOMEM;
                if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (found)
                        return error_setf(EEXIST,
                                          "tailor: more than one kernel in /usr/lib/modules "
                                          "(%s, %s)",
                                          found, *n);
                found = *n;
        }
        if (!found)
                return error_setf(ENOENT, "tailor: no kernel in %s/usr/lib/modules", root);
        *ret_version = strdup(found);
        return *ret_version ? 0 : -ENOMEM;
}
