/* SPDX-License-Identifier: MIT */
/* Resolution against the generated repository (tests/fixtures/mkrepo.sh),
 * read through file:// URLs: signature, indexes, closure, exclusions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "digest.h"
#include "fetch.h"
#include "fileio.h"
#include "repo.h"
#include "solve.h"
#include "strv.h"

typedef struct Fixture {
        char *dir; /* the generated repository */
        char *cache;
        RepoSet *repos;
} Fixture;

static int setup(void **state) {
        const char *srcroot = getenv("BERTH_SOURCE_ROOT");
        char tmpl[] = "/tmp/berth-solve-XXXXXX";
        Fixture *f;

        if (!srcroot || access("/usr/bin/apt-ftparchive", X_OK) < 0 ||
            access("/usr/bin/gpgv", X_OK) < 0)
                return -1;
        f = calloc(1, sizeof *f);
        assert_non_null(mkdtemp(tmpl));
        f->dir = path_join(tmpl, "repo");
        f->cache = path_join(tmpl, "cache");
        _cleanup_free_ char *cmd =
                strdup_printf("%s/tests/fixtures/mkrepo.sh %s >/dev/null", srcroot, f->dir);
        if (system(cmd) != 0)
                return -1;

        _cleanup_free_ char *uri = strdup_printf("file://%s", f->dir);
        _cleanup_free_ char *keyring = path_join(f->dir, "keyring.gpg");
        char *suites[] = { (char *) "stable", (char *) "updates", NULL };
        char *comps[] = { (char *) "main", NULL };
        SpecSource src = {
                .uri = uri, .suites = suites, .components = comps, .signed_by = keyring
        };
        if (repo_set_load(&src, 1, "amd64", true, f->cache, &f->repos) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        if (!f)
                return 0;
        repo_set_free(f->repos);
        _cleanup_free_ char *top = strdup(f->dir);
        *strrchr(top, '/') = 0;
        (void) rm_rf(top);
        free(f->dir);
        free(f->cache);
        free(f);
        return 0;
}

static const Package *find(const PackageList *l, const char *name) {
        return package_list_find(l, name);
}

static void test_repo_set_has_both_suites(void **state) {
        Fixture *f = *state;
        assert_int_equal(f->repos->n, 2);
        assert_string_equal(f->repos->indexes[0].suite, "stable");
        assert_string_equal(f->repos->indexes[1].suite, "updates");
        assert_string_equal(f->repos->indexes[0].origin, "BerthTest");
        assert_int_equal(access(f->repos->indexes[0].packages_path, R_OK), 0);
}

static void test_closure_alternatives_predepends_virtual(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-app", NULL };
        char *exclude[] = { NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, exclude, &l), 0);
        /* app, lib (first alternative), base (Pre-Depends of lib), conf, provider (virtual),
         * debconf (not excluded here). */
        assert_int_equal(l->n, 6);
        for (size_t i = 1; i < l->n; i++)
                assert_true(strcmp(l->packages[i - 1].name, l->packages[i].name) < 0);
        assert_non_null(find(l, "berth-test-app"));
        assert_non_null(find(l, "berth-test-lib"));
        assert_non_null(find(l, "berth-test-base"));
        assert_non_null(find(l, "berth-test-conf"));
        assert_non_null(find(l, "berth-test-provider"));
        assert_non_null(find(l, "debconf"));
        /* The second alternative and Recommends stay out; so does Priority: required. */
        assert_null(find(l, "berth-test-alt"));
        assert_null(find(l, "berth-test-required"));

        assert_string_equal(find(l, "berth-test-app")->wanted_by, "spec");
        assert_string_equal(find(l, "berth-test-lib")->wanted_by, "berth-test-app");
        assert_string_equal(find(l, "berth-test-base")->wanted_by, "berth-test-lib");
        assert_string_equal(find(l, "berth-test-provider")->wanted_by, "berth-test-app");
        assert_string_equal(find(l, "debconf")->wanted_by, "berth-test-conf");
}

static void test_newest_version_wins_across_suites(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-lib", (char *) "berth-test-multi", NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), 0);
        const Package *lib = find(l, "berth-test-lib");
        assert_non_null(lib);
        assert_string_equal(lib->version, "1.2");
        assert_non_null(strstr(lib->url, "/pool/updates/berth-test-lib_1.2_amd64.deb"));
        assert_string_equal(find(l, "berth-test-multi")->version, "1.1");
}

