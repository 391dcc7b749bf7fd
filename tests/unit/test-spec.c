/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "spec.h"
#include "strv.h"

static const char full_spec[] =
        "[Image]\n"
        "Name=test-image\n"
        "Version=1.2.3\n"
        "Description=A test image\n"
        "Flavor=mutable\n"
        "Architecture=arm64\n"
        "[Source]\n"
        "URI=http://deb.example.org/debian\n"
        "Suites=bookworm bookworm-updates\n"
        "Components=main contrib\n"
        "SignedBy=keys/debian.gpg\n"
        "CheckValidUntil=no\n"
        "[Source]\n"
        "URI=file:///srv/repo\n"
        "Suites=./\n"
        "[Packages]\n"
        "Include=a1 b2\n"
        "Include=c3\n"
        "Exclude=old\n"
        "Exclude=\n"
        "Exclude=perl debconf-2.0\n"
        "BootPackages=systemd-boot-efi\n"
        "[Kernel]\n"
        "Package=linux-image-cloud-amd64\n"
        "Modules=virtio_blk\n"
        "Modules=dm-verity\n"
        "Cmdline=console=ttyS0\n"
        "Cmdline=panic=10\n"
        "[Boot]\n"
        "Tries=5\n"
        "Timeout=2\n"
        "[Files]\n"
        "Remove=/usr/share/doc/* /usr/share/man\n"
        "Keep=/usr/share/doc/*/copyright\n"
        "Copy=files/motd:/etc/motd\n"
        "Copy=/abs/tool:/usr/bin/tool:0755\n"
        "[Users]\n"
        "User=root:0:0:/root:/bin/sh\n"
        "User=_chrony:101:102:/var/lib/chrony:/usr/sbin/nologin:Chrony daemon\n"
        "Group=_chrony:102\n"
        "Group=wheel:10:root,_chrony\n"
        "[Sysctl]\n"
        "kernel.kptr_restrict=2\n"
        "net/ipv4/ip_forward=1\n"
        "kernel.kptr_restrict=1\n"
        "[Alternatives]\n"
        "Link=/usr/bin/editor:/usr/bin/vi\n"
        "[Services]\n"
        "Enable=network chrony\n"
        "Enable=containerd\n"
        "[Disk]\n"
        "Size=2G\n"
        "EspSize=128M\n"
        "UsrSize=512K\n"
        "RootSize=4096\n"
        "[Output]\n"
        "Compression=lz4\n";

static int parse(const char *text, ImageSpec **ret) {
        return spec_parse_string("/specs/test.conf", text, strlen(text), ret);
}

static void assert_strv(char **l, const char *joined) {
        _cleanup_free_ char *j = strv_join(l, " ");
        assert_non_null(j);
        assert_string_equal(j, joined);
}

