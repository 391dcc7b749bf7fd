/* SPDX-License-Identifier: MIT */
/* http-client.h: berth's own HTTP/1.1 client for downloads (GET) and small
 * JSON requests (POST, the etcd client):
 * http:// and https:// (TLS through tls.h, peers checked against the system
 * CA store), a Range request to resume, Content-Length, chunked and
 * close-delimited bodies (http-parse.h), a bounded number of redirects,
 * connect and read timeouts with poll(). One HttpClient keeps one
 * connection alive between requests to the same server; it is not shared
 * between threads (give each thread its own). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HttpClient HttpClient;

HttpClient *http_client_new(void);
HttpClient *http_client_free(HttpClient *c);
static inline void http_client_freep(HttpClient **c) {
        http_client_free(*c);
}

#define HTTP_CONNECT_TIMEOUT_DEFAULT 30u
#define HTTP_READ_TIMEOUT_DEFAULT 60u
#define HTTP_REDIRECTS_MAX 5u

typedef struct HttpGet {
        const char *url;
        uint64_t offset;            /* > 0: ask for the bytes from offset on (Range) */
        uint64_t length;            /* > 0: only length bytes from offset (a closed Range),
                                       and anything but 206 Partial Content is an error */
        unsigned connect_timeout_s; /* connect and TLS handshake; 0: the default */
        unsigned read_timeout_s;    /* longest wait for any byte; 0: the default */
        /* Before the first body byte: the offset the body starts at (0 when the
         * server ignored the Range and sends everything, else offset) and its
         * length (HTTP_UNKNOWN when not known). */
        int (*on_start)(uint64_t offset, uint64_t length, void *userdata);
        /* Body data, in order. A negative return stops the transfer with it. */
        int (*on_data)(const void *data, size_t size, void *userdata);
        void *userdata;
        /* Not NULL: a POST of these bytes (Content-Type: application/json)
         * instead of a GET; no Range, and a redirect is an error. */
        const char *post_body;
        size_t post_size;
} HttpGet;

/* GET g->url, following at most HTTP_REDIRECTS_MAX redirects (never from
 * https to http). Returns 0 when a 2xx body was delivered completely, or a
 * negative errno with the error set to one message naming the URL:
 * -ENOENT (404, 410), -ERANGE (416), -EPROTO (any other status; 5xx are
 * worth another try), -ETIMEDOUT (connect or read timeout), -ECONNREFUSED,
 * -EHOSTUNREACH (no address), -EPIPE (the connection ended inside the
 * body), -EBADMSG (not HTTP), -ELOOP (too many redirects), -EINVAL (a URL
 * that is not http:// or https://), or what a callback returned.
 * *ret_status (may be NULL) gets the last HTTP status, 0 if none came. */
int http_get(HttpClient *c, const HttpGet *g, int *ret_status);

/* Splits an http:// or https:// URL. Returns -EINVAL (error set) when it is
 * not one: no host, a bad port, spaces or control bytes. */
int http_url_parse(const char *url, bool *ret_tls, char **ret_host, unsigned *ret_port,
                   char **ret_path);
