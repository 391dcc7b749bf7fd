/* SPDX-License-Identifier: MIT */
/* berth's HTTP/1.x response parser (http-parse.h). */
#include "http-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "hexuuid.h"
#include "macro.h"

void http_response_done(HttpResponse *r) {
        free(r->location);
        r->location = NULL;
}

static bool is_tchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A decimal number of at most 19 digits, nothing else. */
static int parse_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        if (n == 0 || n > 19)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

/* Whether the comma-separated list v[0..n) holds token (case-insensitive). */
static bool list_has(const char *v, size_t n, const char *token) {
        size_t tl = strlen(token);
        for (size_t i = 0; i < n;) {
                while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
                        i++;
                size_t s = i;
                while (i < n && v[i] != ',')
                        i++;
                size_t e = i;
                while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
                        e--;
                if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
                        return true;
        }
        return false;
}

/* Content-Range: bytes START-END/TOTAL (TOTAL may be '*'). */
static int parse_content_range(const char *v, size_t n, HttpResponse *r) {
        const char *dash, *slash, *end = v + n;
        if (n < 6 || strncasecmp(v, "bytes ", 6) != 0)
                return -EBADMSG;
        v += 6;
        dash = memchr(v, '-', end - v);
        slash = dash ? memchr(dash, '/', end - dash) : NULL;
        if (!dash || !slash || parse_u64(v, dash - v, &r->range_start) < 0 ||
            parse_u64(dash + 1, slash - dash - 1, &r->range_end) < 0 ||
            r->range_end < r->range_start)
                return -EBADMSG;
        if (end - slash == 2 && slash[1] == '*')
                r->range_total = HTTP_UNKNOWN;
        else if (parse_u64(slash + 1, end - slash - 1, &r->range_total) < 0 ||
                 r->range_total <= r->range_end)
                return -EBADMSG;
        return 0;
}

static int header(HttpResponse *r, const char *name, size_t nn, const char *v, size_t vn,
                  unsigned line) {
#define IS(s) (nn == strlen(s) && strncasecmp(name, s, nn) == 0)
        if (IS("Content-Length")) {
                uint64_t len;
                if (parse_u64(v, vn, &len) < 0)
                        return error_setf(EBADMSG, "HTTP response line %u: bad Content-Length",
                                          line);
                if (r->content_length != HTTP_UNKNOWN && r->content_length != len)
                        return error_setf(EBADMSG,
                                          "HTTP response line %u: a second, different "
                                          "Content-Length",
                                          line);
                r->content_length = len;
        } else if (IS("Transfer-Encoding")) {
                /* Only chunked is asked for (no Accept-Encoding, no TE). */
                if (!list_has(v, vn, "chunked") || vn != strlen("chunked") ||
                    strncasecmp(v, "chunked", vn) != 0)
                        return error_setf(EBADMSG,
                                          "HTTP response line %u: unsupported Transfer-Encoding "
                                          "'%.*s'",
                                          line, (int) MIN(vn, 64u), v);
                r->chunked = true;
        } else if (IS("Connection")) {
                if (list_has(v, vn, "close"))
                        r->close = true;
                else if (list_has(v, vn, "keep-alive") && r->minor == 0)
                        r->close = false;
        } else if (IS("Content-Range")) {
                if (parse_content_range(v, vn, r) < 0)
                        return error_setf(EBADMSG, "HTTP response line %u: bad Content-Range",
                                          line);
        } else if (IS("Location")) {
                if (r->location)
                        return error_setf(EBADMSG, "HTTP response line %u: a second Location",
                                          line);
                r->location = strndup(v, vn);
                if (!r->location)
                        return -ENOMEM;
        }
        return 0;
#undef IS
}

