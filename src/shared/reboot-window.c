/* SPDX-License-Identifier: MIT */
/* The reboot window: parser and the next time inside it (reboot-window.h). */
#include "reboot-window.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "macro.h"

#define DAY_MIN 1440
#define WEEK_MIN (7 * DAY_MIN)

static const char *const day_names[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

static int parse_day(const char *s, size_t n, unsigned *ret) {
        if (n == 3)
                for (unsigned i = 0; i < 7; i++)
                        if (strncasecmp(s, day_names[i], 3) == 0) {
                                *ret = i;
                                return 0;
                        }
        return error_setf(EINVAL, "'%.*s': not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
                          (int) MIN(n, (size_t) 32), s);
}

/* "Mon-Fri,Sun": each item a day or a range of days (a range may wrap: Fri-Mon). */
static int parse_days(const char *s, size_t n, uint8_t *ret) {
        uint8_t days = 0;
        const char *end = s + n;
        if (n == 0)
                return error_setf(EINVAL, "no days before the times");
        while (s < end) {
                const char *comma = memchr(s, ',', (size_t) (end - s)) ?: end;
                const char *dash = memchr(s, '-', (size_t) (comma - s));
                unsigned a, b;
                int r = parse_day(s, (size_t) ((dash ?: comma) - s), &a);
                if (r < 0)
                        return r;
                b = a;
                if (dash && (r = parse_day(dash + 1, (size_t) (comma - dash - 1), &b)) < 0)
                        return r;
                for (unsigned d = a;; d = (d + 1) % 7) {
                        days |= (uint8_t) (1u << d);
                        if (d == b)
                                break;
                }
                if (comma < end && comma + 1 == end)
                        return error_setf(EINVAL, "a day list ends with ','");
                s = comma + 1;
        }
        *ret = days;
        return 0;
}

/* "HH:MM", two digits each; 24:00 only where allow_24. */
static int parse_time(const char *s, size_t n, bool allow_24, unsigned *ret) {
        if (n == 5 && s[2] == ':' && strspn(s, "0123456789") == 2 &&
            strspn(s + 3, "0123456789") >= 2) {
                unsigned h = (unsigned) (s[0] - '0') * 10 + (unsigned) (s[1] - '0');
                unsigned m = (unsigned) (s[3] - '0') * 10 + (unsigned) (s[4] - '0');
                if ((h < 24 && m < 60) || (allow_24 && h == 24 && m == 0)) {
                        *ret = h * 60 + m;
                        return 0;
                }
        }
        return error_setf(EINVAL, "'%.*s': not a time HH:MM (00:00 to 23:59%s)",
                          (int) MIN(n, (size_t) 32), s, allow_24 ? ", or 24:00 as the end" : "");
}

int reboot_window_parse(const char *s, RebootWindow *ret) {
        RebootWindow w = { .days = 0x7f };
        const char *times = s, *end = s + strlen(s), *sp = strchr(s, ' ');
        unsigned from, to;
        int r;

        if (end - s >= 4 && strcmp(end - 4, " UTC") == 0)
                end -= 4;
        if (sp && sp < end) {
                r = parse_days(s, (size_t) (sp - s), &w.days);
                if (r < 0)
                        return r;
                times = sp + 1;
        }
        const char *dash = memchr(times, '-', (size_t) (end - times));
        if (!dash || memchr(times, ' ', (size_t) (end - times)))
                return error_setf(EINVAL, "'%.*s': not " REBOOT_WINDOW_SYNTAX,
                                  (int) MIN((size_t) (end - s), (size_t) 64), s);
        r = parse_time(times, (size_t) (dash - times), false, &from);
        if (r < 0)
                return r;
        r = parse_time(dash + 1, (size_t) (end - dash - 1), true, &to);
        if (r < 0)
                return r;
        if (from == to % DAY_MIN && to != DAY_MIN)
                return error_setf(EINVAL, "'%.*s': the window is empty (start = end)",
                                  (int) MIN((size_t) (end - times), (size_t) 32), times);
        w.start = from;
        w.length = to > from ? to - from : to + DAY_MIN - from;
        *ret = w;
        return 0;
}

bool reboot_window_is_valid(const char *s) {
        RebootWindow w;
        bool ok = reboot_window_parse(s, &w) >= 0;
        error_clear();
        return ok;
}

/* Minutes since Monday 00:00 UTC (1970-01-01 was a Thursday). */
static unsigned week_minute(time_t t) {
        int64_t m = (int64_t) t / 60 + 3 * DAY_MIN;
        if ((int64_t) t % 60 < 0)
                m--;
        return (unsigned) (((m % WEEK_MIN) + WEEK_MIN) % WEEK_MIN);
}

/* Inside the window at t: 1 and, in *ret_left, the minutes until the
 * latest of the windows holding t ends (counted from t's minute). */
static bool inside(const RebootWindow *w, time_t t, unsigned *ret_left) {
        unsigned m = week_minute(t), left = 0;
        bool in = false;
        for (unsigned d = 0; d < 7; d++) {
                if (!(w->days & (1u << d)))
                        continue;
                unsigned since = (m + WEEK_MIN - (d * DAY_MIN + w->start)) % WEEK_MIN;
                if (since < w->length) {
                        in = true;
                        left = MAX(left, w->length - since);
                }
        }
        *ret_left = left;
        return in;
}

time_t reboot_window_next(const RebootWindow *w, time_t now) {
        unsigned left, m = week_minute(now), wait = WEEK_MIN;
        if (inside(w, now, &left))
                return now;
        for (unsigned d = 0; d < 7; d++)
                if (w->days & (1u << d))
                        wait = MIN(wait, (d * DAY_MIN + w->start + WEEK_MIN - m) % WEEK_MIN);
        /* Outside, so wait >= 1: the opening minute's first second. */
        return now - (now % 60 + 60) % 60 + (time_t) wait * 60;
}

time_t reboot_window_end(const RebootWindow *w, time_t now) {
        unsigned left;
        time_t t = now;
        /* At most a week of windows that meet; then it never closes. */
        for (unsigned i = 0; i < 8 && inside(w, t, &left); i++)
                t = t - (t % 60 + 60) % 60 + (time_t) left * 60;
        return t;
}

char *reboot_window_format(const RebootWindow *w, char buf[static REBOOT_WINDOW_FORMAT_MAX]) {
        size_t n = 0;
        buf[0] = 0;
        if (w->days != 0x7f)
                for (unsigned d = 0; d < 7;) {
                        if (!(w->days & (1u << d))) {
                                d++;
                                continue;
                        }
                        unsigned e = d;
                        while (e + 1 < 7 && (w->days & (1u << (e + 1))))
                                e++;
                        n += (size_t) snprintf(buf + n, REBOOT_WINDOW_FORMAT_MAX - n, "%s%s%s%s",
                                               n ? "," : "", day_names[d], e > d ? "-" : "",
                                               e > d ? day_names[e] : "");
                        d = e + 1;
                }
        unsigned to = (w->start + w->length) % DAY_MIN;
        if (w->start + w->length == DAY_MIN)
                to = DAY_MIN;
        (void) snprintf(buf + n, REBOOT_WINDOW_FORMAT_MAX - n, "%s%02u:%02u-%02u:%02u UTC",
                        n ? " " : "", w->start / 60, w->start % 60, to / 60, to % 60);
        return buf;
}

char *reboot_window_format_time(time_t t, char buf[static REBOOT_WINDOW_TIME_MAX]) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) ||
            strftime(buf, REBOOT_WINDOW_TIME_MAX, "%Y-%m-%d %H:%M UTC", &tm) == 0)
                (void) snprintf(buf, REBOOT_WINDOW_TIME_MAX, "@%lld", (long long) t);
        return buf;
}
