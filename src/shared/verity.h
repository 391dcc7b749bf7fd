/* SPDX-License-Identifier: MIT */
/* verity.h: dm-verity with libcryptsetup, the only place in berth that calls
 * it: hash trees for the composer and the updater, activation for berth-init. Format: sha256,
 * 4096-byte blocks, superblock in the hash file, salt and UUID given by the caller (derived from
 * the inputs so builds are reproducible). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VERITY_BLOCK_SIZE 4096u

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

/* Opens /dev/mapper/NAME read-only over data_dev with the hash tree (and its
 * superblock) on hash_dev, checked against root_hash. udev sync is off (no udev
 * in the initramfs); libdevmapper creates the node itself. On failure ret_msg
 * (if not NULL) gets libcryptsetup's last message. */
int verity_open(const char *name, const char *data_dev, const char *hash_dev,
                const uint8_t *root_hash, size_t root_hash_size, char *ret_msg, size_t msg_size);
