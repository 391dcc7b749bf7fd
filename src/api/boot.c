/* SPDX-License-Identifier: MIT */
/* berthd --boot (boot.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "bootcmd.h"
#include "copy.h"
#include "error.h"
#include "fileio.h"
#include "settings-render.h"
#include "settings-store.h"
#include "settings.h"

#define ESP_REPORT "berth/user-data-error.txt"

/* The ESP is mounted read-only (docs/init.md); a report needs it writable for
 * a moment. A plain directory (tests) is written as it is. text NULL: the
 * report of an earlier refused boot is removed. */
static int esp_write_report(const char *esp, const char *text) {
        _cleanup_free_ char *p = path_join(esp, ESP_REPORT);
        bool remounted;
        int r;

        if (!p)
                return -ENOMEM;
        if (!text && access(p, F_OK) < 0)
                return 0;
        r = esp_set_writable(esp, true, &remounted);
        if (r < 0)
                return r;
        if (!text)
                r = unlink(p) < 0 ? -errno : 0;
        else {
                r = mkdir_parents(p, 0700);
                if (r >= 0)
                        r = write_file_atomic(p, text, strlen(text), 0600);
        }
        if (remounted)
                (void) esp_set_writable(esp, false, &remounted);
        return r < 0 ? error_wrapf(r, "cannot %s %s", text ? "write" : "remove", p) : 0;
}

static int refuse(const BootOptions *o, const char *source, const char *why) {
        _cleanup_free_ char *boot_id = NULL, *report = NULL;
        int r = -ENOENT;

        (void) read_full_file("/proc/sys/kernel/random/boot_id", &boot_id, NULL, 64);
        report = strdup_printf("berth: invalid user data\nsource: %s\nerror: %s\nboot_id: %s"
                               "nothing was applied; the boot stopped before any service.\n",
                               source, why, strempty(boot_id));
        if (o->esp && report) {
                error_clear();
                r = esp_write_report(o->esp, report);
        }
        /* The one line on the console: what, where from, which field. */
        printf("berth: invalid user data from %s: %s; boot stopped, nothing applied (%s)\n", source,
               why, r >= 0 ? "report on the ESP: " ESP_REPORT : "no report: ESP not writable");
        fflush(stdout);
        return -EBADMSG;
}

static int first_boot_user_data(const BootOptions *o) {
        _cleanup_free_ char *data = NULL, *source = NULL, *msg = NULL;
        _cleanup_(userdata_freep) UserData *u = NULL;
        size_t size = 0;
        int r;

        if (access(o->done_marker, F_OK) == 0)
                return 0;
        r = userdata_read(&o->sources, &data, &size, &source);
        if (r < 0) {
                msg = strdup(error_message(r));
                return refuse(o, "a user data source", strna(msg));
        }
        if (r > 0) {
                r = userdata_parse(data, size, &u);
                if (r == -ENOMEM)
                        return r;
                /* On the machine itself, sysctl values are checked against
                 * the running kernel too, as the API does. */
                if (r >= 0 && streq(o->root, "/")) {
                        _cleanup_(settings_freep) Settings *s = NULL;

                        r = settings_from_json(u->settings, &s);
                        if (r >= 0)
                                r = settings_check_sysctl(s, "/proc/sys");
                        if (r == -ENOMEM)
                                return r;
                }
                if (r < 0) {
                        msg = strdup(error_message(r));
                        return refuse(o, source, strna(msg));
                }
                r = userdata_apply(u, o->root, o->keep_etc, o->settings_dir);
                if (r < 0)
                        return error_wrapf(r, "cannot apply the user data from %s", source);
                printf("berth: user data from %s applied (%zu files)\n", source, u->n_files);
                fflush(stdout);
                /* A report left by a boot that refused earlier data is stale now. */
                if (o->esp && esp_write_report(o->esp, NULL) < 0)
                        error_clear();
        }
        /* Once per machine, also when there was none: data that appears later
         * (a config drive attached to a running fleet node) is not read. */
        _cleanup_free_ char *line = strdup_printf("%s\n", source ?: "none");
        if (!line)
                return -ENOMEM;
        r = mkdir_parents(o->done_marker, 0755);
        if (r >= 0)
                r = write_file_atomic(o->done_marker, line, strlen(line), 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", o->done_marker) : 0;
}

int boot_run(const BootOptions *o) {
        _cleanup_(settings_freep) Settings *s = NULL;
        json_t *j = NULL;
        unsigned gen;
        int r;

        r = first_boot_user_data(o);
        if (r < 0)
                return r;
        if (o->keep_etc && access(o->keep_etc, F_OK) == 0) {
                r = copy_tree(o->keep_etc, o->etc, 0, 0);
                if (r < 0)
                        return error_wrapf(r, "cannot copy %s into %s", o->keep_etc, o->etc);
        }
        r = settings_store_current(o->settings_dir, &gen, &j);
        if (r < 0)
                return r;
        r = settings_from_json(j, &s);
        json_decref(j);
        if (r < 0)
                return error_wrapf(r, "settings generation %u", gen);
        r = settings_render(s, o->factory, o->etc, NULL, NULL);
        if (r < 0)
                return r;
        return gen > 0 ? settings_store_set_applied(o->settings_dir, gen) : 0;
}
