/* SPDX-License-Identifier: MIT */
/* fetch.h: downloads with libcurl (the only place that calls curl). Files go
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
