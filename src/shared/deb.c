/* SPDX-License-Identifier: MIT */
#include "deb.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);

/* Top-level directories that live under /usr in a merged-/usr tree. */
static const char *const merged_dirs[] = { "bin", "sbin", "lib", "lib64", "lib32", "libx32" };

/* A directory whose mtime is set once all its children exist. */
typedef struct DirTime {
        char *path;
        struct timespec mtime;
} DirTime;

typedef struct Unpack {
        const char *deb;
        int root_fd;
        int64_t sde;
        bool is_root;
        char **files;
        DirTime *dirs;
        size_t n_dirs;
} Unpack;

/* Normalize a member name: strip leading "./" and "/", drop a trailing "/",
 * refuse ".." and empty names, then apply the /usr merge. Returns a new
 * string, or NULL with *ret_error set. An empty result (the root itself)
 * comes back as "". */
static int member_path(const char *name, char **ret) {
        _cleanup_free_ char *p = NULL;
        size_t n;

        if (!path_is_safe_relative(name))
                return -EPERM;
        while (*name == '/' || (name[0] == '.' && name[1] == '/'))
                name += *name == '/' ? 1 : 2;
        if (streq(name, "."))
                name = "";
        p = strdup(name);
        if (!p)
                return -ENOMEM;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                p[--n] = 0;
        /* Collapse "//" and "/./" so the walk sees clean components. */
        char *w = p;
        for (const char *s = p; *s;) {
                const char *e = strchrnul(s, '/');
                size_t len = (size_t) (e - s);
                if (len > 0 && !(len == 1 && s[0] == '.')) {
                        if (w != p)
                                *w++ = '/';
                        memmove(w, s, len);
                        w += len;
                }
                s = *e ? e + 1 : e;
        }
        *w = 0;

        for (size_t i = 0; i < ELEMENTSOF(merged_dirs); i++) {
                size_t l = strlen(merged_dirs[i]);
                if (strneq(p, merged_dirs[i], l) && (p[l] == 0 || p[l] == '/')) {
                        char *m = strdup_printf("usr/%s", p);
                        if (!m)
                                return -ENOMEM;
                        free(p);
                        p = m;
                        break;
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* Open (creating if missing) the directory that holds the last component of
 * path, walking from root_fd one component at a time and never following a
 * symlink. *ret_name points into path at the last component. */
static int open_parent(int root_fd, const char *path, bool create, int *ret_fd,
                       const char **ret_name) {
        _cleanup_close_ int fd = -EBADF;
        const char *s = path, *slash;

        fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while ((slash = strchr(s, '/'))) {
                _cleanup_free_ char *comp = strndup(s, (size_t) (slash - s));
                if (!comp)
                        return -ENOMEM;
                int nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0)
                        /* ENOTDIR/ELOOP: a symlink or a file on the way. */
                        return errno == ELOOP ? -ENOTDIR : -errno;
                close(fd);
                fd = nfd;
                s = slash + 1;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_name = s;
        return 0;
}

static int write_data(struct archive *a, int fd) {
        const void *buf;
        size_t size;
        la_int64_t offset, written = 0;

        for (;;) {
                int r = archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return -EBADMSG;
                if (offset != written) {
                        /* A sparse hole. */
                        if (lseek(fd, offset, SEEK_SET) < 0)
                                return -errno;
                        written = offset;
                }
                r = loop_write(fd, buf, size);
                if (r < 0)
                        return r;
                written += (int64_t) size;
        }
        if (ftruncate(fd, written) < 0)
                return -errno;
        return 0;
}

static struct timespec clamp_mtime(struct archive_entry *e, int64_t sde) {
        struct timespec ts = { .tv_sec = 0 };
        if (archive_entry_mtime_is_set(e)) {
                ts.tv_sec = archive_entry_mtime(e);
                ts.tv_nsec = archive_entry_mtime_nsec(e);
        }
        if (ts.tv_sec < 0)
                ts = (struct timespec){ 0 };
        if (ts.tv_sec >= sde)
                ts = (struct timespec){ .tv_sec = sde };
        return ts;
}

static int set_owner_time(Unpack *u, int dfd, const char *name, struct archive_entry *e,
                          bool nofollow) {
        struct timespec ts[2];
        int flags = nofollow ? AT_SYMLINK_NOFOLLOW : 0;

        if (fchownat(dfd, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e), flags) <
                    0 &&
            (errno != EPERM || u->is_root))
                return -errno;
        ts[0] = ts[1] = clamp_mtime(e, u->sde);
        if (utimensat(dfd, name, ts, flags) < 0)
                return -errno;
        return 0;
}

/* Remove a non-directory in the way; directories are never replaced. */
static int remove_existing(int dfd, const char *name) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (unlinkat(dfd, name, 0) < 0)
                return -errno;
        return 1;
}

static int extract_entry(Unpack *u, struct archive *a, struct archive_entry *e, const char *path) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *name;
        mode_t mode = archive_entry_perm(e) & 07777;
        const char *hl = archive_entry_hardlink(e);
        int r;

        r = open_parent(u->root_fd, path, true, &dfd, &name);
        if (r < 0)
                return r;

        if (hl) {
                _cleanup_free_ char *target = NULL;
                _cleanup_close_ int tfd = -EBADF;
                const char *tname;

                r = member_path(hl, &target);
                if (r < 0)
                        return r;
                if (isempty(target))
                        return -EPERM;
                r = open_parent(u->root_fd, target, false, &tfd, &tname);
                if (r < 0)
                        return r;
                if (streq(target, path))
                        return 0;
                r = remove_existing(dfd, name);
                if (r < 0)
                        return r;
                if (linkat(tfd, tname, dfd, name, 0) < 0)
                        return -errno;
                return 1;
        }

        switch (archive_entry_filetype(e)) {
        case AE_IFDIR: {
                struct stat st;
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        if (S_ISLNK(st.st_mode)) {
                                /* dpkg keeps a symlink a package put where a
                                 * directory is; we keep it, never follow it. */
                                log_debug("%s: %s: keeping existing symlink", u->deb, path);
                                return 0;
                        }
                        if (!S_ISDIR(st.st_mode)) {
                                r = remove_existing(dfd, name);
                                if (r < 0)
                                        return r;
                        }
                }
                if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (fchmodat(dfd, name, mode, 0) < 0)
                        return -errno;
                r = set_owner_time(u, dfd, name, e, true);
                if (r < 0)
                        return r;
                /* Restore the mtime once the children are in. */
                DirTime *n = reallocarray(u->dirs, u->n_dirs + 1, sizeof(DirTime));
                if (!n)
                        return -ENOMEM;
                u->dirs = n;
                u->dirs[u->n_dirs].path = strdup(path);
                if (!u->dirs[u->n_dirs].path)
                        return -ENOMEM;
                u->dirs[u->n_dirs++].mtime = clamp_mtime(e, u->sde);
                return 0;
        }
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);
                if (isempty(target))
                        return -EBADMSG;
                r = remove_existing(dfd, name);
                if (r < 0)
                        return r;
                if (symlinkat(target, dfd, name) < 0)
                        return -errno;
                r = set_owner_time(u, dfd, name, e, true);
                return r < 0 ? r : 1;
        }
        case AE_IFREG:
                r = remove_existing(dfd, name);
                if (r < 0)
                        return r;
                if (r > 0)
                        log_debug("%s: %s: replacing a file from an earlier package", u->deb, path);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                r = write_data(a, fd);
                if (r < 0)
                        return r;
                /* chown first: it clears setuid/setgid bits. */
                if (fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0 &&
                    (errno != EPERM || u->is_root))
                        return -errno;
                if (fchmod(fd, mode) < 0)
                        return -errno;
                {
                        struct timespec ts[2];
                        ts[0] = ts[1] = clamp_mtime(e, u->sde);
                        if (futimens(fd, ts) < 0)
                                return -errno;
                }
                return 1;
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK: {
                mode_t type = archive_entry_filetype(e);
                r = remove_existing(dfd, name);
                if (r < 0)
                        return r;
                if (mknodat(dfd, name, type | mode,
                            makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
                        return -errno;
                r = set_owner_time(u, dfd, name, e, true);
                return r < 0 ? r : 1;
        }
        default:
                log_warning("%s: %s: skipping member of unsupported type", u->deb, path);
                return 0;
        }
}

