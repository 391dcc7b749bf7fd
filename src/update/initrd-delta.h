/* SPDX-License-Identifier: MIT */
/* initrd-delta.h: assembles a release's initrd from the running slot's and
 * ranges of the release's (docs/updates.md, "Delta"). berth's initrd is a
 * sequence of independent zstd frames, one per large file (initrd.h); the
 * release's initrd.frames (delta-index.h) names each frame's length and
 * SHA-256. Frames the running initrd has (same SHA-256) are copied, the rest
 * fetched with HTTP Range requests (runs of adjacent frames), each frame
 * checked against its SHA-256 before it is written to DEST.delta. A killed
 * run resumes: frames already in DEST.delta that match their hash are kept,
 * so the file is its own journal. The caller checks DEST against the signed
 * SHA-256 of the whole initrd. */
#pragma once

#include <stdint.h>

typedef struct InitrdDeltaOptions {
        const char *base_path;   /* the running slot's initrd, a local copy */
        const char *frames_path; /* the release's initrd.frames, checked against its target */
        const char *url;         /* the release's initrd */
        uint64_t length;         /* its signed length */
        const char *dest;
        unsigned timeout;
} InitrdDeltaOptions;

typedef struct InitrdDeltaStats {
        uint64_t frames, reused_bytes, resumed_bytes, fetched_bytes, requests;
} InitrdDeltaStats;

/* 0 with dest in place; -ENOMEDIUM (with a message) when initrd.frames does
 * not describe the release's initrd: the caller fetches it whole; other
 * negative errnos (with a message) on failure. */
int initrd_delta_assemble(const InitrdDeltaOptions *o, InitrdDeltaStats *ret);