static void test_full_spec_fills_every_field(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;

        assert_int_equal(parse(full_spec, &s), 0);
        assert_string_equal(s->path, "/specs/test.conf");
        assert_string_equal(s->dir, "/specs");
        assert_string_equal(s->name, "test-image");
        assert_string_equal(s->version, "1.2.3");
        assert_string_equal(s->description, "A test image");
        assert_int_equal(s->flavor, FLAVOR_MUTABLE);
        assert_string_equal(s->architecture, "arm64");

        assert_int_equal(s->n_sources, 2);
        assert_string_equal(s->sources[0].uri, "http://deb.example.org/debian");
        assert_strv(s->sources[0].suites, "bookworm bookworm-updates");
        assert_strv(s->sources[0].components, "main contrib");
        assert_string_equal(s->sources[0].signed_by, "keys/debian.gpg");
        assert_string_equal(s->sources[1].uri, "file:///srv/repo");
        assert_strv(s->sources[1].suites, "./");
        assert_null(s->sources[1].components);
        assert_null(s->sources[1].signed_by);
        assert_true(s->check_valid_until_set);
        assert_false(s->check_valid_until);

        assert_strv(s->include, "a1 b2 c3");
        assert_strv(s->exclude, "perl debconf-2.0");
        assert_strv(s->boot_packages, "systemd-boot-efi");

        assert_string_equal(s->kernel_package, "linux-image-cloud-amd64");
        assert_strv(s->modules, "virtio_blk dm-verity");
        assert_string_equal(s->cmdline, "console=ttyS0 panic=10");
        assert_int_equal(s->boot_tries, 5);
        assert_int_equal(s->boot_timeout, 2);

        assert_strv(s->remove, "/usr/share/doc/* /usr/share/man");
        assert_strv(s->keep, "/usr/share/doc/*/copyright");
        assert_int_equal(s->n_copies, 2);
        assert_string_equal(s->copies[0].source, "files/motd");
        assert_string_equal(s->copies[0].dest, "/etc/motd");
        assert_int_equal(s->copies[0].mode, 0644);
        assert_string_equal(s->copies[1].source, "/abs/tool");
        assert_int_equal(s->copies[1].mode, 0755);

        assert_int_equal(s->n_users, 2);
        assert_string_equal(s->users[0].name, "root");
        assert_null(s->users[0].gecos);
        assert_string_equal(s->users[1].name, "_chrony");
        assert_int_equal(s->users[1].uid, 101);
        assert_int_equal(s->users[1].gid, 102);
        assert_string_equal(s->users[1].home, "/var/lib/chrony");
        assert_string_equal(s->users[1].shell, "/usr/sbin/nologin");
        assert_string_equal(s->users[1].gecos, "Chrony daemon");
        assert_int_equal(s->n_groups, 2);
        assert_null(s->groups[0].members);
        assert_string_equal(s->groups[1].name, "wheel");
        assert_int_equal(s->groups[1].gid, 10);
        assert_strv(s->groups[1].members, "root _chrony");

        /* A repeated sysctl replaces the earlier value in place. */
        assert_int_equal(s->n_sysctls, 2);
        assert_string_equal(s->sysctls[0].key, "kernel.kptr_restrict");
        assert_string_equal(s->sysctls[0].value, "1");
        assert_string_equal(s->sysctls[1].key, "net/ipv4/ip_forward");
        assert_int_equal(s->n_links, 1);
        assert_string_equal(s->links[0].key, "/usr/bin/editor");
        assert_string_equal(s->links[0].value, "/usr/bin/vi");

        assert_strv(s->services, "network chrony containerd");
        assert_int_equal(s->disk_size, UINT64_C(2) << 30);
        assert_int_equal(s->esp_size, UINT64_C(128) << 20);
        assert_int_equal(s->usr_size, UINT64_C(512) << 10);
        assert_int_equal(s->root_size, 4096);
        assert_string_equal(s->compression, "lz4");
}

static void test_minimal_spec_gets_defaults(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        const char *t = "[Image]\nName=x\nVersion=1\n";

        assert_int_equal(spec_parse_string("rel.conf", t, strlen(t), &s), 0);
        assert_string_equal(s->dir, ".");
        assert_int_equal(s->flavor, FLAVOR_IMMUTABLE);
        assert_string_equal(s->architecture, "amd64");
        assert_string_equal(s->kernel_package, "linux-image-amd64");
        assert_int_equal(s->boot_tries, 3);
        assert_int_equal(s->boot_timeout, 0);
        assert_string_equal(s->compression, "lz4hc");
        assert_int_equal(s->n_sources, 0);
        assert_false(s->check_valid_until_set);
        assert_null(s->include);
        assert_null(s->cmdline);
        assert_int_equal(s->disk_size, 0);
}

static void test_flavor_strings_round_trip(void **state) {
        assert_string_equal(flavor_to_string(FLAVOR_IMMUTABLE), "immutable");
        assert_string_equal(flavor_to_string(FLAVOR_MUTABLE), "mutable");
        assert_null(flavor_to_string(_FLAVOR_MAX));
        assert_int_equal(flavor_from_string("mutable"), FLAVOR_MUTABLE);
        assert_int_equal(flavor_from_string("Mutable"), _FLAVOR_INVALID);
        assert_int_equal(flavor_from_string(NULL), _FLAVOR_INVALID);
}

/* Every case is a small valid spec with one thing wrong. */
static void assert_rejected(const char *text) {
        ImageSpec *s = NULL;
        int r = parse(text, &s);
        if (r != -EBADMSG)
                fail_msg("expected -EBADMSG, got %d for:\n%s", r, text);
        assert_null(s);
}

