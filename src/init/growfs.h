/* SPDX-License-Identifier: MIT */
/* growfs.h: first-boot growth of the root partition and its ext4 file system
 * to the end of the disk, online (the file system stays mounted). The table
 * itself goes through gpt.h. */
#pragma once

#include <stdint.h>

/* Moves the backup GPT header to the end of DISK (a /dev path), extends
 * partition PARTNO (1-based) to the last usable sector and tells the kernel the
 * new size (BLKPG, since the partition is in use). Returns 1 if the partition
 * grew, 0 if it already filled the disk; *ret_size gets its size in bytes. */
int growfs_partition(const char *disk, unsigned partno, uint64_t *ret_size);

/* Resizes the ext4 file system mounted at MOUNTPOINT to SIZE bytes
 * (EXT4_IOC_RESIZE_FS). */
int growfs_ext4(const char *mountpoint, uint64_t size);
