/* SPDX-License-Identifier: MIT */
/* gpt.h: GPT partition tables with libfdisk, the only place in berth that
 * calls it: the composer writes a disk's table, berth-init grows the root
 * partition on first boot, the updater relabels the usr pair it wrote. The
 * types and names to use are in partition.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_SECTOR 512u

typedef struct GptPartition {
        const char *label;   /* GPT partition name */
        const char *type;    /* type UUID */
        const char *uuid;    /* partition UUID */
        uint64_t offset;     /* bytes, a multiple of GPT_SECTOR */
        uint64_t size;       /* bytes, a multiple of GPT_SECTOR */
        bool read_only;      /* attribute bit 60 */
} GptPartition;

/* Writes a new GPT (protective MBR, both headers) with these partitions, in
 * this order (partition 1..n), to the file or device at PATH. */
int gpt_write(const char *path, const char *disk_uuid, const GptPartition *parts, size_t n);

/* Moves the backup GPT header of DISK to its end and extends partition PARTNO
 * (1-based) to the last usable sector. Returns 1 if it grew, 0 if it already
 * filled the disk; ret_start and ret_size (either may be NULL) get the
 * partition's start and size in bytes. The kernel is not told: see
 * growfs_partition(). */
int gpt_grow_partition(const char *disk, unsigned partno, uint64_t *ret_start, uint64_t *ret_size);

/* Sets the name and partition UUID of partition PARTNO (1-based) of DISK;
 * NULL leaves that field as it is. */
int gpt_set_partition(const char *disk, unsigned partno, const char *label, const char *uuid);
