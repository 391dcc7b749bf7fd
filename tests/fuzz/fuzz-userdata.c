/* SPDX-License-Identifier: MIT */
/* libFuzzer target: first-boot user data (src/api/userdata.c), what fw_cfg,
 * a config drive or the ESP hand a new machine. A refusal names a field;
 * accepted data has clean paths under /etc or /var and modes within 07777. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "userdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UserData *u = NULL;
        int r;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        r = userdata_parse((const char *) data, size, &u);
        if ((r >= 0) != (u != NULL))
                __builtin_trap();
        if (r == -EINVAL && strlen(error_message(r)) < 3)
                __builtin_trap();
        for (size_t i = 0; u && i < u->n_files; i++) {
                const char *p = u->files[i].path;
                if ((!strneq(p, "/etc/", 5) && !strneq(p, "/var/", 5)) || strstr(p, "/../") ||
                    strstr(p, "//") || u->files[i].mode > 07777 || !u->files[i].content)
                        __builtin_trap();
        }
        userdata_free(u);
        return 0;
}
