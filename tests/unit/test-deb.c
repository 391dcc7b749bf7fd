/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "deb.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"

#define SDE 1700000000LL

static char workdir[] = "/tmp/berth-test-deb-XXXXXX";

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

/* A package with /bin, /usr/lib, /etc, a symlink, a hard link, a setuid file,
 * one mtime in the future (clamped) and one in the past (kept). */
static void make_good_deb(const char *compressor, const char *name) {
        assert_int_equal(
                shell("set -e; cd %s; rm -rf pkg; mkdir -p pkg/DEBIAN pkg/bin pkg/usr/lib/x "
                      "pkg/etc pkg/sbin;"
                      "printf 'Package: t\\nVersion: 1\\nArchitecture: all\\nMaintainer: t "
                      "<t@t>\\nDescription: t\\n' > pkg/DEBIAN/control;"
                      "echo tool > pkg/bin/tool; chmod 0755 pkg/bin/tool;"
                      "echo lib > pkg/usr/lib/x/libx.so.1; chmod 0644 pkg/usr/lib/x/libx.so.1;"
                      "ln -s libx.so.1 pkg/usr/lib/x/libx.so;"
                      "ln -s /bin/tool pkg/sbin/tool-link;"
                      "ln pkg/bin/tool pkg/bin/tool-hard;"
                      "echo conf > pkg/etc/t.conf; chmod 0640 pkg/etc/t.conf;"
                      "echo su > pkg/bin/su; chmod 4755 pkg/bin/su;"
                      "touch -h -d @2000000000 pkg/usr/lib/x/libx.so.1 pkg/usr/lib/x/libx.so;"
                      "touch -d @1000000000 pkg/etc/t.conf;"
                      "dpkg-deb -Z%s --root-owner-group --build pkg %s >/dev/null",
                      workdir, compressor, name),
                0);
}

static void test_unpack_merges_usr_keeps_modes_and_clamps_mtimes(void **state) {
        const char *comp[] = { "xz", "zstd", "gzip" };
        for (size_t i = 0; i < ELEMENTSOF(comp); i++) {
                _cleanup_free_ char *deb = NULL, *root = wpath("root");
                _cleanup_strv_free_ char **files = NULL;
                DebUnpackOptions o = { .source_date_epoch = SDE };
                struct stat st, st2;
                char buf[256];

                deb = strdup_printf("%s/t-%s.deb", workdir, comp[i]);
                make_good_deb(comp[i], deb);
                assert_int_equal(rm_rf(root), 0);
                assert_int_equal(mkdir(root, 0755), 0);
                assert_int_equal(deb_unpack(deb, root, &o, &files), 0);

                assert_true(strv_contains(files, "usr/bin/tool"));
                assert_true(strv_contains(files, "usr/bin/su"));
                assert_true(strv_contains(files, "usr/sbin/tool-link"));
                assert_true(strv_contains(files, "etc/t.conf"));
                assert_true(strv_contains(files, "usr/lib/x/libx.so"));
                assert_false(strv_contains(files, "bin/tool"));

                _cleanup_free_ char *bin = wpath("root/bin");
                assert_int_equal(lstat(bin, &st), -1); /* merged, no /bin */

                _cleanup_free_ char *su = wpath("root/usr/bin/su");
                assert_int_equal(lstat(su, &st), 0);
                assert_int_equal(st.st_mode & 07777, 04755);
                assert_int_equal(st.st_uid, 0);

                _cleanup_free_ char *tool = wpath("root/usr/bin/tool");
                _cleanup_free_ char *hard = wpath("root/usr/bin/tool-hard");
                assert_int_equal(lstat(tool, &st), 0);
                assert_int_equal(lstat(hard, &st2), 0);
                assert_int_equal(st.st_ino, st2.st_ino);
                assert_int_equal(st.st_nlink, 2);

                _cleanup_free_ char *link = wpath("root/usr/sbin/tool-link");
                assert_int_equal(lstat(link, &st), 0);
                assert_true(S_ISLNK(st.st_mode));
                ssize_t n = readlink(link, buf, sizeof buf - 1);
                assert_true(n > 0);
                buf[n] = 0;
                assert_string_equal(buf, "/bin/tool"); /* targets left as they are */

                _cleanup_free_ char *lib = wpath("root/usr/lib/x/libx.so.1");
                _cleanup_free_ char *libl = wpath("root/usr/lib/x/libx.so");
                _cleanup_free_ char *conf = wpath("root/etc/t.conf");
                assert_int_equal(lstat(lib, &st), 0);
                assert_int_equal(st.st_mtime, SDE);
                assert_int_equal(lstat(libl, &st), 0);
                assert_int_equal(st.st_mtime, SDE);
                assert_int_equal(lstat(conf, &st), 0);
                assert_int_equal(st.st_mtime, 1000000000);
                assert_int_equal(st.st_mode & 07777, 0640);

                /* Unpacking again replaces files in place. */
                assert_int_equal(deb_unpack(deb, root, &o, NULL), 0);
                assert_int_equal(lstat(su, &st), 0);
                assert_int_equal(st.st_mode & 07777, 04755);
        }
}

