/* SPDX-License-Identifier: MIT */
/* disk.h: the GPT disk image of DESIGN.md: ESP (FAT, systemd-boot, kernel +
 * initramfs + loader entry of slot A with boot counting), usr-A + usr-A-verity
 * (the erofs image and its hash tree), usr-B + usr-B-verity (empty, same sizes),
 * root (ext4, grown on first boot). Partition type UUIDs follow the
 * Discoverable Partitions Specification (x86-64 usr / usr-verity / ESP /
 * root); the usr pair's partition UUIDs derive from the root hash (first 128
 * bits -> data, last 128 bits -> verity); other UUIDs derive from the image
 * name+version. Reproducible: no timestamps or random ids. Built in a temp file
 * and renamed. Needs no root privileges (no loop devices). See
 * docs/disk-layout.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* GPT partition names ("labels"), in table order (partition 1..6). */
#define DISK_LABEL_ESP "esp"
#define DISK_LABEL_USR_A "usr-a"
#define DISK_LABEL_USR_A_VERITY "usr-a-verity"
#define DISK_LABEL_USR_B "usr-b"
#define DISK_LABEL_USR_B_VERITY "usr-b-verity"
#define DISK_LABEL_ROOT "root"

/* Discoverable Partitions Specification type UUIDs (x86-64). */
#define DISK_TYPE_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define DISK_TYPE_USR_X86_64 "8484680c-9521-48c6-9c11-b0720656f69e"
#define DISK_TYPE_USR_VERITY_X86_64 "77ff5f63-e7b6-4633-acf4-1565b864c0e6"
#define DISK_TYPE_ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"

#define DISK_ESP_SIZE_DEFAULT (64ull << 20)
#define DISK_ROOT_SIZE_DEFAULT (256ull << 20)

typedef struct DiskLayout {
        const char *usr_image;    /* erofs */
        const char *verity_image; /* hash tree */
        const char *root_hash;    /* hex */
        const char *kernel;       /* vmlinuz */
        const char *initrd;
        const char *systemd_boot; /* systemd-bootx64.efi; NULL: no boot loader (direct kernel boot
                                     only) */
        const char *cmdline;      /* full kernel command line for slot A */
        const char *image_name, *image_version;
        unsigned boot_tries;                    /* +N in the entry name; 0 = no boot counting */
        uint64_t esp_size, usr_size, root_size; /* 0 = defaults */
        int64_t source_date_epoch;
} DiskLayout;

/* Sizes: esp_size default 64 MiB (grown to hold two slots' kernel+initrd);
 * usr_size default 1.5 x the usr image, rounded up to 1 MiB; the verity
 * partitions hold the hash tree of a full usr partition; root_size default
 * 256 MiB. 1 MiB before the first partition and 1 MiB after the last. */
int disk_make(const DiskLayout *l, const char *dest);

/* uuid_from_bytes() is in src/lib/hexuuid.h. */
#include "hexuuid.h"

/* The UUID derived from the image name, version and a purpose string (a
 * partition label, "disk", "esp-volid", ...): sha256(name "\n" version "\n"
 * purpose), first 16 bytes, through uuid_from_bytes(). */
int disk_derive_uuid(const char *name, const char *version, const char *purpose,
                     char ret[static 37]);

/* The usr-A data (first half of the hash) or verity (second half) PARTUUID
 * for a 64-hex-digit root hash. */
int disk_usr_partuuid(const char *root_hash_hex, bool verity, char ret[static 37]);