#define IMAGE "[Image]\nName=x\nVersion=1\n"

static void test_unknown_section_is_rejected(void **state) {
        assert_rejected(IMAGE "[Nope]\n");
}

static void test_unknown_key_is_rejected(void **state) {
        assert_rejected(IMAGE "[Kernel]\nPackages=linux\n");
        assert_rejected("[Image]\nName=x\nVersion=1\nname=x\n");
}

static void test_update_section(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        const char *t = IMAGE "[Update]\nRoot=keys/root.json\nRepository=https://u.example/b\n";

        assert_int_equal(parse(t, &s), 0);
        assert_string_equal(s->update_root, "keys/root.json");
        assert_string_equal(s->update_repository, "https://u.example/b");
        assert_null(s->update_channel);
        assert_rejected(IMAGE "[Update]\nRoot=r.json\n");
        assert_rejected(IMAGE "[Update]\nRepository=https://u.example/b\nChannel=beta\n");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=https://u/b\nChannel=Beta\n");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=no-scheme\n");
}

static void test_update_reboot_coordination(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        const char *t = IMAGE "[Update]\nRoot=r.json\nRepository=https://u.example/b\n"
                              "RebootCoordination=etcd\nEtcdEndpoints=https://10.0.0.1:2379 "
                              "http://e2:2379\nRebootGroup=workers\nMaxUnavailable=2\n"
                              "RebootWindow=Sat,Sun 22:00-02:00 UTC\n";

        assert_int_equal(parse(t, &s), 0);
        assert_string_equal(s->update_reboot_coordination, "etcd");
        assert_int_equal(strv_length(s->update_etcd_endpoints), 2);
        assert_string_equal(s->update_etcd_endpoints[1], "http://e2:2379");
        assert_string_equal(s->update_reboot_group, "workers");
        assert_int_equal(s->update_max_unavailable, 2);
        assert_string_equal(s->update_reboot_window, "Sat,Sun 22:00-02:00 UTC");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=https://u/b\n"
                              "RebootWindow=Sat 22:00\n");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=https://u/b\n"
                              "RebootCoordination=locksmith\n");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=https://u/b\n"
                              "EtcdEndpoints=ftp://e:2379\n");
        assert_rejected(IMAGE "[Update]\nRoot=r.json\nRepository=https://u/b\nMaxUnavailable=0\n");
}

static void test_bad_image_name_is_rejected(void **state) {
        assert_rejected("[Image]\nName=Upper\nVersion=1\n");
        assert_rejected("[Image]\nName=-lead\nVersion=1\n");
        assert_rejected("[Image]\nName=a_b\nVersion=1\n");
        assert_rejected("[Image]\nName=\nVersion=1\n");
}

static void test_bad_numbers_are_rejected(void **state) {
        assert_rejected(IMAGE "[Boot]\nTries=0\n");
        assert_rejected(IMAGE "[Boot]\nTries=11\n");
        assert_rejected(IMAGE "[Boot]\nTries=-1\n");
        assert_rejected(IMAGE "[Boot]\nTries=3x\n");
        assert_rejected(IMAGE "[Disk]\nSize=99999999999999999999\n");
        assert_rejected(IMAGE "[Disk]\nSize=17179869184G\n");
        assert_rejected(IMAGE "[Disk]\nSize=1T\n");
        assert_rejected(IMAGE "[Disk]\nSize=G\n");
        assert_rejected(IMAGE "[Users]\nUser=a:4294967295:0:/:/bin/sh\n");
        assert_rejected(IMAGE "[Users]\nUser=a:0:x:/:/bin/sh\n");
        assert_rejected(IMAGE "[Users]\nGroup=g:4294967295\n");
}

static void test_copy_with_dotdot_or_relative_dest_is_rejected(void **state) {
        assert_rejected(IMAGE "[Files]\nCopy=a:/etc/../../x\n");
        assert_rejected(IMAGE "[Files]\nCopy=a:/etc/..\n");
        assert_rejected(IMAGE "[Files]\nCopy=a:etc/x\n");
        assert_rejected(IMAGE "[Files]\nCopy=a:/\n");
        assert_rejected(IMAGE "[Files]\nCopy=a\n");
        assert_rejected(IMAGE "[Files]\nCopy=a:/x:0789\n");
        assert_rejected(IMAGE "[Files]\nCopy=a:/x:0644:extra\n");
}

