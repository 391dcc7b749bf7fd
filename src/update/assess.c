/* SPDX-License-Identifier: MIT */
/* assess.c: the supervised agent (update.service). After a boot from an
 * entry that still counts tries it waits for health: every other service
 * of PID 1 ready (or exited 0, or skipped), containerd's socket answering,
 * and the optional HealthCommand= exiting 0, all for HealthGrace= seconds in
 * a row. Then it blesses the entry (`mark-good`); not healthy within
 * HealthTimeout= seconds, it asks PID 1 to reboot, so systemd-boot counts
 * the entry down and at last falls back to the other one. Ready (READY=1)
 * as soon as it runs: nothing waits for the assessment (it watches the
 * others; a payload or a workload need not wait for its grace period).
 * Then it exits 0: the update checks are update-check.service, which
 * berth-init starts every CheckInterval= seconds plus up to CheckJitter=
 * (the composer writes it with the schedule of the image's [Update]).
 * docs/updates.md, "Boot assessment". */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "initctl.h"
#include "log.h"
#include "macro.h"
#include "rebootlock.h"
#include "spawn-util.h"
#include "strv.h"
#include "update.h"

#define CONTAINERD_SOCKET "/run/containerd/containerd.sock"
#define SELF "update"

typedef struct Schedule {
        unsigned interval, jitter, grace, timeout;
        bool have_repo;
        char **health_command; /* NULL: none */
} Schedule;

static bool state_is_healthy(const char *state) {
        /* listening: PID 1 holds its socket and starts it on a connection;
         * scheduled: it runs on a timer (docs/services.md). */
        return streq(state, "ready") || streq(state, "exited") || streq(state, "skipped") ||
               streq(state, "listening") || streq(state, "scheduled");
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

/* Runs the health command: 1 when it exits 0 within timeout_s, else 0 with
 * the reason. */
static int run_health_command(char *const *argv, unsigned timeout_s, char **ret_reason) {
        pid_t pid;
        int status = 0, r;

        fflush(stdout);
        r = spawn_start(argv, NULL, &pid);
        if (r < 0) {
                *ret_reason = strdup_printf("health command %s cannot run: %s", argv[0],
                                            error_message(r));
                error_clear();
                return *ret_reason ? 0 : -ENOMEM;
        }
        for (unsigned tenths = 0;; tenths++) {
                pid_t k = waitpid(pid, &status, WNOHANG);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == pid)
                        break;
                if (tenths >= timeout_s * 10) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        *ret_reason = strdup_printf("health command %s did not finish in %us",
                                                    argv[0], timeout_s);
                        return *ret_reason ? 0 : -ENOMEM;
                }
                (void) usleep(100 * 1000);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 1;
        if (WIFEXITED(status))
                *ret_reason = strdup_printf("health command %s exited with status %d", argv[0],
                                            WEXITSTATUS(status));
        else
                *ret_reason = strdup_printf("health command %s was killed by signal %d", argv[0],
                                            WTERMSIG(status));
        return *ret_reason ? 0 : -ENOMEM;
}

int update_health_probe(const char *services_dir, const char *self, const char *containerd_socket,
                        char *const *health_command, unsigned timeout_s, char **ret_reason) {
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
        if (!strv_isempty((char **) health_command))
                return run_health_command(health_command, timeout_s, ret_reason);
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
        _cleanup_free_ char *conf = NULL, *repo = NULL, *cmd = NULL;
        int r = update_config_load(o, &conf);
        if (r < 0)
                return r;
        if ((r = update_config_value(conf, "Repository", &repo)) < 0 ||
            (r = update_config_value(conf, "HealthCommand", &cmd)) < 0)
                return r;
        *ret = (Schedule){
                .interval = conf_unsigned(conf, "CheckInterval", 21600),
                .jitter = conf_unsigned(conf, "CheckJitter", 3600),
                .grace = conf_unsigned(conf, "HealthGrace", 30),
                .timeout = conf_unsigned(conf, "HealthTimeout", 600),
                .have_repo = o->repo_url || !isempty(repo),
        };
        /* Words separated by spaces, no shell (there is none in the image). */
        if (!isempty(cmd)) {
                r = strv_extend_words(&ret->health_command, cmd, false);
                if (r < 0)
                        return r;
                if (ret->health_command && ret->health_command[0][0] != '/') {
                        log_warning("update.conf: HealthCommand=%s is not an absolute path, "
                                    "ignoring it",
                                    cmd);
                        ret->health_command = strv_free(ret->health_command);
                }
        }
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
/* While this boot is assessed, the fleet slot this node took before its
 * reboot stays its own: its lease is renewed at a third of its TTL. Right
 * after boot the network may not be up yet: a failed renewal is tried
 * again after 1 s, doubling up to 30 s (said once). */
typedef struct LeaseRenewal {
        uint64_t next;
        unsigned pause;
} LeaseRenewal;

static void renew_lease(const UpdateOptions *o, uint64_t now, LeaseRenewal *lr) {
        unsigned ttl = 0;
        if (now < lr->next)
                return;
        int r = update_reboot_lock_renew_own(o, &ttl);
        if (r < 0) {
                if (lr->pause == 0)
                        log_warning("reboot lock: cannot renew the slot's lease yet: %s (trying "
                                    "again, every 30s at most)",
                                    error_message(r));
                error_clear();
                lr->pause = lr->pause == 0 ? 1 : MIN(lr->pause * 2, 30u);
                lr->next = now + lr->pause;
        } else if (r == 0)
                lr->next = UINT64_MAX; /* no slot, or one without a lease */
        else {
                log_info("reboot lock: renewed the lease of this node's slot (%us)", ttl);
                lr->next = now + MAX(ttl / 3, 5u);
                lr->pause = 0;
        }
}

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
                 "timeout %us%s%s)",
                 version, s->grace, s->timeout, s->health_command ? ", health command " : "",
                 s->health_command ? s->health_command[0] : "");
        uint64_t start = now_sec(), healthy_since = 0;
        LeaseRenewal renewal = {};
        for (;;) {
                _cleanup_free_ char *reason = NULL;
                uint64_t now = now_sec();
                renew_lease(o, now, &renewal);
                r = update_health_probe(dir, SELF, CONTAINERD_SOCKET, s->health_command,
                                        MIN(s->timeout, (unsigned) UPDATE_HEALTH_COMMAND_TIMEOUT),
                                        &reason);
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
                if (now - start >= s->timeout && o->services_dir)
                        /* Not PID 1's services (a test, a disk file): say so, no reboot. */
                        return error_setf(ETIMEDOUT,
                                          "boot assessment: %s not healthy after %us (%s)", version,
                                          s->timeout, strna(last));
                if (now - start >= s->timeout) {
                        log_error("boot assessment: %s not healthy after %us (%s): rebooting, so "
                                  "the boot counter falls back",
                                  version, s->timeout, strna(last));
                        if (kill(1, SIGTERM) < 0)
                                return error_wrapf(-errno, "cannot ask PID 1 to reboot");
                        return 0;
                }
                sleep(1);
        }
        log_info("boot assessment: %s healthy for %us", version, s->grace);
        r = update_mark_good(o);
        return r < 0 ? r : 1;
}

