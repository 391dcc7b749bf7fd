/* SPDX-License-Identifier: MIT */
/* repo.h: a Debian-format repository: InRelease fetched and verified with
 * gpgv against the source's keyring, its Valid-Until honoured when
 * check_valid_until is set (and the decision logged), the Packages index of
 * each component fetched (Packages.xz or .gz, SHA-256 checked against the
 * InRelease), decompressed into the cache. */
#pragma once

#include <stdbool.h>

#include "spec.h"

typedef struct RepoIndex {
        char *base_uri;       /* the source URI, for building package URLs */
        char *suite, *component;
        char *packages_path;  /* decompressed Packages file in the cache */
        char *origin;         /* Origin: of the Release */
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
