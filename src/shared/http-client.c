/* SPDX-License-Identifier: MIT */
/* berth's HTTP/1.1 download client (http-client.h). */
#include "http-client.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "http-parse.h"
#include "log.h"
#include "macro.h"
#include "tls.h"

#define BUF_SIZE (64u << 10)

struct HttpClient {
        int fd;
        TlsConn *tls;
        bool use_tls;
        char *host;
        unsigned port;
        bool reusable;     /* the last response ended cleanly and the server keeps the connection */
        size_t start, end; /* unread bytes: buf[start..end) */
        char buf[BUF_SIZE];
};

static void conn_close(HttpClient *c) {
        c->tls = tls_free(c->tls);
        c->fd = safe_close(c->fd);
        free(c->host);
        c->host = NULL;
        c->reusable = false;
        c->start = c->end = 0;
}

HttpClient *http_client_new(void) {
        struct sigaction sa;
        /* A write to a connection the server closed must be an EPIPE, not a
         * signal that kills the process (OpenSSL writes with plain send()). */
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
                (void) signal(SIGPIPE, SIG_IGN);
        HttpClient *c = malloc(sizeof *c);
        if (!c)
                return NULL;
        *c = (HttpClient){ .fd = -EBADF };
        return c;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        conn_close(c);
        free(c);
        return NULL;
}

int http_url_parse(const char *url, bool *ret_tls, char **ret_host, unsigned *ret_port,
                   char **ret_path) {
        const char *p, *auth_end, *host_end;
        _cleanup_free_ char *host = NULL, *path = NULL;
        unsigned port;
        bool tls;

        for (p = url; *p; p++)
                if ((unsigned char) *p <= 0x20 || *p == 0x7f)
                        return error_setf(EINVAL, "%s: a URL has no spaces or control bytes", url);
        if (strncasecmp(url, "http://", 7) == 0) {
                tls = false;
                p = url + 7;
                port = 80;
        } else if (strncasecmp(url, "https://", 8) == 0) {
                tls = true;
                p = url + 8;
                port = 443;
        } else
                return error_setf(EINVAL, "%s: not an http:// or https:// URL", url);
        auth_end = p + strcspn(p, "/?#");
        if (memchr(p, '@', auth_end - p))
                return error_setf(EINVAL, "%s: credentials in URLs are not supported", url);
        if (*p == '[') {
                host_end = memchr(p, ']', auth_end - p);
                if (!host_end || host_end == p + 1)
                        return error_setf(EINVAL, "%s: bad IPv6 address", url);
                host = strndup(p + 1, host_end - p - 1);
                host_end++;
        } else {
                host_end = memchr(p, ':', auth_end - p) ?: auth_end;
                host = strndup(p, host_end - p);
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host))
                return error_setf(EINVAL, "%s: no host", url);
        if (host_end < auth_end) {
                char *end;
                unsigned long v;
                if (*host_end != ':' || !isdigit((unsigned char) host_end[1]))
                        return error_setf(EINVAL, "%s: bad port", url);
                errno = 0;
                v = strtoul(host_end + 1, &end, 10);
                if (errno || end != auth_end || v == 0 || v > 65535)
                        return error_setf(EINVAL, "%s: bad port", url);
                port = (unsigned) v;
        }
        /* The path and query; never the fragment. */
        path = *auth_end == '/' ? strndup(auth_end, strcspn(auth_end, "#"))
                                : strdup_printf("/%.*s", (int) strcspn(auth_end, "#"), auth_end);
        if (!path)
                return -ENOMEM;
        *ret_tls = tls;
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms) {
        _cleanup_close_ int fd = socket(
                ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        int err = 0;
        socklen_t len = sizeof err;
        if (fd < 0)
                return -errno;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                int r = fd_wait(fd, POLLOUT, timeout_ms);
                if (r < 0)
                        return r;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        return -errno;
                if (err)
                        return -err;
        }
        return TAKE_FD(fd);
}

