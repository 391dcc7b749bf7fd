/* SPDX-License-Identifier: MIT */
/* delta-index.h: the two small files a release publishes next to its
 * artifacts so the delta updater fetches less (docs/updates.md, "Delta").
 * Both are hints: what the updater builds from them is checked against signed
 * hashes (the hash tree's level above, the initrd's SHA-256) before use.
 *
 * usr.verity.parts: for every block of leaves of the hash tree (4096 bytes,
 * 128 leaves), the first VERITY_PART_HASH bytes of the SHA-256 of each of its
 * VERITY_PARTS 512-byte parts (16 leaves), in order. A block of leaves that
 * cannot be rebuilt whole from the running slot's leaves is rebuilt part by
 * part, and only the parts that are nowhere in the base are fetched.
 *
 * initrd.frames: berth's initrd is a concatenation of independent zstd frames
 * (initrd.h), each a whole cpio archive. The file is "berth-frames 1\n" and,
 * per frame in order, its length (4 bytes, little endian) and SHA-256 (32
 * bytes). Frames the running initrd has are copied, the rest fetched. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VERITY_PARTS 8u
#define VERITY_PART_SIZE 512u
#define VERITY_PART_HASH 8u
#define VERITY_PARTS_ENTRY (VERITY_PARTS * VERITY_PART_HASH) /* bytes per block of leaves */

/* The truncated hash of one 512-byte part, as usr.verity.parts holds it. */
int verity_part_hash(const uint8_t *part, uint8_t ret[static VERITY_PART_HASH]);

/* Writes usr.verity.parts for the hash tree at hash_path (superblock at 0) to
 * dest (atomically). */
int verity_parts_write(const char *hash_path, const char *dest);

typedef struct ZstdFrame {
        uint64_t offset, length;
        uint8_t sha256[32];
} ZstdFrame;

/* The zstd frames that data is made of, back to back (zero bytes between
 * frames are skipped, as the kernel does). -EBADMSG if data is not such a
 * concatenation. */
int zstd_frames_scan(const uint8_t *data, size_t size, ZstdFrame **ret, size_t *ret_n);

/* Writes initrd.frames for the initrd at path to dest (atomically). */
int initrd_frames_write(const char *path, const char *dest);

/* Parses initrd.frames: offsets follow from the lengths; -EBADMSG for a file
 * that is not one, or whose lengths do not add up to total. */
int initrd_frames_parse(const uint8_t *data, size_t size, uint64_t total, ZstdFrame **ret,
                        size_t *ret_n);
