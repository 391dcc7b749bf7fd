/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "partition.h"

#define HASH "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef"

static void test_usr_partuuids_split_the_root_hash(void **state) {
        char d[UUID_STRING_SIZE], v[UUID_STRING_SIZE];
        uint8_t h[USR_HASH_SIZE];

        assert_int_equal(usr_partuuids_from_hex(HASH, d, v), 0);
        /* First half -> data, second half -> verity; version 4, RFC 4122 variant. */
        assert_string_equal(d, "00112233-4455-4677-8899-aabbccddeeff");
        assert_string_equal(v, "01234567-89ab-4def-8123-456789abcdef");

        /* The binary and the hex forms agree. */
        char d2[UUID_STRING_SIZE], v2[UUID_STRING_SIZE];
        assert_int_equal(usrhash_parse(HASH, h), 0);
        usr_partuuids(h, d2, v2);
        assert_string_equal(d, d2);
        assert_string_equal(v, v2);
}

static void test_usr_partuuids_reject_bad_hashes(void **state) {
        char d[UUID_STRING_SIZE];
        assert_int_equal(usr_partuuids_from_hex("abc", d, NULL), -EINVAL);
        assert_int_equal(usr_partuuids_from_hex(NULL, d, NULL), -EINVAL);
        assert_int_equal(usr_partuuids_from_hex(HASH "00", d, NULL), -EINVAL);
        char bad[] = HASH;
        bad[10] = 'g';
        assert_int_equal(usr_partuuids_from_hex(bad, d, NULL), -EINVAL);
}

static void test_usr_partition_labels_per_slot(void **state) {
        assert_string_equal(usr_partition_label(SLOT_A, false), "usr-a");
        assert_string_equal(usr_partition_label(SLOT_A, true), "usr-a-verity");
        assert_string_equal(usr_partition_label(SLOT_B, false), "usr-b");
        assert_string_equal(usr_partition_label(SLOT_B, true), "usr-b-verity");
        assert_null(usr_partition_label(_SLOT_INVALID, false));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_usr_partuuids_split_the_root_hash),
                cmocka_unit_test(test_usr_partuuids_reject_bad_hashes),
                cmocka_unit_test(test_usr_partition_labels_per_slot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