static int conn_open(HttpClient *c, bool tls, const char *host, unsigned port, int timeout_ms) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        struct addrinfo *res = NULL;
        char portstr[8];
        int r = -EHOSTUNREACH;

        conn_close(c);
        (void) snprintf(portstr, sizeof portstr, "%u", port);
        int k = getaddrinfo(host, portstr, &hints, &res);
        if (k != 0)
                return error_setf(EHOSTUNREACH, "cannot resolve %s: %s", host,
                                  k == EAI_SYSTEM ? strerror(errno) : gai_strerror(k));
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                r = connect_one(ai, timeout_ms);
                if (r >= 0)
                        break;
        }
        freeaddrinfo(res);
        if (r == -ETIMEDOUT)
                return error_setf(ETIMEDOUT, "cannot connect to %s port %u: no answer in %d s",
                                  host, port, timeout_ms / 1000);
        if (r < 0)
                return error_setf(-r == ECONNREFUSED ? ECONNREFUSED : -r,
                                  "cannot connect to %s port %u: %s", host, port, strerror(-r));
        c->fd = r;
        if (tls) {
                r = tls_connect(c->fd, host, timeout_ms, &c->tls);
                if (r < 0) {
                        c->fd = safe_close(c->fd);
                        return r;
                }
        }
        c->host = strdup(host);
        if (!c->host) {
                conn_close(c);
                return -ENOMEM;
        }
        c->use_tls = tls;
        c->port = port;
        return 0;
}

/* Reads more into the buffer. The count, 0 at the end of the stream, or a
 * negative errno (error set). */
static ssize_t conn_fill(HttpClient *c, int timeout_ms) {
        ssize_t n;
        if (c->start == c->end)
                c->start = c->end = 0;
        else if (c->end == BUF_SIZE) {
                memmove(c->buf, c->buf + c->start, c->end - c->start);
                c->end -= c->start;
                c->start = 0;
        }
        if (c->end == BUF_SIZE)
                return -ENOBUFS; /* callers never let a whole buffer go unused */
        if (c->tls)
                n = tls_read(c->tls, c->buf + c->end, BUF_SIZE - c->end, timeout_ms);
        else {
                int r = fd_wait(c->fd, POLLIN, timeout_ms);
                if (r == -ETIMEDOUT)
                        return error_setf(ETIMEDOUT, "no data from %s for %d s", c->host,
                                          timeout_ms / 1000);
                if (r < 0)
                        return r;
                n = read(c->fd, c->buf + c->end, BUF_SIZE - c->end);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        return conn_fill(c, timeout_ms);
                if (n < 0)
                        return error_setf(errno, "cannot read from %s: %s", c->host,
                                          strerror(errno));
        }
        if (n > 0)
                c->end += (size_t) n;
        return n;
}

