/* SPDX-License-Identifier: MIT */
/* initutil.h: small helpers shared by both stages of berth-init: the kernel
 * command line, uptime and the timeline lines of docs/architecture.md, and
 * clock arithmetic for the supervisor's loop. Needs only libc. */
#pragma once

#include "cmdline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;
#define USEC_PER_SEC ((usec_t) 1000000)
#define USEC_PER_MSEC ((usec_t) 1000)
#define USEC_INFINITY ((usec_t) UINT64_MAX)

/* CLOCK_MONOTONIC now, in microseconds. */
usec_t now_usec(void);
/* Seconds since boot (CLOCK_BOOTTIME, the clock behind /proc/uptime). */
double uptime_sec(void);

/* Prints "berth: timeline EVENT UPTIME" through the log (console in PID 1). */
void timeline(const char *event);

/* Reads /proc/cmdline (or $BERTH_CMDLINE when not PID 1, for tests) into buf;
 * returns 0 or a negative errno. */
int proc_cmdline_read(char *buf, size_t size);
/* cmdline_get() on /proc/cmdline. */
int proc_cmdline_get(const char *key, char *ret, size_t size);
/* True if /proc/cmdline has key=1/yes/true (or the bare word key). */
bool proc_cmdline_get_bool(const char *key);