/* A release is installed: with RebootWindow=, wait for the window; with
 * RebootCoordination=etcd, take a slot of the fleet's reboot semaphore
 * (waiting as long as it is full or etcd does not answer, never rebooting
 * without one); then reboot into it. With neither the release waits for the
 * next reboot, as before. */
static void reboot_coordinated(const UpdateOptions *o) {
        fflush(stdout);
        int r = update_reboot_lock_take_own(o);
        if (r < 0) {
                log_error("reboot lock: not rebooting: %s", error_message(r));
                error_clear();
                return;
        }
        if (r == 0)
                return;
        log_info("rebooting into the new release (%s)",
                 r > 1 ? "in the reboot window" : "reboot slot taken");
        fflush(stdout);
        if (kill(1, SIGTERM) < 0)
                log_error("cannot ask PID 1 to reboot: %m");
        else
                pause(); /* PID 1 stops this service on its way down */
}

/* Gives this node's reboot slot back (nothing without coordination or
 * without a slot), trying up to tries times: right after boot the network
 * or etcd may not answer yet (1 s, doubling up to 60 s: about 15 minutes
 * for RELEASE_TRIES); then again after each update check. */
#define RELEASE_TRIES 20
static void release_slot(const UpdateOptions *o, unsigned tries) {
        for (unsigned t = 1, pause = 1;; t++) {
                int r = update_reboot_lock_release_own(o);
                if (r >= 0)
                        break;
                if (t >= tries) {
                        log_error("reboot lock: cannot give the slot back: %s (again after the "
                                  "next update check)",
                                  error_message(r));
                        error_clear();
                        break;
                }
                log_warning("reboot lock: cannot give the slot back yet: %s (again in %us)",
                            error_message(r), pause);
                error_clear();
                fflush(stdout);
                sleep(pause);
                pause = MIN(pause * 2, 60u);
        }
        fflush(stdout);
}

int update_service(const UpdateOptions *o) {
        Schedule s = {};
        int r = read_schedule(o, &s);
        if (r < 0)
                return r;
        /* Ready at once: the assessment watches the other services, nothing
         * waits for it (a payload or a workload would wait HealthGrace=). */
        notify_ready();
        r = assess(o, &s);
        s.health_command = strv_free(s.health_command);
        /* stdout is a log file (full buffering): the blessing line now. */
        fflush(stdout);
        if (r <= 0) {
                if (r == 0) /* PID 1 stops this service on its way down. */
                        pause();
                return r;
        }
        /* Blessed, or back on the old slot after a rollback: the slot this
         * node took before its reboot goes back to the fleet. */
        release_slot(o, RELEASE_TRIES);
        /* Update checks are update-check.service's (update_periodic), which
         * berth-init starts on the CheckInterval= schedule: nothing of the
         * agent stays resident. */
        log_info("boot assessment done; update checks %s",
                 !s.have_repo      ? "off (no Repository= in update.conf)"
                 : s.interval == 0 ? "off (CheckInterval=0)"
                                   : "run by berth-init (update-check.service)");
        return 0;
}

int update_periodic(const UpdateOptions *o) {
        int r = update_apply_pending(o);
        if (r < 0)
                return r;
        /* Nothing new: a slot this node may still hold goes back; a release
         * installed and waiting: reboot into it (through the fleet's
         * semaphore where RebootCoordination= says so). */
        if (r == 0)
                release_slot(o, 1);
        else
                reboot_coordinated(o);
        fflush(stdout);
        return 0;
}