static bool is_merged_dir_symlink(const char *path, struct archive_entry *e) {
        /* A package that ships /bin -> usr/bin itself (usrmerge in base-files):
         * merged, that would be usr/bin -> usr/bin. Tailoring makes those links. */
        if (archive_entry_filetype(e) != AE_IFLNK || archive_entry_hardlink(e))
                return false;
        if (!strneq(path, "usr/", 4))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(merged_dirs); i++)
                if (streq(path + 4, merged_dirs[i]))
                        return true;
        return false;
}

/* The data.tar member, read straight out of the outer ar archive. */
/* errno values worth passing on from libarchive; anything else is a bad file. */
#define IN_SET_ERRNO(e) ((e) == ENOENT || (e) == EACCES || (e) == EISDIR || (e) == EIO)

typedef struct Inner {
        struct archive *outer;
        char buf[64 * 1024];
} Inner;

static la_ssize_t inner_read(struct archive *a, void *userdata, const void **ret_buf) {
        Inner *in = userdata;
        la_ssize_t n = archive_read_data(in->outer, in->buf, sizeof in->buf);
        if (n < 0) {
                archive_set_error(a, archive_errno(in->outer), "%s",
                                  archive_error_string(in->outer));
                return -1;
        }
        *ret_buf = in->buf;
        return n;
}

