/* SPDX-License-Identifier: MIT */
/* package.h: a resolved binary package, as the solver hands it to fetch,
 * unpack, manifest and SBOM. A PackageList owns its packages and strings. */
#pragma once

#include <stdint.h>

#include "digest.h"
#include "macro.h"

typedef struct Package {
        char *name;
        char *version;
        char *architecture;
        char *source; /* source package name (Source: or name) */
        char *source_version;
        char *url;      /* full URL: repository base URI + Filename */
        char *filename; /* basename, for the cache */
        char sha256[SHA256_HEX_SIZE];
        uint64_t size;           /* .deb size in bytes */
        uint64_t installed_size; /* Installed-Size in KiB */
        char *priority;
        char *section;
        char *origin;     /* the repository's Origin/Label, e.g. Debian */
        char *local_path; /* the verified .deb in the cache, set by fetch */
        char *wanted_by;  /* why it is installed: "spec" or the requiring package */
} Package;

typedef struct PackageList {
        Package *packages;
        size_t n;
} PackageList;

/* Frees the packages of a list that is not itself on the heap. */
void package_list_clear(PackageList *l);
PackageList *package_list_free(PackageList *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(PackageList *, package_list_free);
/* Appends an empty Package and returns it (NULL on OOM). */
Package *package_list_add(PackageList *l);
/* Sort by name, for stable output. */
void package_list_sort(PackageList *l);
const Package *package_list_find(const PackageList *l, const char *name);

/* Fetch every package of the list into cache_dir/debs, set local_path. */
int package_list_fetch(PackageList *l, const char *cache_dir, unsigned jobs);
