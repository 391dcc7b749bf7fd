/* SPDX-License-Identifier: MIT */
/* target.h: what the updater writes to, found from the disk itself: the GPT
 * (ESP, the usr pair of each slot by type and table position), the ESP's
 * loader entries, which slot runs (or, for a disk image file, which slot a
 * machine would boot: the labelled pair with the newest entry) and its
 * version. One code path for a disk image file (--disk) and the running
 * machine (the disk that holds the booted usr partition, ESP at /efi). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "esp.h"
#include "gpt.h"
#include "slot.h"

typedef struct SlotPair {
        GptEntry data, verity;
        bool labelled;  /* carries usr-X / usr-X-verity (written and verified) */
        char *entry;    /* its loader entry's file name, or NULL */
        char *version;  /* from the entry, or NULL */
        BootEntry boot; /* parsed entry name (valid when entry != NULL) */
} SlotPair;

typedef struct UpdateTarget {
        char *disk; /* disk image file or whole-disk device */
        bool live;  /* the running machine */
        GptEntry esp_part;
        Esp esp;
        SlotPair slots[_SLOT_MAX];
        Slot current;             /* the running slot (or the one a disk would boot) */
        const char *architecture; /* from the usr partition type: "amd64" */
} UpdateTarget;

void update_target_done(UpdateTarget *t);

/* disk: a disk image file or device, or NULL for the running machine (the
 * disk holding the usr partition named by usrhash= on /proc/cmdline, the
 * running slot from berth.slot=, the ESP mounted at esp_dir). */
int update_target_open(const char *disk, const char *esp_dir, UpdateTarget *ret);

/* Re-reads the loader entries (after the updater changed them). */
int update_target_refresh_entries(UpdateTarget *t);