static void test_missing_required_keys_are_rejected(void **state) {
        assert_rejected("[Image]\nVersion=1\n");
        assert_rejected("[Image]\nName=x\n");
        assert_rejected("");
}

static void test_incomplete_source_is_rejected(void **state) {
        assert_rejected(IMAGE "[Source]\nURI=http://h/d\n");
        assert_rejected(IMAGE "[Source]\nSuites=bookworm\n[Packages]\n");
        assert_rejected(IMAGE "[Source]\nURI=nonsense\nSuites=a\n");
        assert_rejected(IMAGE "[Source]\nURI=http://h/d\nSuites=a\nCheckValidUntil=maybe\n");
}

static void test_other_bad_values_are_rejected(void **state) {
        assert_rejected(IMAGE "[Image]\nFlavor=both\n");
        assert_rejected(IMAGE "[Output]\nCompression=zstd\n");
        assert_rejected(IMAGE "[Packages]\nInclude=ok Bad_Name\n");
        assert_rejected(IMAGE "[Packages]\nInclude=libssl3=\n");
        assert_rejected(IMAGE "[Packages]\nInclude=libssl3=3.0/1\n");
        assert_rejected(IMAGE "[Packages]\nExclude=libssl3=3.0.20-1\n");
        assert_rejected(IMAGE "[Files]\nRemove=relative/*\n");
        assert_rejected(IMAGE "[Users]\nUser=root:0:0:/root\n");
        assert_rejected(IMAGE "[Users]\nUser=ro ot:0:0:/root:/bin/sh\n");
        assert_rejected(IMAGE "[Users]\nUser=a:0:0:/:/bin/sh\nUser=a:1:1:/:/bin/sh\n");
        assert_rejected(IMAGE "[Users]\nGroup=g:1:root,-x\n");
        assert_rejected(IMAGE "[Sysctl]\n../../etc/passwd=1\n");
        assert_rejected(IMAGE "[Sysctl]\nKernel.X=1\n");
        assert_rejected(IMAGE "[Sysctl]\nkernel.x=\n");
        assert_rejected(IMAGE "[Alternatives]\nLink=relative:/x\n");
        assert_rejected(IMAGE "[Alternatives]\nLink=/x\n");
        assert_rejected(IMAGE "[Services]\nEnable=../evil\n");
}

static void test_empty_value_resets_accumulated_list(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        assert_int_equal(parse(IMAGE "[Kernel]\nCmdline=a\nCmdline=\nCmdline=b c\n"
                                     "[Services]\nEnable=x\nEnable=\n",
                               &s),
                         0);
        assert_string_equal(s->cmdline, "b c");
        assert_null(s->services);
}

static void test_include_pins_a_version(void **state) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        assert_int_equal(parse(IMAGE "[Packages]\nInclude=libssl3=3.0.20-1~deb12u2 less\n", &s), 0);
        assert_strv(s->include, "libssl3=3.0.20-1~deb12u2 less");
}

static void test_spec_parse_reads_a_file(void **state) {
        char dir[] = "/tmp/test-spec-XXXXXX";
        _cleanup_free_ char *path = NULL;
        ImageSpec *s = NULL;
        const char *t = IMAGE;

        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "a.conf");
        assert_non_null(path);
        assert_int_equal(write_file_atomic(path, t, strlen(t), 0644), 0);
        assert_int_equal(spec_parse(path, &s), 0);
        assert_string_equal(s->dir, dir);
        spec_free(s);
        (void) rm_rf(dir);
        assert_int_equal(spec_parse("/nonexistent/berth.conf", &s), -ENOENT);
}