static struct archive *new_inner_reader(void) {
        struct archive *a = archive_read_new();
        if (!a)
                return NULL;
        archive_read_support_filter_xz(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_none(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        return a;
}

/* Open the .deb and position the outer reader at the start of data.tar.*.
 * Returns the opened inner reader. */
static int open_data_tar(const char *deb_path, struct archive **ret_outer,
                         struct archive **ret_inner, Inner **ret_in) {
        _cleanup_(archive_read_freep) struct archive *outer = NULL, *inner = NULL;
        _cleanup_free_ Inner *in = NULL;
        struct archive_entry *e;
        int r;

        outer = archive_read_new();
        if (!outer)
                return error_setf(ENOMEM, "%s: out of memory", deb_path);
        archive_read_support_format_ar(outer);
        archive_read_support_filter_none(outer);
        if (archive_read_open_filename(outer, deb_path, 64 * 1024) != ARCHIVE_OK) {
                r = IN_SET_ERRNO(archive_errno(outer)) ? -archive_errno(outer) : -EBADMSG;
                return error_wrapf(r, "%s: cannot open as a Debian package: %s", deb_path,
                                   archive_error_string(outer));
        }
        for (;;) {
                r = archive_read_next_header(outer, &e);
                if (r == ARCHIVE_EOF)
                        return error_setf(EBADMSG, "%s: no data.tar member", deb_path);
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return error_setf(EBADMSG, "%s: bad ar archive: %s", deb_path,
                                          archive_error_string(outer));
                const char *name = archive_entry_pathname(e);
                if (name && strneq(name, "data.tar", 8))
                        break;
        }

        in = calloc(1, sizeof(Inner));
        inner = new_inner_reader();
        if (!in || !inner)
                return error_setf(ENOMEM, "%s: out of memory", deb_path);
        in->outer = outer;
        if (archive_read_open(inner, in, NULL, inner_read, NULL) != ARCHIVE_OK)
                return error_setf(EBADMSG, "%s: data.tar: %s", deb_path,
                                  archive_error_string(inner));
        *ret_outer = TAKE_PTR(outer);
        *ret_inner = TAKE_PTR(inner);
        *ret_in = TAKE_PTR(in);
        return 0;
}

static void unpack_done(Unpack *u) {
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
        strv_free(u->files);
        u->root_fd = safe_close(u->root_fd);
}

int deb_unpack(const char *deb_path, const char *root, const DebUnpackOptions *o,
               char ***ret_files) {
        _cleanup_(archive_read_freep) struct archive *outer = NULL, *inner = NULL;
        _cleanup_free_ Inner *in = NULL;
        _cleanup_(unpack_done) Unpack u = {
                .deb = deb_path,
                .root_fd = -EBADF,
                .sde = o ? o->source_date_epoch : INT64_MAX,
                .is_root = geteuid() == 0,
        };
        struct archive_entry *e;
        int r;

        if (!deb_path || !root)
                return -EINVAL;
        u.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (u.root_fd < 0)
                return error_wrapf(-errno, "%s: cannot open unpack root %s", deb_path, root);
        r = open_data_tar(deb_path, &outer, &inner, &in);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_free_ char *path = NULL;
                const char *name;

                r = archive_read_next_header(inner, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return error_setf(EBADMSG, "%s: data.tar: %s", deb_path,
                                          archive_error_string(inner));
                name = archive_entry_pathname(e);
                if (!name)
                        return error_setf(EBADMSG, "%s: data.tar: member without a name", deb_path);
                r = member_path(name, &path);
                if (r == -EPERM)
                        return error_setf(EPERM, "%s: %s: path escapes the tree", deb_path, name);
                if (r < 0)
                        return error_wrapf(r, "%s: %s: bad member", deb_path, name);
                if (isempty(path)) {
                        if (archive_entry_filetype(e) == AE_IFDIR)
                                continue; /* "./" itself */
                        return error_setf(EPERM, "%s: %s: not a valid member", deb_path, name);
                }
                if (is_merged_dir_symlink(path, e)) {
                        log_debug("%s: %s: skipping merged-/usr compat symlink", deb_path, name);
                        continue;
                }
                if (o && o->skip && archive_entry_filetype(e) != AE_IFDIR &&
                    !archive_entry_hardlink(e) && o->skip(path, o->skip_userdata))
                        continue;
                r = extract_entry(&u, inner, e, path);
                if (r == -ENOTDIR)
                        return error_wrapf(r,
                                           "%s: %s: a symlink or file is on the way to "
                                           "this member (not followed)",
                                           deb_path, name);
                if (r < 0)
                        return error_wrapf(r, "%s: %s: cannot extract", deb_path, name);
                if (r > 0 && ret_files) {
                        r = strv_push(&u.files, TAKE_PTR(path));
                        if (r < 0)
                                return r;
                }
        }

        /* Directory mtimes last: their children changed them. */
        for (size_t i = u.n_dirs; i > 0; i--) {
                _cleanup_close_ int dfd = -EBADF;
                const char *name;
                struct timespec ts[2] = { u.dirs[i - 1].mtime, u.dirs[i - 1].mtime };

                if (open_parent(u.root_fd, u.dirs[i - 1].path, false, &dfd, &name) < 0)
                        continue;
                (void) utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
        }

        if (ret_files) {
                if (!u.files) {
                        u.files = calloc(1, sizeof(char *));
                        if (!u.files)
                                return -ENOMEM;
                }
                *ret_files = TAKE_PTR(u.files);
        }
        return 0;
}

int deb_extract_file(const char *deb_path, const char *member, const char *dest) {
        _cleanup_(archive_read_freep) struct archive *outer = NULL, *inner = NULL;
        _cleanup_free_ Inner *in = NULL;
        _cleanup_free_ char *want = NULL, *tmp = NULL;
        struct archive_entry *e;
        int r;

        r = member_path(member, &want);
        if (r < 0)
                return error_wrapf(r, "%s: %s: bad member name", deb_path, member);
        r = open_data_tar(deb_path, &outer, &inner, &in);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *path = NULL;

                r = archive_read_next_header(inner, &e);
                if (r == ARCHIVE_EOF)
                        return error_setf(ENOENT, "%s: no member %s", deb_path, member);
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return error_setf(EBADMSG, "%s: data.tar: %s", deb_path,
                                          archive_error_string(inner));
                if (member_path(archive_entry_pathname(e) ?: "", &path) < 0)
                        continue;
                if (streq(path, want))
                        break;
        }
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
                return error_setf(EINVAL, "%s: %s: not a regular file", deb_path, member);

        tmp = strdup_printf("%s.tmp.%d", dest, (int) getpid());
        if (!tmp)
                return -ENOMEM;
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_wrapf(-errno, "%s: cannot create %s", deb_path, tmp);
        r = write_data(inner, fd);
        if (r >= 0 && fchmod(fd, archive_entry_perm(e) & 0777) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, dest) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return error_wrapf(r, "%s: %s: cannot extract to %s", deb_path, member, dest);
        }
        return 0;
}

