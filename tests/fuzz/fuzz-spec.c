/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the image spec parser on arbitrary input. */
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ImageSpec *s = NULL;

        /* Rejections are the common case; logging each one only slows the run. */
        log_set_max_level(LOG_LEVEL_ERR - 1);
        if (spec_parse_string("fuzz.conf", (const char *) data, size, &s) >= 0 && !s)
                __builtin_trap();
        spec_free(s);
        return 0;
}
