/* SPDX-License-Identifier: MIT */
/* Included before anything else in every unit test (tests/unit/meson.build
 * passes -include tests.h): makes a skipped case count as skipped. cmocka
 * counts a skipped case as passed and its runner exits 0, so meson would show
 * a binary as OK although part of it never ran. Here skip() and
 * skip_test(reason) record the case, and cmocka_run_group_tests() makes the
 * binary exit 77 (meson's "skipped") when a case was skipped and none failed:
 *
 *   if (!have("mkfs.erofs"))
 *           skip_test("mkfs.erofs is not installed");
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

static unsigned tests_skipped;

#undef skip
#define skip_test(reason)                                                                          \
        do {                                                                                       \
                tests_skipped++;                                                                   \
                print_message("[  SKIP    ] %s:%d: %s\n", __FILE__, __LINE__, reason);             \
                _skip(__FILE__, __LINE__);                                                         \
        } while (0)
#define skip() skip_test("(no reason given)")

static inline int tests_exit_status(int failed) {
        if (failed != 0)
                return 1; /* a count of 256 would read as success */
        if (tests_skipped > 0) {
                print_message("%u test(s) skipped: exit 77\n", tests_skipped);
                return 77;
        }
        return 0;
}

#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)                           \
        tests_exit_status(_cmocka_run_group_tests(#group_tests, group_tests,                       \
                                                  sizeof(group_tests) / sizeof((group_tests)[0]),  \
                                                  group_setup, group_teardown))
