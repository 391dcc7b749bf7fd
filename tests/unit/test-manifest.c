/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "manifest.h"

#define ROOT_HASH "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef"

static char dir[] = "/tmp/berth-test-manifest-XXXXXX";

static void add(PackageList *l, const char *name, const char *version, const char *arch,
                const char *source, char digit) {
        Package *p = package_list_add(l);
        assert_non_null(p);
        p->name = strdup(name);
        p->version = strdup(version);
        p->architecture = strdup(arch);
        p->source = source ? strdup(source) : NULL;
        p->url = strdup_printf("http://deb.example.invalid/debian/pool/main/%s.deb", name);
        p->origin = strdup("Debian");
        memset(p->sha256, digit, 64);
        p->sha256[64] = 0;
        p->size = 1000;
        p->installed_size = 42;
}

typedef struct Fixture {
        PackageList *pkgs;
        Artifact arts[2];
        char *disk, *usr;
        ManifestInfo info;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        if (!f || !mkdtemp(dir))
                return -1;
        f->pkgs = calloc(1, sizeof(PackageList));
        /* Out of order on purpose; a multiarch pair; an epoch and a '+'. */
        add(f->pkgs, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", 'a');
        add(f->pkgs, "libc6", "2.36-9+deb12u4", "amd64", "glibc", 'b');
        add(f->pkgs, "libc6", "2.36-9+deb12u4", "i386", "glibc", 'c');
        add(f->pkgs, "busybox", "1:1.35.0-4+b3", "amd64", NULL, 'd');
        f->disk = path_join(dir, "disk.raw");
        f->usr = path_join(dir, "usr.erofs");
        if (write_file_atomic(f->disk, "disk", 4, 0644) < 0 ||
            write_file_atomic(f->usr, "usr!!", 5, 0644) < 0)
                return -1;
        f->arts[0] = (Artifact){ "usr.erofs", f->usr };
        f->arts[1] = (Artifact){ "disk.raw", f->disk };
        f->info = (ManifestInfo){
                .name = "container-host",
                .version = "1.0.0",
                .architecture = "amd64",
                .flavor = "immutable",
                .packages = f->pkgs,
                .root_hash = ROOT_HASH,
                .kernel_version = "6.1.0-18-amd64",
                .cmdline = "usrhash=" ROOT_HASH " berth.slot=a",
                .usr_tree_bytes = 123456789,
                .artifacts = f->arts,
                .n_artifacts = 2,
                .source_date_epoch = 1700000000,
        };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        package_list_free(f->pkgs);
        free(f->disk);
        free(f->usr);
        free(f);
        return rm_rf(dir) < 0 ? -1 : 0;
}

static json_t *load(const char *path) {
        json_error_t err;
        json_t *j = json_load_file(path, 0, &err);
        if (!j)
                fail_msg("%s:%d: %s", path, err.line, err.text);
        return j;
}

static void test_manifest_has_fields_sorted_packages_and_artifact_sums(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *p = path_join(dir, "manifest.json");
        char sum[SHA256_HEX_SIZE];

        assert_int_equal(manifest_write(&f->info, p), 0);
        _cleanup_(json_decrefp) json_t *j = load(p);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "container-host");
        assert_string_equal(json_string_value(json_object_get(j, "version")), "1.0.0");
        assert_string_equal(json_string_value(json_object_get(j, "flavor")), "immutable");
        assert_string_equal(json_string_value(json_object_get(j, "architecture")), "amd64");
        assert_string_equal(json_string_value(json_object_get(j, "root_hash")), ROOT_HASH);
        assert_string_equal(json_string_value(json_object_get(j, "kernel_version")),
                            "6.1.0-18-amd64");
        assert_int_equal(json_integer_value(json_object_get(j, "source_date_epoch")), 1700000000);
        assert_int_equal(json_integer_value(json_object_get(j, "usr_tree_bytes")), 123456789);
        assert_int_equal(json_integer_value(json_object_get(j, "package_count")), 4);

        json_t *pk = json_object_get(j, "packages");
        assert_int_equal(json_array_size(pk), 4);
        const char *order[] = { "busybox", "libc6", "libc6", "zlib1g" };
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(
                        json_string_value(json_object_get(json_array_get(pk, i), "name")),
                        order[i]);
        json_t *z = json_array_get(pk, 3);
        assert_string_equal(json_string_value(json_object_get(z, "version")), "1:1.2.13.dfsg-1");
        assert_string_equal(json_string_value(json_object_get(z, "source")), "zlib");
        assert_int_equal(json_integer_value(json_object_get(z, "installed_size_kib")), 42);
        assert_int_equal(json_integer_value(json_object_get(z, "size")), 1000);
        assert_int_equal(strlen(json_string_value(json_object_get(z, "sha256"))), 64);
        /* No Source: the package is its own source. */
        assert_string_equal(json_string_value(json_object_get(json_array_get(pk, 0), "source")),
                            "busybox");

        json_t *ar = json_object_get(j, "artifacts");
        assert_int_equal(json_array_size(ar), 2);
        json_t *a0 = json_array_get(ar, 0);
        assert_string_equal(json_string_value(json_object_get(a0, "name")), "disk.raw");
        assert_int_equal(json_integer_value(json_object_get(a0, "size")), 4);
        assert_int_equal(sha256_buffer_hex("disk", 4, sum), 0);
        assert_string_equal(json_string_value(json_object_get(a0, "sha256")), sum);
}

