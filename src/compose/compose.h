/* SPDX-License-Identifier: MIT */
/* compose.h: `berth build`, the whole composer pipeline. Writes into a temporary
 * directory beside the output directory and renames it into place only when
 * every artifact is complete, so an interrupted or failed build leaves the last
 * good output untouched. */
#pragma once

#include <stdbool.h>

#include "slot.h"

typedef struct ComposeOptions {
        const char *spec_path;
        const char *output_dir;       /* e.g. out/container-host */
        const char *cache_dir;        /* NULL: $BERTH_CACHE_DIR or ~/.cache/berth */
        const char *berth_bindir;     /* where the built berth binaries are (to install) */
        unsigned jobs;                /* parallel downloads, 0 = default; 1 also unpacks serially */
        bool no_disk;                 /* skip the disk image (faster tests) */
        Slot slot;                    /* the slot the artifacts are for (SLOT_A: a new disk) */
        const char *secure_boot_keys; /* `berth keygen --secure-boot` directory: a signed UKI
                                       * and systemd-boot (overrides [Boot] SecureBootKeys=) */
} ComposeOptions;

/* Plans the build (spec, slot, directories, steps), then executes the steps
 * in order: sources, resolve, fetch, unpack, tailor, kernel, initrd, usr
 * (erofs + verity), cmdline, uki (Secure Boot only), disk, manifest, commit.
 * Artifacts are named, not numbered; the slot is a parameter, so the updater
 * writes slot b's artifacts with the same code. */
int compose_image(const ComposeOptions *o);
