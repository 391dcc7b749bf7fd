/* SPDX-License-Identifier: MIT */
/* http.h: the one door to libmicrohttpd. Serves HTTP/1.1 on a listening
 * socket the caller bound (berthd: a Unix socket), with one thread answering
 * requests in turn. Every connection's peer is checked with SO_PEERCRED
 * before its request is read further: only root (uid 0) gets an answer,
 * others get 403. Bodies larger than body_max get 413 without reaching the
 * handler; an idle connection is closed after timeout_s seconds. */
#pragma once

#include <stddef.h>

#include "macro.h"

/* Answers one request: fills ret_status (an HTTP status) and ret_body (a JSON
 * text, malloc()ed, owned by the server afterwards). body is NUL-terminated. */
typedef void (*HttpHandler)(void *userdata, const char *method, const char *url, const char *body,
                            size_t size, unsigned *ret_status, char **ret_body);

typedef struct HttpServer HttpServer;

int http_server_start(int listen_fd, size_t body_max, unsigned timeout_s, HttpHandler handler,
                      void *userdata, HttpServer **ret);
HttpServer *http_server_stop(HttpServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpServer *, http_server_stop);