static void test_outputs_are_deterministic(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *m1 = path_join(dir, "m1"), *m2 = path_join(dir, "m2"),
                            *s1 = path_join(dir, "s1"), *s2 = path_join(dir, "s2");
        _cleanup_free_ char *d1 = NULL, *d2 = NULL, *e1 = NULL, *e2 = NULL;

        assert_int_equal(manifest_write(&f->info, m1), 0);
        assert_int_equal(sbom_write(&f->info, s1), 0);
        /* The input order of packages does not matter. */
        package_list_sort(f->pkgs);
        assert_int_equal(manifest_write(&f->info, m2), 0);
        assert_int_equal(sbom_write(&f->info, s2), 0);
        assert_int_equal(read_full_file(m1, &d1, NULL, 0), 0);
        assert_int_equal(read_full_file(m2, &d2, NULL, 0), 0);
        assert_string_equal(d1, d2);
        assert_int_equal(read_full_file(s1, &e1, NULL, 0), 0);
        assert_int_equal(read_full_file(s2, &e2, NULL, 0), 0);
        assert_string_equal(e1, e2);
}

static json_t *find_spdx(json_t *pkgs, const char *id) {
        size_t i;
        json_t *p;
        json_array_foreach(pkgs, i, p) if (streq(json_string_value(json_object_get(p, "SPDXID")),
                                                 id)) return p;
        return NULL;
}

