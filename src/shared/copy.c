/* SPDX-License-Identifier: MIT */
#include "copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"

static int copy_reg_named(int sfd, const char *sname, int dfd, const char *name,
                          const struct stat *st, mode_t mode, CopyFlags flags) {
        _cleanup_close_ int in = openat(sfd, sname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int out = -EBADF;
        int r;

        if (in < 0)
                return -errno;
        (void) unlinkat(dfd, name, 0);
        out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return -errno;
        r = copy_fd(in, out);
        if (r < 0)
                return r;
        /* Owner first: fchown clears set-id bits, fchmod sets them again. */
        if ((flags & COPY_OWNER) && fchown(out, st->st_uid, st->st_gid) < 0 && errno != EPERM)
                return -errno;
        if (fchmod(out, mode ?: (st->st_mode & 07777)) < 0)
                return -errno;
        return 0;
}

static int copy_dir_at(int sfd, int dfd, CopyFlags flags) {
        DIR *d = fdopendir(sfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = -errno;
                (void) close(sfd);
                return r;
        }
        while ((de = readdir(d))) {
                struct stat st;
                int k = 0;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        k = -errno;
                } else if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dfd, de->d_name, 0700) < 0 && errno != EEXIST) {
                                k = -errno;
                        } else {
                                int s = openat(dirfd(d), de->d_name,
                                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                _cleanup_close_ int t =
                                        openat(dfd, de->d_name,
                                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (s < 0 || t < 0) {
                                        k = -errno;
                                        safe_close(s);
                                } else {
                                        k = copy_dir_at(s, t, flags);
                                        if ((flags & COPY_OWNER) &&
                                            fchown(t, st.st_uid, st.st_gid) < 0 && errno != EPERM)
                                                k = k < 0 ? k : -errno;
                                        if (fchmod(t, st.st_mode & 07777) < 0)
                                                k = k < 0 ? k : -errno;
                                }
                        }
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                        if (n < 0) {
                                k = -errno;
                        } else {
                                target[n] = 0;
                                (void) unlinkat(dfd, de->d_name, 0);
                                if (symlinkat(target, dfd, de->d_name) < 0)
                                        k = -errno;
                                else if ((flags & COPY_OWNER) &&
                                         fchownat(dfd, de->d_name, st.st_uid, st.st_gid,
                                                  AT_SYMLINK_NOFOLLOW) < 0 &&
                                         errno != EPERM)
                                        k = -errno;
                        }
                } else if (S_ISREG(st.st_mode)) {
                        k = copy_reg_named(dirfd(d), de->d_name, dfd, de->d_name, &st, 0, flags);
                } else {
                        log_debug("copy: skipping special file %s", de->d_name);
                }
                if (k < 0) {
                        log_debug_errno(k, "copy: %s", de->d_name);
                        if (r == 0)
                                r = k;
                }
        }
        closedir(d);
        return r;
}

/* Splits PATH into an O_PATH fd of its directory and its last component. */
static int open_parent(const char *path, int *ret_fd, const char **ret_name) {
        _cleanup_free_ char *dir = strdup(path);
        const char *slash = strrchr(path, '/');
        int fd;

        if (!dir)
                return -ENOMEM;
        if (!slash) {
                fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                *ret_name = path;
        } else {
                dir[slash - path] = 0;
                fd = open(slash == path ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                *ret_name = slash + 1;
        }
        if (fd < 0)
                return -errno;
        if (isempty(*ret_name)) {
                (void) close(fd);
                return -EINVAL;
        }
        *ret_fd = fd;
        return 0;
}

int copy_tree(const char *from, const char *to, mode_t file_mode, CopyFlags flags) {
        _cleanup_close_ int sdir = -EBADF, tdir = -EBADF;
        const char *sname, *tname;
        struct stat st;
        int r;

        if (lstat(from, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                int s = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (s < 0)
                        return -errno;
                if (mkdir(to, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        (void) close(s);
                        return r;
                }
                _cleanup_close_ int t = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (t < 0) {
                        r = -errno;
                        (void) close(s);
                        return r;
                }
                return copy_dir_at(s, t, flags);
        }
        r = open_parent(from, &sdir, &sname);
        if (r < 0)
                return r;
        r = open_parent(to, &tdir, &tname);
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode)) {
                if (unlinkat(tdir, tname, 0) < 0 && errno != ENOENT)
                        return -errno;
                return copy_reg_named(sdir, sname, tdir, tname, &st, file_mode, flags);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, sname, target, sizeof target - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                (void) unlinkat(tdir, tname, 0);
                return symlinkat(target, tdir, tname) < 0 ? -errno : 0;
        }
        return -EBADFD;
}
