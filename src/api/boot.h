/* SPDX-License-Identifier: MIT */
/* boot.h: what berthd does at every boot before any service starts
 * (`berthd --boot`, run and waited for by berth-init, docs/api.md "At
 * boot"): first-boot user data once per machine, the kept /etc files, and
 * /etc rendered from the factory files and the current settings generation. */
#pragma once

#include <stdbool.h>

#include "userdata.h"

typedef struct BootOptions {
        const char *root;         /* "/": where /var files of user data go */
        const char *settings_dir; /* /var/lib/berth/settings */
        const char *etc;          /* /etc */
        const char *factory;      /* /usr/share/factory/etc */
        const char *keep_etc;     /* /var/lib/berth/etc: user data's /etc files */
        const char *done_marker;  /* /var/lib/berth/user-data.done */
        const char *esp;          /* /efi: where the report of invalid user data goes; NULL: none */
        UserDataSources sources;
} BootOptions;

/* Returns 0, or -EBADMSG after invalid user data: the one line naming the
 * field is printed on stdout (the console) and the report written to the
 * ESP; nothing was applied and the caller must stop the boot. Other errors
 * are negative errnos with the error object set. */
int boot_run(const BootOptions *o);
