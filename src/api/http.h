/* SPDX-License-Identifier: MIT */
/* http.h: the one door to libmicrohttpd. Serves HTTP/1.1 on a listening
 * socket the caller bound (berthd: a Unix socket), with one thread answering
 * requests in turn. Every connection's peer is checked with SO_PEERCRED
 * before its request is read further: only root (uid 0) gets an answer,
 * others get 403. Bodies larger than body_max get 413 without reaching the
 * handler; an idle connection is closed after timeout_s seconds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Answers one request: fills ret_status (an HTTP status) and ret_body (a JSON
 * text, malloc()ed, owned by the server afterwards). body is NUL-terminated. */
typedef void (*HttpHandler)(void *userdata, const char *method, const char *url, const char *body,
                            size_t size, unsigned *ret_status, char **ret_body);

/* A streamed answer: text/plain, chunked, sent as it comes. read() fills
 * buf with up to max bytes and returns the count; 0 when there is nothing
 * new yet (the server asks again every HTTP_STREAM_POLL_MS, without holding
 * up other requests, and ends the stream when the client has gone); or a
 * negative errno to end the stream. free() releases state. */
typedef struct HttpStream {
        ssize_t (*read)(void *state, char *buf, size_t max);
        void (*free)(void *state);
        void *state;
} HttpStream;

#define HTTP_STREAM_POLL_MS 250
/* Streams open at once; more get 503. */
#define HTTP_STREAMS_MAX 8

/* Looks at a request first: returns false to leave it to the HttpHandler,
 * true if it answered it, with *ret_stream (status 200) or with ret_status
 * and ret_body (a JSON error, as HttpHandler's). query is the decoded query
 * string's arguments as "key=value" words separated by '&' ("" if none;
 * '&', '=' and '%' inside keys and values are %-escaped again). */
typedef bool (*HttpStreamHandler)(void *userdata, const char *method, const char *url,
                                  const char *query, HttpStream *ret_stream, unsigned *ret_status,
                                  char **ret_body);

/* Called once a request's answer is sent (or the connection ended), on the
 * server's thread; may be NULL. */
typedef void (*HttpCompleted)(void *userdata);

typedef struct HttpServer HttpServer;

int http_server_start(int listen_fd, size_t body_max, unsigned timeout_s, HttpHandler handler,
                      void *userdata, HttpServer **ret);
/* The same, with a stream handler (userdata is passed to both). */
int http_server_start_streams(int listen_fd, size_t body_max, unsigned timeout_s,
                              HttpHandler handler, HttpStreamHandler streamer, void *userdata,
                              HttpServer **ret);
/* Calls completed(userdata) whenever a request's answer has been sent. */
void http_server_on_completed(HttpServer *s, HttpCompleted completed);
/* 0 while a connection is open, else the µs since the last one closed (or
 * since the start), at least 1. */
uint64_t http_server_idle_usec(HttpServer *s);
/* Stops accepting connections; those open are still served. */
void http_server_quiesce(HttpServer *s);
HttpServer *http_server_stop(HttpServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpServer *, http_server_stop);
