/* SPDX-License-Identifier: MIT */
/* partition.h: the partition rules every berth tool must agree on: the
 * Discoverable Partitions Specification type UUIDs (x86-64), the GPT labels of
 * berth's layout, and how the usr pair's partition UUIDs derive from the
 * dm-verity root hash (systemd's rule: first 128 bits -> data partition,
 * last 128 bits -> verity partition). The composer writes disks with these,
 * berth-init finds /usr with them, the updater labels a written slot with them.
 * libc only: berth-stage1 links it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hexuuid.h"
#include "slot.h"

/* Discoverable Partitions Specification type UUIDs (x86-64), lowercase. */
#define PART_TYPE_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define PART_TYPE_USR_X86_64 "8484680c-9521-48c6-9c11-b0720656f69e"
#define PART_TYPE_USR_VERITY_X86_64 "77ff5f63-e7b6-4633-acf4-1565b864c0e6"
#define PART_TYPE_ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"

/* GPT partition names ("labels") of berth's layout (docs/disk-layout.md). */
#define PART_LABEL_ESP "esp"
#define PART_LABEL_ROOT "root"
/* A usr partition nobody may pick: empty or half-written (the updater). */
#define PART_LABEL_EMPTY "_empty"

/* The running slot ("a" or "b"), as berth-init found it from the disk. */
#define SLOT_RUN_FILE "/run/berth/slot"

/* berthd's settings generations (docs/api.md), and in it the settings'
 * kernel.cmdline words as berthd last applied them, one line: the updater
 * adds them to a new slot's boot entry. */
#define SETTINGS_DIR "/var/lib/berth/settings"
#define SETTINGS_CMDLINE_NAME "kernel-cmdline"
#define SETTINGS_CMDLINE_FILE SETTINGS_DIR "/" SETTINGS_CMDLINE_NAME

#define USR_HASH_SIZE 32 /* sha256 root hash */

/* Parses 64 hex digits. -EINVAL otherwise. */
int usrhash_parse(const char *hex, uint8_t ret[static USR_HASH_SIZE]);

/* The one rule for the usr pair's PARTUUIDs: data = first 128 bits of the root
 * hash, verity = last 128 bits, each as a UUID string with version 4 and RFC
 * 4122 variant bits set (uuid_from_bytes), as systemd-gpt-auto expects. */
void usr_partuuids(const uint8_t hash[static USR_HASH_SIZE], char ret_data[static UUID_STRING_SIZE],
                   char ret_verity[static UUID_STRING_SIZE]);

/* The same from 64 hex digits; either out-parameter may be NULL. -EINVAL on bad hex. */
int usr_partuuids_from_hex(const char *root_hash_hex, char ret_data[UUID_STRING_SIZE],
                           char ret_verity[UUID_STRING_SIZE]);

/* "usr-a", "usr-a-verity", ... for a slot. */
const char *usr_partition_label(Slot slot, bool verity);
