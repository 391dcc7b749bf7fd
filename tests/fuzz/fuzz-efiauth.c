/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the `.auth` reader of `berth vm --secure-boot`
 * (efi_auth_parse), which takes the image's keys from its ESP before
 * writing them into a machine's variable store. What it returns must lie
 * inside the input and be whole signature lists. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "efivars.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EfiAuthData a;
        int r = efi_auth_parse("fuzz.auth", data, size, &a);
        if (r < 0) {
                if (r != -EBADMSG)
                        __builtin_trap();
                return 0;
        }
        if (a.timestamp != data || a.size == 0 || a.data < data + 16 ||
            a.data + a.size != data + size)
                __builtin_trap();
        return 0;
}
