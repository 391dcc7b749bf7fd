/* SPDX-License-Identifier: MIT */
#include "partition.h"

#include <errno.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"

int usrhash_parse(const char *hex, uint8_t ret[static USR_HASH_SIZE]) {
        return hex_decode(hex, ret, USR_HASH_SIZE);
}

void usr_partuuids(const uint8_t hash[static USR_HASH_SIZE], char ret_data[static UUID_STRING_SIZE],
                   char ret_verity[static UUID_STRING_SIZE]) {
        uuid_from_bytes(hash, ret_data);
        uuid_from_bytes(hash + USR_HASH_SIZE / 2, ret_verity);
}

int usr_partuuids_from_hex(const char *root_hash_hex, char ret_data[UUID_STRING_SIZE],
                           char ret_verity[UUID_STRING_SIZE]) {
        uint8_t h[USR_HASH_SIZE];
        char d[UUID_STRING_SIZE], v[UUID_STRING_SIZE];
        int r;

        if (!root_hash_hex)
                return -EINVAL;
        r = usrhash_parse(root_hash_hex, h);
        if (r < 0)
                return r;
        usr_partuuids(h, d, v);
        if (ret_data)
                memcpy(ret_data, d, sizeof d);
        if (ret_verity)
                memcpy(ret_verity, v, sizeof v);
        return 0;
}

const char *usr_partition_label(Slot slot, bool verity) {
        static const char *const labels[_SLOT_MAX][2] = {
                [SLOT_A] = { "usr-a", "usr-a-verity" },
                [SLOT_B] = { "usr-b", "usr-b-verity" },
        };
        if (slot < 0 || slot >= _SLOT_MAX)
                return NULL;
        return labels[slot][verity];
}
