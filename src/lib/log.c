/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <sys/uio.h>

static int max_level = LOG_LEVEL_INFO;
static const char *log_prefix = NULL;
static int log_fd = STDERR_FILENO;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

void log_set_fd(int fd) {
        log_fd = fd;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char buf[2048];
        size_t n = 0;
        int saved = errno;

        if (error > 0)
                error = -error;
        if (level > max_level)
                goto finish;

        if (log_prefix)
                n += (size_t) snprintf(buf + n, sizeof buf - n, "%s: ", log_prefix);
        if (level <= LOG_LEVEL_ERR && n < sizeof buf)
                n += (size_t) snprintf(buf + n, sizeof buf - n, "error: ");
        else if (level == LOG_LEVEL_WARNING && n < sizeof buf)
                n += (size_t) snprintf(buf + n, sizeof buf - n, "warning: ");
        if (max_level >= LOG_LEVEL_DEBUG && n < sizeof buf)
                n += (size_t) snprintf(buf + n, sizeof buf - n, "(%s:%d) ", file, line);

        if (n < sizeof buf) {
                va_list ap;
                va_start(ap, fmt);
                n += (size_t) vsnprintf(buf + n, sizeof buf - n, fmt, ap);
                va_end(ap);
        }
        if (error < 0 && n < sizeof buf)
                n += (size_t) snprintf(buf + n, sizeof buf - n, ": %s", strerror(-error));
        if (n >= sizeof buf - 1)
                n = sizeof buf - 2;
        buf[n++] = '\n';
        (void) !write(log_fd, buf, n);

finish:
        errno = saved;
        return error;
}
