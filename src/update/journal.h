/* SPDX-License-Identifier: MIT */
/* journal.h: the update journal, STATE_DIR/journal: which release goes into
 * which slot and the last step that completed. Written atomically after
 * every step (temp, fsync, rename, fsync dir), so after a power cut apply
 * knows where to go on; each step is idempotent, so redoing the one that was
 * interrupted is safe. Format: KEY=VALUE lines (version, slot, root_hash,
 * step). */
#pragma once

#include "slot.h"

typedef enum JournalStep {
        JOURNAL_NONE,       /* nothing of this release is on the disk */
        JOURNAL_CLEARED,    /* the slot's old entry is gone, its pair labelled _empty */
        JOURNAL_WRITTEN,    /* usr image and hash tree written */
        JOURNAL_VERIFIED,   /* read back and checked against the signed root hash */
        JOURNAL_LABELLED,   /* the pair has its UUIDs and usr-X labels */
        JOURNAL_BOOT_FILES, /* kernel and initrd on the ESP */
        JOURNAL_DONE,       /* the loader entry with tries is in place */
        _JOURNAL_STEP_MAX,
        _JOURNAL_STEP_INVALID = -22,
} JournalStep;

const char *journal_step_to_string(JournalStep s);

typedef struct Journal {
        char version[128];
        char root_hash[65];
        Slot slot;
        JournalStep step;
} Journal;

/* -ENOENT if there is no journal; -EBADMSG (with a message) for a damaged one. */
int journal_read(const char *state_dir, Journal *ret);
int journal_write(const char *state_dir, const Journal *j);
int journal_remove(const char *state_dir);
