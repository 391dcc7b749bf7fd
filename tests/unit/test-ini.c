/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ini.h"
#include "macro.h"

typedef struct Seen {
        char buf[1024];
} Seen;

static int collect(const char *path, unsigned line, const char *section, const char *key,
                   const char *value, void *userdata) {
        Seen *s = userdata;
        size_t n = strlen(s->buf);
        snprintf(s->buf + n, sizeof s->buf - n, "%u:%s:%s=%s;", line, section, key ? key : "",
                 value ? value : "");
        return 0;
}

static void test_sections_keys_and_comments(void **state) {
        const char *t = "# c\n[A]\nx = 1 \n; c\n\n[B]\ny=two words\n";
        Seen s = {};
        assert_int_equal(ini_parse_string("t", t, strlen(t), collect, &s), 0);
        assert_string_equal(s.buf, "2:A:=;3:A:x=1;6:B:=;7:B:y=two words;");
}

static void test_continuation_lines_join_with_space(void **state) {
        const char *t = "[A]\nx=a \\\n  b \\\n c\ny=d\n";
        Seen s = {};
        assert_int_equal(ini_parse_string("t", t, strlen(t), collect, &s), 0);
        assert_string_equal(s.buf, "1:A:=;2:A:x=a b c;5:A:y=d;");
}

static void test_key_outside_section_is_error(void **state) {
        const char *t = "x=1\n";
        Seen s = {};
        assert_int_equal(ini_parse_string("t", t, strlen(t), collect, &s), -EBADMSG);
}

static void test_line_without_equals_is_error(void **state) {
        const char *t = "[A]\nnonsense\n";
        Seen s = {};
        assert_int_equal(ini_parse_string("t", t, strlen(t), collect, &s), -EBADMSG);
}

static void test_bad_header_and_nul_are_errors(void **state) {
        Seen s = {};
        assert_int_equal(ini_parse_string("t", "[A\n", 3, collect, &s), -EBADMSG);
        assert_int_equal(ini_parse_string("t", "[A]\n\0", 5, collect, &s), -EBADMSG);
}

static int stop_at_b(const char *path, unsigned line, const char *section, const char *key,
                     const char *value, void *userdata) {
        return key && streq(key, "b") ? -ENOENT : 0;
}

static void test_handler_error_stops_parse(void **state) {
        const char *t = "[A]\na=1\nb=2\nc=3\n";
        assert_int_equal(ini_parse_string("t", t, strlen(t), stop_at_b, NULL), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sections_keys_and_comments),
                cmocka_unit_test(test_continuation_lines_join_with_space),
                cmocka_unit_test(test_key_outside_section_is_error),
                cmocka_unit_test(test_line_without_equals_is_error),
                cmocka_unit_test(test_bad_header_and_nul_are_errors),
                cmocka_unit_test(test_handler_error_stops_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
