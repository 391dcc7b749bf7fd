/* SPDX-License-Identifier: MIT */
/* Hex and the UUIDs derived from the verity root hash: the composer writes
 * them into the partition table and PID 1 looks for the same ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hexuuid.h"
#include "macro.h"

static void test_hex_round_trips_every_byte_value(void **state) {
        uint8_t all[256], back[256];
        char hex[513];

        for (size_t i = 0; i < sizeof all; i++)
                all[i] = (uint8_t) i;
        hex_encode(all, sizeof all, hex);
        assert_int_equal(strlen(hex), 512);
        assert_memory_equal(hex, "000102", 6);
        assert_string_equal(hex + 500, "fafbfcfdfeff");
        assert_int_equal(hex_decode(hex, back, sizeof back), 0);
        assert_memory_equal(all, back, sizeof all);

        hex_encode(all, 0, hex);
        assert_string_equal(hex, "");
}

static void test_hex_decode_accepts_either_case(void **state) {
        uint8_t b[4];
        assert_int_equal(hex_decode("DeadBEEF", b, sizeof b), 0);
        assert_int_equal(b[0], 0xde);
        assert_int_equal(b[1], 0xad);
        assert_int_equal(b[2], 0xbe);
        assert_int_equal(b[3], 0xef);
}

static void test_hex_decode_rejects_bad_input_and_leaves_output_alone(void **state) {
        static const char *const bad[] = {
                "0011223",   /* odd length */
                "001122334", /* too long */
                "0011ag33",  /* not hex */
                "00 11 223", /* spaces */
                "",          /* empty for 4 bytes */
        };
        uint8_t b[4];
        uint8_t big[300];
        char hex[601];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                memset(b, 0x5a, sizeof b);
                assert_int_equal(hex_decode(bad[i], b, sizeof b), -EINVAL);
                for (size_t k = 0; k < sizeof b; k++)
                        assert_int_equal(b[k], 0x5a);
        }
        assert_int_equal(hex_decode(NULL, b, sizeof b), -EINVAL);
        /* More than the 256 bytes it decodes at once: refused, not overrun. */
        memset(big, 1, sizeof big);
        hex_encode(big, sizeof big, hex);
        assert_int_equal(hex_decode(hex, big, sizeof big), -EINVAL);
}

static void test_uuid_sets_version_4_and_rfc4122_variant(void **state) {
        uint8_t seq[16], ones[16], zeros[16] = {};
        char u[UUID_STRING_SIZE];

        for (size_t i = 0; i < 16; i++)
                seq[i] = (uint8_t) i;
        memset(ones, 0xff, sizeof ones);

        uuid_from_bytes(seq, u);
        assert_string_equal(u, "00010203-0405-4607-8809-0a0b0c0d0e0f");
        uuid_from_bytes(ones, u);
        assert_string_equal(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        uuid_from_bytes(zeros, u);
        assert_string_equal(u, "00000000-0000-4000-8000-000000000000");
        /* The input is not modified. */
        assert_int_equal(seq[6], 6);
        assert_int_equal(seq[8], 8);
}

static void test_uuid_matches_systemd_derivation_of_a_root_hash(void **state) {
        /* The usr partition UUID is the first 128 bits of the root hash with
         * the v4/variant bits set (systemd-repart and gpt-auto agree); the
         * expected value was computed independently with Python's
         * uuid.UUID(bytes=..., version=4). */
        static const char root_hash[] =
                "8d2fd9fb7b1c1f5f0b1a33f5e6c3e0a4ad53c5b2da4a3f4b2d2eebd25bbbe7e2";
        uint8_t h[32];
        char u[UUID_STRING_SIZE];

        assert_int_equal(hex_decode(root_hash, h, sizeof h), 0);
        uuid_from_bytes(h, u);
        assert_string_equal(u, "8d2fd9fb-7b1c-4f5f-8b1a-33f5e6c3e0a4");
        uuid_from_bytes(h + 16, u);
        assert_string_equal(u, "ad53c5b2-da4a-4f4b-ad2e-ebd25bbbe7e2");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_round_trips_every_byte_value),
                cmocka_unit_test(test_hex_decode_accepts_either_case),
                cmocka_unit_test(test_hex_decode_rejects_bad_input_and_leaves_output_alone),
                cmocka_unit_test(test_uuid_sets_version_4_and_rfc4122_variant),
                cmocka_unit_test(test_uuid_matches_systemd_derivation_of_a_root_hash),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