/* Decompresses (xz, gzip or none, by content) src into dest crash-safely. */
int deb_decompress_file(const char *src, const char *dest) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct archive_entry *e;
        char buf[65536];
        int r;

        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        (void) archive_read_support_filter_all(a);
        (void) archive_read_support_format_raw(a);
        if (archive_read_open_filename(a, src, sizeof buf) != ARCHIVE_OK) {
                log_debug("Cannot open %s: %s", src, archive_error_string(a));
                return -EBADMSG;
        }
        if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
                log_debug("Cannot read %s: %s", src, archive_error_string(a));
                return -EBADMSG;
        }
        tmp = strdup_printf("%s.tmp", dest);
        if (!tmp)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        for (;;) {
                la_ssize_t k = archive_read_data(a, buf, sizeof buf);
                if (k < 0) {
                        log_debug("Cannot decompress %s: %s", src, archive_error_string(a));
                        (void) unlink(tmp);
                        return -EBADMSG;
                }
                if (k == 0)
                        break;
                for (la_ssize_t off = 0; off < k;) {
                        ssize_t w = write(fd, buf + off, (size_t) (k - off));
                        if (w < 0) {
                                r = -errno;
                                (void) unlink(tmp);
                                return r;
                        }
                        off += w;
                }
        }
        if (fsync(fd) < 0 || rename(tmp, dest) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}
