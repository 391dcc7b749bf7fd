/* SPDX-License-Identifier: MIT */
/* manifest.h: the build's manifest.json (name, version, flavor, root hash,
 * kernel version, cmdline, sizes, SHA-256 of every artifact, packages with
 * versions) and an SPDX 2.3 JSON SBOM (one package per Debian package with
 * purl pkg:deb/debian/NAME@VERSION?arch=ARCH, checksums, DESCRIBES/CONTAINS
 * relationships). Deterministic: sorted keys, no wall-clock time (creation time
 * = source_date_epoch). jansson is used only here and in the API. */
#pragma once

#include <stdint.h>

#include "package.h"
#include "spec.h"

typedef struct Artifact {
        const char *name;  /* file name in the output directory */
        const char *path;  /* where it is now */
} Artifact;

typedef struct ManifestInfo {
        const ImageSpec *spec;
        const PackageList *packages;
        const char *root_hash;
        const char *kernel_version;
        const char *cmdline;
        uint64_t usr_tree_bytes;    /* installed size of /usr */
        const Artifact *artifacts;
        size_t n_artifacts;
        int64_t source_date_epoch;
} ManifestInfo;

int manifest_write(const ManifestInfo *m, const char *dest);
int sbom_write(const ManifestInfo *m, const char *dest);
/* Both files, hashing every artifact once (build.c's path). Errors as above;
 * the manifest is written first. */
int manifest_and_sbom_write(const ManifestInfo *m, const char *manifest_dest,
                            const char *sbom_dest);
