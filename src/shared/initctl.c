/* SPDX-License-Identifier: MIT */
#include "initctl.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "fileio.h"

bool service_name_is_valid(const char *s) {
        static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        size_t n = strlen(s);
        if (n == 0 || n >= SERVICE_NAME_MAX || (!strchr(alnum, s[0]) && s[0] != '_'))
                return false;
        for (; *s; s++)
                if (!strchr(alnum, *s) && !strchr("_.@-", *s))
                        return false;
        return true;
}

static const char *const verb_table[_INITCTL_VERB_MAX] = {
        [INITCTL_START] = "start",
        [INITCTL_STOP] = "stop",
        [INITCTL_RESTART] = "restart",
};

const char *initctl_verb_to_string(InitCtlVerb v) {
        return v >= 0 && v < _INITCTL_VERB_MAX ? verb_table[v] : NULL;
}

InitCtlVerb initctl_verb_from_string(const char *s) {
        for (int i = 0; s && i < _INITCTL_VERB_MAX; i++)
                if (streq(verb_table[i], s))
                        return (InitCtlVerb) i;
        return _INITCTL_VERB_INVALID;
}

/* ---- status files ---- */

int service_status_format(const ServiceStatus *s, char *buf, size_t size) {
        char ready[32] = "", status[16] = "", sig[16] = "";
        int n;

        if (s->ready_usec > 0)
                snprintf(ready, sizeof ready, "%" PRIu64 ".%03" PRIu64, s->ready_usec / 1000000,
                         s->ready_usec % 1000000 / 1000);
        if (s->exit_status >= 0)
                snprintf(status, sizeof status, "%d", s->exit_status);
        if (s->exit_signal > 0)
                snprintf(sig, sizeof sig, "%s", sigabbrev_np(s->exit_signal) ?: "");
        n = snprintf(buf, size,
                     "name=%s\nstate=%s\npid=%d\nrestarts=%u\nready_time=%s\n"
                     "last_exit_status=%s\nlast_exit_signal=%s\n",
                     s->name, s->state, s->pid, s->restarts, ready, status, sig);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

/* Plain decimal digits, at most max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        if (!*s)
                return -EBADMSG;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > max)
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

/* "SECONDS.MILLISECONDS" (three digits) as written above. */
static int parse_uptime(const char *s, uint64_t *ret) {
        char sec[24];
        const char *dot = strchr(s, '.');
        uint64_t a, b;

        if (!dot || (size_t) (dot - s) >= sizeof sec || strlen(dot + 1) != 3)
                return -EBADMSG;
        memcpy(sec, s, (size_t) (dot - s));
        sec[dot - s] = 0;
        if (parse_uint(sec, UINT64_MAX / 1000000 - 1, &a) < 0 || parse_uint(dot + 1, 999, &b) < 0)
                return -EBADMSG;
        *ret = a * 1000000 + b * 1000;
        return 0;
}

static int signal_from_abbrev(const char *s) {
        for (int sig = 1; sig < NSIG; sig++) {
                const char *a = sigabbrev_np(sig);
                if (a && streq(a, s))
                        return sig;
        }
        return -EBADMSG;
}

static int status_field(ServiceStatus *st, const char *key, const char *value) {
        uint64_t v;

        if (streq(key, "name")) {
                if (!service_name_is_valid(value))
                        return -EBADMSG;
                snprintf(st->name, sizeof st->name, "%s", value);
        } else if (streq(key, "state")) {
                if (!*value || strlen(value) >= sizeof st->state)
                        return -EBADMSG;
                snprintf(st->state, sizeof st->state, "%s", value);
        } else if (streq(key, "pid")) {
                if (parse_uint(value, INT_MAX, &v) < 0)
                        return -EBADMSG;
                st->pid = (int) v;
        } else if (streq(key, "restarts")) {
                if (parse_uint(value, UINT_MAX, &v) < 0)
                        return -EBADMSG;
                st->restarts = (unsigned) v;
        } else if (streq(key, "ready_time")) {
                if (*value && parse_uptime(value, &st->ready_usec) < 0)
                        return -EBADMSG;
        } else if (streq(key, "last_exit_status")) {
                if (*value && parse_uint(value, 255, &v) < 0)
                        return -EBADMSG;
                st->exit_status = *value ? (int) v : -1;
        } else if (streq(key, "last_exit_signal")) {
                int sig = *value ? signal_from_abbrev(value) : 0;
                if (sig < 0)
                        return sig;
                st->exit_signal = sig;
        }
        return 0;
}

int service_status_parse(const char *text, size_t size, ServiceStatus *ret) {
        ServiceStatus st = { .exit_status = -1 };
        char line[SERVICE_STATUS_TEXT_MAX + 1];
        const char *p = text, *end = text + size;

        if (size > SERVICE_STATUS_TEXT_MAX || memchr(text, 0, size))
                return -EBADMSG;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                char *eq;
                int r;

                memcpy(line, p, len);
                line[len] = 0;
                p += len + (nl ? 1 : 0);
                if (len == 0)
                        continue;
                eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                r = status_field(&st, line, eq + 1);
                if (r < 0)
                        return r;
        }
        if (!st.name[0] || !st.state[0])
                return -EBADMSG;
        *ret = st;
        return 0;
}

