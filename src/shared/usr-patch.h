/* SPDX-License-Identifier: MIT */
/* usr-patch.h: a patch of a release's usr image against one older release of
 * the same image (docs/updates.md, "Patches"): the new image's blocks that
 * the older one does not have (by leaf: salted SHA-256, the delta updater's
 * rule), compressed as one zstd frame that refers back into the whole older
 * usr image. `berth publish` writes one per recent release; the agent uses
 * the one whose base is its running slot and checks every block it yields
 * against the release's hash tree.
 *
 * File: a header, then the frame to the end of the file. Header, integers
 * little endian:
 *   0   8   magic "BRTHPTCH"
 *   8   4   version (1)
 *   12  4   block size (4096)
 *   16  32  the base's root hash
 *   48  32  the new image's root hash
 *   80  8   the base's data size, in blocks
 *   88  8   the new image's size, in blocks
 *   96  8   blocks carried (the frame's size / block size)
 *   104 4   runs
 *   108 4   bytes of runs
 *   112     runs of carried blocks, in order: per run two unsigned LEB128
 *           varints, the gap since the previous run's end (from block 0) and
 *           the run's length (at least 1) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define USR_PATCH_MAGIC "BRTHPTCH"
#define USR_PATCH_VERSION 1u
#define USR_PATCH_HEADER_SIZE 112u
#define USR_PATCH_BLOCKS_MAX (UINT64_C(1) << 28) /* 1 TiB of 4 KiB blocks */
#define USR_PATCH_PREFIX "usr.erofs.patch-"      /* + first 16 hex digits of the base's root */

typedef struct UsrPatchRun {
        uint64_t first, count;
} UsrPatchRun;

typedef struct UsrPatch {
        uint8_t base_root[32], new_root[32];
        uint64_t base_blocks, new_blocks, carried;
        UsrPatchRun *runs;
        size_t n_runs;
        const uint8_t *frame; /* points into the parsed data */
        size_t frame_size;
} UsrPatch;

/* Parses a patch file's header (every field range-checked, the runs within
 * the new image, in order, adding up to the carried count). -EBADMSG with a
 * message naming the field for anything else. */
int usr_patch_parse(const uint8_t *data, size_t size, UsrPatch *ret);
void usr_patch_done(UsrPatch *p);

typedef struct UsrPatchMakeOptions {
        const char *base_image, *base_verity, *base_root_hash; /* root hash: hex */
        const char *new_image, *new_verity, *new_root_hash;
        int level; /* zstd level */
        const char *dest;
} UsrPatchMakeOptions;

typedef struct UsrPatchMakeStats {
        uint64_t carried; /* blocks */
        uint64_t size;    /* of the patch file */
} UsrPatchMakeStats;

/* Writes the patch (atomically). Returns 1 when written, 0 when not (nothing
 * to carry, or a patch that would not be smaller than the blocks it carries;
 * the stats still say how many), or a negative errno with a message. */
int usr_patch_make(const UsrPatchMakeOptions *o, UsrPatchMakeStats *ret);
