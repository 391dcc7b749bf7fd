/* SPDX-License-Identifier: MIT */
/* libFuzzer target: TUF metadata from an update repository (tuf_parse) as
 * every role, then signature checks of the result against itself as root. */
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "tuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        log_set_max_level(LOG_LEVEL_ERR - 1);
        for (TufRole role = 0; role < _TUF_ROLE_MAX; role++) {
                TufMetadata *m = NULL;
                int r = tuf_parse((const char *) data, size, role, "fuzz.json", &m);
                /* Exactly one of metadata and an error with a message. */
                if ((r >= 0) != (m != NULL) || (r < 0 && r != -ENOMEM && error_code() == 0))
                        __builtin_trap();
                if (m && role == TUF_ROOT) {
                        (void) tuf_verify(m, m, TUF_ROOT, "fuzz.json");
                        (void) tuf_check_expiry(m, 0, "fuzz.json");
                }
                if (m && (role == TUF_TIMESTAMP || role == TUF_SNAPSHOT))
                        (void) tuf_find_meta(m, "snapshot.json");
                tuf_metadata_free(m);
                error_clear();
        }
        return 0;
}
