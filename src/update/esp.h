/* SPDX-License-Identifier: MIT */
/* esp.h: the few file operations the updater does on an EFI system
 * partition, one API over two places: the ESP inside a disk image file or
 * device (mtools at the partition's byte offset, no mount, no root needed)
 * and a mounted ESP directory (the running machine's /efi, remounted
 * read-write only while the updater writes). Writes go to a temporary name
 * and are renamed into place, so a power cut leaves the old file or the new
 * one. Paths are relative to the ESP root ("loader/entries/x.conf"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Esp {
        char *image; /* "DISK@@OFFSET" for mtools, or NULL */
        char *dir;   /* mounted ESP, or NULL */
        bool remounted;
        unsigned long remount_flags; /* nosuid, nodev, noexec as mounted: kept on both remounts */
} Esp;

int esp_open_image(const char *disk, uint64_t offset, Esp *ret);
int esp_open_dir(const char *dir, Esp *ret);
/* Remounts a mounted ESP read-only again if esp_make_writable() changed it. */
void esp_done(Esp *e);

/* A mounted ESP that is read-only is remounted read-write (once). */
int esp_make_writable(Esp *e);

/* Reads a small file (at most 64 KiB). -ENOENT if it does not exist. */
int esp_read(Esp *e, const char *path, char **ret);
/* Copies path to the local file dest (replaced). -ENOENT if path does not exist. */
int esp_get_file(Esp *e, const char *path, const char *dest);
/* Copies the local file src to path (parent directories created). */
int esp_put_file(Esp *e, const char *src, const char *path);
/* Writes text to path. */
int esp_put_text(Esp *e, const char *text, const char *path);
/* Removes path; a missing file is fine. */
int esp_remove(Esp *e, const char *path);
/* Renames from to to (to must not exist). */
int esp_rename(Esp *e, const char *from, const char *to);
/* The file names in directory path (a NULL-terminated list, caller frees
 * with strv_free); an empty list if the directory does not exist. */
int esp_list(Esp *e, const char *path, char ***ret);
