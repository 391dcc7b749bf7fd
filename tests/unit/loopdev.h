/* SPDX-License-Identifier: MIT */
/* Loop devices for the unit tests that need a real block device (blockdev,
 * growfs): a sparse file with a GPT written by gpt_write(), attached with
 * partition scanning (and partx), so that the kernel knows the partitions and
 * /dev/loopNpM appear (devtmpfs). Root only; callers skip without it. */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "gpt.h"
#include "macro.h"

typedef struct LoopDisk {
        char file[PATH_MAX];
        char dev[64];  /* /dev/loopN */
        char name[64]; /* loopN */
} LoopDisk;

static inline int shellf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int shellf(const char *fmt, ...) {
        char cmd[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        return system(cmd);
}

static inline bool loop_usable(void) {
        return geteuid() == 0 && access("/dev/loop-control", W_OK) == 0 &&
               shellf("command -v losetup >/dev/null && command -v partx >/dev/null") == 0;
}

/* The partition device of the disk, "/dev/loopNpM". */
static inline void loop_part(const LoopDisk *d, unsigned partno, char *ret, size_t size) {
        snprintf(ret, size, "%sp%u", d->dev, partno);
}

/* Creates FILE of SIZE bytes with the GPT, attaches it and waits for the
 * partition nodes. Returns 0 or -1. */
static inline int loop_create(LoopDisk *d, const char *file, uint64_t size, const char *disk_uuid,
                              const GptPartition *parts, size_t n) {
        char out[64] = "";
        FILE *f;

        *d = (LoopDisk){};
        snprintf(d->file, sizeof d->file, "%s", file);
        if (write_file_atomic(file, "", 0, 0644) < 0 || truncate(file, (off_t) size) < 0)
                return -1;
        if (gpt_write(file, disk_uuid, parts, n) < 0)
                return -1;
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "losetup --find --show --partscan '%s'", file);
        f = popen(cmd, "r");
        if (!f)
                return -1;
        if (!fgets(out, sizeof out, f))
                out[0] = 0;
        if (pclose(f) != 0 || strncmp(out, "/dev/loop", 9) != 0)
                return -1;
        out[strcspn(out, "\n")] = 0;
        snprintf(d->dev, sizeof d->dev, "%s", out);
        snprintf(d->name, sizeof d->name, "%s", out + 5);
        /* A kernel without partition table parsers (CONFIG_EFI_PARTITION off,
         * as on some CI machines) scans nothing: partx reads the table with
         * libblkid and adds the partitions with BLKPG. Where the kernel did
         * scan, it finds them in place. */
        if (shellf("partx --update '%s'", d->dev) != 0)
                return -1;
        for (int i = 0; i < 500; i++) {
                char p[96];
                loop_part(d, (unsigned) n, p, sizeof p);
                if (access(p, F_OK) == 0)
                        return 0;
                usleep(10 * 1000);
        }
        return -1;
}

static inline void loop_remove(LoopDisk *d) {
        if (d->dev[0])
                (void) shellf("losetup -d '%s'", d->dev);
        if (d->file[0])
                (void) unlink(d->file);
        *d = (LoopDisk){};
}
