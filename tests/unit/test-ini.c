/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "ini.h"
#include "strv.h"
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

typedef struct Conf {
        char *name;
        char **tags;
        unsigned count;
        uint64_t size;
        bool on;
        unsigned extra;
} Conf;

static bool lower_word(const char *w) {
        for (; *w; w++)
                if (*w < 'a' || *w > 'z')
                        return false;
        return true;
}

static int count_free(IniContext *c, const char *value) {
        ((Conf *) c->userdata)->extra++;
        return 0;
}

static const IniKey conf_keys[] = {
        { "Main", "Name", ini_key_string, offsetof(Conf, name) },
        { "Main", "Tags", ini_key_words, offsetof(Conf, tags), lower_word, "tag" },
        { "Main", "Count", ini_key_unsigned, offsetof(Conf, count), NULL, NULL, 1, 10 },
        { "Main", "Size", ini_key_size, offsetof(Conf, size) },
        { "Main", "On", ini_key_bool, offsetof(Conf, on) },
};

static const IniTable conf_table = {
        .keys = conf_keys,
        .n_keys = ELEMENTSOF(conf_keys),
        .sections = (const char *const[]){ "Main", "Free", NULL },
        .free_section = "Free",
        .free_key = count_free,
};

static void conf_done(Conf *c) {
        free(c->name);
        strv_free(c->tags);
}

static int parse_conf(const char *text, Conf *c) {
        return ini_parse_table("t.conf", text, strlen(text), &conf_table, c);
}

static void test_table_fills_typed_fields(void **state) {
        Conf c = {};
        assert_int_equal(parse_conf("[Main]\nName=box\nTags=a b\nTags=c\nCount=3\nSize=2K\n"
                                    "On=yes\n[Free]\nanything.goes=1\nmore=2\n",
                                    &c),
                         0);
        assert_string_equal(c.name, "box");
        assert_int_equal(strv_length(c.tags), 3);
        assert_string_equal(c.tags[2], "c");
        assert_int_equal(c.count, 3);
        assert_int_equal(c.size, 2048);
        assert_true(c.on);
        assert_int_equal(c.extra, 2);
        conf_done(&c);

        /* An empty value resets a list and a string. */
        c = (Conf){};
        assert_int_equal(parse_conf("[Main]\nTags=a\nTags=\nName=x\nName=\n", &c), 0);
        assert_null(c.tags);
        assert_null(c.name);
        conf_done(&c);
}

static void expect_conf_error(const char *text, const char *message) {
        Conf c = {};
        int r = parse_conf(text, &c);
        conf_done(&c);
        assert_true(r < 0);
        assert_string_equal(error_message(r), message);
}

static void test_table_errors_name_file_line_and_field(void **state) {
        expect_conf_error("[Main]\nCount=11\n",
                          "t.conf:2: Main.Count: '11' is not a number from 1 to 10");
        expect_conf_error("[Main]\nCount=-1\n",
                          "t.conf:2: Main.Count: '-1' is not a number from 1 to 10");
        expect_conf_error("[Main]\nTags=ok Bad\n", "t.conf:2: Main.Tags: invalid tag 'Bad'");
        expect_conf_error(
                "[Main]\nSize=1Q\n",
                "t.conf:2: Main.Size: '1Q' is not a size (bytes, or a number with K, M or G)");
        expect_conf_error("[Main]\nOn=maybe\n", "t.conf:2: Main.On: 'maybe' is not yes or no");
        expect_conf_error("[Main]\nName=a\x01b\n", "t.conf:2: Main.Name: invalid value 'a\x01b'");
        expect_conf_error("[Main]\nColour=red\n", "t.conf:2: unknown key 'Colour' in [Main]");
        expect_conf_error("[Other]\n", "t.conf:1: unknown section [Other]");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_fills_typed_fields),
                cmocka_unit_test(test_table_errors_name_file_line_and_field),
                cmocka_unit_test(test_sections_keys_and_comments),
                cmocka_unit_test(test_continuation_lines_join_with_space),
                cmocka_unit_test(test_key_outside_section_is_error),
                cmocka_unit_test(test_line_without_equals_is_error),
                cmocka_unit_test(test_bad_header_and_nul_are_errors),
                cmocka_unit_test(test_handler_error_stops_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
