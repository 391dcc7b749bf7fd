/* SPDX-License-Identifier: MIT */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "deb.h"
#include "delta-index.h"
#include "fileio.h"
#include "initrd.h"
#include "macro.h"
#include "modload.h"
#include "strv.h"

#define SDE 1700000000LL

static char workdir[] = "/tmp/berth-test-initrd-XXXXXX";

static int shell(const char *fmt, ...) _printf_(1, 2);
static int shell(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                cmd = NULL;
        va_end(ap);
        assert_non_null(cmd);
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static char *wpath(const char *rel) {
        char *p = path_join(workdir, rel);
        assert_non_null(p);
        return p;
}

/* The line of a `cpio -tv` listing that ends with " name". */
static const char *line_of(const char *listing, const char *name) {
        _cleanup_free_ char *needle = strdup_printf(" %s\n", name);
        const char *p = strstr(listing, needle);
        assert_non_null(p);
        while (p > listing && p[-1] != '\n')
                p--;
        return p;
}

/* The initrd's zstd frames as files DIR/NNNN.zst (each a whole cpio
 * archive); returns how many. */
static size_t split_frames(const char *initrd, const char *dir, ZstdFrame **ret) {
        _cleanup_free_ char *data = NULL;
        ZstdFrame *fs = NULL;
        size_t size, n;
        assert_int_equal(read_full_file(initrd, &data, &size, 0), 0);
        assert_int_equal(zstd_frames_scan((const uint8_t *) data, size, &fs, &n), 0);
        assert_int_equal(mkdir_p(dir, 0755), 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = strdup_printf("%s/%04zu.zst", dir, i);
                assert_int_equal(write_file_atomic(p, data + fs[i].offset, fs[i].length, 0644), 0);
        }
        if (ret)
                *ret = fs;
        else
                free(fs);
        return n;
}

/* `cpio -t` of a berth initrd (zstd frames, each a cpio archive), as one
 * string. */
static char *list_initrd(const char *initrd, const char *opts) {
        _cleanup_free_ char *out = wpath("list.txt"), *dir = wpath("frames");
        char *data = NULL;
        assert_int_equal(shell("rm -rf %s", dir), 0);
        split_frames(initrd, dir, NULL);
        assert_int_equal(shell("for f in %s/*.zst; do zstd -dc $f | cpio -t %s --quiet; done > %s",
                               dir, opts, out),
                         0);
        assert_int_equal(read_full_file(out, &data, NULL, 0), 0);
        return data;
}

/* A fake staged tree: berth-init is the host's /usr/bin/true; libc reached
 * through a symlink, the loader through Debian's absolute /lib64 symlink. */
static void make_root(const char *root) {
        assert_int_equal(shell("set -e; r=%s; mkdir -p $r/usr/lib/berth "
                               "$r/usr/lib/x86_64-linux-gnu $r/usr/lib64;"
                               "cp /usr/bin/true $r/usr/lib/berth/berth-init;"
                               "cp -L /lib/x86_64-linux-gnu/libc.so.6 "
                               "$r/usr/lib/x86_64-linux-gnu/libc-real.so;"
                               "ln -s libc-real.so $r/usr/lib/x86_64-linux-gnu/libc.so.6;"
                               "cp -L /lib64/ld-linux-x86-64.so.2 "
                               "$r/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2;"
                               "ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "
                               "$r/usr/lib64/ld-linux-x86-64.so.2;"
                               "ln -s usr/lib $r/lib; ln -s usr/lib64 $r/lib64",
                               root),
                         0);
}

static void test_initrd_contents_and_reproducible(void **state) {
        _cleanup_free_ char *root = wpath("root"), *a = wpath("initrd-a"), *b = wpath("initrd-b");
        InitrdOptions o = {
                .root = root,
                .init_binary = "usr/lib/berth/berth-init",
                .source_date_epoch = SDE,
                .zstd_level = 3, /* the default 19 is slow on shared test machines */
        };

        make_root(root);
        assert_int_equal(initrd_build(&o, a), 0);
        assert_int_equal(initrd_build(&o, b), 0);
        assert_int_equal(shell("cmp -s %s %s", a, b), 0);

        _cleanup_free_ char *list = list_initrd(a, "");
        assert_string_equal(list, "bin\n"
                                  "dev\n"
                                  "dev/console\n"
                                  "etc\n"
                                  "etc/berth\n"
                                  "etc/berth/initrd-modules\n"
                                  "etc/initrd-release\n"
                                  "init\n"
                                  "lib\n"
                                  "lib64\n"
                                  "proc\n"
                                  "run\n"
                                  "sbin\n"
                                  "sys\n"
                                  "sysroot\n"
                                  "tmp\n"
                                  "usr\n"
                                  "usr/bin\n"
                                  "usr/lib\n"
                                  "usr/lib/x86_64-linux-gnu\n"
                                  /* libc.so.6 has DT_NEEDED ld-linux-x86-64.so.2 */
                                  "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
                                  "usr/lib/x86_64-linux-gnu/libc.so.6\n"
                                  "usr/lib64\n"
                                  "usr/lib64/ld-linux-x86-64.so.2\n"
                                  "usr/sbin\n");

        /* Owners 0, fixed mtimes, libraries as regular files under the asked name. */
        _cleanup_free_ char *verbose = list_initrd(a, "-v --numeric-uid-gid");
        assert_true(strneq(line_of(verbose, "lib -> usr/lib"), "lrwxrwxrwx   1 0        0 ", 26));
        assert_true(strneq(line_of(verbose, "usr/lib/x86_64-linux-gnu/libc.so.6"),
                           "-rwxr-xr-x   1 0        0 ", 26));
        assert_true(strneq(line_of(verbose, "usr"), "drwxr-xr-x   2 0        0 ", 26));
        assert_true(strneq(line_of(verbose, "dev/console"),
                           "crw-------   1 0        0          5,   1 ", 40));
        assert_null(strstr(verbose, "libc-real"));

        /* The init really runs from the unpacked initrd with its libraries. */
        _cleanup_free_ char *x = wpath("x");
        _cleanup_free_ char *fdir = wpath("frames-x");
        /* libc and the init are large: frames of their own. */
        assert_true(split_frames(a, fdir, NULL) >= 3);
        assert_int_equal(shell("set -e; mkdir %s; cd %s; for f in %s/*.zst; do zstd -dc $f | "
                               "cpio -id --quiet; done; "
                               "./usr/lib64/ld-linux-x86-64.so.2 --library-path "
                               "./usr/lib/x86_64-linux-gnu ./init",
                               x, x, fdir),
                         0);
        _cleanup_free_ char *rel = NULL, *relp = wpath("x/etc/initrd-release");
        assert_int_equal(read_full_file(relp, &rel, NULL, 0), 0);
        assert_non_null(strstr(rel, "NAME=\"berth initrd\""));
}

static void test_missing_library_is_an_error(void **state) {
        _cleanup_free_ char *root = wpath("root2"), *a = wpath("initrd-c"), *libc = NULL;
        InitrdOptions o = { .root = root, .init_binary = "usr/lib/berth/berth-init" };
        make_root(root);
        libc = wpath("root2/usr/lib/x86_64-linux-gnu/libc-real.so");
        assert_int_equal(unlink(libc), 0);
        assert_int_equal(initrd_build(&o, a), -ENOENT);
        struct stat st;
        assert_int_equal(stat(a, &st), -1);
        o.init_binary = "usr/lib/berth/nope";
        assert_true(initrd_build(&o, a) < 0);
}

static int first_path(const char *name, const char *path, void *userdata) {
        char **p = userdata;
        if (!*p && path)
                *p = strdup(path);
        return 0;
}

/* What berth-stage1's loader finds in the initramfs: depmod's text indexes
 * cut down to the modules shipped, which are ELF under their .ko.xz names. */
static void check_initrd_module_index(const char *initrd, const char *kver) {
        _cleanup_free_ char *dir = wpath("kx"), *frames = wpath("kx-frames"),
                            *moddir = strdup_printf("%s/usr/lib/modules/%s", dir, kver),
                            *blk = NULL, *data = NULL;
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t size;

        assert_int_equal(shell("rm -rf %s %s", dir, frames), 0);
        split_frames(initrd, frames, NULL);
        assert_int_equal(shell("mkdir -p %s && cd %s && for f in %s/*.zst; do zstd -dc $f | "
                               "cpio -id --quiet; done",
                               dir, dir, frames),
                         0);
        assert_int_equal(module_index_new(moddir, &idx), 0);
        /* A virtio disk's modalias finds its driver; the driver drives devices,
         * dm-verity does not. */
        assert_int_equal(module_resolve(idx, "virtio:d00000002v00001AF4", &names), 0);
        assert_non_null(names);
        assert_string_equal(names[0], "virtio_blk");
        assert_int_equal(module_drives_devices(idx, "virtio_blk"), 1);
        assert_int_equal(module_drives_devices(idx, "dm-verity"), 0);
        /* Only what is shipped: ext4 is in the tree's index, not here. */
        assert_int_equal(module_drives_devices(idx, "ext4"), -ENOENT);
        strv_free(TAKE_PTR(names));
        assert_int_equal(module_resolve(idx, "ext4", &names), 0);
        assert_null(names);
        /* libcrc32c's soft dependency came along (crc32c_generic). */
        assert_int_equal(module_resolve(idx, "crypto-crc32c", &names), 0);
        assert_true(strv_contains(names, "crc32c_generic"));
        /* A module file the index names is there, as ELF (modules stored
         * compressed in the tree are decompressed, under the same name). */
        strv_free(TAKE_PTR(names));
        assert_int_equal(module_index_walk(idx, "virtio_blk", &names, first_path, &blk), 0);
        assert_non_null(blk);
        assert_int_equal(read_full_file(blk, &data, &size, 0), 0);
        assert_true(size > 4 && memcmp(data, "\177ELF", 4) == 0);
}

/* Module resolution needs a real Debian kernel package: BERTH_TEST_KERNEL_DEB,
 * or one in the composer's cache. */
static void test_modules_from_real_kernel(void **state) {
        const char *deb = getenv("BERTH_TEST_KERNEL_DEB");
        glob_t g = {};
        if (!deb && glob("/root/.cache/berth/debs/linux-image-*-amd64_*.deb", 0, NULL, &g) == 0 &&
            g.gl_pathc > 0)
                deb = g.gl_pathv[0];
        if (!deb) {
                globfree(&g);
                skip_test("no Debian kernel package: set BERTH_TEST_KERNEL_DEB or warm the cache");
        }
        _cleanup_free_ char *root = wpath("kroot"), *out = wpath("initrd-k"), *kver = NULL;
        DebUnpackOptions uo = { .source_date_epoch = SDE };
        make_root(root);
        assert_int_equal(deb_unpack(deb, root, &uo, NULL), 0);
        globfree(&g);
        _cleanup_free_ char *pat = strdup_printf("%s/usr/lib/modules/*", root);
        assert_int_equal(glob(pat, 0, NULL, &g), 0);
        kver = strdup(strrchr(g.gl_pathv[0], '/') + 1);
        globfree(&g);
        assert_int_equal(shell("depmod -b %s %s 2>/dev/null", root, kver), 0);

        char *mods[] = { (char *) "virtio_blk",
                         (char *) "dm-verity",
                         (char *) "erofs",
                         (char *) "libcrc32c",
                         (char *) "zswap" /* built in */,
                         NULL };
        InitrdOptions o = {
                .root = root,
                .kernel_version = kver,
                .modules = mods,
                .init_binary = "usr/lib/berth/berth-init",
                .source_date_epoch = SDE,
                .zstd_level = 3, /* the default 19 is slow on shared test machines */
        };
        assert_int_equal(initrd_build(&o, out), 0);
        _cleanup_free_ char *list = list_initrd(out, "");
        const char *want[] = { "/virtio_blk.ko",  "/dm-verity.ko",   "/dm-bufio.ko",
                               "/erofs.ko",       "/libcrc32c.ko",   "/crc32c_generic.ko",
                               "/virtio_ring.ko", "/modules.dep",    "/modules.softdep",
                               "/modules.alias",  "/modules.builtin" };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (!strstr(list, want[i]))
                        fprintf(stderr, "missing %s in:\n%s", want[i], list);
                assert_non_null(strstr(list, want[i]));
        }
        assert_null(strstr(list, "/ext4.ko"));
        check_initrd_module_index(out, kver);

        /* One more module: the frames of everything else keep their bytes
         * (what the delta updater copies from the running initrd). */
        _cleanup_free_ char *out2 = wpath("initrd-k2"), *d1 = wpath("kf1"), *d2 = wpath("kf2");
        char *mods2[] = { (char *) "virtio_blk",
                          (char *) "dm-verity",
                          (char *) "erofs",
                          (char *) "libcrc32c",
                          (char *) "zswap",
                          (char *) "loop",
                          NULL };
        o.modules = mods2;
        assert_int_equal(initrd_build(&o, out2), 0);
        ZstdFrame *f1 = NULL, *f2 = NULL;
        size_t n1 = split_frames(out, d1, &f1), n2 = split_frames(out2, d2, &f2), same = 0;
        for (size_t i = 0; i < n2; i++)
                for (size_t k = 0; k < n1; k++)
                        if (memcmp(f2[i].sha256, f1[k].sha256, 32) == 0) {
                                same++;
                                break;
                        }
        /* New: loop.ko's frame, the small entries' frame (initrd-modules), the
         * module indexes that changed. */
        fprintf(stderr, "frames: %zu before, %zu after, %zu the same\n", n1, n2, same);
        assert_true(n2 > n1);
        assert_true(same >= n1 - 6);
        free(f1);
        free(f2);
        o.modules = mods;

        char *bad[] = { (char *) "no_such_module_xyz", NULL };
        o.modules = bad;
        assert_int_equal(initrd_build(&o, out), -ENOENT);
}

static int setup(void **state) {
        return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(workdir);
}

int main(void) {
        if (system("command -v zstd >/dev/null && command -v cpio >/dev/null && "
                   "test -e /lib64/ld-linux-x86-64.so.2 && test -e "
                   "/lib/x86_64-linux-gnu/libc.so.6") != 0) {
                fprintf(stderr, "zstd, cpio or an amd64 glibc missing, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_initrd_contents_and_reproducible),
                cmocka_unit_test(test_missing_library_is_an_error),
                cmocka_unit_test(test_modules_from_real_kernel),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