static int status_line(const char *l, size_t n, HttpResponse *r) {
        /* HTTP/1.x SSS[ reason] */
        if (n < 12 || !strneq(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
            l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
            (n > 12 && l[12] != ' '))
                return error_setf(EBADMSG, "HTTP response line 1: not an HTTP/1.x status line");
        r->minor = l[7] - '0';
        r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
        r->close = r->minor == 0;
        if (n > 13) {
                size_t k = MIN(n - 13, sizeof r->reason - 1);
                memcpy(r->reason, l + 13, k);
                r->reason[k] = 0;
                for (size_t i = 0; i < k; i++)
                        if ((unsigned char) r->reason[i] < 0x20 || r->reason[i] == 0x7f)
                                r->reason[i] = '?';
        }
        return 0;
}

int http_response_parse_head(const char *buf, size_t n, HttpResponse *ret) {
        HttpResponse r = {
                .content_length = HTTP_UNKNOWN,
                .range_start = HTTP_UNKNOWN,
                .range_end = HTTP_UNKNOWN,
                .range_total = HTTP_UNKNOWN,
        };
        size_t pos = 0, head_len = 0;
        unsigned line = 0;
        int k;

        /* Find the blank line first: nothing is parsed twice on a short read. */
        for (size_t i = 0; i < n && i < HTTP_HEAD_MAX; i++)
                if (buf[i] == '\n' && ((i >= 1 && buf[i - 1] == '\n') ||
                                       (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
                        head_len = i + 1;
                        break;
                }
        if (head_len == 0)
                return n >= HTTP_HEAD_MAX
                               ? error_setf(EMSGSIZE, "HTTP response head longer than %u bytes",
                                            HTTP_HEAD_MAX)
                               : 0;

        while (pos < head_len) {
                const char *l = buf + pos, *nl = memchr(l, '\n', head_len - pos);
                size_t len = nl - l;
                pos += len + 1;
                if (len > 0 && l[len - 1] == '\r')
                        len--;
                line++;
                if (memchr(l, 0, len) || (memchr(l, '\r', len)))
                        return http_response_done(&r),
                               error_setf(EBADMSG, "HTTP response line %u: stray control byte",
                                          line);
                if (line == 1) {
                        k = status_line(l, len, &r);
                        if (k < 0)
                                return k;
                        continue;
                }
                if (len == 0)
                        break;
                if (l[0] == ' ' || l[0] == '\t') {
                        http_response_done(&r);
                        return error_setf(EBADMSG,
                                          "HTTP response line %u: folded header lines are not "
                                          "allowed",
                                          line);
                }
                const char *colon = memchr(l, ':', len);
                size_t nn = colon ? (size_t) (colon - l) : 0;
                for (size_t i = 0; i < nn; i++)
                        if (!is_tchar(l[i]))
                                nn = 0;
                if (nn == 0) {
                        http_response_done(&r);
                        return error_setf(EBADMSG, "HTTP response line %u: not a header field",
                                          line);
                }
                const char *v = colon + 1, *e = l + len;
                while (v < e && (*v == ' ' || *v == '\t'))
                        v++;
                while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                k = header(&r, l, nn, v, e - v, line);
                if (k < 0) {
                        http_response_done(&r);
                        return k;
                }
        }
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3); a server
         * that sends both gets its connection closed after the response. */
        if (r.chunked && r.content_length != HTTP_UNKNOWN) {
                r.content_length = HTTP_UNKNOWN;
                r.close = true;
        }
        *ret = r;
        return (int) head_len;
}

void http_body_init(HttpBody *b, const HttpResponse *r, bool head_request) {
        *b = (HttpBody){};
        if (head_request || r->status < 200 || r->status == 204 || r->status == 304) {
                b->mode = HTTP_BODY_NONE;
                b->done = true;
        } else if (r->chunked)
                b->mode = HTTP_BODY_CHUNKED;
        else if (r->content_length != HTTP_UNKNOWN) {
                b->mode = HTTP_BODY_LENGTH;
                b->left = r->content_length;
                b->done = b->left == 0;
        } else
                b->mode = HTTP_BODY_CLOSE;
}

enum {
        CH_SIZE,    /* hex digits */
        CH_EXT,     /* ;extensions up to CR LF */
        CH_SIZE_LF, /* after CR of the size line */
        CH_DATA,    /* left bytes of data */
        CH_DATA_CR, /* CR after the data */
        CH_DATA_LF, /* LF after the data */
        CH_TRAILER, /* start of a trailer line (empty: the end) */
        CH_TRAILER_LINE,
        CH_TRAILER_LF,
        CH_LAST_LF, /* LF of the final empty line */
};

/* Bound on a chunk-size line (with extensions) and on each trailer line. */
#define CHUNK_LINE_MAX 4096u

static int chunk_bad(const char *what) {
        return error_setf(EBADMSG, "HTTP chunked body: %s", what);
}

static int chunked_feed(HttpBody *b, const char *in, size_t n, size_t *ret_used,
                        const char **ret_data, size_t *ret_size) {
        size_t i = 0;
        while (i < n && !b->done) {
                char c = in[i];
                switch (b->state) {
                case CH_SIZE: {
                        int h = unhexchar(c);
                        if (h >= 0) {
                                if (b->digits >= 15)
                                        return chunk_bad("chunk size too large");
                                b->left = b->left * 16 + (uint64_t) h;
                                b->digits++;
                        } else if (b->digits == 0)
                                return chunk_bad("no chunk size");
                        else if (c == ';' || c == ' ' || c == '\t')
                                b->state = CH_EXT;
                        else if (c == '\r')
                                b->state = CH_SIZE_LF;
                        else
                                return chunk_bad("bad byte in a chunk size");
                        i++;
                        break;
                }
                case CH_EXT:
                        if (++b->line > CHUNK_LINE_MAX)
                                return chunk_bad("chunk extension too long");
                        if (c == '\r')
                                b->state = CH_SIZE_LF;
                        else if (c == '\n' || c == 0)
                                return chunk_bad("bad chunk extension");
                        i++;
                        break;
                case CH_SIZE_LF:
                        if (c != '\n')
                                return chunk_bad("chunk size line not ended by CR LF");
                        i++;
                        b->line = 0;
                        b->digits = 0;
                        b->state = b->left == 0 ? CH_TRAILER : CH_DATA;
                        break;
                case CH_DATA: {
                        size_t k = (size_t) MIN((uint64_t) (n - i), b->left);
                        *ret_data = in + i;
                        *ret_size = k;
                        b->left -= k;
                        if (b->left == 0)
                                b->state = CH_DATA_CR;
                        *ret_used = i + k;
                        return 0; /* one span per call */
                }
                case CH_DATA_CR:
                        if (c != '\r')
                                return chunk_bad("chunk data not followed by CR LF");
                        b->state = CH_DATA_LF;
                        i++;
                        break;
                case CH_DATA_LF:
                        if (c != '\n')
                                return chunk_bad("chunk data not followed by CR LF");
                        b->state = CH_SIZE;
                        i++;
                        break;
                case CH_TRAILER:
                        if (c == '\r')
                                b->state = CH_LAST_LF;
                        else {
                                b->state = CH_TRAILER_LINE;
                                b->line = 0;
                                continue;
                        }
                        i++;
                        break;
                case CH_TRAILER_LINE:
                        if (++b->line > CHUNK_LINE_MAX)
                                return chunk_bad("trailer line too long");
                        if (c == '\r')
                                b->state = CH_TRAILER_LF;
                        else if (c == '\n' || c == 0)
                                return chunk_bad("bad trailer line");
                        i++;
                        break;
                case CH_TRAILER_LF:
                        if (c != '\n')
                                return chunk_bad("trailer line not ended by CR LF");
                        b->state = CH_TRAILER;
                        i++;
                        break;
                case CH_LAST_LF:
                        if (c != '\n')
                                return chunk_bad("last chunk not ended by CR LF");
                        b->done = true;
                        i++;
                        break;
                }
        }
        *ret_used = i;
        return b->done ? 1 : 0;
}

int http_body_feed(HttpBody *b, const char *in, size_t n, size_t *ret_used, const char **ret_data,
                   size_t *ret_size) {
        *ret_used = 0;
        *ret_data = in;
        *ret_size = 0;
        if (b->done)
                return 1;
        switch (b->mode) {
        case HTTP_BODY_NONE:
                return 1;
        case HTTP_BODY_CLOSE:
                *ret_used = *ret_size = n;
                return 0;
        case HTTP_BODY_LENGTH: {
                size_t k = (size_t) MIN((uint64_t) n, b->left);
                *ret_used = *ret_size = k;
                b->left -= k;
                b->done = b->left == 0;
                return b->done ? 1 : 0;
        }
        case HTTP_BODY_CHUNKED:
                return chunked_feed(b, in, n, ret_used, ret_data, ret_size);
        }
        return -EINVAL;
}

int http_body_eof(HttpBody *b) {
        if (b->done || b->mode == HTTP_BODY_CLOSE) {
                b->done = true;
                return 0;
        }
        if (b->mode == HTTP_BODY_LENGTH)
                return error_setf(EPIPE,
                                  "connection closed with %llu bytes of the body still to come",
                                  (unsigned long long) b->left);
        return error_setf(EPIPE, "connection closed before the last chunk");
}

int http_response_parse_full(const char *buf, size_t n, HttpResponse *ret_head, char **ret_body,
                             size_t *ret_size) {
        HttpResponse h;
        HttpBody b;
        _cleanup_free_ char *body = NULL;
        size_t size = 0;
        int k, r;

        k = http_response_parse_head(buf, n, &h);
        if (k == 0)
                return error_setf(EPIPE, "connection closed inside the HTTP response head");
        if (k < 0)
                return k;
        body = malloc(n - k + 1);
        if (!body) {
                http_response_done(&h);
                return -ENOMEM;
        }
        http_body_init(&b, &h, false);
        for (size_t pos = k;;) {
                const char *data;
                size_t used, dn;
                r = http_body_feed(&b, buf + pos, n - pos, &used, &data, &dn);
                if (r < 0) {
                        http_response_done(&h);
                        return r;
                }
                memcpy(body + size, data, dn);
                size += dn;
                pos += used;
                if (r > 0 || pos >= n)
                        break;
        }
        r = http_body_eof(&b);
        if (r < 0) {
                http_response_done(&h);
                return r;
        }
        body[size] = 0;
        *ret_head = h;
        *ret_body = TAKE_PTR(body);
        *ret_size = size;
        return h.status;
}
