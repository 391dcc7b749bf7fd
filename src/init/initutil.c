/* SPDX-License-Identifier: MIT */
#include "initutil.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "log.h"

usec_t now_usec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

double uptime_sec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_BOOTTIME, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void timeline(const char *event) {
        log_notice("timeline %s %.2f", event, uptime_sec());
}

int proc_cmdline_read(char *buf, size_t size) {
        const char *e = getpid() != 1 ? getenv("BERTH_CMDLINE") : NULL;
        if (e) {
                snprintf(buf, size, "%s", e);
                return 0;
        }

        int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = read(fd, buf, size - 1);
        int r = k < 0 ? -errno : 0;
        (void) close(fd);
        if (r < 0)
                return r;
        buf[k] = 0;

        /* Words QEMU's fw_cfg adds (berth vm passes test payload switches this
         * way, since a UEFI boot entry's command line can't be changed from
         * outside). Only the opt/berth/ namespace, which only the VM's host
         * can set. */
        fd = open("/sys/firmware/qemu_fw_cfg/by_name/opt/berth/cmdline/raw", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                char extra[1024];
                size_t used = strlen(buf);
                k = read(fd, extra, sizeof extra - 1);
                (void) close(fd);
                extra[k > 0 ? k : 0] = 0;
                while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' '))
                        buf[--used] = 0;
                /* Only test switches: nothing from fw_cfg may change what the
                 * kernel command line says about usr, root or slots. */
                for (char *w = strtok(extra, " \t\n"); w; w = strtok(NULL, " \t\n")) {
                        if (!strneq(w, "berth.payload", 13) && !strneq(w, "berth.debug.", 12))
                                continue;
                        if (used + 1 + strlen(w) + 1 > size)
                                break;
                        buf[used++] = ' ';
                        strcpy(buf + used, w);
                        used += strlen(w);
                }
        }
        return 0;
}

int proc_cmdline_get(const char *key, char *ret, size_t size) {
        char buf[4096];
        int r = proc_cmdline_read(buf, sizeof buf);
        if (r < 0)
                return r;
        return cmdline_get(buf, key, ret, size);
}

bool proc_cmdline_get_bool(const char *key) {
        char v[16];
        if (proc_cmdline_get(key, v, sizeof v) <= 0)
                return false;
        return isempty(v) || streq(v, "1") || streq(v, "yes") || streq(v, "true") || streq(v, "on");
}
