/* SPDX-License-Identifier: MIT */
/* tailor.h: turn an unpacked staging tree into a berth /usr, declaratively, in
 * place of maintainer scripts:
 *  - /etc from packages moves to /usr/share/factory/etc (rendered at boot);
 *  - /var from packages is dropped (the image makes /var at boot);
 *  - the root gets bin, sbin, lib, lib64 -> usr/... symlinks;
 *  - users and groups from the spec written to factory passwd/group/shadow;
 *  - [Sysctl] to /usr/lib/sysctl.d/50-berth-spec.conf;
 *  - [Alternatives] Link= symlinks; [Files] Copy= files;
 *  - ld.so.cache (ldconfig -r), kernel modules compressed to .ko.xz,
 *    modules.dep (depmod -b), CA bundle;
 *  - /usr/lib/os-release from [Image];
 *  - [Files] Remove= globs deleted (docs, man, locales) except Keep= globs;
 *  - every mtime set to source_date_epoch.
 * Returns 0 or a negative errno, logging what failed and where. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

int tailor_tree(const ImageSpec *spec, const char *root, int64_t source_date_epoch);

/* The kernel version found under root/usr/lib/modules (exactly one). */
int tailor_kernel_version(const char *root, char **ret_version);

/* Where compressed kernel modules are cached, by the SHA-256 of the .ko
 * (warm builds skip xz). NULL: no cache. The string is copied. */
void tailor_set_module_cache(const char *dir);

/* Remove= applied while unpacking, for kernel modules only: a member under
 * usr/lib/modules/ that tailoring's Remove=/Keep= globs would delete is not
 * written at all (Debian's kernel packages have thousands of modules and no
 * hard links). Everything else is still removed by tailor_tree(), which also
 * removes the directories left empty. For DebUnpackOptions.skip. */
typedef struct TailorUnpackFilter {
        const ImageSpec *spec;
        size_t skipped;
        char *last_dir;
        int last_fate;
} TailorUnpackFilter;

bool tailor_unpack_skip(const char *path, void *userdata);
void tailor_unpack_filter_done(TailorUnpackFilter *f);