static void test_default_image_spec_parses(void **state) {
        const char *root = getenv("BERTH_SOURCE_ROOT");
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        _cleanup_free_ char *path = NULL;

        if (!root)
                skip_test("BERTH_SOURCE_ROOT is not set (run through meson)");
        path = path_join(root, "images/container-host.conf");
        assert_non_null(path);
        assert_int_equal(spec_parse(path, &s), 0);
        assert_string_equal(s->name, "container-host");
        assert_int_equal(s->flavor, FLAVOR_IMMUTABLE);
        assert_int_equal(s->n_sources, 0);
        assert_true(strv_contains(s->include, "containerd"));
        assert_true(strv_contains(s->include, "libfdisk1"));
        assert_false(strv_contains(s->include, "libkmod2"));
        assert_true(strv_contains(s->exclude, "perl-base"));
        assert_true(strv_contains(s->modules, "dm-verity"));
        assert_true(strv_contains(s->services, "containerd"));
        assert_non_null(strstr(s->cmdline, "cgroup_no_v1=all"));
        assert_string_equal(s->compression, "lz4hc");
}

/* Writes text to DIR/NAME (parents created). */
static void put(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        assert_non_null(p);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

/* spec_parse(DIR/NAME); *ret_message gets the error message (or ""). */
static int parse_file(const char *dir, const char *name, ImageSpec **ret, char **ret_message) {
        _cleanup_free_ char *p = path_join(dir, name);
        assert_non_null(p);
        error_clear();
        int r = spec_parse(p, ret);
        *ret_message = strdup(r < 0 ? error_message(r) : "");
        assert_non_null(*ret_message);
        return r;
}

static void test_include_reads_the_other_spec_in_place(void **state) {
        char dir[] = "/tmp/test-spec-XXXXXX";
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        _cleanup_free_ char *log = NULL, *copy = NULL;

        assert_non_null(mkdtemp(dir));
        put(dir, "base.conf",
            IMAGE "Description=base\n[Packages]\nInclude=a1\n[Files]\nCopy=files/x:/etc/x\n"
                  "[Source]\nURI=http://h/d\nSuites=s\n");
        /* Relative to the including file; later keys override and add up. */
        put(dir, "sub/top.conf",
            "[Spec]\nInclude=../base.conf\n[Image]\nName=top\n[Packages]\nInclude=b2\n"
            "[Test]\nPayload=yes\n");
        assert_int_equal(parse_file(dir, "sub/top.conf", &s, &log), 0);
        assert_string_equal(s->name, "top");
        assert_string_equal(s->version, "1");
        assert_string_equal(s->description, "base");
        assert_true(strv_contains(s->include, "a1") && strv_contains(s->include, "b2"));
        assert_int_equal(s->n_sources, 1);
        assert_true(s->test_payload);
        /* Copy= sources stay relative to the file that names them. */
        copy = path_join(dir, "files/x");
        assert_string_equal(s->copies[0].source, copy);
        (void) rm_rf(dir);
}

static void test_include_errors_name_file_and_line(void **state) {
        char dir[] = "/tmp/test-spec-XXXXXX";
        ImageSpec *s = NULL;

        assert_non_null(mkdtemp(dir));
        put(dir, "a.conf", IMAGE "[Spec]\nInclude=b.conf\n");
        put(dir, "b.conf", "# b\n[Spec]\nInclude=a.conf\n");
        put(dir, "self.conf", IMAGE "[Spec]\nInclude=./self.conf\n");
        put(dir, "missing.conf", IMAGE "[Spec]\nInclude=nothere.conf\n");
        put(dir, "bad.conf", "[Spec]\nInclude=inner.conf\n");
        put(dir, "inner.conf", IMAGE "[Boot]\nTries=99\n");
        put(dir, "dir.conf", "[Spec]\nInclude=/tmp\n");
        put(dir, "kmsg.conf", "[Spec]\nInclude=/proc/kmsg\n");
        for (int i = 0; i < 10; i++) {
                char name[16], text[64];
                snprintf(name, sizeof name, "d%d.conf", i);
                snprintf(text, sizeof text, "[Spec]\nInclude=d%d.conf\n", i + 1);
                put(dir, name, text);
        }
        put(dir, "d10.conf", IMAGE);

        static const struct {
                const char *file, *message;
        } cases[] = {
                { "a.conf", "b.conf:3: Spec.Include: include cycle: " },
                { "self.conf", "self.conf:5: Spec.Include: include cycle: " },
                { "missing.conf", "missing.conf:5: Spec.Include: cannot read " },
                { "bad.conf", "inner.conf:5: Boot.Tries: '99' is not a number from 1 to 10" },
                { "dir.conf", "dir.conf:2: Spec.Include: /tmp is not a regular file" },
                { "kmsg.conf", "kmsg.conf:2: Spec.Include: /proc/kmsg is not a regular file" },
                { "d0.conf", "d8.conf:2: Spec.Include: includes nest deeper than 8 files" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *log = NULL;
                int r = parse_file(dir, cases[i].file, &s, &log);
                if (r != -EBADMSG || !strstr(log, cases[i].message))
                        fail_msg("%s: got %d and message:\n%s\nexpected: %s", cases[i].file, r, log,
                                 cases[i].message);
                assert_null(s);
                /* One line, no strerror suffix. */
                assert_null(strchr(log, '\n'));
                assert_null(strstr(log, "Bad message"));
        }
        (void) rm_rf(dir);
}

static bool same_words(char **a, char **b) {
        if (strv_length(a) != strv_length(b))
                return false;
        for (size_t i = 0; a && a[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static void test_test_spec_and_faults_spec_include_the_default(void **state) {
        const char *root = getenv("BERTH_SOURCE_ROOT");
        _cleanup_(spec_freep) ImageSpec *def = NULL, *test = NULL, *faults = NULL;
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *p3 = NULL;

        if (!root)
                skip();
        p1 = path_join(root, "images/container-host.conf");
        p2 = path_join(root, "images/test.conf");
        p3 = path_join(root, "tests/vm/faults.conf");
        assert_int_equal(spec_parse(p1, &def), 0);
        assert_int_equal(spec_parse(p2, &test), 0);
        assert_int_equal(spec_parse(p3, &faults), 0);
        /* Production has no payload hook; the test images have it. */
        assert_false(def->test_payload);
        assert_true(test->test_payload);
        assert_true(faults->test_payload);
        assert_string_equal(test->name, "container-host-test");
        assert_string_equal(faults->name, "container-host-faults");
        /* Everything else comes from the default spec, the update agent and
         * its library included (no libcurl: berth's own HTTP client). */
        assert_int_equal(strv_length(test->include), strv_length(def->include));
        STRV_FOREACH(i, def->include)
                assert_true(strv_contains(test->include, *i));
        assert_true(strv_contains(def->include, "libjansson4"));
        assert_false(strv_contains(def->include, "libcurl4"));
        assert_true(strv_contains(def->services, "update"));
        assert_true(strv_contains(test->services, "update"));
        assert_true(same_words(def->remove, faults->remove));
        assert_string_equal(def->cmdline, faults->cmdline);
        assert_true(strv_contains(faults->services, "containerd"));
        assert_true(strv_contains(faults->services, "test-crash"));
        assert_false(strv_contains(def->services, "test-crash"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_spec_fills_every_field),
                cmocka_unit_test(test_minimal_spec_gets_defaults),
                cmocka_unit_test(test_flavor_strings_round_trip),
                cmocka_unit_test(test_unknown_section_is_rejected),
                cmocka_unit_test(test_update_section),
                cmocka_unit_test(test_update_reboot_coordination),
                cmocka_unit_test(test_unknown_key_is_rejected),
                cmocka_unit_test(test_bad_image_name_is_rejected),
                cmocka_unit_test(test_bad_numbers_are_rejected),
                cmocka_unit_test(test_copy_with_dotdot_or_relative_dest_is_rejected),
                cmocka_unit_test(test_missing_required_keys_are_rejected),
                cmocka_unit_test(test_incomplete_source_is_rejected),
                cmocka_unit_test(test_other_bad_values_are_rejected),
                cmocka_unit_test(test_empty_value_resets_accumulated_list),
                cmocka_unit_test(test_include_pins_a_version),
                cmocka_unit_test(test_spec_parse_reads_a_file),
                cmocka_unit_test(test_default_image_spec_parses),
                cmocka_unit_test(test_include_reads_the_other_spec_in_place),
                cmocka_unit_test(test_include_errors_name_file_and_line),
                cmocka_unit_test(test_test_spec_and_faults_spec_include_the_default),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
