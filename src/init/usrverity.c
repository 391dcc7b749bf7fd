/* SPDX-License-Identifier: MIT */
#include "usrverity.h"

#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int usrhash_parse(const char *hex, uint8_t ret[static USRHASH_SIZE]) {
        uint8_t b[USRHASH_SIZE];
        if (!hex || strlen(hex) != 2 * USRHASH_SIZE)
                return -EINVAL;
        for (size_t i = 0; i < USRHASH_SIZE; i++) {
                int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                b[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret, b, sizeof b);
        return 0;
}

void uuid_format(const uint8_t b[static 16], char ret[static UUID_STRING_SIZE]) {
        snprintf(ret, UUID_STRING_SIZE,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                 b[14], b[15]);
}

static void half_uuid(const uint8_t *half, char ret[static UUID_STRING_SIZE]) {
        uint8_t b[16];
        memcpy(b, half, 16);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        uuid_format(b, ret);
}

void usrhash_partuuids(const uint8_t hash[static USRHASH_SIZE],
                       char ret_data[static UUID_STRING_SIZE],
                       char ret_verity[static UUID_STRING_SIZE]) {
        half_uuid(hash, ret_data);
        half_uuid(hash + 16, ret_verity);
}

static char *last_msg;
static size_t last_msg_size;

static void log_cb(int level, const char *msg, void *usrptr) {
        if (level != CRYPT_LOG_ERROR || !last_msg || last_msg_size == 0)
                return;
        snprintf(last_msg, last_msg_size, "%s", msg);
        /* libcryptsetup messages end with a newline; the console line must not. */
        last_msg[strcspn(last_msg, "\n")] = 0;
}

int usrverity_open(const char *name, const char *data_dev, const char *hash_dev,
                   const uint8_t *root_hash, size_t root_hash_size, char *ret_msg,
                   size_t msg_size) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        /* No udev in the initramfs: libdevmapper must neither wait for udev
         * cookies nor leave node creation to it. Read on its first call. */
        (void) setenv("DM_DISABLE_UDEV", "1", 1);

        if (ret_msg && msg_size > 0)
                ret_msg[0] = 0;
        last_msg = ret_msg;
        last_msg_size = msg_size;
        crypt_set_log_callback(NULL, log_cb, NULL);

        r = crypt_init_data_device(&cd, hash_dev, data_dev);
        if (r < 0)
                goto out;
        crypt_set_log_callback(cd, log_cb, NULL);

        struct crypt_params_verity params = {
                .data_device = data_dev,
        };
        r = crypt_load(cd, CRYPT_VERITY, &params);
        if (r < 0)
                goto out;

        r = crypt_activate_by_volume_key(cd, name, (const char *) root_hash, root_hash_size,
                                         CRYPT_ACTIVATE_READONLY);
out:
        last_msg = NULL;
        crypt_set_log_callback(NULL, NULL, NULL);
        return r;
}
