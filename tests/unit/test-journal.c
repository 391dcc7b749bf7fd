/* SPDX-License-Identifier: MIT */
/* The update journal (src/update/journal.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "journal.h"
#include "macro.h"

static char dir[] = "/tmp/berth-test-journal-XXXXXX";

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

static void test_round_trip_every_step(void **state) {
        for (JournalStep s = 0; s < _JOURNAL_STEP_MAX; s++) {
                Journal j = { .slot = SLOT_B, .step = s }, back;
                strcpy(j.version, "2.0.0");
                memset(j.root_hash, 'a', 64);
                j.root_hash[64] = 0;
                assert_int_equal(journal_write(dir, &j), 0);
                assert_int_equal(journal_read(dir, &back), 0);
                assert_string_equal(back.version, "2.0.0");
                assert_string_equal(back.root_hash, j.root_hash);
                assert_int_equal(back.slot, SLOT_B);
                assert_int_equal(back.step, s);
        }
        assert_int_equal(journal_remove(dir), 0);
        Journal none;
        assert_int_equal(journal_read(dir, &none), -ENOENT);
        assert_int_equal(journal_remove(dir), 0); /* twice is fine */
}

static void test_damaged_journal_is_rejected(void **state) {
        _cleanup_free_ char *p = path_join(dir, "journal");
        static const char *const bad[] = {
                "version=2\nslot=b\nstep=done\n", /* no root hash */
                "version=2\nslot=c\nroot_hash="
                "0000000000000000000000000000000000000000000000"
                "000000000000000000\nstep=done\n", /* bad slot */
                "version=2\nslot=a\nroot_hash="
                "0000000000000000000000000000000000000000000000"
                "000000000000000000\nstep=half\n", /* unknown step */
                "garbage\n",
        };
        Journal j;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(write_file_atomic(p, bad[i], strlen(bad[i]), 0644), 0);
                assert_int_equal(journal_read(dir, &j), -EBADMSG);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip_every_step),
                cmocka_unit_test(test_damaged_journal_is_rejected),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
