/* SPDX-License-Identifier: MIT */
/* api-client.h: the client side of the node API (docs/api.md), libc only so
 * that `berth` stays light: a small HTTP/1.1 client on a Unix socket, and the
 * pieces of JSON the CLI writes and reads by itself. */
#pragma once

#include <stddef.h>

#define API_SOCKET "/run/berth/api.sock"
/* Longest response read. */
#define API_RESPONSE_MAX (1u << 20)

/* Sends METHOD PATH with body (NULL: none) to the API at socket, waits up
 * to timeout_s for the whole response. Returns the HTTP status (200, 400,
 * ...) and the response body (malloc()ed), or a negative errno when the
 * socket could not be used or the response is not HTTP. */
int api_request(const char *socket, const char *method, const char *path, const char *body,
                unsigned timeout_s, char **ret_body);

/* GET PATH as a stream: a 200 answer's body (chunked or not) is written to
 * out_fd as it arrives, with no time limit (the caller decides when to
 * stop), and *ret_body is NULL; any other answer's body is returned in
 * *ret_body (malloc()ed). Returns the HTTP status or a negative errno. */
int api_stream(const char *socket, const char *path, int out_fd, char **ret_body);

/* A JSON merge patch setting a dotted path: "time.servers" and a value.
 * The value is passed as JSON if it looks like JSON (an array, object,
 * string, number, true, false, null), else as a JSON string. The path is
 * SECTION.KEY or SECTION.KEY."NAME" (kernel.sysctl."vm.swappiness"). */
int api_patch_for(const char *path, const char *value, char **ret);

/* The "error" string of an error response, unescaped; NULL if none. */
char *api_error_message(const char *body);

/* A negative errno for an HTTP error status (400 -> -EINVAL, ...). */
int api_status_to_errno(int status);
