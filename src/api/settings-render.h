/* SPDX-License-Identifier: MIT */
/* settings-render.h: /etc files from the settings (docs/api.md). Each file
 * the settings own is rendered from the factory tree and the settings; a
 * file whose settings are unset gets its factory text back, or is removed if
 * the factory has none. Only files whose content changes are written
 * (crash-safely). Which service each file belongs to is the settings table's
 * `service` column. */
#pragma once

#include "settings.h"

/* Renders into etc (/etc on the node) from factory (/usr/share/factory/etc).
 * ret_files: the changed files, relative to etc; ret_services: the services
 * owning them, sorted and unique. Either may be NULL. */
int settings_render(const Settings *s, const char *factory, const char *etc, char ***ret_files,
                    char ***ret_services);

/* The service restarted when a rendered file (relative to /etc) changes, NULL
 * if none. */
const char *settings_file_service(const char *file);

/* true if a setting that takes effect only at boot differs between a and b
 * (either may be NULL: nothing set). */
bool settings_need_reboot(const Settings *a, const Settings *b);
