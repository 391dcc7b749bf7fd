/* SPDX-License-Identifier: MIT */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "tailor.h"

#define SDE 1700000000LL

static char workdir[] = "/tmp/berth-test-tailor-XXXXXX";
static char *root;

static char *rpath(const char *rel) {
        char *p = path_join(root, rel);
        assert_non_null(p);
        return p;
}

static void put(const char *rel, const char *data) {
        _cleanup_free_ char *p = rpath(rel);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, data, strlen(data), 0644), 0);
}

static char *get(const char *rel) {
        _cleanup_free_ char *p = rpath(rel);
        char *d = NULL;
        if (read_full_file(p, &d, NULL, 0) < 0)
                return NULL;
        return d;
}

static bool exists(const char *rel) {
        _cleanup_free_ char *p = rpath(rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

static char *link_target(const char *rel) {
        _cleanup_free_ char *p = rpath(rel);
        char buf[256];
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n < 0)
                return NULL;
        buf[n] = 0;
        return strdup(buf);
}

static unsigned n_bad_mtime;
static int check_mtime(const char *fpath, const struct stat *st, int flag, struct FTW *f) {
        if (st->st_mtime != SDE) {
                fprintf(stderr, "mtime not normalized: %s\n", fpath);
                n_bad_mtime++;
        }
        return 0;
}

/* A tree as deb_unpack leaves it. */
static void make_tree(void) {
        put("etc/pkg.conf", "pkg\n");
        put("etc/berth-owned", "from package\n");
        put("etc/ld.so.conf.d/x86_64-linux-gnu.conf", "/usr/lib/x86_64-linux-gnu\n");
        put("usr/share/factory/etc/berth-owned", "from berth\n");
        put("var/lib/pkg/state", "x\n");
        put("usr/share/doc/pkg/README", "r\n");
        put("usr/share/doc/pkg/copyright", "c\n");
        put("usr/share/man/man1/x.1", "m\n");
        put("usr/share/locale/de/LC_MESSAGES/x.mo", "de\n");
        put("usr/share/locale/en/LC_MESSAGES/x.mo", "en\n");
        put("usr/share/ca-certificates/mozilla/B.crt", "-----B-----"); /* no final newline */
        put("usr/share/ca-certificates/mozilla/A.crt", "-----A-----\n");
        put("usr/bin/tool", "#!/bin/sh\n");
        put("boot/vmlinuz-6.1.0-test", "kernel");
        /* A kernel without modules: depmod still writes its indexes. */
        put("usr/lib/modules/6.1.0-test/modules.order", "");
        put("usr/lib/modules/6.1.0-test/modules.builtin", "");
        put("usr/lib/modules/6.1.0-test/modules.builtin.modinfo", "");
        _cleanup_free_ char *lib = rpath("usr/lib/x86_64-linux-gnu/libz.so.1");
        assert_int_equal(mkdir_parents(lib, 0755), 0);
        /* A real shared library, for ldconfig to index. */
        _cleanup_free_ char *cmd =
                strdup_printf("cp -L /usr/lib/x86_64-linux-gnu/libz.so.1 %s 2>/dev/null || "
                              "cp -L /lib/x86_64-linux-gnu/libz.so.1 %s",
                              lib, lib);
        assert_int_equal(system(cmd), 0);
        put("src/extra.conf", "copied\n");
}

static void test_tailor_tree(void **state) {
        SpecUser users[] = {
                { .name = (char *) "containerd",
                  .uid = 900,
                  .gid = 900,
                  .home = (char *) "/var/lib/containerd" },
                { .name = (char *) "chrony",
                  .uid = 100,
                  .gid = 101,
                  .gecos = (char *) "Chrony daemon" },
        };
        char *members[] = { (char *) "chrony", NULL };
        SpecGroup groups[] = {
                { .name = (char *) "chrony", .gid = 101, .members = members },
                { .name = (char *) "kvm", .gid = 50 },
        };
        SpecKV sysctls[] = { { (char *) "net.ipv4.ip_forward", (char *) "1" },
                             { (char *) "kernel.kptr_restrict", (char *) "2" } };
        SpecKV links[] = { { (char *) "/usr/sbin/iptables", (char *) "xtables-nft-multi" },
                           { (char *) "/etc/alternatives/x", (char *) "/usr/bin/tool" } };
        SpecCopy copies[] = { { .source = (char *) "src/extra.conf",
                                .dest = (char *) "/etc/extra.conf",
                                .mode = 0600 } };
        char *remove[] = { (char *) "/usr/share/doc/*", (char *) "/usr/share/man",
                           (char *) "/usr/share/locale/*", (char *) "/etc/pkg.conf", NULL };
        char *keep[] = { (char *) "/usr/share/doc/*/copyright", (char *) "/usr/share/locale/en",
                         NULL };
        ImageSpec spec = {
                .dir = root,
                .name = (char *) "container-host",
                .version = (char *) "1.2.3",
                .users = users,
                .n_users = ELEMENTSOF(users),
                .groups = groups,
                .n_groups = ELEMENTSOF(groups),
                .sysctls = sysctls,
                .n_sysctls = ELEMENTSOF(sysctls),
                .links = links,
                .n_links = ELEMENTSOF(links),
                .copies = copies,
                .n_copies = ELEMENTSOF(copies),
                .remove = remove,
                .keep = keep,
        };
        struct stat st;

        make_tree();
        assert_int_equal(tailor_tree(&spec, root, SDE), 0);

        /* /etc moved to the factory tree; berth's own file wins; /var gone. */
        assert_false(exists("etc"));
        assert_false(exists("var"));
        _cleanup_free_ char *owned = get("usr/share/factory/etc/berth-owned");
        assert_string_equal(owned, "from berth\n");
        assert_true(exists("usr/share/factory/etc/ld.so.conf.d/x86_64-linux-gnu.conf"));
        assert_true(exists("boot/vmlinuz-6.1.0-test"));

        /* Root compat links. */
        _cleanup_free_ char *bin = link_target("bin"), *lib64 = link_target("lib64");
        assert_string_equal(bin, "usr/bin");
        assert_string_equal(lib64, "usr/lib64");

        /* Users and groups, sorted, root first. */
        _cleanup_free_ char *pw = get("usr/share/factory/etc/passwd");
        assert_string_equal(pw, "root:x:0:0::/root:/bin/sh\n"
                                "chrony:x:100:101:Chrony daemon:/nonexistent:/usr/sbin/nologin\n"
                                "containerd:x:900:900::/var/lib/containerd:/usr/sbin/nologin\n");
        _cleanup_free_ char *gr = get("usr/share/factory/etc/group");
        assert_string_equal(gr, "root:x:0:\nkvm:x:50:\nchrony:x:101:chrony\ncontainerd:x:900:\n");
        _cleanup_free_ char *sh = get("usr/share/factory/etc/shadow");
        assert_non_null(strstr(sh, "root:!*:::::::\n"));
        _cleanup_free_ char *shp = rpath("usr/share/factory/etc/shadow");
        assert_int_equal(stat(shp, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        _cleanup_free_ char *gsh = get("usr/share/factory/etc/gshadow");
        assert_non_null(strstr(gsh, "chrony:!*::chrony\n"));

        /* Sysctl, links, copies. */
        _cleanup_free_ char *sc = get("usr/lib/sysctl.d/50-berth-spec.conf");
        assert_non_null(strstr(sc, "net.ipv4.ip_forward = 1\nkernel.kptr_restrict = 2\n"));
        _cleanup_free_ char *ipt = link_target("usr/sbin/iptables");
        assert_string_equal(ipt, "xtables-nft-multi");
        _cleanup_free_ char *alt = link_target("usr/share/factory/etc/alternatives/x");
        assert_string_equal(alt, "/usr/bin/tool");
        _cleanup_free_ char *extra = get("usr/share/factory/etc/extra.conf");
        assert_string_equal(extra, "copied\n");
        _cleanup_free_ char *extrap = rpath("usr/share/factory/etc/extra.conf");
        assert_int_equal(stat(extrap, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* os-release. */
        _cleanup_free_ char *osr = get("usr/lib/os-release");
        assert_non_null(strstr(osr, "NAME=\"berth\"\n"));
        assert_non_null(strstr(osr, "ID=berth\n"));
        assert_non_null(strstr(osr, "VERSION_ID=\"1.2.3\"\n"));
        assert_non_null(strstr(osr, "IMAGE_ID=\"container-host\"\n"));
        assert_non_null(strstr(osr, "IMAGE_VERSION=\"1.2.3\"\n"));
        _cleanup_free_ char *osl = link_target("usr/share/factory/etc/os-release");
        assert_string_equal(osl, "../usr/lib/os-release");

        /* Remove= and Keep=. */
        assert_false(exists("usr/share/doc/pkg/README"));
        assert_true(exists("usr/share/doc/pkg/copyright"));
        assert_false(exists("usr/share/man"));
        assert_false(exists("usr/share/locale/de"));
        assert_true(exists("usr/share/locale/en/LC_MESSAGES/x.mo"));
        assert_false(exists("usr/share/factory/etc/pkg.conf")); /* by its /etc name */

        /* CA bundle, sorted, newline-terminated. */
        _cleanup_free_ char *ca = get("usr/share/factory/etc/ssl/certs/ca-certificates.crt");
        assert_string_equal(ca, "-----A-----\n-----B-----\n");

        /* ld.so.cache moved to the factory, with the library in it. */
        assert_true(exists("usr/share/factory/etc/ld.so.cache"));
        _cleanup_free_ char *cache = rpath("usr/share/factory/etc/ld.so.cache");
        _cleanup_free_ char *cmd = strdup_printf("ldconfig -p -C %s | grep -q 'libz.so.1 '", cache);
        assert_int_equal(system(cmd), 0);

        /* depmod ran. */
        assert_true(exists("usr/lib/modules/6.1.0-test/modules.dep"));
        _cleanup_free_ char *kver = NULL;
        assert_int_equal(tailor_kernel_version(root, &kver), 0);
        assert_string_equal(kver, "6.1.0-test");

        /* Every mtime normalized. */
        n_bad_mtime = 0;
        assert_int_equal(nftw(root, check_mtime, 16, FTW_PHYS), 0);
        assert_int_equal(n_bad_mtime, 0);

        /* Tailoring twice is harmless (the lead may re-run a step). */
        assert_int_equal(tailor_tree(&spec, root, SDE), 0);
}

static void test_kernel_version_needs_exactly_one(void **state) {
        _cleanup_free_ char *a = rpath("usr/lib/modules/6.1.0-a"),
                            *b = rpath("usr/lib/modules/6.1.0-b");
        _cleanup_free_ char *kver = NULL;
        assert_int_equal(rm_rf(root), 0);
        assert_int_equal(mkdir_p(root, 0755), 0);
        assert_int_equal(tailor_kernel_version(root, &kver), -ENOENT);
        _cleanup_free_ char *m = rpath("usr/lib/modules");
        assert_int_equal(mkdir_p(m, 0755), 0);
        assert_int_equal(tailor_kernel_version(root, &kver), -ENOENT);
        assert_int_equal(mkdir_p(a, 0755), 0);
        assert_int_equal(tailor_kernel_version(root, &kver), 0);
        assert_string_equal(kver, "6.1.0-a");
        assert_int_equal(mkdir_p(b, 0755), 0);
        free(kver);
        kver = NULL;
        assert_true(tailor_kernel_version(root, &kver) < 0);
}

static void test_bad_user_fields_rejected(void **state) {
        SpecUser users[] = { { .name = (char *) "evil:0", .uid = 5, .gid = 5 } };
        ImageSpec spec = {
                .name = (char *) "x", .version = (char *) "1", .users = users, .n_users = 1
        };
        assert_int_equal(rm_rf(root), 0);
        assert_int_equal(mkdir_p(root, 0755), 0);
        assert_int_equal(tailor_tree(&spec, root, SDE), -EINVAL);
}

static int setup(void **state) {
        if (!mkdtemp(workdir))
                return -1;
        root = path_join(workdir, "root");
        return root ? 0 : -1;
}

static int teardown(void **state) {
        free(root);
        return rm_rf(workdir);
}

int main(void) {
        if (system("command -v ldconfig >/dev/null && command -v depmod >/dev/null") != 0) {
                fprintf(stderr, "ldconfig or depmod missing, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tailor_tree),
                cmocka_unit_test(test_kernel_version_needs_exactly_one),
                cmocka_unit_test(test_bad_user_fields_rejected),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
