/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the service file parser on arbitrary input. */
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Service s = {};

        /* Rejections are the common case; logging each one only slows the run. */
        log_set_max_level(LOG_LEVEL_ERR - 1);
        if (service_parse_string("fuzz.service", "fuzz", (const char *) data, size, &s) >= 0 &&
            !s.argv)
                __builtin_trap();
        service_done(&s);
        return 0;
}
