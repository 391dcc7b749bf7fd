/* SPDX-License-Identifier: MIT */
/* http-parse.h: berth's one HTTP/1.x response parser, libc only, so that
 * both the download client (http-client.h, with TLS) and the node API's
 * client in the libc-only CLI (api-client.h) use it. It parses a response
 * head (status line and headers) and decodes a body framed by
 * Content-Length, chunked transfer coding or the end of the connection.
 * Input is untrusted: sizes are bounded, numbers range-checked, and a bad
 * byte gives -EBADMSG with a message naming the line or field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A head (status line and headers) longer than this is refused. */
#define HTTP_HEAD_MAX (16u << 10)
#define HTTP_UNKNOWN UINT64_MAX

typedef struct HttpResponse {
        int minor;               /* HTTP/1.minor: 0 or 1 */
        int status;              /* 100..599 */
        char reason[64];         /* reason phrase, cut at 63 bytes */
        bool chunked;            /* Transfer-Encoding: chunked */
        uint64_t content_length; /* HTTP_UNKNOWN if absent */
        bool close;              /* the server closes after this response */
        uint64_t range_start;    /* Content-Range: bytes START-END/TOTAL; */
        uint64_t range_end;      /*   HTTP_UNKNOWN when absent */
        uint64_t range_total;    /*   HTTP_UNKNOWN when absent or '*' */
        char *location;          /* Location:, malloc()ed, or NULL */
} HttpResponse;

void http_response_done(HttpResponse *r);

/* Parses the head at buf[0..n). Returns its length including the blank
 * line (> 0) when complete, 0 when more bytes are needed, -EMSGSIZE when
 * no head ends within HTTP_HEAD_MAX bytes, -EBADMSG (error set) when the
 * head is malformed. *ret is written only when a head is returned. */
int http_response_parse_head(const char *buf, size_t n, HttpResponse *ret);

typedef enum HttpBodyMode {
        HTTP_BODY_NONE,   /* 1xx, 204, 304, a HEAD request: no body */
        HTTP_BODY_LENGTH, /* Content-Length bytes */
        HTTP_BODY_CHUNKED,
        HTTP_BODY_CLOSE, /* until the server closes the connection */
} HttpBodyMode;

typedef struct HttpBody {
        HttpBodyMode mode;
        uint64_t left;   /* LENGTH: bytes to come; CHUNKED: of this chunk */
        int state;       /* CHUNKED: where in the framing */
        unsigned digits; /* CHUNKED: hex digits of the size so far */
        unsigned line;   /* CHUNKED: bytes of the current size or trailer line */
        bool done;
} HttpBody;

/* Sets up decoding for the response r (head_request: it answers HEAD). */
void http_body_init(HttpBody *b, const HttpResponse *r, bool head_request);

/* Decodes from in[0..n): consumes *ret_used bytes (<= n) of which the body
 * data are (*ret_data, *ret_size), a span inside in (possibly empty). Call
 * again with the rest until everything is used. Returns 1 when the body is
 * complete (bytes after it belong to the next response), 0 when it needs
 * more, -EBADMSG (error set) on bad chunk framing. */
int http_body_feed(HttpBody *b, const char *in, size_t n, size_t *ret_used, const char **ret_data,
                   size_t *ret_size);

/* The connection ended: 0 if that completes the body (HTTP_BODY_CLOSE, or
 * done already), else -EPIPE (error set: the body was truncated). */
int http_body_eof(HttpBody *b);

/* A whole response in buf[0..n), read until the server closed: parses the
 * head and decodes the body into *ret_body (malloc()ed, NUL-terminated,
 * length in *ret_size). Returns the status or a negative errno (error set). */
int http_response_parse_full(const char *buf, size_t n, HttpResponse *ret_head, char **ret_body,
                             size_t *ret_size);
