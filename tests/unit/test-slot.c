/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "slot.h"

static void test_slot_names_round_trip_and_other(void **state) {
        assert_string_equal(slot_to_string(SLOT_A), "a");
        assert_string_equal(slot_to_string(SLOT_B), "b");
        assert_null(slot_to_string(_SLOT_INVALID));
        assert_int_equal(slot_from_string("a"), SLOT_A);
        assert_int_equal(slot_from_string("B"), SLOT_B);
        assert_int_equal(slot_from_string("c"), _SLOT_INVALID);
        assert_int_equal(slot_from_string("ab"), _SLOT_INVALID);
        assert_int_equal(slot_from_string(""), _SLOT_INVALID);
        assert_int_equal(slot_from_string(NULL), _SLOT_INVALID);
        assert_int_equal(slot_other(SLOT_A), SLOT_B);
        assert_int_equal(slot_other(SLOT_B), SLOT_A);
        assert_int_equal(slot_other(_SLOT_INVALID), _SLOT_INVALID);
}

static void test_boot_entry_parse_counters(void **state) {
        BootEntry e;
        assert_int_equal(boot_entry_parse("berth-a+3.conf", &e), 0);
        assert_int_equal(e.slot, SLOT_A);
        assert_int_equal(e.tries_left, 3);
        assert_int_equal(e.tries_done, 0);
        assert_string_equal(e.suffix, ".conf");
        assert_true(boot_entry_is_counting(&e));

        assert_int_equal(boot_entry_parse("berth-b+2-1.efi", &e), 0);
        assert_int_equal(e.slot, SLOT_B);
        assert_int_equal(e.tries_left, 2);
        assert_int_equal(e.tries_done, 1);
        assert_string_equal(e.suffix, ".efi");

        assert_int_equal(boot_entry_parse("berth-a+0-3.conf", &e), 0);
        assert_true(boot_entry_is_bad(&e));

        assert_int_equal(boot_entry_parse("berth-b.conf", &e), 0);
        assert_false(boot_entry_is_counting(&e));
        assert_false(boot_entry_is_bad(&e));
}

static void test_boot_entry_parse_rejects_other_names(void **state) {
        static const char *const bad[] = {
                "debian.conf",        "berth-c+3.conf", "berth-a+.conf", "berth-a+3-.conf",
                "berth-a+x.conf",     "berth-a3.conf",  "berth-a+3.txt", "berth-a+03.conf",
                "berth-a+1000.conf",  "berth-A.conf",   "berth-.conf",   "berth-a+-1.conf",
                "berth-a+3-1-1.conf",
        };
        BootEntry e;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (boot_entry_parse(bad[i], &e) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
        }
        assert_int_equal(boot_entry_parse(NULL, &e), -EINVAL);
}

static void test_boot_entry_format_and_new_name(void **state) {
        char buf[BOOT_ENTRY_NAME_MAX];
        assert_int_equal(boot_entry_new_name(SLOT_A, 3, ".conf", buf), 0);
        assert_string_equal(buf, "berth-a+3.conf");
        assert_int_equal(boot_entry_new_name(SLOT_B, 0, ".efi", buf), 0);
        assert_string_equal(buf, "berth-b.efi");
        assert_int_equal(boot_entry_new_name(SLOT_B, 1000, ".conf", buf), -EINVAL);
        assert_int_equal(boot_entry_new_name(SLOT_A, 3, ".txt", buf), -EINVAL);
        BootEntry e = { .slot = SLOT_B, .tries_left = 1, .tries_done = 2, .suffix = ".conf" };
        assert_int_equal(boot_entry_format(&e, buf), 0);
        assert_string_equal(buf, "berth-b+1-2.conf");
}

static void test_boot_entry_bless_renames_once(void **state) {
        char dir[] = "/tmp/test-slot.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        int fd = openat(dfd, "berth-a+2-1.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);

        assert_int_equal(boot_entry_bless(dfd, "berth-a+2-1.conf"), 1);
        assert_int_equal(faccessat(dfd, "berth-a.conf", F_OK, 0), 0);
        assert_int_equal(faccessat(dfd, "berth-a+2-1.conf", F_OK, 0), -1);
        /* Already blessed: nothing to do. */
        assert_int_equal(boot_entry_bless(dfd, "berth-a.conf"), 0);
        /* Not a berth entry. */
        assert_int_equal(boot_entry_bless(dfd, "other.conf"), -EINVAL);
        /* The blessed name exists: never overwrite it. */
        fd = openat(dfd, "berth-a+1.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(boot_entry_bless(dfd, "berth-a+1.conf"), -EEXIST);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slot_names_round_trip_and_other),
                cmocka_unit_test(test_boot_entry_parse_counters),
                cmocka_unit_test(test_boot_entry_parse_rejects_other_names),
                cmocka_unit_test(test_boot_entry_format_and_new_name),
                cmocka_unit_test(test_boot_entry_bless_renames_once),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
