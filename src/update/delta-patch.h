/* SPDX-License-Identifier: MIT */
/* delta-patch.h: the usr image's missing blocks from a patch against the
 * running slot (usr-patch.h, docs/updates.md "Patches"). The patch's frame is
 * decompressed in one piece, with the running slot's usr data (mapped
 * read-only, the base's size as its hash tree says) as the reference; every
 * block it yields is checked against the release's leaf before it is handed
 * on. A block that does not match (a damaged base, a lying patch) is only
 * counted: the caller fetches it as a range. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "verity-tree.h"

typedef struct DeltaPatch {
        const char *path;           /* the patch file, checked against its signed SHA-256 */
        const char *base_root_hash; /* hex: its target's signed base_root_hash */
        const char *root_hash;      /* hex: the release's signed root hash */
        int base_fd;                /* the disk holding the running slot */
        uint64_t base_offset;       /* its usr data partition */
        uint64_t base_size;         /* the partition's size */
        uint64_t base_blocks;       /* the data blocks its hash tree covers */
        const VerityLeaves *leaves; /* the release's */
        /* Whether block b is still missing; called for each carried block. */
        bool (*want)(void *userdata, uint64_t b);
        /* A block that matched its leaf. < 0 stops with that error. */
        int (*put)(void *userdata, uint64_t b, const uint8_t *data);
        void *userdata;
} DeltaPatch;

typedef struct DeltaPatchStats {
        uint64_t written;    /* blocks handed to put() */
        uint64_t mismatched; /* blocks that did not match their leaf */
} DeltaPatchStats;

/* Returns 0 with stats, or a negative errno with one message: -EBADMSG names
 * what is wrong (a header field, a patch for another base or release, a
 * corrupt frame). Blocks handed to put() before a failure stay written. */
int delta_patch_apply(const DeltaPatch *p, DeltaPatchStats *ret);
