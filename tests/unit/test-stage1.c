/* SPDX-License-Identifier: MIT */
/* The pure parts of berth-init's initramfs stage: the kernel command line and
 * the partition UUIDs derived from usrhash=. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "initutil.h"
#include "partition.h"
#include "verity.h"

static void test_cmdline_get_last_wins_and_bare_words(void **state) {
        char v[128];
        const char *c = "root=/dev/vda usrhash=aa berth.slot=a quiet usrhash=bb x=\"a b\"";
        assert_int_equal(cmdline_get(c, "usrhash", v, sizeof v), 1);
        assert_string_equal(v, "bb");
        assert_int_equal(cmdline_get(c, "berth.slot", v, sizeof v), 1);
        assert_string_equal(v, "a");
        assert_int_equal(cmdline_get(c, "quiet", v, sizeof v), 1);
        assert_string_equal(v, "");
        assert_int_equal(cmdline_get(c, "x", v, sizeof v), 1);
        assert_string_equal(v, "a b");
        assert_int_equal(cmdline_get(c, "berth", v, sizeof v), 0);
        assert_int_equal(cmdline_get(c, "usr", v, sizeof v), 0);
}

static void test_usrhash_partuuids_set_version_and_variant(void **state) {
        uint8_t h[USR_HASH_SIZE];
        char data[UUID_STRING_SIZE], verity[UUID_STRING_SIZE];
        assert_int_equal(usrhash_parse("000102030405060708090a0b0c0d0e0f"
                                       "101112131415161718191A1B1C1D1E1F",
                                       h),
                         0);
        usr_partuuids(h, data, verity);
        assert_string_equal(data, "00010203-0405-4607-8809-0a0b0c0d0e0f");
        assert_string_equal(verity, "10111213-1415-4617-9819-1a1b1c1d1e1f");
}

static void test_usrhash_rejects_bad_input(void **state) {
        uint8_t h[USR_HASH_SIZE];
        assert_int_equal(usrhash_parse("00", h), -EINVAL);
        assert_int_equal(usrhash_parse(NULL, h), -EINVAL);
        assert_int_equal(usrhash_parse("zz0102030405060708090a0b0c0d0e0f"
                                       "101112131415161718191a1b1c1d1e1f",
                                       h),
                         -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmdline_get_last_wins_and_bare_words),
                cmocka_unit_test(test_usrhash_partuuids_set_version_and_variant),
                cmocka_unit_test(test_usrhash_rejects_bad_input),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
