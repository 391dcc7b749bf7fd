/* SPDX-License-Identifier: MIT */
/* verity.h: dm-verity hash trees with libcryptsetup, the only place in berth that calls
 * it: hash trees for the composer and the updater (activation without libcryptsetup, for
 * berth-stage1: dm-verity.h). Format: sha256,
 * 4096-byte blocks, superblock in the hash file, salt and UUID given by the caller (derived from
 * the inputs so builds are reproducible). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dm-verity.h"

/* The salt of every release of the image called name: the SHA-256 of
 * "berth verity salt\n" NAME, as 64 hex chars. It stays the same from one
 * version to the next, so a block's hash tree leaf does too (the delta
 * updater finds unchanged blocks by their leaves, docs/updates.md). */
int verity_salt_for_image(const char *name, char ret[static 65]);

/* Writes the hash tree of data_path to hash_path (created or replaced, written
 * to hash_path.tmp and renamed); returns the root hash as hex (64 chars + NUL)
 * in ret_root_hash. salt_hex: 64 hex chars; uuid: a UUID. The data size must
 * be a multiple of 4096: if it is not, data_path is first extended with zeros
 * to the next multiple (so the image and its hash tree agree). */
int verity_format(const char *data_path, const char *hash_path, const char *salt_hex,
                  const char *uuid, char ret_root_hash[static 65]);

/* Verifies data against hash tree and root hash: 0 if good, -EPERM if not.
 * Reads every block (a userspace check, as `veritysetup verify` does). */
int verity_verify(const char *data_path, const char *hash_path, const char *root_hash_hex);

/* The same check for a usr pair inside a disk image or a whole disk: the data
 * at data_offset (at most data_max bytes) of data_path, the hash tree with its
 * superblock at hash_offset of hash_path. libcryptsetup takes no data offset,
 * so this walks the tree in userspace: every data block's salted SHA-256
 * against level 0, every stored hash block against the level above, the top
 * block against root_hash_hex. 0 if all agree; -EPERM (with a message naming
 * the first bad block) if not; -EBADMSG for a missing or foreign superblock. */
int verity_verify_at(const char *data_path, uint64_t data_offset, uint64_t data_max,
                     const char *hash_path, uint64_t hash_offset, const char *root_hash_hex);

/* Level 0 of a hash tree: the salted SHA-256 of every data block, in block
 * order, as the delta updater reads them (docs/updates.md). Not checked
 * against a root hash here: trust them as far as the file is trusted. */
typedef struct VerityLeaves {
        uint8_t salt[256];
        size_t salt_size;
        uint64_t blocks; /* data blocks */
        uint8_t *leaves; /* blocks * 32 bytes */
} VerityLeaves;

/* Reads the leaves of the tree whose superblock is at hash_offset of
 * hash_path (data_max: the size of the data area, bounds the block count).
 * -EBADMSG (with a message) for a missing or foreign superblock. */
int verity_leaves_read(const char *hash_path, uint64_t hash_offset, uint64_t data_max,
                       VerityLeaves *ret);
void verity_leaves_done(VerityLeaves *l);
/* The leaf of one 4096-byte data block under l's salt: sha256(salt || block). */
int verity_block_hash(const VerityLeaves *l, const uint8_t *block, uint8_t ret[static 32]);