static void test_sbom_is_spdx_2_3_with_purls_and_relationships(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *p = path_join(dir, "sbom.spdx.json");
        char sum[SHA256_HEX_SIZE];
        size_t i;
        json_t *v;

        assert_int_equal(sbom_write(&f->info, p), 0);
        _cleanup_(json_decrefp) json_t *j = load(p);
        assert_string_equal(json_string_value(json_object_get(j, "spdxVersion")), "SPDX-2.3");
        assert_string_equal(json_string_value(json_object_get(j, "dataLicense")), "CC0-1.0");
        assert_string_equal(json_string_value(json_object_get(j, "SPDXID")), "SPDXRef-DOCUMENT");
        assert_string_equal(json_string_value(json_object_get(j, "name")), "container-host-1.0.0");
        assert_string_equal(json_string_value(json_object_get(j, "documentNamespace")),
                            "https://berth.invalid/spdx/container-host-1.0.0-" ROOT_HASH);
        json_t *ci = json_object_get(j, "creationInfo");
        assert_string_equal(json_string_value(json_object_get(ci, "created")),
                            "2023-11-14T22:13:20Z");
        assert_string_equal(json_string_value(json_array_get(json_object_get(ci, "creators"), 0)),
                            "Tool: berth-" BERTH_VERSION);

        json_t *pkgs = json_object_get(j, "packages");
        assert_int_equal(json_array_size(pkgs), 5);
        /* Every package has the fields SPDX 2.3 requires. */
        json_array_foreach(pkgs, i, v) {
                const char *req[] = { "SPDXID", "name", "downloadLocation", "versionInfo" };
                for (size_t k = 0; k < ELEMENTSOF(req); k++)
                        assert_true(json_is_string(json_object_get(v, req[k])));
                assert_true(json_is_false(json_object_get(v, "filesAnalyzed")));
                const char *id = json_string_value(json_object_get(v, "SPDXID"));
                assert_int_equal(
                        strspn(id,
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"),
                        strlen(id));
        }
        json_t *img = find_spdx(pkgs, "SPDXRef-Image");
        assert_non_null(img);
        assert_int_equal(sha256_buffer_hex("disk", 4, sum), 0);
        json_t *c = json_array_get(json_object_get(img, "checksums"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "algorithm")), "SHA256");
        assert_string_equal(json_string_value(json_object_get(c, "checksumValue")), sum);

        json_t *z = find_spdx(pkgs, "SPDXRef-Package-zlib1g");
        assert_non_null(z);
        assert_string_equal(json_string_value(json_object_get(z, "supplier")),
                            "Organization: Debian");
        assert_string_equal(json_string_value(json_object_get(z, "downloadLocation")),
                            "http://deb.example.invalid/debian/pool/main/zlib1g.deb");
        json_t *ref = json_array_get(json_object_get(z, "externalRefs"), 0);
        assert_string_equal(json_string_value(json_object_get(ref, "referenceCategory")),
                            "PACKAGE-MANAGER");
        assert_string_equal(json_string_value(json_object_get(ref, "referenceType")), "purl");
        assert_string_equal(json_string_value(json_object_get(ref, "referenceLocator")),
                            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64");
        /* The multiarch pair gets distinct ids. */
        assert_non_null(find_spdx(pkgs, "SPDXRef-Package-libc6-amd64"));
        assert_non_null(find_spdx(pkgs, "SPDXRef-Package-libc6-i386"));

        json_t *rels = json_object_get(j, "relationships");
        assert_int_equal(json_array_size(rels), 5);
        bool describes = false;
        size_t contains = 0;
        json_array_foreach(rels, i, v) {
                const char *t = json_string_value(json_object_get(v, "relationshipType"));
                const char *a = json_string_value(json_object_get(v, "spdxElementId"));
                const char *b = json_string_value(json_object_get(v, "relatedSpdxElement"));
                if (streq(t, "DESCRIBES") && streq(a, "SPDXRef-DOCUMENT") &&
                    streq(b, "SPDXRef-Image"))
                        describes = true;
                if (streq(t, "CONTAINS") && streq(a, "SPDXRef-Image")) {
                        assert_non_null(find_spdx(pkgs, b));
                        contains++;
                }
        }
        assert_true(describes);
        assert_int_equal(contains, 4);
}

static void test_missing_artifact_is_an_error_and_writes_nothing(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *p = path_join(dir, "bad.json");
        Artifact a = { "gone", "/nonexistent/gone" };
        ManifestInfo m = f->info;

        m.artifacts = &a;
        m.n_artifacts = 1;
        assert_int_equal(manifest_write(&m, p), -ENOENT);
        assert_int_equal(sbom_write(&m, p), -ENOENT);
        assert_int_equal(access(p, F_OK), -1);
}

static void test_reader_round_trips_what_the_writer_wrote(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *p = path_join(dir, "rt.json"), *msg = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;

        assert_int_equal(manifest_write(&f->info, p), 0);
        assert_int_equal(manifest_read(p, &m, &msg), 0);
        assert_null(msg);
        assert_string_equal(m->name, "container-host");
        assert_string_equal(m->version, "1.0.0");
        assert_string_equal(m->flavor, "immutable");
        assert_string_equal(m->architecture, "amd64");
        assert_string_equal(m->root_hash, ROOT_HASH);
        assert_string_equal(m->kernel_version, "6.1.0-18-amd64");
        assert_int_equal(m->source_date_epoch, 1700000000);
        assert_int_equal(m->usr_tree_bytes, 123456789);
        assert_int_equal(m->n_artifacts, 2);
        const ManifestArtifact *a = manifest_find_artifact(m, "usr.erofs");
        assert_non_null(a);
        assert_int_equal(a->size, 5);
        char want[SHA256_HEX_SIZE];
        assert_int_equal(sha256_file_hex(f->usr, want), 0);
        assert_string_equal(a->sha256, want);
        assert_null(manifest_find_artifact(m, "nope"));
        assert_int_equal(m->packages.n, 4);
        assert_non_null(package_list_find(&m->packages, "zlib1g"));
}

static void expect_rejected(const char *json, const char *msg_part) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *msg = NULL;
        assert_int_equal(manifest_parse(json, strlen(json), &m, &msg), -EBADMSG);
        assert_null(m);
        assert_non_null(msg);
        if (!strstr(msg, msg_part))
                fail_msg("message '%s' lacks '%s'", msg, msg_part);
}

