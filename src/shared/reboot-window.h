/* SPDX-License-Identifier: MIT */
/* reboot-window.h: when the update agent may reboot into a new release
 * (docs/updates.md, "Reboot window"): a weekly window in UTC written
 * "[DAYS ]HH:MM-HH:MM[ UTC]", DAYS a list of days and day ranges ("Mon-Fri",
 * "Sat,Sun", "Fri-Mon"; all days when left out). An end at or before the start
 * runs past midnight into the next day ("Sat 22:00-02:00": Saturday 22:00 to
 * Sunday 02:00); "24:00" ends at midnight. UTC only: no time zones, no
 * daylight saving time. The settings (update.reboot-window), the image spec
 * ([Update] RebootWindow=) and the agent (RebootWindow= in update.conf) parse
 * it with this one parser. Needs only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REBOOT_WINDOW_SYNTAX "[DAYS ]HH:MM-HH:MM[ UTC] (Mon-Fri 02:00-04:00)"

typedef struct RebootWindow {
        uint8_t days;    /* bit 0 Monday ... bit 6 Sunday: the days the window starts on */
        unsigned start;  /* minutes after midnight UTC, 0..1439 */
        unsigned length; /* minutes, 1..1440 */
} RebootWindow;

/* Parses s: 0, or -EINVAL with the error object naming what is wrong
 * ("'Mo': not a day (Mon, Tue, ..., Sun)"); the caller adds the field. */
int reboot_window_parse(const char *s, RebootWindow *ret);
bool reboot_window_is_valid(const char *s);

/* now itself when now is inside the window, else the first second after now
 * at which it opens. */
time_t reboot_window_next(const RebootWindow *w, time_t now);
/* Inside the window: when it closes (windows that meet count as one);
 * outside: now. */
time_t reboot_window_end(const RebootWindow *w, time_t now);

/* "Mon-Fri 02:00-04:00 UTC" (days as ranges, Mon first). */
#define REBOOT_WINDOW_FORMAT_MAX 64
char *reboot_window_format(const RebootWindow *w, char buf[static REBOOT_WINDOW_FORMAT_MAX]);
/* "2026-11-27 02:00 UTC" */
#define REBOOT_WINDOW_TIME_MAX 32
char *reboot_window_format_time(time_t t, char buf[static REBOOT_WINDOW_TIME_MAX]);
