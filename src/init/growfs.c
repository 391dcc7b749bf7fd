/* SPDX-License-Identifier: MIT */
#include "growfs.h"

#include <fcntl.h>
#include <libfdisk.h>
#include <linux/blkpg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>

#include "log.h"
#include "macro.h"

/* Not in the uapi headers; fs/ext4/ext4.h. */
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_context *, fdisk_unref_context);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_partition *, fdisk_unref_partition);

static int blkpg_resize(const char *disk, unsigned partno, uint64_t start, uint64_t size) {
        _cleanup_close_ int fd = open(disk, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct blkpg_partition p = {
                .start = (long long) start,
                .length = (long long) size,
                .pno = (int) partno,
        };
        struct blkpg_ioctl_arg a = {
                .op = BLKPG_RESIZE_PARTITION,
                .datalen = sizeof p,
                .data = &p,
        };
        if (ioctl(fd, BLKPG, &a) < 0)
                return -errno;
        return 0;
}

int growfs_partition(const char *disk, unsigned partno, uint64_t *ret_size) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context();
        _cleanup_(fdisk_unref_partitionp) struct fdisk_partition *want = NULL, *before = NULL,
                                                                 *after = NULL;
        int r;

        if (!cxt || partno == 0)
                return -EINVAL;
        /* Opening the label fixes the backup GPT header location in memory:
         * libfdisk relocates it to the end of a grown disk unless told not to. */
        r = fdisk_assign_device(cxt, disk, /* readonly= */ 0);
        if (r < 0)
                return r;
        if (!fdisk_is_label(cxt, GPT))
                return -EMEDIUMTYPE;

        r = fdisk_get_partition(cxt, partno - 1, &before);
        if (r < 0)
                return r;

        want = fdisk_new_partition();
        if (!want)
                return -ENOMEM;
        r = fdisk_partition_end_follow_default(want, 1);
        if (r < 0)
                return r;
        r = fdisk_set_partition(cxt, partno - 1, want);
        if (r < 0)
                return r;
        r = fdisk_get_partition(cxt, partno - 1, &after);
        if (r < 0)
                return r;

        uint64_t ss = fdisk_get_sector_size(cxt);
        uint64_t start = fdisk_partition_get_start(after) * ss;
        uint64_t old_size = fdisk_partition_get_size(before) * ss;
        uint64_t new_size = fdisk_partition_get_size(after) * ss;

        if (new_size <= old_size) {
                if (ret_size)
                        *ret_size = old_size;
                return 0;
        }

        r = fdisk_write_disklabel(cxt);
        if (r < 0)
                return r;
        r = fdisk_deassign_device(cxt, /* nosync= */ 0);
        if (r < 0)
                return r;

        r = blkpg_resize(disk, partno, start, new_size);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = new_size;
        return 1;
}

int growfs_ext4(const char *mountpoint, uint64_t size) {
        _cleanup_close_ int fd = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct statvfs sv;

        if (fd < 0)
                return -errno;
        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        if (sv.f_bsize == 0)
                return -EINVAL;
        uint64_t blocks = size / sv.f_bsize;
        if (ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0)
                return -errno;
        return 0;
}
