/* SPDX-License-Identifier: MIT */
/* berth's HTTP response parser (src/shared/http-parse.c): heads, bodies by
 * Content-Length, chunked coding and connection end, and what a hostile or
 * broken server sends: bad headers, truncated bodies, oversized heads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "fileio.h"
#include "http-parse.h"
#include "macro.h"

/* Parses a whole response; returns the status or the error. */
static int parse(const char *s, char **ret_body, size_t *ret_size) {
        HttpResponse h;
        int r = http_response_parse_full(s, strlen(s), &h, ret_body, ret_size);
        if (r >= 0)
                http_response_done(&h);
        return r;
}

static void test_head_fields(void **state) {
        const char *s = "HTTP/1.1 206 Partial Content\r\n"
                        "Content-Length: 10\r\n"
                        "content-range:   bytes 100-109/2000  \r\n"
                        "Location: /elsewhere\r\n"
                        "X-Other: whatever: with colons\r\n"
                        "\r\nbody";
        HttpResponse h;
        int k = http_response_parse_head(s, strlen(s), &h);
        assert_int_equal(k, (int) (strstr(s, "body") - s));
        assert_int_equal(h.status, 206);
        assert_int_equal(h.minor, 1);
        assert_string_equal(h.reason, "Partial Content");
        assert_int_equal(h.content_length, 10);
        assert_int_equal(h.range_start, 100);
        assert_int_equal(h.range_end, 109);
        assert_int_equal(h.range_total, 2000);
        assert_string_equal(h.location, "/elsewhere");
        assert_false(h.close);
        assert_false(h.chunked);
        http_response_done(&h);
}

static void test_head_incomplete_until_blank_line(void **state) {
        const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
        HttpResponse h;
        for (size_t n = 0; n < strlen(s); n++)
                assert_int_equal(http_response_parse_head(s, n, &h), 0);
        assert_int_equal(http_response_parse_head(s, strlen(s), &h), (int) strlen(s));
        http_response_done(&h);
}

static void test_http10_closes_and_bare_lf(void **state) {
        const char *s = "HTTP/1.0 200 OK\nServer: x\n\n";
        HttpResponse h;
        assert_int_equal(http_response_parse_head(s, strlen(s), &h), (int) strlen(s));
        assert_true(h.close);
        assert_int_equal(h.content_length, HTTP_UNKNOWN);
        http_response_done(&h);
}

static void expect_bad_head(const char *s, const char *msg) {
        HttpResponse h;
        assert_int_equal(http_response_parse_head(s, strlen(s), &h), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), msg);
}

static void test_bad_heads(void **state) {
        expect_bad_head("HTTP/2 200 OK\r\n\r\n",
                        "HTTP response line 1: not an HTTP/1.x status line");
        expect_bad_head("HTTP/1.1 20 OK\r\n\r\n",
                        "HTTP response line 1: not an HTTP/1.x status line");
        expect_bad_head("HTTP/1.1 200OK\r\n\r\n",
                        "HTTP response line 1: not an HTTP/1.x status line");
        expect_bad_head("SSH-2.0-OpenSSH\r\n\r\n",
                        "HTTP response line 1: not an HTTP/1.x status line");
        expect_bad_head("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
                        "HTTP response line 2: not a header field");
        expect_bad_head("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                        "HTTP response line 2: not a header field");
        expect_bad_head("HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n",
                        "HTTP response line 3: folded header lines are not allowed");
        expect_bad_head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                        "HTTP response line 2: bad Content-Length");
        expect_bad_head("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                        "HTTP response line 2: bad Content-Length");
        expect_bad_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                        "HTTP response line 3: a second, different Content-Length");
        expect_bad_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                        "HTTP response line 2: unsupported Transfer-Encoding 'gzip, chunked'");
        expect_bad_head("HTTP/1.1 206 OK\r\nContent-Range: bytes 9-3/10\r\n\r\n",
                        "HTTP response line 2: bad Content-Range");
        expect_bad_head("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
                        "HTTP response line 2: stray control byte");
}

static void test_oversized_head(void **state) {
        size_t n = HTTP_HEAD_MAX + 100;
        _cleanup_free_ char *s = malloc(n);
        HttpResponse h;
        assert_non_null(s);
        memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
        memset(s + 20, 'a', n - 20);
        assert_int_equal(http_response_parse_head(s, n, &h), -EMSGSIZE);
        assert_string_equal(error_message(-EMSGSIZE), "HTTP response head longer than 16384 bytes");
        /* Short of the limit it just asks for more. */
        assert_int_equal(http_response_parse_head(s, HTTP_HEAD_MAX - 1, &h), 0);
}

