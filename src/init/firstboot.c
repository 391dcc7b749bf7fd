/* SPDX-License-Identifier: MIT */
#include "firstboot.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "initutil.h"
#include "macro.h"

static bool task_is_valid(const char *task) {
        return !isempty(task) && strlen(task) < 64 &&
               task[strspn(task, "abcdefghijklmnopqrstuvwxyz0123456789-")] == 0;
}

static int marker_path(const char *root, const char *task, char *buf, size_t size) {
        if (!task_is_valid(task))
                return -EINVAL;
        int n = snprintf(buf, size, "%s/" FIRSTBOOT_DIR "/%s", streq(root, "/") ? "" : root, task);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

bool firstboot_pending(const char *root, const char *task) {
        char p[PATH_MAX];
        return marker_path(root, task, p, sizeof p) < 0 || access(p, F_OK) < 0;
}

int firstboot_done(const char *root, const char *task) {
        _cleanup_free_ char *boot_id = NULL;
        char p[PATH_MAX], text[128];
        int r;

        r = marker_path(root, task, p, sizeof p);
        if (r < 0)
                return r;
        if (read_full_file("/proc/sys/kernel/random/boot_id", &boot_id, NULL, 64) >= 0)
                boot_id[strcspn(boot_id, "\n")] = 0;
        snprintf(text, sizeof text, "boot_id=%s\nuptime=%.2f\n", boot_id ? boot_id : "",
                 uptime_sec());
        r = mkdir_parents(p, 0755);
        if (r < 0)
                return r;
        /* write_file_atomic: temp file, fsync, rename, fsync of the directory. */
        return write_file_atomic(p, text, strlen(text), 0644);
}
