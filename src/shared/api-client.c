/* SPDX-License-Identifier: MIT */
/* The node API's client side (api-client.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api-client.h"
#include "error.h"
#include "fileio.h"
#include "http-parse.h"
#include "macro.h"

/* true once buf holds the headers and the Content-Length bytes after them:
 * the answer is complete even if the other end never closes (a relay over a
 * virtio-serial port has no end of stream). */
static bool response_complete(const char *buf, size_t size) {
        /* buf is NUL-terminated; a NUL inside ends the search early, which
         * only means reading on until the end of the stream. */
        const char *end = strstr(buf, "\r\n\r\n");
        size_t head, len;

        if (!end)
                return false;
        head = end + 4 - buf;
        for (const char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
                if (strncasecmp(l + 2, "Content-Length:", 15) == 0 &&
                    sscanf(l + 17, "%zu", &len) == 1)
                        return size >= head && size - head >= len;
        return false;
}

static int read_response(int fd, unsigned timeout_s, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = malloc(API_RESPONSE_MAX + 1);
        size_t size = 0;
        struct timespec start, now;

        if (!buf)
                return -ENOMEM;
        (void) clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long left;
                ssize_t n;

                (void) clock_gettime(CLOCK_MONOTONIC, &now);
                left = (long) timeout_s * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
                                                  (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0)
                        return error_setf(ETIMEDOUT, "no answer from the API in %u s", timeout_s);
                n = poll(&p, 1, (int) left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        continue;
                if (size >= API_RESPONSE_MAX)
                        return error_setf(EBADMSG, "the API's answer is larger than %u bytes",
                                          API_RESPONSE_MAX);
                n = read(fd, buf + size, API_RESPONSE_MAX - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += n;
                buf[size] = 0;
                if (response_complete(buf, size))
                        break;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* Connects to the API and sends the request; returns the socket. */
static int api_send(const char *socket_path, const char *method, const char *path,
                    const char *body) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *req = NULL;
        int r;

        if (strlen(socket_path) >= sizeof sa.sun_path)
                return error_setf(EINVAL, "%s: socket path too long", socket_path);
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return error_wrapf(-errno, "cannot reach the berth API at %s", socket_path);
        req = strdup_printf("%s %s HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                            method, path, body ? strlen(body) : 0, strempty(body));
        if (!req)
                return -ENOMEM;
        r = loop_write(fd, req, strlen(req));
        if (r < 0)
                return error_wrapf(r, "cannot send to the berth API at %s", socket_path);
        return TAKE_FD(fd);
}

int api_request(const char *socket_path, const char *method, const char *path, const char *body,
                unsigned timeout_s, char **ret_body) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *resp = NULL, *answer = NULL;
        size_t size = 0, body_size = 0;
        HttpResponse head;
        int r, status;

        fd = api_send(socket_path, method, path, body);
        if (fd < 0)
                return fd;
        r = read_response(fd, timeout_s, &resp, &size);
        if (r < 0)
                return error_wrapf(r, "cannot read the berth API's answer");
        /* The same parser as every other HTTP answer (http-parse.h). */
        r = http_response_parse_full(resp, size, &head, &answer, &body_size);
        if (r < 0)
                return error_wrapf(r, "the berth API's answer is not valid HTTP");
        status = r;
        http_response_done(&head);
        if (strlen(answer) != body_size)
                return error_setf(EBADMSG, "the berth API's answer has a NUL byte in its body");
        *ret_body = TAKE_PTR(answer);
        return status;
}

/* ---- streamed answers (text, chunked or until the end) ---- */

typedef struct Reader {
        int fd;
        size_t start, end;
        char buf[HTTP_HEAD_MAX + 4096];
} Reader;

/* Reads more; the count, 0 at the end, or a negative errno. */
static int reader_fill(Reader *r) {
        ssize_t n;

        if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
        }
        if (r->end == sizeof r->buf)
                return -EBADMSG;
        do
                n = read(r->fd, r->buf + r->end, sizeof r->buf - r->end);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        r->end += (size_t) n;
        return (int) n;
}

/* Where the body goes: out_fd, or collected up to API_RESPONSE_MAX. */
typedef struct Out {
        int fd;
        char *body;
        size_t size;
} Out;

static int out_put(Out *o, const char *p, size_t n) {
        if (o->fd >= 0)
                return loop_write(o->fd, p, n);
        if (o->size + n > API_RESPONSE_MAX)
                return -EBADMSG;
        char *b = realloc(o->body, o->size + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + o->size, p, n);
        o->size += n;
        b[o->size] = 0;
        o->body = b;
        return 0;
}

/* The body of the response head h, decoded by http-parse (the one HTTP
 * parser), to o. */
static int read_body(Reader *r, const HttpResponse *h, Out *o) {
        HttpBody b;
        http_body_init(&b, h, false);
        for (;;) {
                while (r->start < r->end && !b.done) {
                        const char *data;
                        size_t used, n;
                        int q = http_body_feed(&b, r->buf + r->start, r->end - r->start, &used,
                                               &data, &n);
                        if (q < 0)
                                return q;
                        r->start += used;
                        if (n > 0 && (q = out_put(o, data, n)) < 0)
                                return q;
                }
                if (b.done || b.mode == HTTP_BODY_NONE)
                        return 0;
                int n = reader_fill(r);
                if (n < 0)
                        return n;
                /* EPIPE is kept for "the output was closed". */
                if (n == 0 && http_body_eof(&b) < 0)
                        return error_setf(ECONNRESET, "the connection ended inside the body");
                if (n == 0)
                        return 0;
        }
}

int api_stream(const char *socket_path, const char *path, int out_fd, char **ret_body) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ Reader *r = calloc(1, sizeof *r);
        Out o = { .fd = -EBADF };
        HttpResponse h;
        int status, q;

        if (!r)
                return -ENOMEM;
        fd = api_send(socket_path, "GET", path, NULL);
        if (fd < 0)
                return fd;
        r->fd = fd;
        for (;;) {
                q = http_response_parse_head(r->buf, r->end, &h);
                if (q > 0)
                        break;
                if (q < 0)
                        return error_wrapf(q, "the berth API's answer is not valid HTTP");
                q = reader_fill(r);
                if (q <= 0)
                        return q < 0 ? q
                                     : error_setf(EBADMSG, "the berth API's answer is not HTTP");
        }
        r->start = (size_t) q;
        status = h.status;
        if (status == 200)
                o.fd = out_fd;
        q = read_body(r, &h, &o);
        http_response_done(&h);
        if (q < 0 && o.fd >= 0 && q != -EPIPE)
                return error_wrapf(q, "the berth API's stream broke off");
        if (status != 200) {
                if (q < 0) {
                        free(o.body);
                        return error_wrapf(q, "cannot read the berth API's answer");
                }
                *ret_body = o.body ?: strdup("");
                return *ret_body ? status : -ENOMEM;
        }
        *ret_body = NULL;
        return q == -EPIPE ? error_setf(EPIPE, "the output was closed") : status;
}

static int append_json_string(char **buf, const char *s) {
        size_t n = strlen(*buf);
        char *out = realloc(*buf, n + strlen(s) * 6 + 3);

        if (!out)
                return -ENOMEM;
        *buf = out;
        out += n;
        *out++ = '"';
        for (; *s; s++) {
                unsigned char c = *s;
                if (c == '"' || c == '\\') {
                        *out++ = '\\';
                        *out++ = c;
                } else if (c < 0x20)
                        out += sprintf(out, "\\u%04x", c);
                else
                        *out++ = c;
        }
        *out++ = '"';
        *out = 0;
        return 0;
}

static int append(char **buf, const char *s) {
        char *n = strdup_printf("%s%s", *buf, s);
        if (!n)
                return -ENOMEM;
        free(*buf);
        *buf = n;
        return 0;
}

static bool looks_like_json(const char *v) {
        char *end;

        if (strchr("[{\"", v[0]) && v[0])
                return true;
        if (streq(v, "true") || streq(v, "false") || streq(v, "null"))
                return true;
        if (*v == '-' || (*v >= '0' && *v <= '9')) {
                (void) strtod(v, &end);
                return *end == 0;
        }
        return false;
}

int api_patch_for(const char *path, const char *value, char **ret) {
        _cleanup_free_ char *section = NULL, *key = NULL, *name = NULL, *buf = strdup("{");
        const char *dot = strchr(path, '.'), *rest;
        int r;

        if (!buf)
                return -ENOMEM;
        if (!dot || dot == path)
                return error_setf(EINVAL, "'%s' is not a setting name (SECTION.KEY)", path);
        section = strndup(path, dot - path);
        rest = dot + 1;
        dot = strchr(rest, '.');
        if (dot) {
                size_t n = strlen(dot + 1);
                if (n < 3 || dot[1] != '"' || dot[n] != '"')
                        return error_setf(EINVAL, "'%s': a third part is quoted: KEY.\"NAME\"",
                                          path);
                key = strndup(rest, dot - rest);
                name = strndup(dot + 2, n - 2);
        } else
                key = strdup(rest);
        if (!section || !key || (dot && !name))
                return -ENOMEM;
        r = append_json_string(&buf, section);
        if (r >= 0)
                r = append(&buf, ": {");
        if (r >= 0)
                r = append_json_string(&buf, key);
        if (r >= 0)
                r = append(&buf, name ? ": {" : ": ");
        if (r >= 0 && name)
                r = append_json_string(&buf, name);
        if (r >= 0 && name)
                r = append(&buf, ": ");
        if (r >= 0)
                r = looks_like_json(value) ? append(&buf, value) : append_json_string(&buf, value);
        if (r >= 0)
                r = append(&buf, name ? "}}}" : "}}");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

char *api_error_message(const char *body) {
        const char *p = strstr(body, "\"error\"");
        char *out, *o;

        if (!p)
                return NULL;
        p += 7;
        p += strspn(p, " \t\r\n");
        if (*p != ':')
                return NULL;
        p++;
        p += strspn(p, " \t\r\n");
        if (*p != '"')
                return NULL;
        out = o = malloc(strlen(p) + 1);
        if (!out)
                return NULL;
        for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                        p++;
                        switch (*p) {
                        case 'n':
                                *o++ = '\n';
                                break;
                        case 't':
                                *o++ = '\t';
                                break;
                        case 'u':
                                /* Control characters only come escaped; show them as '?'. */
                                *o++ = '?';
                                p += strnlen(p + 1, 4);
                                break;
                        default:
                                *o++ = *p;
                        }
                } else
                        *o++ = *p;
        }
        *o = 0;
        return out;
}

int api_status_to_errno(int status) {
        switch (status) {
        case 400:
        case 413:
                return -EINVAL;
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 503:
                return -ETIMEDOUT;
        default:
                return status >= 500 ? -EPROTO : -EBADMSG;
        }
}
