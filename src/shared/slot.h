/* SPDX-License-Identifier: MIT */
/* slot.h: the A/B slots and their boot entries, as every berth tool names
 * them. A slot is one usr pair (usr-a + usr-a-verity, ...) plus its kernel,
 * initrd and loader entry on the ESP. Boot entries follow systemd-boot's
 * Automatic Boot Assessment: "berth-a+3.conf" has 3 tries left; systemd-boot
 * renames it "berth-a+2-1.conf" when it boots it; "berth-a.conf" is blessed
 * (good, counting done); "+0-N" is bad and only booted when nothing else is
 * left. The same names work for unified kernel images ("berth-a+3.efi").
 * Needs only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum Slot {
        SLOT_A,
        SLOT_B,
        _SLOT_MAX,
        _SLOT_INVALID = -22, /* -EINVAL */
} Slot;

/* "a" / "b"; NULL for an invalid slot. */
const char *slot_to_string(Slot s);
/* "a" / "b" (also "A" / "B"); _SLOT_INVALID otherwise. */
Slot slot_from_string(const char *s);
/* The other slot of the pair; _SLOT_INVALID for an invalid slot. */
Slot slot_other(Slot s);

#define BOOT_ENTRY_NAME_MAX 64

typedef struct BootEntry {
        Slot slot;
        int tries_left; /* -1: no counter (blessed, or counting off) */
        int tries_done; /* 0 when the name has no "-M" */
        char suffix[8]; /* ".conf" or ".efi" */
} BootEntry;

/* Parses "berth-a+2-1.conf" and friends. -EINVAL for anything else (another
 * entry on the same ESP, a bad counter, a name too long). */
int boot_entry_parse(const char *filename, BootEntry *ret);

/* Formats the file name of e into buf (BOOT_ENTRY_NAME_MAX bytes). */
int boot_entry_format(const BootEntry *e, char buf[static BOOT_ENTRY_NAME_MAX]);

/* A fresh entry for slot with `tries` tries (0: no counting). */
int boot_entry_new_name(Slot slot, unsigned tries, const char *suffix,
                        char buf[static BOOT_ENTRY_NAME_MAX]);

/* The ESP directory of an entry: "loader/entries" for a type #1 entry
 * (".conf"), "EFI/Linux" for a unified kernel image (".efi"). */
static inline const char *boot_entry_dir(const BootEntry *e) {
        return e->suffix[1] == 'e' ? "EFI/Linux" : "loader/entries";
}

/* True if e still counts tries (has "+N"). */
static inline bool boot_entry_is_counting(const BootEntry *e) {
        return e->tries_left >= 0;
}
/* True if e ran out of tries ("+0-M"): systemd-boot treats it as bad. */
static inline bool boot_entry_is_bad(const BootEntry *e) {
        return e->tries_left == 0;
}

/* Blesses a counting entry: renames dir/filename to its name without counters
 * and fsyncs the directory (dirfd: an O_DIRECTORY fd of the entries folder).
 * Returns 1 if renamed, 0 if it was already blessed; -EINVAL for a name that
 * is no berth entry; -EEXIST if the blessed name exists already. */
int boot_entry_bless(int dirfd, const char *filename);

/* The kernel command line of a slot: "usrhash=<root hash> berth.slot=<slot>"
 * and then extra (may be NULL). NULL on OOM or a bad slot. */
char *slot_cmdline(const char *root_hash, Slot slot, const char *extra);

/* A release's command line rewritten for another slot: its usrhash= must be
 * root_hash (-EBADMSG otherwise), its berth.slot= becomes slot, every other
 * word stays. */
int slot_cmdline_retarget(const char *cmdline, const char *root_hash, Slot slot, char **ret);

/* Where a slot's kernel and initrd live on the ESP: "/berth/a/vmlinuz". */
#define BOOT_KERNEL_FMT "/berth/%s/vmlinuz"
#define BOOT_INITRD_FMT "/berth/%s/initrd"

/* The type #1 loader entry of a slot (title, sort-key berth, version, linux,
 * initrd, options): systemd-boot sorts berth's entries by version, newest
 * first. NULL on OOM or a bad slot. */
char *boot_entry_text(const char *image_name, const char *version, Slot slot, const char *cmdline);

/* The "version" of a loader entry's text (caller frees); -ENOENT if none. */
int boot_entry_text_version(const char *text, char **ret);
