/* SPDX-License-Identifier: MIT */
/* The logs endpoint (logs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "initctl.h"
#include "json-util.h"
#include "logfile.h"
#include "logs.h"
#include "macro.h"

#define LOGS_PREFIX "/v1/logs"

typedef struct LogReader {
        int dir_fd;
        int fd; /* NAME.log as it was opened; -EBADF before it exists */
        char name[SERVICE_NAME_MAX];
        char *head; /* lines from rotated files, sent first */
        size_t head_size, head_off;
        bool follow;
} LogReader;

static void reader_free(void *state) {
        LogReader *r = state;

        safe_close(r->dir_fd);
        safe_close(r->fd);
        free(r->head);
        free(r);
}

/* The live file was replaced (rotated) if NAME.log now is another file. */
static int reopen_if_rotated(LogReader *r) {
        char file[LOGFILE_NAME_MAX];
        struct stat a, b;
        int fd;

        if (logfile_name(file, sizeof file, r->name, 0) < 0)
                return -ENAMETOOLONG;
        fd = openat(r->dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        if (r->fd >= 0 && fstat(r->fd, &a) >= 0 && fstat(fd, &b) >= 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
                (void) close(fd);
                return 0;
        }
        safe_close(r->fd);
        r->fd = fd;
        return 1;
}

static ssize_t reader_read(void *state, char *buf, size_t max) {
        LogReader *r = state;
        ssize_t n;

        if (r->head_off < r->head_size) {
                size_t k = MIN(max, r->head_size - r->head_off);
                memcpy(buf, r->head + r->head_off, k);
                r->head_off += k;
                return (ssize_t) k;
        }
        for (unsigned tries = 0; tries < 2; tries++) {
                if (r->fd >= 0) {
                        n = read(r->fd, buf, max);
                        if (n != 0)
                                return n < 0 ? -errno : n;
                }
                if (!r->follow)
                        return -EPIPE; /* the end */
                /* At the end of the file: read on in its successor once it
                 * was rotated; the old one was read to its end first (the
                 * writer closes it before it rotates). */
                if (reopen_if_rotated(r) <= 0)
                        return 0;
        }
        return 0;
}

static bool error_reply(unsigned status, unsigned *ret_status, char **ret_body, const char *fmt,
                        ...) _printf_(4, 5);
static bool error_reply(unsigned status, unsigned *ret_status, char **ret_body, const char *fmt,
                        ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        json_t *j;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        j = json_pack("{s:s}", "error", msg ?: "out of memory");
        *ret_status = status;
        *ret_body = j ? json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
        json_decref(j);
        return true;
}

static int parse_query(const char *query, unsigned *lines, bool *follow, char **ret_bad) {
        _cleanup_free_ char *copy = strdup(query);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *a = strtok_r(copy, "&", &save); a; a = strtok_r(NULL, "&", &save)) {
                const char *v = strchr(a, '=');
                size_t klen = v ? (size_t) (v - a) : strlen(a);
                char *end;

                v = v ? v + 1 : "";
                if (klen == 5 && strneq(a, "lines", 5)) {
                        errno = 0;
                        unsigned long n = strtoul(v, &end, 10);
                        if (!*v || *end || errno || n > LOGS_LINES_MAX || *v == '-' || *v == '+')
                                goto bad;
                        *lines = (unsigned) n;
                } else if (klen == 6 && strneq(a, "follow", 6)) {
                        if (streq(v, "1") || streq(v, "true") || streq(v, ""))
                                *follow = true;
                        else if (streq(v, "0") || streq(v, "false"))
                                *follow = false;
                        else
                                goto bad;
                } else
                        goto bad;
                continue;
        bad:
                *ret_bad = strdup(a);
                return *ret_bad ? -EINVAL : -ENOMEM;
        }
        return 0;
}

bool logs_handle(void *userdata, const char *method, const char *url, const char *query,
                 HttpStream *ret_stream, unsigned *ret_status, char **ret_body) {
        const Api *api = userdata;
        _cleanup_free_ char *bad = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        unsigned lines = LOGS_LINES_DEFAULT;
        bool follow = false;
        const char *name;
        LogReader *r;
        int k;

        if (!strneq(url, LOGS_PREFIX, strlen(LOGS_PREFIX)) ||
            (url[strlen(LOGS_PREFIX)] != '/' && url[strlen(LOGS_PREFIX)] != 0))
                return false;
        if (!streq(method, "GET"))
                return error_reply(405, ret_status, ret_body, "logs are read with GET");
        name = url[strlen(LOGS_PREFIX)] ? url + strlen(LOGS_PREFIX) + 1 : "";
        if (!service_name_is_valid(name))
                return error_reply(400, ret_status, ret_body,
                                   "'%.64s' is not a service name (GET /v1/logs/SERVICE)", name);
        k = parse_query(query, &lines, &follow, &bad);
        if (k == -EINVAL)
                return error_reply(400, ret_status, ret_body,
                                   "query argument '%.64s': expected lines=0..%u or follow=0|1",
                                   bad, LOGS_LINES_MAX);
        if (k < 0)
                return error_reply(500, ret_status, ret_body, "out of memory");

        dir_fd = open(api->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return error_reply(404, ret_status, ret_body, "no log for service '%s'", name);
        r = calloc(1, sizeof *r);
        if (!r)
                return error_reply(500, ret_status, ret_body, "out of memory");
        r->fd = -EBADF;
        strcpy(r->name, name);
        r->follow = follow;
        k = logfile_open_tail(dir_fd, name, lines, &r->fd, &r->head, &r->head_size);
        r->dir_fd = TAKE_FD(dir_fd);
        if (k < 0) {
                reader_free(r);
                if (k == -ENOENT)
                        return error_reply(404, ret_status, ret_body, "no log for service '%s'",
                                           name);
                return error_reply(500, ret_status, ret_body, "cannot read the log of '%s': %s",
                                   name, strerror(-k));
        }
        *ret_stream = (HttpStream){ .read = reader_read, .free = reader_free, .state = r };
        return true;
}
