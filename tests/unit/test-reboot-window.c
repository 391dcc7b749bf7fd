/* SPDX-License-Identifier: MIT */
/* The reboot window (src/shared/reboot-window.c): its syntax, the errors
 * naming what is wrong, and the next time inside it. UTC only, so no day is
 * 23 or 25 hours long: the times below are exact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "macro.h"
#include "reboot-window.h"

/* 2026-11-23 00:00 UTC, a Monday. */
#define MON 1795392000
#define H 3600
#define D 86400

static RebootWindow parse_ok(const char *s) {
        RebootWindow w = {};
        int r = reboot_window_parse(s, &w);
        if (r < 0)
                fail_msg("%s: %s", s, error_message(r));
        return w;
}

static void expect_format(const char *s, const char *canonical) {
        RebootWindow w = parse_ok(s);
        char buf[REBOOT_WINDOW_FORMAT_MAX];
        assert_string_equal(reboot_window_format(&w, buf), canonical);
        /* The canonical form parses back to the same window. */
        RebootWindow again = parse_ok(canonical);
        assert_memory_equal(&w, &again, sizeof w);
}

static void test_syntax(void **state) {
        expect_format("Mon-Fri 02:00-04:00", "Mon-Fri 02:00-04:00 UTC");
        expect_format("Mon-Fri 02:00-04:00 UTC", "Mon-Fri 02:00-04:00 UTC");
        expect_format("02:00-04:00", "02:00-04:00 UTC");
        expect_format("sat,SUN 22:00-02:00", "Sat-Sun 22:00-02:00 UTC");
        expect_format("Fri-Mon 00:00-24:00", "Mon,Fri-Sun 00:00-24:00 UTC");
        expect_format("Wed 23:30-00:15", "Wed 23:30-00:15 UTC");
        expect_format("Mon,Wed,Fri 01:00-01:01", "Mon,Wed,Fri 01:00-01:01 UTC");
        expect_format("Tue-Tue 03:00-04:00", "Tue 03:00-04:00 UTC");
        RebootWindow w = parse_ok("Sat 22:00-02:00");
        assert_int_equal(w.days, 1u << 5);
        assert_int_equal(w.start, 22 * 60);
        assert_int_equal(w.length, 4 * 60);
        w = parse_ok("00:00-24:00");
        assert_int_equal(w.days, 0x7f);
        assert_int_equal(w.length, 24 * 60);
}

static void expect_error(const char *s, const char *msg) {
        RebootWindow w;
        assert_int_equal(reboot_window_parse(s, &w), -EINVAL);
        assert_string_equal(error_message(-EINVAL), msg);
        error_clear();
        assert_false(reboot_window_is_valid(s));
}

