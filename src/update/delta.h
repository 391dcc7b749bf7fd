/* SPDX-License-Identifier: MIT */
/* delta.h: assembles a release's usr image from the running slot and the
 * repository (docs/updates.md, "Delta"). The release's hash tree (usr.verity,
 * checked against its signed SHA-256 before this runs) gives the salted
 * SHA-256 of every 4 KiB block of the new image. Blocks the running slot
 * holds (found through its own tree's leaves, same salt, or by hashing its
 * data when the salt differs) are copied after their hash is checked again;
 * the rest are fetched from the release's usr.erofs with HTTP Range requests
 * (runs of adjacent blocks, at most DELTA_RUN_BLOCKS each, several in
 * flight), each block checked against its leaf before it is written. The
 * image is assembled in DEST.delta; a bitmap of the blocks written
 * (DEST.delta-journal, rewritten atomically after every request) lets a
 * killed agent or a power cut resume where it stopped: at most one request's
 * worth is fetched again, and blocks the journal names are checked again
 * before they count. With a patch against the running slot (usr-patch.h)
 * that is smaller than the blocks still missing, those come from the patch
 * first (delta-patch.h); the ranges fetch what it did not give. When every block is in place,
 * DEST.delta becomes DEST; the caller then checks the whole file against its signed SHA-256. */
#pragma once

#include <stdint.h>

#define DELTA_RUN_BLOCKS 256u /* 1 MiB per request at most */

typedef struct DeltaOptions {
        const char *base_path;     /* disk image or device holding the running slot */
        uint64_t base_data_offset; /* its usr partition */
        uint64_t base_data_size;
        uint64_t base_verity_offset; /* its usr-verity partition */
        const char *base_name;       /* "slot a", for messages */
        const char *verity_path;     /* the release's usr.verity: trusted if it exists, else
                                        rebuilt here from the base's leaves and ranges of
                                        verity_url, checked up to root_hash */
        const char *verity_url;      /* NULL: verity_path must exist */
        uint64_t verity_length;      /* its signed length */
        const char *parts_path;      /* the release's usr.verity.parts (delta-index.h), or NULL */
        const char *root_hash;       /* the release's signed root hash (hex) */
        const char *url;             /* the release's usr.erofs */
        uint64_t length;             /* its signed length */
        const char *key;             /* its signed SHA-256: names the journal's release */
        const char *dest;            /* where the assembled image goes */
        const char *patch_url;       /* a patch against the running slot (usr-patch.h), or NULL */
        const char *patch_path;      /* where it is downloaded to */
        const char *patch_sha256;    /* its signed SHA-256 and length */
        uint64_t patch_length;
        const char *patch_base_root_hash; /* its target's base_root_hash: the running slot's */
        unsigned jobs;                    /* requests in flight; 0: 4 */
        unsigned timeout;                 /* stall timeout, seconds; 0: fetch's default */
} DeltaOptions;

typedef struct DeltaStats {
        uint64_t blocks;          /* of the new image */
        uint64_t reused;          /* blocks copied from the base in this run */
        uint64_t resumed;         /* blocks an earlier, interrupted run wrote */
        uint64_t fetched;         /* blocks fetched */
        uint64_t requests;        /* HTTP requests made (retries included) */
        uint64_t damaged;         /* base blocks that did not match their hash */
        uint64_t rehashed;        /* base blocks hashed because the salt differs (0: leaves used) */
        uint64_t tree_fetched;    /* bytes of the hash tree fetched */
        uint64_t tree_rebuilt;    /* blocks of leaves rebuilt from the base's */
        uint64_t tree_from_parts; /* blocks of leaves put together from parts, some fetched */
        uint64_t patch_fetched;   /* bytes of the patch fetched in this run */
        uint64_t patch_blocks;    /* blocks written from the patch */
        uint64_t patch_mismatched; /* blocks from the patch that did not match (fetched) */
} DeltaStats;

/* Returns 0 with dest in place; -ENOMEDIUM (with a message) when the base
 * cannot serve as one (no hash tree, another block size, a release whose
 * length and tree disagree): the caller downloads the whole image; other
 * negative errnos (with a message) for failures. */
int delta_assemble(const DeltaOptions *o, DeltaStats *ret);
