/* SPDX-License-Identifier: MIT */
#include "growfs.h"

#include <fcntl.h>
#include <linux/blkpg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>

#include "gpt.h"
#include "log.h"
#include "macro.h"

/* Not in the uapi headers; fs/ext4/ext4.h. */
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

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
        uint64_t start, size;
        int r;

        r = gpt_grow_partition(disk, partno, &start, &size);
        if (r <= 0) {
                if (r == 0 && ret_size)
                        *ret_size = size;
                return r;
        }
        /* The partition is in use (root is mounted): BLKPG, not a re-read. */
        r = blkpg_resize(disk, partno, start, size);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = size;
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
