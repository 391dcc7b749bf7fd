/* SPDX-License-Identifier: MIT */
/* usrverity.h: the /usr dm-verity pair. Partition UUIDs derive from the root
 * hash (docs/architecture.md); activation goes through libcryptsetup, the
 * only place berth-init calls it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hexuuid.h"

#define USRHASH_SIZE 32

/* Parses 64 hex digits. -EINVAL otherwise. */
int usrhash_parse(const char *hex, uint8_t ret[static USRHASH_SIZE]);

/* The partition UUIDs of the data (first 128 bits) and verity (last 128 bits)
 * partitions, as lowercase UUID strings with version 4 / RFC 4122 variant bits
 * set, as systemd-gpt-auto expects. */
void usrhash_partuuids(const uint8_t hash[static USRHASH_SIZE],
                       char ret_data[static UUID_STRING_SIZE],
                       char ret_verity[static UUID_STRING_SIZE]);

/* Opens /dev/mapper/NAME read-only over data_dev with the hash tree (and its
 * superblock) on hash_dev, checked against root_hash. udev sync is off (no udev
 * in the initramfs); libdevmapper creates the node itself. On failure ret_msg
 * (if not NULL) gets libcryptsetup's last message. */
int usrverity_open(const char *name, const char *data_dev, const char *hash_dev,
                   const uint8_t *root_hash, size_t root_hash_size, char *ret_msg,
                   size_t msg_size);
