/* SPDX-License-Identifier: MIT */
/* verity.h: dm-verity hash trees with libcryptsetup, the only place in berth that calls
 * it: the composer formats a tree and checks it. The tree walked in userspace (the updater's
 * checks and delta) is verity-tree.h, which this includes; activation without libcryptsetup
 * (berth-stage1) is dm-verity.h. Format: sha256, 4096-byte blocks, superblock in the hash
 * file, salt and UUID given by the caller (derived from the inputs so builds are
 * reproducible). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "verity-tree.h"

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
