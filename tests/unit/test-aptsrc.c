/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aptsrc.h"
#include "fileio.h"
#include "strv.h"

static char *make_root(void) {
        char tmpl[] = "/tmp/berth-aptsrc-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        return strdup(tmpl);
}

static void put(const char *root, const char *rel, const char *text) {
        _cleanup_free_ char *p = path_join(root, rel);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static const SpecSource *find_uri(const AptConfig *c, const char *uri) {
        for (size_t i = 0; i < c->n_sources; i++)
                if (streq(c->sources[i].uri, uri))
                        return &c->sources[i];
        return NULL;
}

static void test_one_line_format_with_options(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL;

        put(root, "etc/apt/sources.list",
            "# a comment\n"
            "deb [signed-by=/usr/share/keyrings/a.gpg arch=amd64] http://mirror.invalid/debian/ "
            "bookworm main contrib\n"
            "deb-src http://mirror.invalid/debian bookworm main\n"
            "\n"
            "deb http://other.invalid/x stable main # trailing comment\n"
            "deb [arch=arm64] http://arm.invalid/debian bookworm main\n"
            "deb [enabled=no] http://off.invalid/debian bookworm main\n");

        assert_int_equal(apt_config_load_for_arch(root, "amd64", &c), 0);
        assert_int_equal(c->n_sources, 2);
        const SpecSource *s = find_uri(c, "http://mirror.invalid/debian");
        assert_non_null(s);
        assert_string_equal(s->signed_by, "/usr/share/keyrings/a.gpg");
        assert_int_equal(strv_length(s->suites), 1);
        assert_string_equal(s->suites[0], "bookworm");
        assert_int_equal(strv_length(s->components), 2);
        assert_string_equal(s->components[1], "contrib");
        s = find_uri(c, "http://other.invalid/x");
        assert_non_null(s);
        assert_null(s->signed_by);
        assert_null(find_uri(c, "http://arm.invalid/debian"));
        assert_null(find_uri(c, "http://off.invalid/debian"));
        assert_true(c->check_valid_until);
        assert_int_equal(rm_rf(root), 0);
}

static void test_deb822_stanzas_and_disabled(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL;

        put(root, "etc/apt/sources.list.d/debian.sources",
            "Types: deb\n"
            "# http://snapshot.invalid/archive/debian/20250520T000000Z\n"
            "URIs: http://mirror.invalid/debian\n"
            "Suites: bookworm bookworm-updates\n"
            "Components: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            "\n"
            "Types: deb deb-src\n"
            "URIs: http://mirror.invalid/debian-security\n"
            "Suites: bookworm-security\n"
            "Components: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            "\n"
            "\n"
            "Types: deb-src\n"
            "URIs: http://src.invalid/debian\n"
            "Suites: bookworm\n"
            "Components: main\n"
            "\n"
            "Types: deb\n"
            "URIs: http://disabled.invalid/debian\n"
            "Suites: bookworm\n"
            "Components: main\n"
            "Enabled: no\n");
        /* apt ignores other names: these must not be read. */
        put(root, "etc/apt/sources.list.d/google.list.disabled-by-farm",
            "deb http://ignored.invalid/apt stable main\n");
        put(root, "etc/apt/sources.list.d/node.sources.disabled-by-farm",
            "Types: deb\nURIs: http://ignored2.invalid/x\nSuites: a\nComponents: main\n");
        put(root, "etc/apt/sources.list.d/extra.list", "deb http://extra.invalid/d sid main\n");

        assert_int_equal(apt_config_load(root, &c), 0);
        assert_int_equal(c->n_sources, 3);
        const SpecSource *s = find_uri(c, "http://mirror.invalid/debian");
        assert_non_null(s);
        assert_int_equal(strv_length(s->suites), 2);
        assert_string_equal(s->suites[1], "bookworm-updates");
        assert_string_equal(s->signed_by, "/usr/share/keyrings/debian-archive-keyring.gpg");
        assert_non_null(find_uri(c, "http://mirror.invalid/debian-security"));
        assert_non_null(find_uri(c, "http://extra.invalid/d"));
        assert_null(find_uri(c, "http://src.invalid/debian"));
        assert_null(find_uri(c, "http://disabled.invalid/debian"));
        assert_null(find_uri(c, "http://ignored.invalid/apt"));
        assert_null(find_uri(c, "http://ignored2.invalid/x"));
        assert_int_equal(rm_rf(root), 0);
}

static void test_deb822_architectures_filter(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL;

        put(root, "etc/apt/sources.list.d/a.sources",
            "Types: deb\nURIs: http://a.invalid/x\nSuites: s\nComponents: main\nArchitectures: "
            "arm64\n\n"
            "Types: deb\nURIs: http://b.invalid/x\nSuites: s\nComponents: main\nArchitectures: "
            "amd64 i386\n");
        assert_int_equal(apt_config_load_for_arch(root, "amd64", &c), 0);
        assert_int_equal(c->n_sources, 1);
        assert_string_equal(c->sources[0].uri, "http://b.invalid/x");
        assert_int_equal(rm_rf(root), 0);
}

static void test_inline_key_rejected(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL;

        put(root, "etc/apt/sources.list.d/inline.sources",
            "Types: deb\nURIs: http://a.invalid/x\nSuites: s\nComponents: main\n"
            "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abcdef\n -----END PGP PUBLIC "
            "KEY BLOCK-----\n");
        assert_int_equal(apt_config_load(root, &c), -EOPNOTSUPP);
        assert_null(c);
        assert_int_equal(rm_rf(root), 0);
}

static void test_check_valid_until_flat(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL;

        put(root, "etc/apt/apt.conf.d/99artifact-registry",
            "Acquire::Check-Valid-Until \"false\";\nAcquire::Check-Date \"false\";\n");
        assert_int_equal(apt_config_load(root, &c), 0);
        assert_false(c->check_valid_until);
        assert_int_equal(c->n_sources, 0);
        assert_int_equal(rm_rf(root), 0);
}

static void test_check_valid_until_nested_and_order(void **state) {
        _cleanup_free_ char *root = make_root();
        _cleanup_(apt_config_freep) AptConfig *c = NULL, *c2 = NULL;

        put(root, "etc/apt/apt.conf.d/10nested",
            "// a comment\n/* block\n comment */\n"
            "APT { Install-Recommends \"false\"; Never-MarkAuto-Sections { \"metapackages\"; "
            "\"x\"; }; };\n"
            "acquire {\n  http { Proxy \"http://p.invalid:3128/\"; };\n  Check-Valid-Until "
            "\"false\";\n};\n");
        /* A backup file apt would skip must not switch it back on. */
        put(root, "etc/apt/apt.conf.d/20on.bak", "Acquire::Check-Valid-Until \"true\";\n");
        assert_int_equal(apt_config_load(root, &c), 0);
        assert_false(c->check_valid_until);

        /* Later parts win; apt.conf itself comes last. */
        put(root, "etc/apt/apt.conf", "Acquire::Check-Valid-Until \"true\";\n");
        assert_int_equal(apt_config_load(root, &c2), 0);
        assert_true(c2->check_valid_until);
        assert_int_equal(rm_rf(root), 0);
}

static void test_host_configuration_loads(void **state) {
        _cleanup_(apt_config_freep) AptConfig *c = NULL;
        if (access("/etc/apt", F_OK) < 0)
                skip_test("the host has no /etc/apt");
        assert_int_equal(apt_config_load_for_arch("/", "amd64", &c), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_line_format_with_options),
                cmocka_unit_test(test_deb822_stanzas_and_disabled),
                cmocka_unit_test(test_deb822_architectures_filter),
                cmocka_unit_test(test_inline_key_rejected),
                cmocka_unit_test(test_check_valid_until_flat),
                cmocka_unit_test(test_check_valid_until_nested_and_order),
                cmocka_unit_test(test_host_configuration_loads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
