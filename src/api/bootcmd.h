/* SPDX-License-Identifier: MIT */
/* bootcmd.h: the settings' kernel.cmdline words in the running slot's boot
 * entry on the ESP (the `options` line of loader/entries/berth-SLOT*.conf),
 * so they take effect at the next boot; and the ESP's read-only mount
 * lifted for a write (docs/api.md, "Live changes"). */
#pragma once

#include <stdbool.h>

#include "slot.h"

/* Makes the ESP mounted at esp writable (writable) or read-only again. A
 * directory that is not read-only (tests) is left as it is. *ret_remounted
 * says whether it was remounted, for the matching call back. */
int esp_set_writable(const char *esp, bool writable, bool *ret_remounted);

/* In every entry of slot (pending_only: only those never booted, an update
 * the updater installed with the words applied then): removes the words of
 * `remove` (one occurrence each) from the options line and appends those of
 * `add`. Returns the number of entries changed; -ENOENT "no boot entry of
 * slot a in ESP/loader/entries" if there is none. */
int bootcmd_update(const char *esp, Slot slot, bool pending_only, char **remove, char **add);
