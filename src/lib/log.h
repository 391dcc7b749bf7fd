/* SPDX-License-Identifier: MIT */
/* log.h: leveled logging to stderr (or the console in PID 1). The *_errno
 * variants log with strerror(-r) appended and return r. Library code logs at
 * debug level at most and reports errors through error.h; binaries (the CLI's
 * main, PID 1) print them. */
#pragma once

#include "macro.h"

enum {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix every line with this (e.g. "berth-init"); NULL for none. */
void log_set_prefix(const char *prefix);
/* Write to this fd instead of stderr (PID 1 uses /dev/console). */
void log_set_fd(int fd);

/* Logs at `level`; if error != 0 appends ": strerror". Returns error (or -EIO
 * if error is 0 and level is an error, for convenience). */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...)                                                          \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_LEVEL_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERR, (e), __VA_ARGS__)

/* A bare message for errors the code detects itself: log it (no strerror
 * suffix: the errno is our own marker, not what the system said) and return
 * -code. For binaries; library code uses error_setf() (error.h). */
#define log_error_code(code, ...)                                                                  \
        ({                                                                                         \
                (void) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__);                              \
                -(code);                                                                           \
        })

#define log_oom() log_error_code(ENOMEM, "out of memory")
