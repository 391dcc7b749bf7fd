/* SPDX-License-Identifier: MIT */
/* libFuzzer target: how deb_unpack handles member paths, symlinks and hard
 * links: the names and link targets in a package's data.tar are outside input
 * and must never place anything outside the unpack root.
 *
 * The input is text, one member a line (the harness writes the tar and ar
 * framing itself, so the fuzzer spends its time on paths, not on checksums):
 *
 *   f PATH [CONTENT]    regular file        d PATH           directory
 *   l PATH TARGET       symbolic link       h PATH TARGET    hard link
 *   p PATH              FIFO                c PATH           char device 1:3
 *
 * The unpack root is nested 16 directories deep in a sandbox; a member path
 * that climbs out with "..", or a write through a symlink, lands in the
 * sandbox's chain of directories, which the harness checks after every input.
 * To keep a bug from ever reaching the host, the harness rewrites symlink
 * targets that are absolute or contain ".." to point into the sandbox's
 * "outside" directory (still outside the root: following one is still caught),
 * and caps ".." per member path below the nesting depth. */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "deb.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#define DEPTH 16
#define MAX_MEMBERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sandbox[] = "/tmp/berth-fuzz-deb-XXXXXX";
static char *outside, *root;

typedef struct Buf {
        char *data;
        size_t size, alloc;
} Buf;

static void buf_done(Buf *b) {
        free(b->data);
        *b = (Buf){};
}