#define GOOD_HEAD "{\"name\":\"h\",\"version\":\"1\",\"architecture\":\"amd64\","
#define SUM "\"0000000000000000000000000000000000000000000000000000000000000000\""

static void test_reader_names_the_bad_field(void **state) {
        expect_rejected("[]", "expected an object");
        expect_rejected("{", "line 1");
        expect_rejected("{\"version\":\"1\"}", "name: missing");
        expect_rejected(GOOD_HEAD "\"artifacts\":{}}", "artifacts: expected an array");
        expect_rejected(GOOD_HEAD "\"artifacts\":[{\"name\":\"../x\",\"size\":1,\"sha256\":" SUM
                                  "}],\"packages\":[]}",
                        "artifacts[0].name: expected a plain file name");
        expect_rejected(GOOD_HEAD
                        "\"artifacts\":[],\"packages\":[{\"name\":\"a\",\"version\":\"1\","
                        "\"sha256\":\"xyz\"}]}",
                        "packages[0].sha256: expected 64 lowercase hex digits");
        expect_rejected(GOOD_HEAD "\"artifacts\":[{\"name\":\"a\",\"size\":-1,\"sha256\":" SUM
                                  "}],\"packages\":[]}",
                        "artifacts[0].size: expected a non-negative integer");
        expect_rejected(GOOD_HEAD "\"root_hash\":\"abc\",\"artifacts\":[],\"packages\":[]}",
                        "root_hash: expected 64");
        expect_rejected("{\"name\":\"a\\nb\",\"version\":\"1\",\"architecture\":\"amd64\"}",
                        "name: contains control characters");
        expect_rejected("{\"name\":\"a\",\"name\":\"b\"}", "duplicate");
        expect_rejected("{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}", "nested deeper");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_has_fields_sorted_packages_and_artifact_sums),
                cmocka_unit_test(test_outputs_are_deterministic),
                cmocka_unit_test(test_sbom_is_spdx_2_3_with_purls_and_relationships),
                cmocka_unit_test(test_missing_artifact_is_an_error_and_writes_nothing),
                cmocka_unit_test(test_reader_round_trips_what_the_writer_wrote),
                cmocka_unit_test(test_reader_names_the_bad_field),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
