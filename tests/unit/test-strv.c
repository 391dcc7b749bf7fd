/* SPDX-License-Identifier: MIT */
/* String vectors: the list type every spec and service key ends up in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "strv.h"

static void test_extend_copies_and_push_takes_ownership(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        char word[] = "one";

        assert_true(strv_isempty(l));
        assert_int_equal(strv_length(l), 0);
        assert_int_equal(strv_extend(&l, word), 0);
        word[0] = 'X'; /* the list holds a copy */
        assert_int_equal(strv_push(&l, strdup("two")), 0);
        assert_int_equal(strv_length(l), 2);
        assert_false(strv_isempty(l));
        assert_string_equal(l[0], "one");
        assert_string_equal(l[1], "two");
        assert_null(l[2]);
        assert_true(strv_contains(l, "two"));
        assert_false(strv_contains(l, "Xne"));
        assert_false(strv_contains(NULL, "one"));
        /* A NULL string (a failed strdup) is reported as OOM, the list unchanged. */
        assert_int_equal(strv_push(&l, NULL), -ENOMEM);
        assert_int_equal(strv_length(l), 2);
}

static void test_extend_words_splits_on_whitespace_and_optionally_commas(void **state) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **c = NULL;

        assert_int_equal(strv_extend_words(&a, "  a\tb,c \n d  ", false), 0);
        assert_int_equal(strv_length(a), 3);
        assert_string_equal(a[0], "a");
        assert_string_equal(a[1], "b,c");
        assert_string_equal(a[2], "d");

        assert_int_equal(strv_extend_words(&b, ",a,,b , c,", true), 0);
        assert_int_equal(strv_length(b), 3);
        assert_string_equal(b[0], "a");
        assert_string_equal(b[1], "b");
        assert_string_equal(b[2], "c");

        /* Only separators: nothing appended, the list stays NULL. */
        assert_int_equal(strv_extend_words(&c, " \t\n", false), 0);
        assert_null(c);
        /* Words append to what is there. */
        assert_int_equal(strv_extend_words(&a, "e", false), 0);
        assert_int_equal(strv_length(a), 4);
        assert_string_equal(a[3], "e");
}

static bool no_digits(const char *w) {
        return strpbrk(w, "0123456789") == NULL;
}

static void test_update_words_empty_resets_and_a_bad_word_changes_nothing(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *bad = NULL;

        assert_int_equal(strv_update_words(&l, "a b", no_digits, NULL), 0);
        assert_int_equal(strv_update_words(&l, "c", no_digits, NULL), 0);
        assert_int_equal(strv_length(l), 3);

        /* One rejected word: -EINVAL, the word is handed back, the list is as it was. */
        assert_int_equal(strv_update_words(&l, "d e5 f", no_digits, &bad), -EINVAL);
        assert_string_equal(bad, "e5");
        assert_int_equal(strv_length(l), 3);
        assert_false(strv_contains(l, "d"));
        assert_int_equal(strv_update_words(&l, "x9", no_digits, NULL), -EINVAL);

        /* No validator: anything goes. */
        assert_int_equal(strv_update_words(&l, "g7", NULL, NULL), 0);
        assert_string_equal(l[3], "g7");

        /* An empty value resets the list (as "Foo=" does in a spec). */
        assert_int_equal(strv_update_words(&l, "", no_digits, NULL), 0);
        assert_null(l);
        assert_int_equal(strv_update_words(&l, "h", no_digits, NULL), 0);
        assert_int_equal(strv_length(l), 1);
}

static void test_copy_is_deep_sort_orders_join_separates(void **state) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL, **e = NULL;
        _cleanup_free_ char *j = NULL, *j1 = NULL, *j0 = NULL;

        assert_int_equal(strv_extend_words(&l, "pear apple fig", false), 0);
        c = strv_copy(l);
        assert_non_null(c);
        assert_ptr_not_equal(c[0], l[0]);
        l[0][0] = 'b';
        assert_string_equal(c[0], "pear");

        strv_sort(c);
        assert_string_equal(c[0], "apple");
        assert_string_equal(c[1], "fig");
        assert_string_equal(c[2], "pear");
        strv_sort(NULL); /* no-op */

        j = strv_join(c, ", ");
        assert_string_equal(j, "apple, fig, pear");
        assert_int_equal(strv_extend(&e, "only"), 0);
        j1 = strv_join(e, "--");
        assert_string_equal(j1, "only");
        j0 = strv_join(NULL, ",");
        assert_string_equal(j0, "");

        /* A copy of NULL is an empty list, not NULL. */
        _cleanup_strv_free_ char **n = strv_copy(NULL);
        assert_non_null(n);
        assert_null(n[0]);
}

static void test_foreach_visits_every_element_and_free_accepts_null(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;

        STRV_FOREACH(s, l)
                n++;
        assert_int_equal(n, 0);
        assert_int_equal(strv_extend_words(&l, "a b c", false), 0);
        STRV_FOREACH(s, l) {
                assert_int_equal(strlen(*s), 1);
                n++;
        }
        assert_int_equal(n, 3);
        assert_null(strv_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_extend_copies_and_push_takes_ownership),
                cmocka_unit_test(test_extend_words_splits_on_whitespace_and_optionally_commas),
                cmocka_unit_test(test_update_words_empty_resets_and_a_bad_word_changes_nothing),
                cmocka_unit_test(test_copy_is_deep_sort_orders_join_separates),
                cmocka_unit_test(test_foreach_visits_every_element_and_free_accepts_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
