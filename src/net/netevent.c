/* SPDX-License-Identifier: MIT */
/* berth-netevent: dhcpcd's `script` in the berth image (there is no shell for
 * dhcpcd-run-hooks). dhcpcd runs it after every change of a lease, with the
 * lease in its environment (lease.h). It keeps each interface's DNS servers,
 * search domains and host name under /run/berth/net/, renders /etc/resolv.conf
 * from all of them (temporary file + rename: a reader sees the old file or the
 * new one) and sets the host name from the lease. One line per event goes to
 * the kernel log, so the console and `dmesg` show when a lease came or went.
 *
 *   berth-netevent [--state-dir DIR] [--resolv-conf PATH] [--hostname-file PATH]
 *                  [--no-sethostname] [--no-kmsg]
 *
 * The options exist for tests; dhcpcd runs it without any. Exit status 0 also
 * for events it does not act on; non-zero only when a file could not be
 * written (dhcpcd logs it). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "lease.h"
#include "log.h"
#include "macro.h"

typedef struct Options {
        const char *state_dir, *resolv_conf, *hostname_file;
        bool sethostname, kmsg;
} Options;

/* To stderr (dhcpcd's log), and to the kernel log when it matters: a lease
 * that came, changed or went. */
static void note(const Options *o, bool kernel_log, const char *line) {
        fprintf(stderr, "berth-netevent: %s\n", line);
        if (!o->kmsg || !kernel_log)
                return;
        /* One write() per record; not dprintf(), whose lseek(SEEK_CUR) kmsg refuses. */
        char buf[600];
        int n = snprintf(buf, sizeof buf, "<6>berth-netevent: %s\n", line);
        _cleanup_close_ int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || write(fd, buf, (size_t) MIN(n, (int) sizeof buf - 1)) < 0)
                fprintf(stderr, "berth-netevent: /dev/kmsg: %m\n");
}

static int apply(const Options *o, const Lease *l) {
        _cleanup_free_ char *text = NULL;
        char name[64], line[512];
        int r, changed;

        changed = lease_store(o->state_dir, l);
        if (changed < 0)
                return log_error_errno(changed, "%s: %s", o->state_dir, l->ifname);
        snprintf(line, sizeof line, "%s %s%s%s%s", l->ifname, l->reason,
                 l->address[0] && l->up ? " " : "", l->up ? l->address : "",
                 l->up && l->n_servers ? ", DNS from the lease" : "");
        note(o, changed > 0, line);
        if (!changed && access(o->resolv_conf, F_OK) == 0)
                return 0;

        r = lease_render_resolv(o->state_dir, &text);
        if (r < 0)
                return log_error_errno(r, "rendering %s", o->resolv_conf);
        r = write_file_atomic(o->resolv_conf, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "writing %s", o->resolv_conf);

        if (lease_hostname(o->state_dir, name, sizeof name) < 0)
                return 0; /* no lease names the host: keep the name it has */
        if (o->sethostname && sethostname(name, strlen(name)) < 0)
                return log_error_errno(-errno, "sethostname %s", name);
        _cleanup_free_ char *h = strdup_printf("%s\n", name);
        if (!h)
                return -ENOMEM;
        r = write_file_atomic(o->hostname_file, h, strlen(h), 0644);
        if (r < 0)
                return log_error_errno(r, "writing %s", o->hostname_file);
        snprintf(line, sizeof line, "host name %s (from the lease)", name);
        note(o, true, line);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "state-dir", required_argument, NULL, 's' },
                { "resolv-conf", required_argument, NULL, 'r' },
                { "hostname-file", required_argument, NULL, 'h' },
                { "no-sethostname", no_argument, NULL, 'H' },
                { "no-kmsg", no_argument, NULL, 'K' },
                {},
        };
        Options o = {
                .state_dir = "/run/berth/net",
                .resolv_conf = "/etc/resolv.conf",
                .hostname_file = "/etc/hostname",
                .sethostname = true,
                .kmsg = true,
        };
        Lease l;
        int c, r;

        log_set_prefix("berth-netevent");
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) >= 0)
                switch (c) {
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'r':
                        o.resolv_conf = optarg;
                        break;
                case 'h':
                        o.hostname_file = optarg;
                        break;
                case 'H':
                        o.sethostname = false;
                        break;
                case 'K':
                        o.kmsg = false;
                        break;
                default:
                        return 2;
                }

        r = lease_from_env(&l);
        if (r < 0) {
                log_error("no valid $interface and $reason in the environment (run by dhcpcd)");
                return 2;
        }
        return apply(&o, &l) < 0 ? 1 : 0;
}
