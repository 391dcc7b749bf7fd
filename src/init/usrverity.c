/* SPDX-License-Identifier: MIT */
#include "usrverity.h"

#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexuuid.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free);

int usrhash_parse(const char *hex, uint8_t ret[static USRHASH_SIZE]) {
        return hex_decode(hex, ret, USRHASH_SIZE);
}

void usrhash_partuuids(const uint8_t hash[static USRHASH_SIZE],
                       char ret_data[static UUID_STRING_SIZE],
                       char ret_verity[static UUID_STRING_SIZE]) {
        uuid_from_bytes(hash, ret_data);
        uuid_from_bytes(hash + 16, ret_verity);
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
