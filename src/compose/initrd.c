/* SPDX-License-Identifier: MIT */
#include "initrd.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "compress.h"
#include "digest.h"
#include "elfdeps.h"
#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "modload.h"
#include "spawn-util.h"
#include "strv.h"

/* Where the dynamic loader looks in a Debian amd64 tree, after the /usr merge. */
static const char *const lib_dirs[] = {
        "usr/lib/x86_64-linux-gnu",
        "usr/lib64",
        "usr/lib",
};

typedef struct Entry {
        char *path;  /* in the archive, no leading "/" */
        mode_t mode; /* type and permission bits */
        dev_t rdev;
        char *data; /* file contents or symlink target */
        size_t size;
} Entry;

typedef struct Initrd {
        const InitrdOptions *o;
        int root_fd;
        Entry *entries;
        size_t n;
} Initrd;

static void initrd_done(Initrd *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->entries[i].path);
                free(t->entries[i].data);
        }
        free(t->entries);
        t->root_fd = safe_close(t->root_fd);
}

static Entry *find_entry(Initrd *t, const char *path) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->entries[i].path, path))
                        return &t->entries[i];
        return NULL;
}

/* Add an entry (taking data), and its parent directories. Adding a path that
 * exists already is a no-op. */
static int add_entry(Initrd *t, const char *path, mode_t mode, char *data, size_t size) {
        _cleanup_free_ char *d = data;
        char *slash;
        int r;

        if (find_entry(t, path))
                return 0;
        slash = strrchr(path, '/');
        if (slash) {
                _cleanup_free_ char *parent = strndup(path, (size_t) (slash - path));
                if (!parent)
                        return -ENOMEM;
                r = add_entry(t, parent, S_IFDIR | 0755, NULL, 0);
                if (r < 0)
                        return r;
        }
        Entry *n = reallocarray(t->entries, t->n + 1, sizeof(Entry));
        if (!n)
                return -ENOMEM;
        t->entries = n;
        n[t->n] = (Entry){ .path = strdup(path), .mode = mode, .data = TAKE_PTR(d), .size = size };
        if (!n[t->n].path) {
                free(n[t->n].data);
                return -ENOMEM;
        }
        t->n++;
        return 0;
}

static int add_symlink(Initrd *t, const char *path, const char *target) {
        char *d = strdup(target);
        if (!d)
                return -ENOMEM;
        return add_entry(t, path, S_IFLNK | 0777, d, strlen(target));
}

