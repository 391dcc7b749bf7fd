/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "copy.h"
#include "fileio.h"
#include "macro.h"

static char *tmpdir(void) {
        char *d = strdup("/tmp/test-copy.XXXXXX");
        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

static void put(const char *dir, const char *name, const char *data, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, name);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, data, strlen(data), mode), 0);
}

static char *get(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        char *data = NULL;
        if (read_full_file(p, &data, NULL, 0) < 0)
                return NULL;
        return data;
}

static mode_t mode_of(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        return st.st_mode;
}

static void test_tree_copy_keeps_files_modes_links(void **state) {
        _cleanup_free_ char *src = tmpdir(), *dst = tmpdir();
        _cleanup_free_ char *target = path_join(dst, "out");
        put(src, "a.conf", "alpha\n", 0640);
        put(src, "sub/deep/b", "beta", 0755);
        _cleanup_free_ char *lnk = path_join(src, "sub/link");
        assert_int_equal(symlink("deep/b", lnk), 0);
        _cleanup_free_ char *sub = path_join(src, "sub");
        assert_int_equal(chmod(sub, 0750), 0);

        assert_int_equal(copy_tree(src, target, 0, COPY_OWNER), 0);
        _cleanup_free_ char *a = get(target, "a.conf"), *b = get(target, "sub/deep/b");
        assert_string_equal(a, "alpha\n");
        assert_string_equal(b, "beta");
        assert_int_equal(mode_of(target, "a.conf") & 07777, 0640);
        assert_int_equal(mode_of(target, "sub/deep/b") & 07777, 0755);
        assert_int_equal(mode_of(target, "sub") & 07777, 0750);
        assert_true(S_ISLNK(mode_of(target, "sub/link")));
        _cleanup_free_ char *via = get(target, "sub/link");
        assert_string_equal(via, "beta");

        /* Copying again replaces files and keeps what only the target has. */
        put(src, "a.conf", "new\n", 0600);
        put(target, "extra", "kept", 0644);
        assert_int_equal(copy_tree(src, target, 0, 0), 0);
        _cleanup_free_ char *a2 = get(target, "a.conf"), *extra = get(target, "extra");
        assert_string_equal(a2, "new\n");
        assert_string_equal(extra, "kept");
        assert_int_equal(rm_rf(src), 0);
        assert_int_equal(rm_rf(dst), 0);
}

static void test_single_file_with_mode_override(void **state) {
        _cleanup_free_ char *src = tmpdir(), *dst = tmpdir();
        put(src, "f", "x", 0644);
        _cleanup_free_ char *from = path_join(src, "f"), *to = path_join(dst, "g");
        assert_int_equal(copy_tree(from, to, 0600, 0), 0);
        assert_int_equal(mode_of(dst, "g") & 07777, 0600);
        _cleanup_free_ char *g = get(dst, "g");
        assert_string_equal(g, "x");
        /* A missing source is an error, named by errno. */
        _cleanup_free_ char *none = path_join(src, "none");
        assert_int_equal(copy_tree(none, to, 0, 0), -ENOENT);
        assert_int_equal(rm_rf(src), 0);
        assert_int_equal(rm_rf(dst), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tree_copy_keeps_files_modes_links),
                cmocka_unit_test(test_single_file_with_mode_override),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