static int conn_write_all(HttpClient *c, const char *data, size_t n, int timeout_ms) {
        if (c->tls)
                return tls_write_all(c->tls, data, n, timeout_ms);
        while (n > 0) {
                ssize_t k = send(c->fd, data, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EAGAIN) {
                        int r = fd_wait(c->fd, POLLOUT, timeout_ms);
                        if (r < 0)
                                return error_setf(-r, "cannot send to %s: %s", c->host,
                                                  strerror(-r));
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return error_setf(errno, "cannot send to %s: %s", c->host, strerror(errno));
                data += k;
                n -= (size_t) k;
        }
        return 0;
}

static char *host_header(const char *host, unsigned port, bool tls) {
        bool v6 = strchr(host, ':');
        if (port == (tls ? 443u : 80u))
                return strdup_printf(v6 ? "[%s]" : "%s", host);
        return strdup_printf(v6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* Reads one final (non-1xx) response head. 0 and *ret, or a negative errno;
 * -ECONNRESET (no error set) when the connection ended before any byte. */
static int read_head(HttpClient *c, int timeout_ms, HttpResponse *ret) {
        bool any = false;
        for (;;) {
                int k = http_response_parse_head(c->buf + c->start, c->end - c->start, ret);
                if (k < 0)
                        return k;
                if (k > 0) {
                        c->start += (size_t) k;
                        if (ret->status >= 200 || ret->status == 101)
                                return 0;
                        http_response_done(ret); /* 100 Continue and friends */
                        continue;
                }
                ssize_t n = conn_fill(c, timeout_ms);
                if (n == 0 && !any && c->start == c->end)
                        return -ECONNRESET;
                if (n == 0)
                        return error_setf(EPIPE, "%s closed the connection inside a response head",
                                          c->host);
                if (n < 0)
                        return (int) n;
                any = true;
        }
}

/* Removes "." and ".." segments from an absolute path in place (RFC 3986
 * 5.2.4); the query stays as it is. */
static void remove_dot_segments(char *path) {
        char *q = path + strcspn(path, "?");
        char save = *q, *out = path;
        *q = 0;
        for (char *in = path; *in;) {
                /* in points at a '/' */
                char *next = in + 1 + strcspn(in + 1, "/");
                size_t len = next - in - 1;
                if (len == 1 && in[1] == '.') {
                        if (!*next)
                                *out++ = '/';
                } else if (len == 2 && in[1] == '.' && in[2] == '.') {
                        while (out > path && *--out != '/')
                                ;
                        if (!*next)
                                *out++ = '/';
                } else {
                        memmove(out, in, next - in);
                        out += next - in;
                }
                in = next;
        }
        if (out == path)
                *out++ = '/';
        *q = save;
        memmove(out, q, strlen(q) + 1);
}

/* Where a redirect goes: Location resolved against the URL it came from. */
static char *resolve_location(bool tls, const char *host, unsigned port, const char *path,
                              const char *loc) {
        _cleanup_free_ char *hh = host_header(host, port, tls), *p = NULL;
        const char *scheme = tls ? "https" : "http";
        if (!hh)
                return NULL;
        if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0)
                return strdup(loc);
        if (strneq(loc, "//", 2))
                return strdup_printf("%s:%s", scheme, loc);
        if (loc[0] == '/')
                p = strdup(loc);
        else {
                size_t dir = strcspn(path, "?");
                while (dir > 0 && path[dir - 1] != '/')
                        dir--;
                p = strdup_printf("%.*s%s", (int) dir, path, loc);
        }
        if (!p)
                return NULL;
        remove_dot_segments(p);
        return strdup_printf("%s://%s%s", scheme, hh, p);
}

static bool is_redirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* One request. 0: done; 1: redirect to *ret_location; <0: failed (error set). */
static int request_once(HttpClient *c, const HttpGet *g, bool tls, const char *host, unsigned port,
                        const char *path, int *ret_status, char **ret_location) {
        int cto = (int) (g->connect_timeout_s ?: HTTP_CONNECT_TIMEOUT_DEFAULT) * 1000;
        int rto = (int) (g->read_timeout_s ?: HTTP_READ_TIMEOUT_DEFAULT) * 1000;
        _cleanup_free_ char *req = NULL, *hh = host_header(host, port, tls);
        char range[48] = "";
        HttpResponse h = {};
        HttpBody b;
        int r;

        if (!hh)
                return -ENOMEM;
        if (g->length > 0)
                (void) snprintf(range, sizeof range, "Range: bytes=%llu-%llu\r\n",
                                (unsigned long long) g->offset,
                                (unsigned long long) (g->offset + g->length - 1));
        else if (g->offset > 0)
                (void) snprintf(range, sizeof range, "Range: bytes=%llu-\r\n",
                                (unsigned long long) g->offset);
        if (g->post_body)
                req = strdup_printf(
                        "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: berth/" BERTH_VERSION
                        "\r\nAccept: application/json\r\nContent-Type: "
                        "application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
                        path, hh, g->post_size, (int) g->post_size, g->post_body);
        else
                req = strdup_printf(
                        "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: berth/" BERTH_VERSION
                        "\r\nAccept: */*\r\n%s\r\n",
                        path, hh, range);
        if (!req)
                return -ENOMEM;

        for (int attempt = 0;; attempt++) {
                bool reused = c->fd >= 0 && c->reusable && c->use_tls == tls && c->port == port &&
                              streq(c->host, host);
                if (!reused) {
                        r = conn_open(c, tls, host, port, cto);
                        if (r < 0)
                                return r;
                }
                c->reusable = false;
                c->start = c->end = 0;
                r = conn_write_all(c, req, strlen(req), rto);
                if (r >= 0)
                        r = read_head(c, rto, &h);
                /* A kept-alive connection the server has closed meanwhile:
                 * once more on a new one. */
                if (r < 0 && reused && attempt == 0 && (r == -ECONNRESET || r == -EPIPE)) {
                        error_clear();
                        conn_close(c);
                        continue;
                }
                if (r == -ECONNRESET)
                        r = error_setf(ECONNRESET, "%s closed the connection without an answer",
                                       host);
                if (r < 0) {
                        conn_close(c);
                        return r;
                }
                break;
        }
        *ret_status = h.status;

        if (is_redirect(h.status) && h.location && !g->post_body) {
                *ret_location = resolve_location(tls, host, port, path, h.location);
                http_response_done(&h);
                conn_close(c);
                return *ret_location ? 1 : -ENOMEM;
        }
        if (h.status < 200 || h.status > 299) {
                int code = h.status == 404 || h.status == 410 ? ENOENT
                           : h.status == 416                  ? ERANGE
                                                              : EPROTO;
                r = error_setf(code, "HTTP %d%s%s", h.status, h.reason[0] ? " " : "", h.reason);
                http_response_done(&h);
                conn_close(c);
                return r;
        }

        uint64_t start = 0, length = h.content_length;
        if (g->length > 0 && h.status != 206) {
                r = error_setf(EPROTO,
                               "the server answered a Range request with %d, not 206 Partial "
                               "Content",
                               h.status);
                http_response_done(&h);
                conn_close(c);
                return r;
        }
        if (h.status == 206) {
                if ((g->offset == 0 && g->length == 0) || h.range_start != g->offset || h.chunked ||
                    (h.content_length != HTTP_UNKNOWN &&
                     h.content_length != h.range_end - h.range_start + 1)) {
                        http_response_done(&h);
                        conn_close(c);
                        return error_setf(EBADMSG,
                                          "answered a range that was not asked for (from %llu)",
                                          (unsigned long long) h.range_start);
                }
                start = g->offset;
        }
        http_body_init(&b, &h, false);
        bool keep = !h.close && b.mode != HTTP_BODY_CLOSE;
        http_response_done(&h);
        if (g->on_start) {
                r = g->on_start(start, length, g->userdata);
                if (r < 0) {
                        conn_close(c);
                        return r;
                }
        }
        for (;;) {
                while (c->start < c->end && !b.done) {
                        const char *data;
                        size_t used, n;
                        r = http_body_feed(&b, c->buf + c->start, c->end - c->start, &used, &data,
                                           &n);
                        if (r < 0) {
                                conn_close(c);
                                return r;
                        }
                        c->start += used;
                        if (n > 0 && g->on_data) {
                                r = g->on_data(data, n, g->userdata);
                                if (r < 0) {
                                        conn_close(c);
                                        return r;
                                }
                        }
                }
                if (b.done || b.mode == HTTP_BODY_NONE)
                        break;
                ssize_t n = conn_fill(c, rto);
                if (n == 0) {
                        r = http_body_eof(&b);
                        conn_close(c);
                        return r;
                }
                if (n < 0) {
                        conn_close(c);
                        return (int) n;
                }
        }
        /* Nothing was pipelined: bytes past the body mean a confused server. */
        c->reusable = keep && c->start == c->end;
        if (!c->reusable)
                conn_close(c);
        return 0;
}

int http_get(HttpClient *c, const HttpGet *g, int *ret_status) {
        _cleanup_free_ char *url = strdup(g->url);
        int status = 0, r;

        if (ret_status)
                *ret_status = 0;
        if (!url)
                return -ENOMEM;
        for (unsigned redirects = 0;; redirects++) {
                _cleanup_free_ char *host = NULL, *path = NULL, *next = NULL;
                unsigned port;
                bool tls;

                r = http_url_parse(url, &tls, &host, &port, &path);
                if (r < 0)
                        break;
                log_debug("http: %s %s%s", g->post_body ? "POST" : "GET", url,
                          g->offset > 0 ? " (resuming)" : "");
                r = request_once(c, g, tls, host, port, path, &status, &next);
                if (r <= 0) {
                        if (r < 0)
                                r = error_wrapf(r, "%s", url);
                        break;
                }
                if (redirects >= HTTP_REDIRECTS_MAX) {
                        r = error_setf(ELOOP, "%s: more than %u redirects", g->url,
                                       HTTP_REDIRECTS_MAX);
                        break;
                }
                if (tls && strncasecmp(next, "http://", 7) == 0) {
                        r = error_setf(EPROTO, "%s: refusing a redirect from https to %s", url,
                                       next);
                        break;
                }
                log_debug("http: %s redirects to %s", url, next);
                free(url);
                url = TAKE_PTR(next);
        }
        if (ret_status)
                *ret_status = status;
        return r;
}
