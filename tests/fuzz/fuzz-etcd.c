/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what an etcd endpoint answers (etcd_parse_range,
 * etcd_parse_txn, etcd_parse_lease, base64 of keys and values) and the fleet reboot
 * semaphore's JSON in the key (reboot_sem_parse, then formatting it back,
 * which must parse again to the same holders and leases). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "etcd.h"
#include "log.h"
#include "rebootlock.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *d = (const char *) data;
        EtcdKv kv = {};
        RebootSem s = {}, again = {};
        char *text = NULL, *b = NULL, *dec = NULL;
        size_t n;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        int r = etcd_parse_range(d, size, "/berth/reboot/default", "fuzz", &kv);
        if ((r < 0 && r != -ENOMEM && error_code() == 0) || (r > 0 && !kv.value))
                __builtin_trap();
        etcd_kv_done(&kv);
        error_clear();
        r = etcd_parse_txn(d, size, "fuzz");
        if (r < 0 && r != -ENOMEM && error_code() == 0)
                __builtin_trap();
        error_clear();
        int64_t lease = 0, ttl = 0;
        r = etcd_parse_lease(d, size, "fuzz", &lease, &ttl);
        if ((r < 0 && r != -ENOMEM && error_code() == 0) || (r >= 0 && (lease <= 0 || ttl == 0)))
                __builtin_trap();
        error_clear();

        r = reboot_sem_parse(d, size, "fuzz", &s);
        if (r < 0 && r != -ENOMEM && error_code() == 0)
                __builtin_trap();
        if (r >= 0 && reboot_sem_format(&s, &text) >= 0) {
                if (reboot_sem_parse(text, strlen(text), "fuzz", &again) < 0 ||
                    again.max != s.max || strv_length(again.holders) != strv_length(s.holders))
                        __builtin_trap();
                STRV_FOREACH(h, s.holders)
                        if (reboot_sem_lease(&again, *h) != reboot_sem_lease(&s, *h))
                                __builtin_trap();
        }
        error_clear();

        /* base64: what decodes encodes back to the same text. */
        b = strndup(d, size);
        if (b && etcd_base64_decode(b, &dec, &n) >= 0) {
                char *e = etcd_base64_encode(dec, n);
                if (e && strcmp(e, b) != 0 && strlen(b) % 4 == 0) {
                        /* Unused low bits of the last character may differ. */
                        char *dec2 = NULL;
                        size_t n2;
                        if (etcd_base64_decode(e, &dec2, &n2) < 0 || n2 != n ||
                            memcmp(dec2, dec, n) != 0)
                                __builtin_trap();
                        free(dec2);
                }
                free(e);
        }
        free(b);
        free(dec);
        free(text);
        reboot_sem_done(&s);
        reboot_sem_done(&again);
        return 0;
}
