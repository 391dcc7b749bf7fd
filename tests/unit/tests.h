/* SPDX-License-Identifier: MIT */
/* What every cmocka unit test includes after <cmocka.h>: a skip that is
 * reported as a skip. cmocka counts a skipped case as passed and its runner
 * exits 0; meson then shows the whole binary as OK although part of it never
 * ran. skip_test() records the case, and tests_run_group() makes the binary exit 77
 * (meson's "skipped") when any case was skipped and none failed.
 *
 *   if (!have("mkfs.erofs"))
 *           skip_test("mkfs.erofs is not installed");
 *   ...
 *   return tests_run_group(tests, setup, teardown);
 *
 * cmocka's own skip() is hidden, so a skip that is not counted does not build. */
#pragma once

#include <stdio.h>

static unsigned tests_skipped;

#undef skip
#define skip_test(reason)                                                                          \
        do {                                                                                       \
                tests_skipped++;                                                                   \
                print_message("[  SKIP    ] %s:%d: %s\n", __FILE__, __LINE__, reason);             \
                _skip(__FILE__, __LINE__);                                                         \
        } while (0)

static inline int tests_exit_status(int failed) {
        if (failed != 0)
                return 1; /* a count of 256 would read as success */
        if (tests_skipped > 0) {
                print_message("%u test(s) skipped: exit 77\n", tests_skipped);
                return 77;
        }
        return 0;
}

#define tests_run_group(tests, setup, teardown)                                                    \
        tests_exit_status(cmocka_run_group_tests(tests, setup, teardown))