static void test_content_length_body(void **state) {
        _cleanup_free_ char *b = NULL;
        size_t n;
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &b, &n), 200);
        assert_int_equal(n, 5);
        assert_string_equal(b, "hello");
}

static void test_truncated_bodies(void **state) {
        char *b = NULL;
        size_t n;
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", &b, &n),
                         -EPIPE);
        assert_string_equal(error_message(-EPIPE),
                            "connection closed with 5 bytes of the body still to come");
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5\r\nhello\r\n",
                               &b, &n),
                         -EPIPE);
        assert_string_equal(error_message(-EPIPE), "connection closed before the last chunk");
        assert_int_equal(
                parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", &b, &n),
                -EPIPE);
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", &b, &n), -EPIPE);
        assert_string_equal(error_message(-EPIPE),
                            "connection closed inside the HTTP response head");
        assert_null(b);
}

static void test_close_delimited_body(void **state) {
        _cleanup_free_ char *b = NULL;
        size_t n;
        assert_int_equal(parse("HTTP/1.0 200 OK\r\n\r\nuntil the end", &b, &n), 200);
        assert_string_equal(b, "until the end");
}

static void test_no_body_statuses(void **state) {
        _cleanup_free_ char *b = NULL;
        size_t n;
        assert_int_equal(parse("HTTP/1.1 304 Not Modified\r\n\r\n", &b, &n), 304);
        assert_int_equal(n, 0);
}

static void test_chunked_body(void **state) {
        _cleanup_free_ char *b = NULL;
        size_t n;
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Content-Length: 999\r\n\r\n"
                               "5;name=value\r\nhello\r\n"
                               "1\r\n \r\n"
                               "A\r\n0123456789\r\n"
                               "0\r\nTrailer: x\r\n\r\n",
                               &b, &n),
                         200);
        assert_int_equal(n, 16);
        assert_string_equal(b, "hello 0123456789");
}

/* The same chunked body fed one byte at a time gives the same data. */
static void test_chunked_byte_by_byte(void **state) {
        const char *s = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
        HttpResponse h = { .status = 200, .chunked = true, .content_length = HTTP_UNKNOWN };
        HttpBody b;
        char out[64];
        size_t o = 0, i = 0;
        int r = 0;

        http_body_init(&b, &h, false);
        assert_int_equal(b.mode, HTTP_BODY_CHUNKED);
        while (r == 0 && i < strlen(s)) {
                const char *data;
                size_t used, dn;
                r = http_body_feed(&b, s + i, 1, &used, &data, &dn);
                assert_true(r >= 0);
                memcpy(out + o, data, dn);
                o += dn;
                i += used;
        }
        assert_int_equal(r, 1);
        out[o] = 0;
        assert_string_equal(out, "Wikipedia in\r\n\r\nchunks.");
        assert_string_equal(s + i, "NEXT");
}

static void expect_bad_chunks(const char *body, const char *msg) {
        _cleanup_free_ char *s =
                strdup_printf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s", body);
        char *b = NULL;
        size_t n;
        assert_int_equal(parse(s, &b, &n), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), msg);
}

static void test_bad_chunks(void **state) {
        expect_bad_chunks("x\r\n", "HTTP chunked body: no chunk size");
        expect_bad_chunks("5x\r\n", "HTTP chunked body: bad byte in a chunk size");
        expect_bad_chunks("1000000000000000\r\n", "HTTP chunked body: chunk size too large");
        expect_bad_chunks("5\r\nhelloX\r\n", "HTTP chunked body: chunk data not followed by CR LF");
        expect_bad_chunks("5\rX", "HTTP chunked body: chunk size line not ended by CR LF");
        expect_bad_chunks("5;a\nb\r\n", "HTTP chunked body: bad chunk extension");
        expect_bad_chunks("0\r\nX\n", "HTTP chunked body: bad trailer line");
        expect_bad_chunks("0\r\n\rX", "HTTP chunked body: last chunk not ended by CR LF");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_head_fields),
                cmocka_unit_test(test_head_incomplete_until_blank_line),
                cmocka_unit_test(test_http10_closes_and_bare_lf),
                cmocka_unit_test(test_bad_heads),
                cmocka_unit_test(test_oversized_head),
                cmocka_unit_test(test_content_length_body),
                cmocka_unit_test(test_truncated_bodies),
                cmocka_unit_test(test_close_delimited_body),
                cmocka_unit_test(test_no_body_statuses),
                cmocka_unit_test(test_chunked_body),
                cmocka_unit_test(test_chunked_byte_by_byte),
                cmocka_unit_test(test_bad_chunks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
