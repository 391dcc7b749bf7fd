/* SPDX-License-Identifier: MIT */
/* assess.c: the supervised agent (update.service). After a boot from an
 * entry that still counts tries it waits for health: every other service
 * of PID 1 ready (or exited 0, or skipped), containerd's socket answering,
 * both for HealthGrace= seconds in a row. Then it blesses the entry
 * (`mark-good`); not healthy within HealthTimeout= seconds, it asks PID 1 to
 * reboot, so systemd-boot counts the entry down and at last falls back to
 * the other one. Ready (READY=1) once the boot is assessed; then it applies
 * new releases every CheckInterval= seconds plus up to CheckJitter= seconds,
 * without rebooting into them. docs/updates.md, "Boot assessment". */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "initctl.h"
#include "log.h"
#include "macro.h"
#include "update.h"

#define CONTAINERD_SOCKET "/run/containerd/containerd.sock"
#define SELF "update"

typedef struct Schedule {
        unsigned interval, jitter, grace, timeout;
        bool have_repo;
} Schedule;

static bool state_is_healthy(const char *state) {
        return streq(state, "ready") || streq(state, "exited") || streq(state, "skipped");
}

static int socket_answers(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 1;
        close(fd);
        return r;
}

int update_health_probe(const char *services_dir, const char *self, const char *containerd_socket,
                        char **ret_reason) {
        _cleanup_(closedirp) DIR *d = opendir(services_dir);
        struct dirent *de;
        bool containerd = false;

        *ret_reason = NULL;
        if (!d)
                return error_wrapf(-errno, "cannot read %s (is berth-init PID 1?)", services_dir);
        while ((de = readdir(d))) {
                ServiceStatus st;
                if (!service_name_is_valid(de->d_name) || streq(de->d_name, self))
                        continue;
                int r = service_status_read(services_dir, de->d_name, &st);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return error_wrapf(r, "%s/%s: cannot read the status", services_dir,
                                           de->d_name);
                if (streq(st.name, "containerd"))
                        containerd = true;
                if (!state_is_healthy(st.state)) {
                        *ret_reason = strdup_printf("service %s is %s", st.name, st.state);
                        return *ret_reason ? 0 : -ENOMEM;
                }
        }
        if (containerd && socket_answers(containerd_socket) < 0) {
                *ret_reason =
                        strdup_printf("containerd's socket %s does not answer", containerd_socket);
                return *ret_reason ? 0 : -ENOMEM;
        }
        return 1;
}

static unsigned conf_unsigned(const char *conf, const char *key, unsigned dflt) {
        size_t n = strlen(key);
        for (const char *l = conf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, n) && l[n] == '=') {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(l + n + 1, &end, 10);
                        if (errno == 0 && end != l + n + 1 && (*end == '\n' || !*end) &&
                            v <= 86400 * 7)
                                return (unsigned) v;
                        log_warning("update.conf: bad %s=, using %u", key, dflt);
                        return dflt;
                }
        return dflt;
}

static int read_schedule(const UpdateOptions *o, Schedule *ret) {
        _cleanup_free_ char *path = path_join(o->config_dir ?: UPDATE_CONFIG_DIR, "update.conf");
        _cleanup_free_ char *conf = NULL;
        size_t size;
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, &conf, &size, 64 << 10);
        if (r < 0 && r != -ENOENT)
                return error_wrapf(r, "cannot read %s", path);
        *ret = (Schedule){
                .interval = conf_unsigned(conf, "CheckInterval", 21600),
                .jitter = conf_unsigned(conf, "CheckJitter", 3600),
                .grace = conf_unsigned(conf, "HealthGrace", 30),
                .timeout = conf_unsigned(conf, "HealthTimeout", 600),
                .have_repo = o->repo_url || (conf && strstr(conf, "\nRepository=")),
        };
        return 0;
}

static uint64_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t) ts.tv_sec;
}

/* READY=1 to $NOTIFY_SOCKET (PID 1's Ready=notify); nothing without one. */
static void notify_ready(void) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (isempty(path) || strlen(path) >= sizeof sa.sun_path)
                return;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof sa) < 0)
                log_warning("cannot notify %s: %m", path);
        close(fd);
}

/* 1: blessed (or nothing to assess), 0: unhealthy (reboot asked), <0: error. */
static int assess(const UpdateOptions *o, const Schedule *s) {
        const char *dir = o->services_dir ?: INITCTL_STATUS_DIR;
        _cleanup_free_ char *version = NULL, *last = NULL;
        bool counting;
        int r = update_running_entry(o, &counting, &version);
        if (r < 0) {
                /* Not booted from a slot (a direct kernel boot), no ESP: nothing
                 * to bless, and no reason to reboot. */
                log_warning("no boot assessment: %s", error_message(r));
                error_clear();
                return 1;
        }
        if (!counting) {
                log_info("running %s from a blessed entry: no boot assessment", version);
                return 1;
        }
        log_info("running %s from an entry that counts tries: waiting for health (grace %us, "
                 "timeout %us)",
                 version, s->grace, s->timeout);
        uint64_t start = now_sec(), healthy_since = 0;
        for (;;) {
                _cleanup_free_ char *reason = NULL;
                uint64_t now = now_sec();
                r = update_health_probe(dir, SELF, CONTAINERD_SOCKET, &reason);
                if (r < 0)
                        return r;
                if (r == 0) {
                        healthy_since = 0;
                        free(last);
                        last = TAKE_PTR(reason);
                } else if (healthy_since == 0)
                        healthy_since = now;
                if (healthy_since > 0 && now - healthy_since >= s->grace)
                        break;
                if (now - start >= s->timeout) {
                        log_error("boot assessment: %s not healthy after %us (%s): rebooting, so "
                                  "the boot counter falls back",
                                  version, s->timeout, strna(last));
                        if (!o->services_dir && kill(1, SIGTERM) < 0)
                                return error_wrapf(-errno, "cannot ask PID 1 to reboot");
                        return 0;
                }
                sleep(1);
        }
        log_info("boot assessment: %s healthy for %us", version, s->grace);
        r = update_mark_good(o);
        return r < 0 ? r : 1;
}

int update_service(const UpdateOptions *o) {
        Schedule s = {};
        int r = read_schedule(o, &s);
        if (r < 0)
                return r;
        r = assess(o, &s);
        /* stdout is a log file (full buffering): the blessing line now. */
        fflush(stdout);
        if (r <= 0) {
                if (r == 0) /* PID 1 stops this service on its way down. */
                        pause();
                return r;
        }
        notify_ready();
        if (!s.have_repo || s.interval == 0) {
                log_info("no periodic update checks (%s)",
                         s.have_repo ? "CheckInterval=0" : "no Repository= in update.conf");
                return 0;
        }
        for (;;) {
                unsigned extra = 0;
                if (s.jitter > 0 && getrandom(&extra, sizeof extra, 0) == sizeof extra)
                        extra %= s.jitter + 1;
                unsigned wait = s.interval + extra;
                while (wait > 0)
                        wait = sleep(wait);
                r = update_apply(o);
                if (r < 0) {
                        log_error("update check: %s", error_message(r));
                        error_clear();
                }
                fflush(stdout);
        }
}
