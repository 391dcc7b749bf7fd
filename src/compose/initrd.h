/* SPDX-License-Identifier: MIT */
/* initrd.h: the berth initramfs, a reproducible newc cpio (sorted, owners 0,
 * mtimes = source_date_epoch), compressed with zstd. It holds berth-init as
 * /init, the shared libraries it needs (DT_NEEDED, resolved inside the staged
 * tree), the spec's kernel modules and their dependencies (modload.h over the
 * staged modules.dep/softdep) with depmod's text indexes cut down to them, and
 * /etc/initrd-release. */
#pragma once

#include <stdint.h>

typedef struct InitrdOptions {
        const char *root; /* staged image tree (has usr/lib/modules/KVER) */
        const char *kernel_version;
        char *const *modules;    /* module names to include (with deps) */
        const char *init_binary; /* path of berth-init inside root, e.g. usr/lib/berth/berth-init */
        int64_t source_date_epoch;
        int zstd_level; /* 0: 19 (build time is cheap, boot reads less) */
        /* Optional: compressed archives kept by the SHA-256 of the cpio and
         * the level (zstd's output is a function of both), so a warm build
         * with the same contents skips zstd -19. */
        const char *cache_dir;
} InitrdOptions;

int initrd_build(const InitrdOptions *o, const char *dest);