/* Open path inside the staged tree, symlinks resolved as if root were "/". */
static int open_in_root(Initrd *t, const char *path) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        int fd = (int) syscall(SYS_openat2, t->root_fd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

static int read_fd(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *p = strdup_printf("/proc/self/fd/%d", fd);
        struct stat st;
        if (!p)
                return -ENOMEM;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_full_file(p, ret, ret_size, 512u * 1024 * 1024);
}

/* "/lib64/x" -> "usr/lib64/x": the initramfs has the same merged layout. */
static char *merged(const char *p) {
        static const char *const dirs[] = { "bin/", "sbin/", "lib/", "lib64/" };
        while (*p == '/')
                p++;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (strneq(p, dirs[i], strlen(dirs[i])))
                        return strdup_printf("usr/%s", p);
        return strdup(p);
}

/* Add the ELF file at dest (contents in data) and, recursively, what it needs. */
static int add_elf(Initrd *t, const char *dest, char *data, size_t size, mode_t perm) {
        _cleanup_strv_free_ char **needed = NULL;
        _cleanup_free_ char *interp = NULL;
        int r;

        r = elf_read_deps(data, size, &needed, &interp);
        if (r < 0) {
                free(data);
                return error_wrapf(r, "initrd: /%s: not a usable ELF64 file", dest);
        }
        r = add_entry(t, dest, S_IFREG | perm, data, size);
        if (r < 0)
                return r;

        if (interp) {
                _cleanup_free_ char *m = merged(interp), *d = NULL;
                _cleanup_close_ int fd = -EBADF;
                size_t n;
                if (!m)
                        return -ENOMEM;
                if (!find_entry(t, m)) {
                        fd = open_in_root(t, m);
                        if (fd < 0)
                                return error_wrapf(fd, "initrd: /%s: interpreter %s not found",
                                                   dest, interp);
                        r = read_fd(fd, &d, &n);
                        if (r < 0)
                                return error_wrapf(r, "initrd: cannot read %s", interp);
                        r = add_elf(t, m, TAKE_PTR(d), n, 0755);
                        if (r < 0)
                                return r;
                }
        }
        STRV_FOREACH(lib, needed) {
                bool found = false;
                if (strchr(*lib, '/'))
                        return error_setf(EBADMSG, "initrd: /%s: needs a path, %s", dest, *lib);
                for (size_t i = 0; i < ELEMENTSOF(lib_dirs) && !found; i++) {
                        _cleanup_free_ char *p = path_join(lib_dirs[i], *lib), *d = NULL;
                        _cleanup_close_ int fd = -EBADF;
                        size_t n;
                        if (!p)
                                return -ENOMEM;
                        if (find_entry(t, p)) {
                                found = true;
                                break;
                        }
                        fd = open_in_root(t, p);
                        if (fd == -ENOENT)
                                continue;
                        if (fd < 0)
                                return error_wrapf(fd, "initrd: cannot open /%s", p);
                        r = read_fd(fd, &d, &n);
                        if (r < 0)
                                return error_wrapf(r, "initrd: cannot read /%s", p);
                        r = add_elf(t, p, TAKE_PTR(d), n, 0755);
                        if (r < 0)
                                return r;
                        found = true;
                }
                if (!found)
                        return error_setf(ENOENT, "initrd: /%s needs %s, not in the tree", dest,
                                          *lib);
        }
        return 0;
}

/* ---- kernel modules (modload.h) ---- */

typedef struct ModWalk {
        Initrd *t;
        const char *moddir;   /* absolute, on the build host */
        const char *dest_dir; /* usr/lib/modules/KVER */
} ModWalk;

/* Modules in /usr are .ko.xz (small image); in the initramfs, which is
 * compressed as a whole, they are stored decompressed so stage 1 loads them
 * with finit_module and no userspace xz under a slow CPU. The name stays
 * .ko.xz so modules.dep still matches: berth's loader picks finit_module or
 * xz by the file's magic bytes, not its name. */
static int add_module(const char *name, const char *path, void *userdata) {
        ModWalk *w = userdata;
        _cleanup_free_ char *dest = NULL, *data = NULL;
        size_t ml = strlen(w->moddir), n;
        int r;

        if (!path) {
                log_debug("initrd: module %s is built in", name);
                return 0;
        }
        if (!strneq(path, w->moddir, ml) || path[ml] != '/' ||
            !path_is_safe_relative(path + ml + 1))
                return error_setf(EINVAL, "initrd: module %s at %s is outside %s", name, path,
                                  w->moddir);
        dest = path_join(w->dest_dir, path + ml + 1);
        if (!dest)
                return -ENOMEM;
        r = read_full_file(path, &data, &n, 0);
        if (r < 0)
                return error_wrapf(r, "initrd: cannot read module %s", path);
        r = xz_decompress(&data, &n);
        if (r < 0)
                return error_wrapf(r, "initrd: cannot decompress module %s", path);
        return add_entry(w->t, dest, S_IFREG | 0644, TAKE_PTR(data), n);
}

static int add_modules(Initrd *t) {
        const InitrdOptions *o = t->o;
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_free_ char *moddir = NULL, *dest_dir = NULL;
        _cleanup_strv_free_ char **seen = NULL;
        ModWalk w = { .t = t };
        int r = 0;

        if (strv_length(o->modules) == 0)
                return 0;
        if (isempty(o->kernel_version) || !path_is_safe_relative(o->kernel_version) ||
            strchr(o->kernel_version, '/'))
                return error_setf(EINVAL, "initrd: modules requested without a kernel version");
        moddir = strdup_printf("%s/usr/lib/modules/%s", o->root, o->kernel_version);
        dest_dir = strdup_printf("usr/lib/modules/%s", o->kernel_version);
        if (!moddir || !dest_dir)
                return -ENOMEM;
        w.moddir = moddir;
        w.dest_dir = dest_dir;

        r = module_index_new(moddir, &idx);
        if (r < 0)
                return error_wrapf(r, "initrd: cannot load module indexes in %s (depmod?)", moddir);
        STRV_FOREACH(m, (char **) o->modules) {
                r = module_index_walk(idx, *m, &seen, add_module, &w);
                if (r == -ENOENT)
                        return error_setf(ENOENT, "initrd: kernel module %s not found in %s", *m,
                                          moddir);
                if (r == -ELOOP)
                        return error_setf(ELOOP, "initrd: module dependencies of %s too deep", *m);
                if (r < 0)
                        return r;
        }

        /* depmod's text indexes, with the lines of the modules shipped here
         * only: what berth-stage1's loader reads. */
        for (ModuleFile f = 0; f < _MODULE_FILE_MAX; f++) {
                _cleanup_free_ char *dst = path_join(dest_dir, module_file_names[f]), *data = NULL;
                size_t n;
                if (!dst)
                        return -ENOMEM;
                r = module_index_format(idx, f, seen, &data, &n);
                if (r < 0)
                        return r;
                if (n == 0 && f != MODULE_FILE_DEP)
                        continue; /* no built-in or soft dependency among them */
                r = add_entry(t, dst, S_IFREG | 0644, TAKE_PTR(data), n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- newc cpio ---- */

static int cmp_entry(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->path, ((const Entry *) b)->path);
}

static int cpio_put(FILE *f, unsigned ino, mode_t mode, unsigned nlink, uint32_t mtime, size_t size,
                    dev_t rdev, const char *name, const void *data) {
        static const char zeros[4];
        size_t namesize = strlen(name) + 1;

        if (size > UINT32_MAX)
                return -EFBIG;
        fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino,
                (unsigned) mode, 0u, 0u, nlink, mtime, size, 0u, 0u, major(rdev), minor(rdev),
                namesize, 0u);
        fwrite(name, 1, namesize, f);
        fwrite(zeros, 1, (4 - (110 + namesize) % 4) % 4, f);
        if (size > 0) {
                fwrite(data, 1, size, f);
                fwrite(zeros, 1, (4 - size % 4) % 4, f);
        }
        return ferror(f) ? -EIO : 0;
}

/* A stable inode number (FNV-1a of the path): numbering by position would
 * change every later entry's header when a file is added. Only regular files
 * with nlink >= 2 are looked up by inode when unpacking; there are none. */
static unsigned path_ino(const char *path) {
        uint32_t h = 2166136261u;
        for (const char *c = path; *c; c++)
                h = (h ^ (uint8_t) *c) * 16777619u;
        return h | 1u;
}

/* Entries [a, b) of the sorted list as one whole newc archive (with its
 * trailer) into fd. */
static int write_cpio(Initrd *t, size_t a, size_t b, int fd) {
        _cleanup_fclose_ FILE *f = NULL;
        int64_t sde = t->o->source_date_epoch;
        uint32_t mtime = sde < 0 ? 0 : sde > UINT32_MAX ? UINT32_MAX : (uint32_t) sde;
        int r;

        f = fdopen(fd, "w");
        if (!f)
                return -errno;
        for (size_t i = a; i < b; i++) {
                Entry *e = &t->entries[i];
                r = cpio_put(f, path_ino(e->path), e->mode, S_ISDIR(e->mode) ? 2 : 1, mtime,
                             e->size, e->rdev, e->path, e->data);
                if (r < 0)
                        return r;
        }
        r = cpio_put(f, 0, 0, 1, 0, 0, 0, "TRAILER!!!", NULL);
        if (r < 0)
                return r;
        if (fflush(f) != 0)
                return -errno;
        return 0;
}

/* Files of at least this size get a zstd frame of their own. */
#define FRAME_FILE_MIN 4096u

static bool own_frame(const Entry *e) {
        return S_ISREG(e->mode) && e->size >= FRAME_FILE_MIN;
}

static int compress_to(int in_fd, int out_fd, int level) {
        char arg[16];
        pid_t pid;
        int r;

        snprintf(arg, sizeof arg, "-%d", level);
        if (lseek(in_fd, 0, SEEK_SET) < 0)
                return -errno;
        r = spawn_start((char *[]){ (char *) "zstd", arg, (char *) "-T1", (char *) "-q",
                                    (char *) "--no-progress", (char *) "-c", NULL },
                        &(SpawnOptions){ .in_fd = in_fd, .out_fd = out_fd }, &pid);
        return r < 0 ? r : spawn_wait(pid, NULL);
}

static int collect(Initrd *t) {
        static const char *const dirs[] = { "dev",     "proc",     "sys",     "run",
                                            "sysroot", "etc",      "usr/lib", "usr/lib64",
                                            "usr/bin", "usr/sbin", "tmp" };
        const InitrdOptions *o = t->o;
        _cleanup_free_ char *init = NULL, *release = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = add_entry(t, dirs[i], S_IFDIR | (streq(dirs[i], "tmp") ? 01777 : 0755), NULL,
                              0);
                if (r < 0)
                        return r;
        }
        if ((r = add_symlink(t, "lib", "usr/lib")) < 0 ||
            (r = add_symlink(t, "lib64", "usr/lib64")) < 0 ||
            (r = add_symlink(t, "bin", "usr/bin")) < 0 ||
            (r = add_symlink(t, "sbin", "usr/sbin")) < 0)
                return r;
        /* The kernel opens /dev/console for init's stdio before anything is mounted. */
        r = add_entry(t, "dev/console", S_IFCHR | 0600, NULL, 0);
        if (r < 0)
                return r;
        find_entry(t, "dev/console")->rdev = makedev(5, 1);

        release = strdup("NAME=\"berth initrd\"\nID=berth\nPRETTY_NAME=\"berth initrd\"\n");
        if (!release)
                return -ENOMEM;
        n = strlen(release);
        r = add_entry(t, "etc/initrd-release", S_IFREG | 0644, TAKE_PTR(release), n);
        if (r < 0)
                return r;

        /* The modules berth-init loads in stage 1: exactly those named in the spec. */
        {
                char *list = strv_join(o->modules, "\n");
                if (!list)
                        return -ENOMEM;
                char *text = strdup_printf("%s\n", list);
                free(list);
                if (!text)
                        return -ENOMEM;
                n = strlen(text);
                r = add_entry(t, "etc/berth/initrd-modules", S_IFREG | 0644, text, n);
                if (r < 0)
                        return r;
        }

        fd = open_in_root(t, o->init_binary);
        if (fd < 0)
                return error_wrapf(fd, "initrd: init binary /%s not in %s", o->init_binary,
                                   o->root);
        r = read_fd(fd, &init, &n);
        if (r < 0)
                return error_wrapf(r, "initrd: cannot read /%s", o->init_binary);
        r = add_elf(t, "init", TAKE_PTR(init), n, 0755);
        if (r < 0)
                return r;
        return add_modules(t);
}

/* The cache entry for the cpio in fd compressed at level: DIR/<sha256>.zstdLEVEL. */
static int cache_name(int fd, const char *dir, int level, char **ret) {
        char hex[SHA256_HEX_SIZE];
        struct stat st;
        void *p;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size == 0)
                return -EINVAL;
        p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        r = sha256_buffer_hex(p, (size_t) st.st_size, hex);
        (void) munmap(p, (size_t) st.st_size);
        if (r < 0)
                return r;
        *ret = strdup_printf("%s/%s.zstd%d", dir, hex, level);
        return *ret ? 0 : -ENOMEM;
}

