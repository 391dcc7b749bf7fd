/* SPDX-License-Identifier: MIT */
/* disk.h: the GPT disk image of DESIGN.md: ESP (FAT, systemd-boot, kernel +
 * initramfs + loader entry of the image's slot with boot counting), usr-A +
 * usr-A-verity and usr-B + usr-B-verity (the image and its hash tree in its
 * slot's pair, the other pair empty, same sizes),
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

#include "partition.h"
#include "slot.h"

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
        const char *uki; /* signed unified kernel image: the ESP gets it as EFI/Linux/berth-X+N.efi
                          * instead of kernel, initrd and a loader entry */
        const char *secure_boot_keys; /* with uki: the key directory whose PK/KEK/db.auth go
                                       * to loader/keys/auto/ for secure-boot-enroll */
        const char *cmdline;          /* full kernel command line for the slot */
        Slot slot;                    /* the slot the image goes into; the other stays empty */
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

/* A stable UUID from the image name, version and a purpose string (a partition
 * label, "disk", "esp-volid", ...): sha256(name "\n" version "\n" purpose),
 * first 16 bytes, through uuid_from_bytes(). */
int disk_derive_uuid(const char *name, const char *version, const char *purpose,
                     char ret[static UUID_STRING_SIZE]);
