/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"

static void test_write_atomic_then_read_back(void **state) {
        char dir[] = "/tmp/berth-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *p = path_join(dir, "f");
        assert_int_equal(write_file_atomic(p, "hello", 5, 0644), 0);
        _cleanup_free_ char *d = NULL;
        size_t n;
        assert_int_equal(read_full_file(p, &d, &n, 0), 0);
        assert_int_equal(n, 5);
        assert_string_equal(d, "hello");
        assert_int_equal(read_full_file(p, &d, &n, 2), -EFBIG);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_mkdir_p_and_rm_rf(void **state) {
        char dir[] = "/tmp/berth-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *p = path_join(dir, "a/b/c");
        assert_int_equal(mkdir_p(p, 0755), 0);
        assert_int_equal(mkdir_p(p, 0755), 0);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(rm_rf(dir), 0);
        assert_int_equal(stat(dir, &st), -1);
}

static void test_path_confinement(void **state) {
        assert_true(path_is_safe_relative("./usr/bin/x"));
        assert_true(path_is_safe_relative("/etc/passwd"));
        assert_true(path_is_safe_relative("a/..b/c"));
        assert_false(path_is_safe_relative("../etc"));
        assert_false(path_is_safe_relative("./a/../../b"));
        assert_false(path_is_safe_relative("a/.."));
}

static void test_path_join(void **state) {
        _cleanup_free_ char *a = path_join("/x/", "/y");
        assert_string_equal(a, "/x/y");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_atomic_then_read_back),
                cmocka_unit_test(test_mkdir_p_and_rm_rf),
                cmocka_unit_test(test_path_confinement),
                cmocka_unit_test(test_path_join),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