int service_status_write(int dir_fd, const ServiceStatus *s) {
        char text[SERVICE_STATUS_TEXT_MAX], tmp[SERVICE_NAME_MAX + 8];
        int fd, n, r = 0;

        if (!service_name_is_valid(s->name))
                return -EINVAL;
        n = service_status_format(s, text, sizeof text);
        if (n < 0)
                return n;
        snprintf(tmp, sizeof tmp, ".%s.tmp", s->name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, (size_t) n);
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, s->name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

int service_status_read(const char *dir, const char *name, ServiceStatus *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size;
        int r;

        if (!service_name_is_valid(name))
                return -EINVAL;
        path = path_join(dir, name);
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, &text, &size, SERVICE_STATUS_TEXT_MAX);
        if (r < 0)
                return r;
        return service_status_parse(text, size, ret);
}

/* ---- control requests ---- */

int initctl_parse_request(const char *buf, size_t size, InitCtlVerb *ret_verb, char *ret_name) {
        char line[INITCTL_LINE_MAX + 1];
        InitCtlVerb verb;
        char *sp;

        if (size > 0 && buf[size - 1] == '\n')
                size--;
        if (size == 0 || size > INITCTL_LINE_MAX || memchr(buf, 0, size) || memchr(buf, '\n', size))
                return -EBADMSG;
        memcpy(line, buf, size);
        line[size] = 0;
        sp = strchr(line, ' ');
        if (!sp)
                return -EBADMSG;
        *sp = 0;
        verb = initctl_verb_from_string(line);
        if (verb < 0 || !service_name_is_valid(sp + 1))
                return -EBADMSG;
        *ret_verb = verb;
        snprintf(ret_name, SERVICE_NAME_MAX, "%s", sp + 1);
        return 0;
}

int initctl_request(const char *path, InitCtlVerb verb, const char *name, unsigned timeout_ms,
                    char *reply, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char req[INITCTL_LINE_MAX + 2];
        _cleanup_close_ int fd = -EBADF;
        int n;

        if (!initctl_verb_to_string(verb) || !service_name_is_valid(name) || size == 0)
                return -EINVAL;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        n = snprintf(req, sizeof req, "%s %s\n", initctl_verb_to_string(verb), name);
        if (n < 0 || (size_t) n >= sizeof req)
                return -EINVAL;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (send(fd, req, (size_t) n, MSG_NOSIGNAL) != n)
                return errno > 0 ? -errno : -EIO;

        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int k = poll(&pfd, 1, (int) timeout_ms);
        if (k < 0)
                return -errno;
        if (k == 0)
                return -ETIMEDOUT;
        ssize_t got = recv(fd, reply, size - 1, 0);
        if (got < 0)
                return -errno;
        if (got == 0)
                return -ECONNRESET;
        reply[got] = 0;
        reply[strcspn(reply, "\n")] = 0;
        if (strneq(reply, "ok", 2) && (reply[2] == 0 || reply[2] == ' '))
                return 0;
        return -EBADR;
}
