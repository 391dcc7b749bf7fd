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
        const char *label; /* GPT partition name */
        const char *type;  /* type UUID */
        const char *uuid;  /* partition UUID */
        uint64_t offset;   /* bytes, a multiple of GPT_SECTOR */
        uint64_t size;     /* bytes, a multiple of GPT_SECTOR */
        bool read_only;    /* attribute bit 60 */
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

/* A partition as read back from a GPT: owns nothing (fixed buffers). */
typedef struct GptEntry {
        unsigned partno;       /* 1-based */
        char label[72];        /* GPT name (36 UTF-16 units, as UTF-8) */
        char type[40];         /* type UUID, lowercase */
        char uuid[40];         /* partition UUID, lowercase */
        uint64_t offset, size; /* bytes */
} GptEntry;

#define GPT_ENTRIES_MAX 128

/* Reads the GPT of DISK (a disk image file or a whole-disk device): the used
 * entries in table order into ret (at most GPT_ENTRIES_MAX), their count in
 * *ret_n. -ENOMEDIUM (with a message) when DISK has no GPT. */
int gpt_read(const char *disk, GptEntry ret[static GPT_ENTRIES_MAX], size_t *ret_n);
