/* SPDX-License-Identifier: MIT */
/* manifest.h: the build's manifest.json (name, version, flavor, root hash,
 * kernel version, cmdline, sizes, SHA-256 of every artifact, packages with
 * versions) and an SPDX 2.3 JSON SBOM (one package per Debian package with
 * purl pkg:deb/debian/NAME@VERSION?arch=ARCH, checksums, DESCRIBES/CONTAINS
 * relationships). Deterministic: sorted keys, no wall-clock time (creation time
 * = source_date_epoch). The reader
 * (manifest_parse) is for manifests that come from elsewhere (an update
 * repository, another slot): every field is typed and checked. */
#pragma once

#include <stdint.h>

#include "package.h"

typedef struct Artifact {
        const char *name; /* file name in the output directory */
        const char *path; /* where it is now */
} Artifact;

typedef struct ManifestInfo {
        const char *name, *version; /* the image's (spec [Image]) */
        const char *flavor;         /* "immutable", "mutable"; NULL: none */
        const char *architecture;   /* Debian architecture; NULL: amd64 */
        const char *description;    /* NULL: none */
        const PackageList *packages;
        const char *root_hash;
        const char *verity_salt; /* hex; NULL: no verity (written with block size 4096) */
        const char *kernel_version;
        const char *cmdline;
        uint64_t usr_tree_bytes; /* installed size of /usr */
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

/* A manifest as read back. Owns its strings. */
typedef struct ManifestArtifact {
        char *name;
        uint64_t size;
        char sha256[SHA256_HEX_SIZE];
} ManifestArtifact;

typedef struct Manifest {
        char *name, *version, *flavor, *architecture;
        char *root_hash;            /* 64 hex digits, or NULL */
        char *verity_salt;          /* 64 hex digits, or NULL (older manifests) */
        uint64_t verity_block_size; /* 0 if not said */
        char *kernel_version, *cmdline;
        int64_t source_date_epoch;
        uint64_t usr_tree_bytes;
        ManifestArtifact *artifacts;
        size_t n_artifacts;
        PackageList packages; /* name, version, architecture, source, sha256, size */
} Manifest;

Manifest *manifest_free(Manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);

/* Parses manifest.json text. -EBADMSG for anything that is not a manifest of
 * this format, with *ret_msg (caller frees) naming the field and what was
 * expected ("packages[3].sha256: expected 64 hex digits"). */
int manifest_parse(const char *data, size_t size, Manifest **ret, char **ret_msg);
/* Reads and parses path; the message names the file. */
int manifest_read(const char *path, Manifest **ret, char **ret_msg);
/* The artifact called name, or NULL. */
const ManifestArtifact *manifest_find_artifact(const Manifest *m, const char *name);
