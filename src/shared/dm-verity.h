/* SPDX-License-Identifier: MIT */
/* dm-verity.h: dm-verity without libcryptsetup, libc only. The on-disk format
 * of a hash device as `veritysetup format` and verity_format() write it (the
 * superblock, where the tree's levels lie), and the activation of a read-only
 * verity mapping through device-mapper's ioctls (<linux/dm-ioctl.h> on
 * /dev/mapper/control). berth-stage1, the initramfs's /init, opens /usr with
 * this and so links no crypto library (docs/init.md). Only berth's format:
 * superblock version 1, hash type 1, sha256, 4096-byte data and hash blocks. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VERITY_BLOCK_SIZE 4096u
#define VERITY_SUPERBLOCK_SIZE 512u

/* Where the levels of a hash tree of data_blocks blocks lie, in blocks of the
 * hash file whose superblock is at hash_offset: level 0 (the leaves) ends the
 * tree, the level nearest the root comes first, right after the superblock. */
typedef struct VerityTreeLayout {
        int levels; /* 0: one data block, its hash is the root */
        uint64_t level_block[64], level_size[64];
        uint64_t end_block; /* the block after the tree */
} VerityTreeLayout;
void verity_tree_layout(uint64_t data_blocks, uint64_t hash_offset, VerityTreeLayout *ret);

/* A hash device's superblock, checked. */
typedef struct VeritySuperblock {
        uint8_t uuid[16];
        uint64_t data_blocks;
        uint8_t salt[256];
        size_t salt_size;
} VeritySuperblock;

/* Parses the VERITY_SUPERBLOCK_SIZE bytes at buf, read from offset of path
 * (both only for messages). data_max: the size of the data area, bounds the
 * block count. -EBADMSG with a message naming the field for a missing or
 * foreign superblock or one that claims more blocks than data_max holds. */
int verity_superblock_parse(const uint8_t *buf, const char *path, uint64_t offset,
                            uint64_t data_max, VeritySuperblock *ret);

/* The same, read from fd. */
int verity_superblock_read(int fd, const char *path, uint64_t offset, uint64_t data_max,
                           VeritySuperblock *ret);

/* The parameters of a "verity" target over data and hash (block devices),
 * superblock at the start of hash, as one malloc'ed string:
 * "1 MAJ:MIN MAJ:MIN 4096 4096 BLOCKS 1 sha256 ROOTHEX SALTHEX" (salt "-" if
 * empty). No optional arguments: a corrupt block is an I/O error, as
 * libcryptsetup's activation without flags. */
int dm_verity_table(const VeritySuperblock *sb, dev_t data, dev_t hash,
                    const uint8_t root_hash[static 32], char **ret);

/* Opens /dev/mapper/NAME read-only: the data of data_dev checked by the hash
 * tree (with its superblock at offset 0) of hash_dev against root_hash
 * (sha256: root_hash_size must be 32). Makes the node /dev/mapper/NAME itself
 * (no udev). The mapping's DM UUID is CRYPT-VERITY-<superblock UUID>-NAME, as
 * libcryptsetup names it (veritysetup status and `berth audit` know it by
 * that). Returns 0, or 1 when the kernel already reports a corrupt block right
 * after activation (the mapping stays, as libcryptsetup leaves it: reads of
 * that block fail); a negative errno with a message naming the device and
 * what is wrong (superblock, sizes, the kernel refusing the table) if not.
 * Nothing stays mapped on failure. */
int dm_verity_open(const char *name, const char *data_dev, const char *hash_dev,
                   const uint8_t *root_hash, size_t root_hash_size);