static void test_package_fields(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-lib", NULL };
        char hex[SHA256_HEX_SIZE];

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), 0);
        const Package *p = find(l, "berth-test-lib");
        assert_string_equal(p->architecture, "amd64");
        assert_string_equal(p->source, "berth-test-src");
        assert_string_equal(p->source_version, "0.9");
        assert_string_equal(p->priority, "optional");
        assert_string_equal(p->section, "misc");
        assert_string_equal(p->origin, "BerthTest");
        assert_string_equal(p->filename, "berth-test-lib_1.2_amd64.deb");
        assert_true(p->installed_size > 0);

        _cleanup_free_ char *deb = strdup_printf("%s/pool/updates/%s", f->dir, p->filename);
        assert_int_equal(sha256_file_hex(deb, hex), 0);
        assert_string_equal(p->sha256, hex);
        struct stat st;
        assert_int_equal(stat(deb, &st), 0);
        assert_int_equal(p->size, (uint64_t) st.st_size);
        _cleanup_free_ char *url = strdup_printf("file://%s/pool/updates/%s", f->dir, p->filename);
        assert_string_equal(p->url, url);
}

static void test_excluded_debconf_not_installed_dependents_are(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-app", (char *) "berth-test-conf2", NULL };
        char *exclude[] = { (char *) "debconf", (char *) "perl-base", NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, exclude, &l), 0);
        assert_null(find(l, "debconf"));
        /* debconf (>= 0.5) | debconf-2.0 and a bare debconf-2.0 both count as met. */
        assert_non_null(find(l, "berth-test-conf"));
        assert_non_null(find(l, "berth-test-conf2"));
        assert_non_null(find(l, "berth-test-app"));
        assert_int_equal(l->n, 6);
}

static void test_required_priority_not_pulled(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-base", NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), 0);
        assert_int_equal(l->n, 1);
        assert_string_equal(l->packages[0].name, "berth-test-base");
}

static void test_missing_package_is_an_error(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-app", (char *) "no-such-package", NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), -ENOENT);
        assert_null(l);
}

static void test_unsatisfiable_dependency_is_an_error(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-broken", NULL };

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), -ENOPKG);
        assert_null(l);
}

static void test_lookup_newest_without_deps(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *names[] = { (char *) "berth-test-app", (char *) "berth-test-multi", NULL };
        char *missing[] = { (char *) "nope", NULL };

        assert_int_equal(solve_lookup(f->repos, "amd64", names, &l), 0);
        assert_int_equal(l->n, 2);
        assert_string_equal(find(l, "berth-test-multi")->version, "1.1");
        assert_null(find(l, "berth-test-lib"));
        package_list_free(l);
        l = NULL;
        assert_int_equal(solve_lookup(f->repos, "amd64", missing, &l), -ENOENT);
}

static void test_fetch_packages_and_refetch_corrupt(void **state) {
        Fixture *f = *state;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        char *include[] = { (char *) "berth-test-app", NULL };
        char hex[SHA256_HEX_SIZE];

        assert_int_equal(solve_packages(f->repos, "amd64", include, NULL, &l), 0);
        assert_int_equal(package_list_fetch(l, f->cache, 2), 0);
        for (size_t i = 0; i < l->n; i++) {
                assert_non_null(l->packages[i].local_path);
                assert_int_equal(sha256_file_hex(l->packages[i].local_path, hex), 0);
                assert_string_equal(hex, l->packages[i].sha256);
        }
        /* A cached file with the wrong content is never used: fetched again. */
        const Package *p = find(l, "berth-test-lib");
        assert_int_equal(write_file_atomic(p->local_path, "garbage", 7, 0644), 0);
        assert_int_equal(package_list_fetch(l, f->cache, 2), 0);
        assert_int_equal(sha256_file_hex(p->local_path, hex), 0);
        assert_string_equal(hex, p->sha256);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_repo_set_has_both_suites),
                cmocka_unit_test(test_closure_alternatives_predepends_virtual),
                cmocka_unit_test(test_newest_version_wins_across_suites),
                cmocka_unit_test(test_package_fields),
                cmocka_unit_test(test_excluded_debconf_not_installed_dependents_are),
                cmocka_unit_test(test_required_priority_not_pulled),
                cmocka_unit_test(test_missing_package_is_an_error),
                cmocka_unit_test(test_unsatisfiable_dependency_is_an_error),
                cmocka_unit_test(test_lookup_newest_without_deps),
                cmocka_unit_test(test_fetch_packages_and_refetch_corrupt),
        };
        if (!getenv("BERTH_SOURCE_ROOT") || access("/usr/bin/apt-ftparchive", X_OK) < 0 ||
            access("/usr/bin/gpgv", X_OK) < 0 || access("/usr/bin/dpkg-deb", X_OK) < 0)
                return 77;
        return cmocka_run_group_tests(tests, setup, teardown);
}