static void test_errors(void **state) {
        expect_error("", "'': not [DAYS ]HH:MM-HH:MM[ UTC] (Mon-Fri 02:00-04:00)");
        expect_error("02:00", "'02:00': not [DAYS ]HH:MM-HH:MM[ UTC] (Mon-Fri 02:00-04:00)");
        expect_error("Mo-Fr 02:00-04:00", "'Mo': not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
        expect_error("Mon-Fry 02:00-04:00", "'Fry': not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
        expect_error("Mon, 02:00-04:00", "a day list ends with ','");
        expect_error(" 02:00-04:00", "no days before the times");
        expect_error("25:00-04:00", "'25:00': not a time HH:MM (00:00 to 23:59)");
        expect_error("24:00-04:00", "'24:00': not a time HH:MM (00:00 to 23:59)");
        expect_error("02:60-04:00", "'02:60': not a time HH:MM (00:00 to 23:59)");
        expect_error("2:00-04:00", "'2:00': not a time HH:MM (00:00 to 23:59)");
        expect_error("02:00-4:00",
                     "'4:00': not a time HH:MM (00:00 to 23:59, or 24:00 as the end)");
        expect_error("02:00-24:01",
                     "'24:01': not a time HH:MM (00:00 to 23:59, or 24:00 as the end)");
        expect_error("02:00-02:00", "'02:00-02:00': the window is empty (start = end)");
        expect_error("Mon 02:00-04:00 CET",
                     "'Mon 02:00-04:00 CET': not [DAYS ]HH:MM-HH:MM[ UTC] (Mon-Fri 02:00-04:00)");
        expect_error("Mon  02:00-04:00",
                     "'Mon  02:00-04:00': not [DAYS ]HH:MM-HH:MM[ UTC] (Mon-Fri 02:00-04:00)");
}

static void expect_next(const char *s, time_t now, time_t next, time_t end) {
        RebootWindow w = parse_ok(s);
        char a[REBOOT_WINDOW_TIME_MAX], b[REBOOT_WINDOW_TIME_MAX];
        time_t got = reboot_window_next(&w, now);
        if (got != next)
                fail_msg("%s at %s: next %s, expected %s", s, reboot_window_format_time(now, a),
                         reboot_window_format_time(got, b), reboot_window_format_time(next, a));
        assert_int_equal(reboot_window_end(&w, now), end);
}

static void test_next(void **state) {
        /* Inside: now; the end is when it closes. */
        expect_next("Mon-Fri 02:00-04:00", MON + 3 * H, MON + 3 * H, MON + 4 * H);
        expect_next("Mon-Fri 02:00-04:00", MON + 2 * H, MON + 2 * H, MON + 4 * H);
        expect_next("Mon-Fri 02:00-04:00", MON + 3 * H + 59, MON + 3 * H + 59, MON + 4 * H);
        /* Before it on the same day; at its end (closed); after it. */
        expect_next("Mon-Fri 02:00-04:00", MON + 1 * H + 30, MON + 2 * H, MON + 1 * H + 30);
        expect_next("Mon-Fri 02:00-04:00", MON + 2 * H - 1, MON + 2 * H, MON + 2 * H - 1);
        expect_next("Mon-Fri 02:00-04:00", MON + 4 * H, MON + D + 2 * H, MON + 4 * H);
        /* Friday after it: next Monday. */
        expect_next("Mon-Fri 02:00-04:00", MON + 4 * D + 5 * H, MON + 7 * D + 2 * H,
                    MON + 4 * D + 5 * H);
        /* Across midnight: Saturday 22:00 to Sunday 02:00; Sunday 01:00 is inside. */
        expect_next("Sat 22:00-02:00", MON + 6 * D + 1 * H, MON + 6 * D + 1 * H,
                    MON + 6 * D + 2 * H);
        expect_next("Sat 22:00-02:00", MON + 6 * D + 2 * H, MON + 12 * D + 22 * H,
                    MON + 6 * D + 2 * H);
        /* Sunday's window runs into the next week's Monday. */
        expect_next("Sun 23:00-01:00", MON + 7 * D + 30 * 60, MON + 7 * D + 30 * 60,
                    MON + 7 * D + 1 * H);
        expect_next("Sun 23:00-01:00", MON + 30 * 60, MON + 30 * 60, MON + 1 * H);
        /* Windows that meet are one: Mon and Tue all day end Wednesday 00:00. */
        expect_next("Mon-Tue 00:00-24:00", MON + 5 * H, MON + 5 * H, MON + 2 * D);
        /* Every day all day: never closes within the week looked at. */
        RebootWindow w = parse_ok("00:00-24:00");
        assert_int_equal(reboot_window_next(&w, MON + 12345), MON + 12345);
        assert_true(reboot_window_end(&w, MON + 12345) >= MON + 12345 + 7 * D);
        /* Every day: today's, or tomorrow's once past. */
        expect_next("23:59-00:01", MON + 12 * H, MON + 23 * H + 59 * 60, MON + 12 * H);
        /* Before 1970-01-05 (a Monday) and on a Thursday: 1970-01-01. */
        expect_next("Thu 00:00-01:00", 1800, 1800, 3600);
        expect_next("Fri 00:00-01:00", 7200, D, 7200);
}

static void test_format_time(void **state) {
        char b[REBOOT_WINDOW_TIME_MAX];
        assert_string_equal(reboot_window_format_time(MON + 2 * H, b), "2026-11-23 02:00 UTC");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_next),
                cmocka_unit_test(test_format_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
