/* SPDX-License-Identifier: MIT */
/* kernel.cmdline into the boot entry (bootcmd.h). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "bootcmd.h"
#include "error.h"
#include "fileio.h"
#include "strv.h"

#define ESP_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

int esp_set_writable(const char *esp, bool writable, bool *ret_remounted) {
        struct statvfs sv;

        *ret_remounted = false;
        if (statvfs(esp, &sv) < 0)
                return error_wrapf(-errno, "no ESP at %s", esp);
        if (writable == !(sv.f_flag & ST_RDONLY))
                return 0;
        if (mount(NULL, esp, NULL, MS_REMOUNT | ESP_FLAGS | (writable ? 0 : MS_RDONLY),
                  "umask=0077") < 0)
                return error_wrapf(-errno, "cannot remount the ESP at %s %s", esp,
                                   writable ? "writable" : "read-only");
        *ret_remounted = true;
        return 0;
}

/* text with its options line rewritten; NULL on OOM. */
static char *rewrite_options(const char *text, char **remove, char **add) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *joined = NULL;
        const char *line = NULL, *end;

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strneq(l, "options ", 8) || strneq(l, "options\t", 8)) {
                        line = l;
                        break;
                }
        end = line ? strchrnul(line, '\n') : NULL;
        _cleanup_free_ char *old = line ? strndup(line + 8, end - line - 8) : strdup("");
        if (!old || strv_extend_words(&words, old, false) < 0)
                return NULL;
        STRV_FOREACH(r, remove)
                for (size_t i = 0; words && words[i]; i++)
                        if (streq(words[i], *r)) {
                                free(words[i]);
                                memmove(words + i, words + i + 1,
                                        (strv_length(words + i + 1) + 1) * sizeof(char *));
                                break;
                        }
        STRV_FOREACH(a, add)
                if (strv_extend(&words, *a) < 0)
                        return NULL;
        joined = words ? strv_join(words, " ") : strdup("");
        if (!joined)
                return NULL;
        if (!line)
                return strdup_printf("%s%soptions %s\n", text,
                                     *text && text[strlen(text) - 1] != '\n' ? "\n" : "", joined);
        return strdup_printf("%.*soptions %s%s", (int) (line - text), text, joined, end);
}

int bootcmd_update(const char *esp, Slot slot, bool pending_only, char **remove, char **add) {
        _cleanup_free_ char *dir = path_join(esp, "loader/entries");
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        bool remounted;
        int r, n = 0;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        while (d && (de = readdir(d))) {
                BootEntry e;
                if (boot_entry_parse(de->d_name, &e) >= 0 && e.slot == slot &&
                    streq(e.suffix, ".conf") &&
                    (!pending_only || (e.tries_left >= 0 && e.tries_done == 0)) &&
                    strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (strv_isempty(names))
                return error_setf(ENOENT, "no boot entry of slot %s in %s", slot_to_string(slot),
                                  dir);
        r = esp_set_writable(esp, true, &remounted);
        if (r < 0)
                return r;
        STRV_FOREACH(name, names) {
                _cleanup_free_ char *p = path_join(dir, *name), *text = NULL, *new = NULL;

                if (!p)
                        r = -ENOMEM;
                else if ((r = read_full_file(p, &text, NULL, 65536)) < 0)
                        r = error_wrapf(r, "cannot read %s", p);
                else if (!(new = rewrite_options(text, remove, add)))
                        r = -ENOMEM;
                else if (!streq(new, text) &&
                         (r = write_file_atomic(p, new, strlen(new), 0600)) < 0)
                        r = error_wrapf(r, "cannot write %s", p);
                if (r < 0)
                        break;
                n++;
        }
        if (remounted)
                (void) esp_set_writable(esp, false, &remounted);
        return r < 0 ? r : n;
}
