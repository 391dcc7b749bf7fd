/* SPDX-License-Identifier: MIT */
#include "payload.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "blockdev.h"
#include "fileio.h"
#include "initutil.h"
#include "log.h"

int payload_mount(const char *dir) {
        static const char *const types[] = { "ext4", "iso9660", "vfat" };
        usec_t end = now_usec() + 5 * USEC_PER_SEC;
        BlockInfo info;
        char dev[PATH_MAX];
        int r;

        for (;;) {
                r = blockdev_find(blockdev_match_label, PAYLOAD_LABEL, &info);
                if (r != 0 || now_usec() > end)
                        break;
                (void) usleep(100 * 1000);
        }
        if (r <= 0)
                return log_error_errno(r < 0 ? r : -ENODEV, "payload: no file system labelled %s",
                                       PAYLOAD_LABEL);

        snprintf(dev, sizeof dev, "/dev/%s", info.name);
        (void) mkdir_p(dir, 0755);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                if (!isempty(info.fstype) && !streq(info.fstype, types[i]))
                        continue;
                if (mount(dev, dir, types[i], MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) >= 0) {
                        log_info("payload: mounted %s (%s) on %s", dev, types[i], dir);
                        return 0;
                }
                r = negative_errno();
        }
        return log_error_errno(r < 0 ? r : -EMEDIUMTYPE, "payload: cannot mount %s (%s) on %s", dev,
                               isempty(info.fstype) ? "?" : info.fstype, dir);
}
