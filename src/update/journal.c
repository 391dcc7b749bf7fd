/* SPDX-License-Identifier: MIT */
#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"

static const char *const step_names[_JOURNAL_STEP_MAX] = {
        [JOURNAL_NONE] = "none",         [JOURNAL_CLEARED] = "cleared",
        [JOURNAL_WRITTEN] = "written",   [JOURNAL_VERIFIED] = "verified",
        [JOURNAL_LABELLED] = "labelled", [JOURNAL_BOOT_FILES] = "boot-files",
        [JOURNAL_DONE] = "done",
};

const char *journal_step_to_string(JournalStep s) {
        return s >= 0 && s < _JOURNAL_STEP_MAX ? step_names[s] : NULL;
}

static char *journal_path(const char *dir) {
        return path_join(dir, "journal");
}

int journal_read(const char *state_dir, Journal *ret) {
        _cleanup_free_ char *p = journal_path(state_dir), *data = NULL;
        Journal j = { .slot = _SLOT_INVALID, .step = _JOURNAL_STEP_INVALID };
        size_t size;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, &data, &size, 4096);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        for (char *save = NULL, *l = strtok_r(data, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(l, '=');
                if (!eq)
                        return error_setf(EBADMSG, "%s: bad line '%.64s'", p, l);
                *eq++ = 0;
                if (streq(l, "version") && strlen(eq) < sizeof j.version)
                        strcpy(j.version, eq);
                else if (streq(l, "root_hash") && strlen(eq) == 64)
                        strcpy(j.root_hash, eq);
                else if (streq(l, "slot"))
                        j.slot = slot_from_string(eq);
                else if (streq(l, "step")) {
                        for (JournalStep s = 0; s < _JOURNAL_STEP_MAX; s++)
                                if (streq(eq, step_names[s]))
                                        j.step = s;
                } else
                        return error_setf(EBADMSG, "%s: bad line '%.64s'", p, l);
        }
        if (!j.version[0] || !j.root_hash[0] || j.slot < 0 || j.step < 0)
                return error_setf(EBADMSG, "%s: incomplete journal", p);
        *ret = j;
        return 0;
}

int journal_write(const char *state_dir, const Journal *j) {
        _cleanup_free_ char *p = journal_path(state_dir), *text = NULL;
        int r;

        text = strdup_printf("version=%s\nslot=%s\nroot_hash=%s\nstep=%s\n", j->version,
                             slot_to_string(j->slot), j->root_hash,
                             journal_step_to_string(j->step));
        if (!p || !text)
                return -ENOMEM;
        r = write_file_atomic(p, text, strlen(text), 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 0;
}

int journal_remove(const char *state_dir) {
        _cleanup_free_ char *p = journal_path(state_dir);
        if (!p)
                return -ENOMEM;
        if (unlink(p) < 0 && errno != ENOENT)
                return error_wrapf(-errno, "cannot remove %s", p);
        return fsync_directory(state_dir);
}