static int buf_put(Buf *b, const void *p, size_t n) {
        if (b->size + n > b->alloc) {
                size_t a = MAX(b->alloc * 2, b->size + n + 4096);
                char *d = realloc(b->data, a);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->alloc = a;
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
        return 0;
}

static int buf_zero(Buf *b, size_t n) {
        static const char zero[512];
        while (n > 0) {
                size_t k = MIN(n, sizeof zero);
                if (buf_put(b, zero, k) < 0)
                        return -ENOMEM;
                n -= k;
        }
        return 0;
}

/* A ustar header; names longer than 100 bytes are split into prefix/name. */
static int tar_member(Buf *t, char type, const char *path, const char *link, const char *content) {
        char h[512] = {};
        size_t n = strlen(path), csize = content ? strlen(content) : 0;
        unsigned sum = 0;

        if (n <= 100)
                memcpy(h, path, n);
        else {
                const char *slash = memchr(path + n - 101, '/', 101);
                if (!slash || (size_t) (slash - path) > 155)
                        return 0; /* not representable: leave the member out */
                memcpy(h + 345, path, (size_t) (slash - path));
                memcpy(h, slash + 1, n - (size_t) (slash - path) - 1);
        }
        snprintf(h + 100, 8, "%07o", type == 'd' ? 0755 : 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011zo", csize);
        snprintf(h + 136, 12, "%011o", 0);
        h[156] = type;
        if (link)
                memcpy(h + 157, link, MIN(strlen(link), (size_t) 100));
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        snprintf(h + 329, 8, "%07o", 1);
        snprintf(h + 337, 8, "%07o", 3);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < sizeof h; i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        if (buf_put(t, h, sizeof h) < 0 || buf_put(t, content ?: "", csize) < 0)
                return -ENOMEM;
        return buf_zero(t, (512 - csize % 512) % 512);
}

static int ar_member(Buf *a, const char *name, const char *data, size_t size) {
        char h[61];
        snprintf(h, sizeof h, "%-16s%-12d%-6d%-6d%-8s%-10zu`\n", name, 0, 0, 0, "100644", size);
        if (buf_put(a, h, 60) < 0 || buf_put(a, data, size) < 0)
                return -ENOMEM;
        return size % 2 ? buf_put(a, "\n", 1) : 0;
}

static size_t count_dotdot(const char *p) {
        size_t n = 0;
        for (const char *s = p; *s;) {
                const char *e = strchrnul(s, '/');
                if (e - s == 2 && s[0] == '.' && s[1] == '.')
                        n++;
                s = *e ? e + 1 : e;
        }
        return n;
}

/* Symlink targets that could point outside the root point into "outside". */
static char *safe_target(const char *t) {
        if (t[0] != '/' && count_dotdot(t) == 0)
                return strdup(t);
        while (*t == '/' || (t[0] == '.' && t[1] == '.'))
                t++;
        char *s = strdup_printf("%s/%s", outside, t);
        /* No ".." may survive into the rewritten target either. */
        for (char *p = s ? strstr(s, "..") : NULL; p; p = strstr(p, ".."))
                p[0] = p[1] = '_';
        return s;
}

static int make_deb(const uint8_t *data, size_t size, Buf *deb) {
        _cleanup_free_ char *text = strndup((const char *) data, size);
        _cleanup_(buf_done) Buf tar = {};
        unsigned members = 0;
        int r = 0;

        if (!text)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && members < MAX_MEMBERS;
             line = strtok_r(NULL, "\n", &save)) {
                char type = line[0], *path, *arg;
                if (!strchr("fdlhpc", type) || line[1] != ' ')
                        continue;
                path = line + 2;
                arg = strchr(path, ' ');
                if (arg)
                        *arg++ = 0;
                if (!*path || count_dotdot(path) >= DEPTH)
                        continue;
                if (type == 'h' && (!arg || count_dotdot(arg) >= DEPTH))
                        continue;
                if (type == 'l') {
                        if (!arg || !*arg)
                                continue;
                        _cleanup_free_ char *t = safe_target(arg);
                        if (!t)
                                return -ENOMEM;
                        if (strlen(t) > 100)
                                continue; /* a truncated target could point anywhere */
                        r = tar_member(&tar, '2', path, t, NULL);
                } else
                        r = tar_member(&tar,
                                       type == 'f'   ? '0'
                                       : type == 'd' ? '5'
                                       : type == 'h' ? '1'
                                       : type == 'p' ? '6'
                                                     : '3',
                                       path, type == 'h' ? arg : NULL, type == 'f' ? arg : NULL);
                if (r < 0)
                        break;
                members++;
        }
        if (r < 0 || buf_zero(&tar, 1024) < 0)
                return -ENOMEM;
        if (buf_put(deb, "!<arch>\n", 8) < 0 || ar_member(deb, "debian-binary", "2.0\n", 4) < 0 ||
            ar_member(deb, "data.tar", tar.data, tar.size) < 0)
                return -ENOMEM;
        return 0;
}

/* The sandbox holds d1/.../d16/root and an empty "outside", nothing else. */
static void check_sandbox(void) {
        _cleanup_free_ char *dir = strdup(sandbox);
        for (unsigned level = 0; level <= DEPTH; level++) {
                char want[16];
                DIR *d = opendir(dir);
                struct dirent *de;
                size_t n = 0;

                if (!d)
                        __builtin_trap();
                snprintf(want, sizeof want, level < DEPTH ? "d%u" : "root", level + 1);
                while ((de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        n++;
                        if (!streq(de->d_name, want) &&
                            !(level == 0 && streq(de->d_name, "outside"))) {
                                fprintf(stderr, "escaped the unpack root: %s/%s\n", dir,
                                        de->d_name);
                                __builtin_trap();
                        }
                }
                closedir(d);
                if (n != (level == 0 ? 2u : 1u)) {
                        fprintf(stderr, "escaped the unpack root: %s has %zu entries\n", dir, n);
                        __builtin_trap();
                }
                char *next = strdup_printf("%s/%s", dir, want);
                if (!next)
                        __builtin_trap();
                free(dir);
                dir = next;
        }
        DIR *d = opendir(outside);
        struct dirent *de;
        if (!d)
                __builtin_trap();
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        fprintf(stderr, "wrote through a symlink: %s/%s\n", outside, de->d_name);
                        __builtin_trap();
                }
        closedir(d);
}

/* Every path deb_unpack reports is clean and reachable from the root
 * without following a symlink. */
static void check_files(char **files) {
        STRV_FOREACH(f, files) {
                const char *p = *f;
                _cleanup_close_ int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct stat st;

                if (fd < 0 || isempty(p) || p[0] == '/' || !path_is_safe_relative(p) ||
                    strstr(p, "//") || streq(p, ".") || strneq(p, "./", 2) || strstr(p, "/./"))
                        goto bad;
                for (const char *s = p, *e; (e = strchr(s, '/')); s = e + 1) {
                        _cleanup_free_ char *comp = strndup(s, (size_t) (e - s));
                        int nfd = comp ? openat(fd, comp,
                                                O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                       : -1;
                        if (nfd < 0)
                                goto bad;
                        close(fd);
                        fd = nfd;
                }
                const char *last = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
                /* A later member may have replaced it; it may not be missing
                 * because it was written somewhere else. */
                if (fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        goto bad;
                continue;
        bad:
                fprintf(stderr, "bad installed path '%s'\n", p);
                __builtin_trap();
        }
}

static void remove_sandbox(void) {
        (void) rm_rf(sandbox);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(buf_done) Buf deb = {};
        int r;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        if (!root) {
                _cleanup_free_ char *chain = NULL;
                if (!mkdtemp(sandbox))
                        __builtin_trap();
                atexit(remove_sandbox);
                outside = path_join(sandbox, "outside");
                chain = strdup(sandbox);
                for (unsigned i = 1; chain && i <= DEPTH; i++) {
                        char *c = strdup_printf("%s/d%u", chain, i);
                        free(chain);
                        chain = c;
                }
                root = chain ? path_join(chain, "root") : NULL;
                if (!outside || !root || mkdir(outside, 0755) < 0 || mkdir_p(root, 0755) < 0)
                        __builtin_trap();
        }

        if (make_deb(data, size, &deb) < 0)
                return 0;
        fd = memfd_create("fuzz.deb", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, deb.data, deb.size) < 0)
                __builtin_trap();
        path = strdup_printf("/proc/self/fd/%d", fd);
        if (!path)
                return 0;

        DebUnpackOptions o = { .source_date_epoch = 1700000000 };
        r = deb_unpack(path, root, &o, &files);
        check_sandbox();
        if (r >= 0)
                check_files(files);
        if (rm_rf(root) < 0 || mkdir(root, 0755) < 0)
                __builtin_trap();
        return 0;
}
