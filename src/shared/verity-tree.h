/* SPDX-License-Identifier: MIT */
/* verity-tree.h: a dm-verity hash tree walked in userspace with berth's
 * SHA-256 (digest.h, libcrypto), no libcryptsetup: the salt of an image, its
 * leaves for the delta updater, a full check of a usr pair inside a disk. The
 * update agent links this and not verity.h's libcryptsetup. Format as
 * dm-verity.h: sha256, 4096-byte blocks, superblock in the hash file. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dm-verity.h"

/* The salt of every release of the image called name: the SHA-256 of
 * "berth verity salt\n" NAME, as 64 hex chars. It stays the same from one
 * version to the next, so a block's hash tree leaf does too (the delta
 * updater finds unchanged blocks by their leaves, docs/updates.md). */
int verity_salt_for_image(const char *name, char ret[static 65]);

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