/* Best effort: a copy of the compressed archive src in the cache (temporary
 * name, then rename, so a reader never sees half a file). */
static void cache_store(const char *src, const char *cached) {
        _cleanup_free_ char *dir = strdup(cached);
        _cleanup_free_ char *tmp = strdup_printf("%s.tmp.%d", cached, (int) getpid());
        char *slash;

        if (!dir || !tmp)
                return;
        slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        (void) mkdir_p(dir, 0755);
        if (copy_file(src, tmp, 0644) < 0 || rename(tmp, cached) < 0)
                (void) unlink(tmp);
}

/* Entries [a, b) as one zstd frame appended to out_fd, from the cache when
 * it has the same archive at the same level. */
static int write_frame(Initrd *t, size_t a, size_t b, int out_fd) {
        const InitrdOptions *o = t->o;
        _cleanup_free_ char *cached = NULL, *tmp = NULL;
        _cleanup_close_ int cpio_fd = -EBADF, hit_fd = -EBADF, c_fd = -EBADF;
        int level = o->zstd_level < 1 || o->zstd_level > 19 ? 19 : o->zstd_level;
        int r;

        cpio_fd = memfd_create("berth-initrd", MFD_CLOEXEC);
        if (cpio_fd < 0)
                return -errno;
        r = write_cpio(t, a, b, fcntl(cpio_fd, F_DUPFD_CLOEXEC, 3));
        if (r < 0)
                return error_wrapf(r, "initrd: cannot write the cpio archive");
        if (o->cache_dir) {
                r = cache_name(cpio_fd, o->cache_dir, level, &cached);
                if (r < 0)
                        return error_wrapf(r, "initrd: cannot hash the cpio archive");
                hit_fd = open(cached, O_RDONLY | O_CLOEXEC);
        }
        if (hit_fd >= 0) {
                r = copy_fd(hit_fd, out_fd);
                return r < 0 ? error_wrapf(r, "initrd: cannot copy %s", cached) : 0;
        }
        c_fd = memfd_create("berth-initrd-zst", MFD_CLOEXEC);
        if (c_fd < 0)
                return -errno;
        r = compress_to(cpio_fd, c_fd, level);
        if (r < 0)
                return error_wrapf(r, "initrd: zstd failed");
        if (lseek(c_fd, 0, SEEK_SET) < 0)
                return -errno;
        r = copy_fd(c_fd, out_fd);
        if (r < 0)
                return r;
        if (cached) {
                tmp = strdup_printf("/proc/self/fd/%d", c_fd);
                if (tmp)
                        cache_store(tmp, cached);
        }
        return 0;
}

