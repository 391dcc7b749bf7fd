/* SPDX-License-Identifier: MIT */
/* blockdev.h: finding block devices by partition UUID, partition type and
 * file system label without udev: walks /sys/class/block and probes each
 * device node under /dev with libblkid. The only place that calls libblkid. */
#pragma once

#include <stdbool.h>

typedef struct BlockInfo {
        char name[64];     /* kernel name, "vda2" */
        char disk[64];     /* whole disk for partitions ("vda"), "" for disks */
        unsigned partno;   /* partition number, 0 for disks */
        char partuuid[40]; /* lowercase, "" if none */
        char parttype[40]; /* lowercase GPT type UUID or MBR type, "" if none */
        char label[64];    /* file system label */
        char fstype[32];   /* file system type ("ext4", "erofs") */
} BlockInfo;

/* Probes /dev/NAME (NAME as in /sys/class/block). */
int blockdev_probe(const char *name, BlockInfo *ret);

typedef bool (*blockdev_match_t)(const BlockInfo *info, const void *userdata);

/* Probes every block device; returns 1 and fills ret for the first match, 0 if
 * none matched, negative errno if /sys/class/block can't be read. */
int blockdev_find(blockdev_match_t match, const void *userdata, BlockInfo *ret);

bool blockdev_match_partuuid(const BlockInfo *info, const void *uuid);
bool blockdev_match_label(const BlockInfo *info, const void *label);
