/* SPDX-License-Identifier: MIT */
/* disk.h: the GPT disk image of DESIGN.md: ESP (FAT, systemd-boot, kernel +
 * initramfs + loader entry of slot A with boot counting), usr-A + usr-A-verity
 * (the erofs image and its hash tree), usr-B + usr-B-verity (empty, same sizes),
 * root (ext4, grown on first boot). Partition type UUIDs follow the
 * Discoverable Partitions Specification (x86-64 usr / usr-verity / ESP /
 * root); the usr pair's partition UUIDs derive from the root hash (first 128
 * bits -> data, last 128 bits -> verity); other UUIDs derive from the image
 * name+version. Reproducible: no timestamps or random ids. Built in a temp file
 * and renamed. Needs no root privileges (no loop devices). */
#pragma once

#include <stdint.h>

typedef struct DiskLayout {
        const char *usr_image;      /* erofs */
        const char *verity_image;   /* hash tree */
        const char *root_hash;      /* hex */
        const char *kernel;         /* vmlinuz */
        const char *initrd;
        const char *systemd_boot;   /* systemd-bootx64.efi */
        const char *cmdline;        /* full kernel command line for slot A */
        const char *image_name, *image_version;
        unsigned boot_tries;        /* +N in the entry name */
        uint64_t esp_size, usr_size, root_size; /* 0 = defaults */
        int64_t source_date_epoch;
} DiskLayout;

int disk_make(const DiskLayout *l, const char *dest);

/* The UUID (8-4-4-4-12 text) made from 16 bytes, with the version-4/variant
 * bits set as systemd does for usrhash-derived UUIDs. */
void uuid_from_bytes(const uint8_t b[16], char ret[static 37]);