int initrd_build(const InitrdOptions *o, const char *dest) {
        _cleanup_(initrd_done) Initrd t = { .o = o, .root_fd = -EBADF };
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int out_fd = -EBADF;
        int r;

        if (!o || !o->root || !o->init_binary || !dest)
                return -EINVAL;
        t.root_fd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t.root_fd < 0)
                return error_wrapf(-errno, "initrd: cannot open %s", o->root);
        r = collect(&t);
        if (r < 0)
                return r;

        tmp = strdup_printf("%s.tmp.XXXXXX", dest);
        dir = strdup(dest);
        if (!tmp || !dir)
                return -ENOMEM;
        out_fd = mkostemp(tmp, O_CLOEXEC);
        if (out_fd < 0)
                return error_wrapf(-errno, "initrd: cannot create %s", tmp);
        /* One frame per large file, one per run of small entries between
         * them, each a whole archive: the kernel unpacks them one after the
         * other, and an unchanged file keeps its compressed bytes from one
         * release to the next (the delta updater copies them, delta-index.h). */
        qsort(t.entries, t.n, sizeof(Entry), cmp_entry);
        r = 0;
        for (size_t a = 0, b; a < t.n && r >= 0; a = b) {
                b = a + 1;
                if (!own_frame(&t.entries[a]))
                        while (b < t.n && !own_frame(&t.entries[b]))
                                b++;
                r = write_frame(&t, a, b, out_fd);
        }
        if (r >= 0 && fchmod(out_fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(out_fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, dest) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return error_wrapf(r, "initrd: cannot write %s", dest);
        }
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        (void) fsync_directory(slash ? dir : ".");
        log_debug("initrd: %zu entries written to %s", t.n, dest);
        return 0;
}