static void test_extract_single_member(void **state) {
        _cleanup_free_ char *deb = wpath("t-xz.deb"), *dest = wpath("libx-out");
        _cleanup_free_ char *data = NULL;
        make_good_deb("xz", deb);
        assert_int_equal(deb_extract_file(deb, "usr/lib/x/libx.so.1", dest), 0);
        assert_int_equal(read_full_file(dest, &data, NULL, 0), 0);
        assert_string_equal(data, "lib\n");
        assert_int_equal(deb_extract_file(deb, "./bin/tool", dest), 0);
        assert_int_equal(deb_extract_file(deb, "usr/lib/missing", dest), -ENOENT);
}

/* data.tar built by hand (python3 tarfile), wrapped with ar like dpkg-deb. */
static void make_evil_deb(const char *name, const char *py_members) {
        assert_int_equal(shell("set -e; cd %s; rm -rf evil; mkdir evil; cd evil;"
                               "echo 2.0 > debian-binary;"
                               "mkdir c; printf 'Package: e\\nVersion: 1\\nArchitecture: all\\n' > "
                               "c/control;"
                               "tar -C c -czf control.tar.gz ./control;"
                               "python3 - <<'EOF'\n"
                               "import tarfile, io\n"
                               "t = tarfile.open('data.tar.xz', 'w:xz')\n"
                               "def f(n, data=b'x'):\n"
                               "    i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, "
                               "io.BytesIO(data))\n"
                               "def l(n, target):\n"
                               "    i = tarfile.TarInfo(n); i.type = tarfile.SYMTYPE; i.linkname = "
                               "target; t.addfile(i)\n"
                               "def h(n, target):\n"
                               "    i = tarfile.TarInfo(n); i.type = tarfile.LNKTYPE; i.linkname = "
                               "target; t.addfile(i)\n"
                               "%s\n"
                               "t.close()\n"
                               "EOF\n"
                               "ar rc ../%s debian-binary control.tar.gz data.tar.xz",
                               workdir, py_members, name),
                         0);
}

static void test_malicious_members_are_confined(void **state) {
        _cleanup_free_ char *root = wpath("root"), *outside = wpath("outside");
        DebUnpackOptions o = { .source_date_epoch = SDE };
        struct stat st;

        assert_int_equal(mkdir(outside, 0755), 0);

        make_evil_deb("dotdot.deb", "f('./ok')\nf('../escape')");
        make_evil_deb("deep.deb", "f('./a/../../escape2')");
        _cleanup_free_ char *py = strdup_printf("l('./evil', '%s')\nf('./evil/file')", outside);
        make_evil_deb("symlink.deb", py);
        _cleanup_free_ char *py2 =
                strdup_printf("l('./evil2', '%s')\nh('./stolen', './evil2/x')", outside);
        make_evil_deb("hardlink.deb", py2);
        make_evil_deb("abs.deb", "f('/abs/file')\nf('usr//./lib/y')");

        const char *bad[] = { "dotdot.deb", "deep.deb", "symlink.deb", "hardlink.deb" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *deb = wpath(bad[i]);
                assert_int_equal(rm_rf(root), 0);
                assert_int_equal(mkdir(root, 0755), 0);
                assert_true(deb_unpack(deb, root, &o, NULL) < 0);
        }
        _cleanup_free_ char *esc = wpath("escape"), *esc2 = wpath("escape2"),
                            *inside = wpath("outside/file");
        assert_int_equal(lstat(esc, &st), -1);
        assert_int_equal(lstat(esc2, &st), -1);
        assert_int_equal(lstat(inside, &st), -1);

        /* Absolute and unclean names are confined, not refused. */
        _cleanup_free_ char *deb = wpath("abs.deb"), *abs = wpath("root/abs/file"),
                            *y = wpath("root/usr/lib/y");
        assert_int_equal(rm_rf(root), 0);
        assert_int_equal(mkdir(root, 0755), 0);
        assert_int_equal(deb_unpack(deb, root, &o, NULL), 0);
        assert_int_equal(lstat(abs, &st), 0);
        assert_int_equal(lstat(y, &st), 0);
}

static void test_not_a_deb(void **state) {
        _cleanup_free_ char *p = wpath("junk.deb"), *root = wpath("root");
        assert_int_equal(write_file_atomic(p, "junk", 4, 0644), 0);
        assert_int_equal(mkdir_p(root, 0755), 0);
        assert_true(deb_unpack(p, root, NULL, NULL) < 0);
}

static int setup(void **state) {
        if (!mkdtemp(workdir))
                return -1;
        return 0;
}

static int teardown(void **state) {
        return rm_rf(workdir);
}

int main(void) {
        if (system("command -v dpkg-deb >/dev/null && command -v python3 >/dev/null && "
                   "command -v ar >/dev/null") != 0) {
                fprintf(stderr, "dpkg-deb, python3 or ar missing, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unpack_merges_usr_keeps_modes_and_clamps_mtimes),
                cmocka_unit_test(test_extract_single_member),
                cmocka_unit_test(test_malicious_members_are_confined),
                cmocka_unit_test(test_not_a_deb),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
