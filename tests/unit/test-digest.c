/* SPDX-License-Identifier: MIT */
/* SHA-256 of buffers and files: every artifact hash in the manifest and every
 * package checksum check goes through these. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "digest.h"
#include "fileio.h"
#include "macro.h"

static char dir[] = "/tmp/berth-test-digest-XXXXXX";

static void test_buffer_matches_the_fips_180_vectors(void **state) {
        char hex[SHA256_HEX_SIZE];
        uint8_t raw[32];

        assert_int_equal(sha256_buffer_hex("", 0, hex), 0);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_int_equal(sha256_buffer_hex("abc", 3, hex), 0);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_int_equal(sha256_buffer_hex(two_blocks, strlen(two_blocks), hex), 0);
        assert_string_equal(hex,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

        assert_int_equal(sha256_buffer("abc", 3, raw), 0);
        assert_int_equal(raw[0], 0xba);
        assert_int_equal(raw[31], 0xad);
}

/* sha256sum(1) is an independent implementation: the file digest must agree
 * with it on a file larger than the 128 KiB read buffer, not a multiple of it. */
static void test_file_agrees_with_sha256sum_across_read_boundaries(void **state) {
        _cleanup_free_ char *p = path_join(dir, "blob"), *cmd = NULL, *out = NULL;
        _cleanup_free_ uint8_t *data = malloc(300001);
        char hex[SHA256_HEX_SIZE], bhex[SHA256_HEX_SIZE];
        FILE *f;

        assert_non_null(data);
        for (size_t i = 0; i < 300001; i++)
                data[i] = (uint8_t) (i * 2654435761u >> 13);
        assert_int_equal(write_file_atomic(p, data, 300001, 0644), 0);

        assert_int_equal(sha256_file_hex(p, hex), 0);
        assert_int_equal(sha256_buffer_hex(data, 300001, bhex), 0);
        assert_string_equal(hex, bhex);

        cmd = strdup_printf("sha256sum '%s'", p);
        f = popen(cmd, "r");
        assert_non_null(f);
        char line[256] = "";
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(pclose(f), 0);
        assert_memory_equal(line, hex, 64);

        /* An empty file is the empty string's digest. */
        _cleanup_free_ char *e = path_join(dir, "empty");
        assert_int_equal(write_file_atomic(e, "", 0, 0644), 0);
        assert_int_equal(sha256_file_hex(e, hex), 0);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_file_errors_are_negative_errno(void **state) {
        char hex[SHA256_HEX_SIZE] = "untouched";
        _cleanup_free_ char *missing = path_join(dir, "missing");

        assert_int_equal(sha256_file_hex(missing, hex), -ENOENT);
        assert_int_equal(sha256_file_hex(dir, hex), -EISDIR);
        assert_string_equal(hex, "untouched");
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_buffer_matches_the_fips_180_vectors),
                cmocka_unit_test(test_file_agrees_with_sha256sum_across_read_boundaries),
                cmocka_unit_test(test_file_errors_are_negative_errno),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
