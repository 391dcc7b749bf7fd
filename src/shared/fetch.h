/* SPDX-License-Identifier: MIT */
/* fetch.h: downloads on berth's own HTTP client (http-client.h). Files go
 * to a ".partial" name and are renamed into place only after their SHA-256
 * (when given) matches; an interrupted download resumes from the partial file
 * with a Range request. file:// URLs work too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FetchItem {
        const char *url;
        const char *dest;       /* final path */
        const char *sha256;     /* expected hex digest, or NULL */
        uint64_t size;          /* expected size, 0 = unknown */
        uint64_t max_size;      /* with size unknown: more than this is an error (0: no bound) */
        unsigned stall_timeout; /* seconds under 1 KiB/s (or connecting) before a try fails;
                                   0: 30 to connect, 60 for data */
        int result;             /* out: 0 or negative errno */
        char error[512];        /* out: what went wrong, for the message */
} FetchItem;

/* Fetch one URL to dest (no checksum). Returns -ENOENT for HTTP 404. */
int fetch_url(const char *url, const char *dest);

/* Fetch many in parallel (jobs at once). Existing dest files whose checksum
 * matches are kept; corrupt ones are fetched again. Progress goes to stderr.
 * Returns 0 if all succeeded, else the first error (every item's result and
 * error say what happened to it). */
int fetch_many(FetchItem *items, size_t n, unsigned jobs);

/* One byte range of a remote file, fetched into memory. */
typedef struct FetchRange {
        uint64_t offset, length; /* in the remote file */
        uint8_t *buf;            /* out: its bytes, valid only during the done callback */
        uint64_t received;       /* out */
        unsigned tries;          /* out: how many requests it took */
} FetchRange;

/* Called for each range once all its bytes are in buf: 0 to accept it, 1 to
 * fetch it again (at most FETCH_RANGE_TRIES requests in all), < 0 to stop
 * everything with that error. */
typedef int (*fetch_range_done_t)(FetchRange *r, void *userdata);

#define FETCH_RANGE_TRIES 3

/* Fetches the ranges of url (HTTP Range requests, one range per request),
 * up to jobs requests in flight. A server that answers without 206 Partial
 * Content, a short or long answer, and transport errors after
 * FETCH_RANGE_TRIES tries fail with a message in error. Returns 0 or a
 * negative errno; ranges finished before an error were handed to done. */
int fetch_ranges(const char *url, FetchRange *ranges, size_t n, unsigned jobs,
                 unsigned stall_timeout, fetch_range_done_t done, void *userdata, char *error,
                 size_t error_size);
