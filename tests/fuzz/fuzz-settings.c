/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the settings parser (src/api/settings.c), what the API
 * and first-boot user data hand the node. Valid settings must turn into JSON
 * that parses back to the same settings, and render. A valid
 * update.reboot-window (src/shared/reboot-window.c) must format to a form
 * that parses to the same window, and its next opening must be inside it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "reboot-window.h"
#include "settings-render.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_window(const char *text, size_t size) {
        RebootWindow w, again;
        char buf[REBOOT_WINDOW_FORMAT_MAX];
        if (reboot_window_parse(text, &w) < 0)
                __builtin_trap(); /* the settings parser accepted it */
        if (w.days == 0 || w.days > 0x7f || w.start >= 1440 || w.length < 1 || w.length > 1440)
                __builtin_trap();
        if (reboot_window_parse(reboot_window_format(&w, buf), &again) < 0 ||
            memcmp(&w, &again, sizeof w) != 0)
                __builtin_trap();
        /* Some time in 2026 the input picks, then its next opening. */
        time_t now = 1767225600 + (time_t) (size * 7919 % (366 * 86400)), next, end;
        next = reboot_window_next(&w, now);
        if (next < now || next - now > 7 * 86400 || reboot_window_next(&w, next) != next)
                __builtin_trap();
        end = reboot_window_end(&w, next);
        if (end <= next || reboot_window_end(&w, now) < now)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Settings *s = NULL, *back = NULL;
        json_t *j = NULL, *j2 = NULL;
        char *text = NULL, *text2 = NULL;
        int r;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        r = settings_parse((const char *) data, size, &s);
        if ((r >= 0) != (s != NULL))
                __builtin_trap();
        /* A refusal always says what, with no strerror stand-in. */
        if (r == -EINVAL && strlen(error_message(r)) < 3)
                __builtin_trap();
        if (!s)
                return 0;
        if (s->reboot_window)
                check_window(s->reboot_window, size);
        if (settings_to_json(s, &j) < 0)
                goto finish;
        text = json_dumps(j, JSON_SORT_KEYS);
        if (!text)
                goto finish;
        if (settings_parse(text, strlen(text), &back) < 0)
                __builtin_trap();
        if (settings_to_json(back, &j2) < 0)
                goto finish;
        text2 = json_dumps(j2, JSON_SORT_KEYS);
        if (text2 && !streq(text, text2))
                __builtin_trap();
        (void) settings_need_reboot(s, back);
finish:
        free(text);
        free(text2);
        json_decref(j);
        json_decref(j2);
        settings_free(s);
        settings_free(back);
        error_clear();
        return 0;
}
