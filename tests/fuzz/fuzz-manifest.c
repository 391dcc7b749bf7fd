/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the manifest.json reader (manifests come from update
 * repositories and other slots) on arbitrary input. */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Manifest *m = NULL;
        char *msg = NULL;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        int r = manifest_parse((const char *) data, size, &m, &msg);
        /* Exactly one of a manifest and a message. */
        if ((r >= 0) != (m != NULL) || (r < 0 && r != -ENOMEM && !msg))
                __builtin_trap();
        if (m)
                (void) manifest_find_artifact(m, "usr.erofs");
        manifest_free(m);
        free(msg);
        return 0;
}
