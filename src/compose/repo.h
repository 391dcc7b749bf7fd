/* SPDX-License-Identifier: MIT */
/* repo.h: a Debian-format repository: InRelease fetched and verified with
 * gpgv against the source's keyring, its Valid-Until honoured when
 * check_valid_until is set (and the decision logged), the Packages index of
 * each component fetched (Packages.xz or .gz, SHA-256 checked against the
 * InRelease), decompressed into the cache. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "digest.h"
#include "spec.h"

typedef struct RepoIndex {
        char *base_uri; /* the source URI, for building package URLs */
        char *suite, *component;
        char *packages_path; /* decompressed Packages file in the cache */
        char *origin;        /* Origin: of the Release */
} RepoIndex;

typedef struct RepoSet {
        RepoIndex *indexes;
        size_t n;
} RepoSet;

RepoSet *repo_set_free(RepoSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(RepoSet *, repo_set_free);

/* For every source x suite x component: fetch, verify, decompress. Errors say
 * which URL/file and why (bad signature, expired, checksum mismatch). */
int repo_set_load(const SpecSource *sources, size_t n_sources, const char *arch,
                  bool check_valid_until, const char *cache_dir, RepoSet **ret);

/* The fields of a Release (the signed text of an InRelease) that berth uses.
 * Every member is NULL when the field is absent. */
typedef struct RepoRelease {
        char *origin, *label, *suite, *codename, *date, *valid_until;
        char *sha256; /* the SHA256: section, its lines as they are, '\n'-ended */
} RepoRelease;

/* Parse Release text that gpgv has already verified (the text ends at size or
 * at the first NUL byte). Unknown fields and lines without ':' are skipped, so
 * only -ENOMEM fails. On success *ret owns copies of the fields; free them with
 * repo_release_done(). */
int repo_release_parse_string(const char *data, size_t size, RepoRelease *ret);
/* Free the members and zero the struct; NULL and repeated calls are fine. */
void repo_release_done(RepoRelease *r);

/* A Date:/Valid-Until: value ("Sat, 10 May 2025 09:05:02 UTC", also without
 * the weekday, with a +hhmm/-hhmm offset, GMT or Z) as seconds since the
 * epoch. -EINVAL if it is not such a date. */
int repo_release_parse_date(const char *s, time_t *ret);

/* Finds path in the SHA256 section: its 64-digit hex digest and its size.
 * False if it is not listed (or its line is malformed). */
bool repo_release_lookup(const RepoRelease *rel, const char *path, char hex[static SHA256_HEX_SIZE],
                         uint64_t *size);
