/* SPDX-License-Identifier: MIT */
#include "supervise.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "error.h"
#include "fileio.h"
#include "initutil.h"
#include "kaudit.h"
#include "log.h"
#include "logfile.h"
#include "logsink.h"
#include "netready.h"
#include "payload.h"
#include "strv.h"

#define PATH_POLL_USEC (50 * USEC_PER_MSEC)
#define MIN_BACKOFF_USEC (100 * USEC_PER_MSEC)
/* Control connections served at once, and how long one may take to send its
 * request: a client that connects and says nothing holds a slot only so long. */
#define CONTROL_CLIENTS_MAX 4
#define CONTROL_CLIENT_USEC (5 * USEC_PER_SEC)

typedef enum UnitState {
        UNIT_WAITING,  /* dependencies not ready yet */
        UNIT_STARTING, /* running, not ready yet; deadline = ready timeout */
        UNIT_READY,    /* running and ready */
        UNIT_KILLING,  /* ready timeout hit, stop signal sent; deadline = SIGKILL */
        UNIT_BACKOFF,  /* waiting to restart; deadline = restart time */
        UNIT_FAILED,   /* gone for good, failed */
        UNIT_EXITED,   /* gone for good, exit status 0 */
        UNIT_SKIPPED,  /* ConditionKernelCmdline= false */
        UNIT_STOPPING, /* ordered stop, stop signal sent; deadline = kill */
        UNIT_STOPPED,
        UNIT_LISTENING, /* ListenStream=: PID 1 holds the socket, starts it on a connection */
        UNIT_SCHEDULED, /* StartEvery=: not running; deadline = the next start */
        _UNIT_STATE_MAX,
} UnitState;

/* The state as status files (initctl.h, docs/services.md) name it. */
static const char *const unit_state_table[_UNIT_STATE_MAX] = {
        [UNIT_WAITING] = "waiting",  [UNIT_STARTING] = "starting",   [UNIT_READY] = "ready",
        [UNIT_KILLING] = "stopping", [UNIT_BACKOFF] = "restarting",  [UNIT_FAILED] = "failed",
        [UNIT_EXITED] = "exited",    [UNIT_SKIPPED] = "skipped",     [UNIT_STOPPING] = "stopping",
        [UNIT_STOPPED] = "stopped",  [UNIT_LISTENING] = "listening", [UNIT_SCHEDULED] = "scheduled",
};

typedef struct Unit {
        const Service *svc;
        UnitState state;
        pid_t pid;
        bool settled;    /* was ready or failed at least once */
        bool ready_once; /* timeline line printed */
        bool is_payload;
        bool spawned;           /* started at least once: later starts count as restarts */
        bool restart_requested; /* stopping on request, start again once gone */
        unsigned restarts;
        uint64_t ready_usec; /* uptime of the last readiness */
        int exit_status, exit_signal;
        ServiceStatus published; /* what its status file holds */
        usec_t deadline;
        usec_t started_at;
        usec_t backoff; /* the next restart delay */
        size_t *deps, n_deps;
        size_t *wants, n_wants;
        char **envp;
        char cgroup[PATH_MAX];
        int listen_fd;       /* ListenStream=: the socket PID 1 holds, or -EBADF */
        bool listen_watched; /* listen_fd is in the epoll set */
        char *listen_pid;    /* the LISTEN_PID= entry of envp, filled in by the child */
        SandboxPlan sandbox; /* ids and seccomp program, made before any fork */
        int sandbox_error;   /* < 0: the plan failed, the unit cannot start */
} Unit;

typedef struct Manager {
        const SuperviseConfig *cfg;
        Unit *units;
        size_t n;
        Service payload_service;
        int epoll_fd, signal_fd, notify_fd, timer_fd;
        int net_fd;     /* rtnetlink changes, while a Ready=network unit waits */
        bool net_dirty; /* check the network again this turn */
        NetState net;   /* what the last check saw */
        int status_dir_fd, control_fd;
        LogSink *logs; /* the services' output, when cfg->log_dir */
        int audit_fd;  /* kernel audit records, into stream n of logs */
        struct {
                int fd;
                usec_t deadline;
        } clients[CONTROL_CLIENTS_MAX];
        bool status_warned;
        bool stopping;
        bool payload_done;
        ShutdownAction action;
} Manager;

static usec_t unit_base_backoff(const Service *s) {
        return s->restart_sec > 0 ? s->restart_sec * USEC_PER_SEC : MIN_BACKOFF_USEC;
}

static bool unit_running(const Unit *u) {
        return u->pid > 0;
}

static bool unit_final(const Unit *u) {
        return u->state == UNIT_FAILED || u->state == UNIT_EXITED || u->state == UNIT_SKIPPED ||
               u->state == UNIT_STOPPED;
}

bool supervise_condition_cmdline(const char *cmdline, const char *word) {
        char key[256], value[256];
        const char *eq = strchr(word, '=');

        if (!eq)
                return cmdline_get(cmdline, word, value, sizeof value) > 0;
        snprintf(key, sizeof key, "%.*s", (int) (eq - word), word);
        return cmdline_get(cmdline, key, value, sizeof value) > 0 && streq(value, eq + 1);
}

/* ---- set-up: everything allocated here, before the loop ---- */

static ssize_t find_unit(const Manager *m, const char *name) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->units[i].svc->name, name))
                        return (ssize_t) i;
        return -1;
}

static int resolve(const Manager *m, char **names, bool required, size_t **ret, size_t *ret_n,
                   const char *who) {
        size_t n = 0, len = strv_length(names);
        size_t *idx = calloc(len ? len : 1, sizeof *idx);
        if (!idx)
                return -ENOMEM;
        STRV_FOREACH(s, names) {
                ssize_t k = find_unit(m, *s);
                if (k < 0) {
                        if (required) {
                                free(idx);
                                return log_error_code(ENOENT, "%s: After=%s: no such service", who,
                                                      *s);
                        }
                        continue;
                }
                idx[n++] = (size_t) k;
        }
        *ret = idx;
        *ret_n = n;
        return 0;
}

static int env_set(char ***env, const char *assignment) {
        size_t klen = strcspn(assignment, "=");
        for (char **e = *env; e && *e; e++)
                if (strneq(*e, assignment, klen) && (*e)[klen] == '=') {
                        char *c = strdup(assignment);
                        if (!c)
                                return -ENOMEM;
                        free(*e);
                        *e = c;
                        return 0;
                }
        return strv_extend(env, assignment);
}

static int unit_init(Manager *m, Unit *u, const char *cmdline) {
        const Service *s = u->svc;
        int r;

        r = env_set(&u->envp, "PATH=/usr/sbin:/usr/bin");
        if (r >= 0 && s->ready == SERVICE_READY_NOTIFY && m->cfg->notify_path) {
                _cleanup_free_ char *e = strdup_printf("NOTIFY_SOCKET=%s", m->cfg->notify_path);
                r = e ? env_set(&u->envp, e) : -ENOMEM;
        }
        STRV_FOREACH(e, s->environment)
                if (r >= 0)
                        r = env_set(&u->envp, *e);
        /* Room for the child's pid, written between fork and exec. */
        if (r >= 0 && s->listen_stream)
                r = env_set(&u->envp, "LISTEN_FDS=1");
        if (r >= 0 && s->listen_stream)
                r = env_set(&u->envp, "LISTEN_PID=0000000000");
        if (r < 0)
                return r;
        STRV_FOREACH(e, u->envp)
                if (strneq(*e, "LISTEN_PID=", strlen("LISTEN_PID=")))
                        u->listen_pid = *e;

        if (m->cfg->cgroup_root) {
                r = u->is_payload ? cgroup_create_scope(m->cfg->cgroup_root, "payload.scope",
                                                        u->cgroup, sizeof u->cgroup)
                                  : cgroup_create_service(m->cfg->cgroup_root, s->name, u->cgroup,
                                                          sizeof u->cgroup);
                if (r < 0) {
                        log_warning_errno(r, "%s: cannot create its cgroup, running it in ours",
                                          s->name);
                        u->cgroup[0] = 0;
                }
        }

        r = sandbox_prepare(&s->sandbox, &u->sandbox);
        if (r < 0) {
                u->sandbox_error = r;
                log_error_errno(r, "%s: %s", s->name, error_message(r));
        }

        u->backoff = unit_base_backoff(s);
        u->deadline = USEC_INFINITY;
        u->exit_status = -1;
        if (s->condition_cmdline && !supervise_condition_cmdline(cmdline, s->condition_cmdline)) {
                log_info("%s: skipped, %s not on the kernel command line", s->name,
                         s->condition_cmdline);
                u->state = UNIT_SKIPPED;
                u->settled = true;
        } else if (s->condition_first_boot_set && s->condition_first_boot != m->cfg->first_boot) {
                log_info("%s: skipped, %s the machine's first boot", s->name,
                         m->cfg->first_boot ? "this is" : "this is not");
                u->state = UNIT_SKIPPED;
                u->settled = true;
        }
        return 0;
}

/* A Unix socket bound at path (a stale one removed first), non-blocking; the
 * file gets the mode the umask leaves of 0777. */
static int unix_bind(const char *path, int type, mode_t mask) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        mode_t old = umask(mask);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 0;
        umask(old);
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        return fd;
}

/* ListenStream=: a stream socket as berthd made its own, root only (mode
 * 0600; berthd checks SO_PEERCRED on every connection as well). */
static int listen_open(const char *path) {
        int r = mkdir_parents(path, 0755);
        if (r < 0)
                return r;
        int fd = unix_bind(path, SOCK_STREAM, 0177);
        if (fd >= 0 && listen(fd, 64) < 0) {
                r = -errno;
                (void) close(fd);
                (void) unlink(path);
                return r;
        }
        return fd;
}

static int notify_open(const char *path) {
        int one = 1;
        int fd = unix_bind(path, SOCK_DGRAM, 0022);
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return fd;
}

/* The control socket: SOCK_SEQPACKET, so a request arrives whole or not at
 * all and PID 1 keeps no partial lines; mode 0600, and the peer's
 * credentials are checked on every connection as well. */
static int control_open(const char *path) {
        int fd = unix_bind(path, SOCK_SEQPACKET, 0177);
        if (fd >= 0 && listen(fd, CONTROL_CLIENTS_MAX) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return fd;
}

static void manager_done(Manager *m) {
        for (size_t i = 0; i < m->n; i++) {
                free(m->units[i].deps);
                free(m->units[i].wants);
                strv_free(m->units[i].envp);
                sandbox_plan_done(&m->units[i].sandbox);
                if (m->units[i].listen_fd >= 0) {
                        safe_close(m->units[i].listen_fd);
                        (void) unlink(m->units[i].svc->listen_stream);
                }
        }
        free(m->units);
        /* After the last service is gone: what they wrote last is kept. */
        m->logs = logsink_free(m->logs);
        safe_close(m->audit_fd);
        safe_close(m->epoll_fd);
        safe_close(m->signal_fd);
        safe_close(m->timer_fd);
        safe_close(m->net_fd);
        safe_close(m->status_dir_fd);
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                safe_close(m->clients[i].fd);
        if (m->control_fd >= 0) {
                safe_close(m->control_fd);
                (void) unlink(m->cfg->control_path);
        }
        if (m->notify_fd >= 0) {
                safe_close(m->notify_fd);
                (void) unlink(m->cfg->notify_path);
        }
}

static void logs_open(Manager *m);
static void audit_open(Manager *m);

static int manager_init(Manager *m, const ServiceSet *set, const SuperviseConfig *cfg,
                        const sigset_t *mask) {
        static char *payload_argv[] = { NULL, NULL };
        static char payload_exec[PATH_MAX], payload_path_env[PATH_MAX + 64];
        static char *payload_env[] = { payload_path_env, NULL };
        char cmdline[4096] = "";
        int r;

        m->cfg = cfg;
        m->epoll_fd = m->signal_fd = m->notify_fd = m->timer_fd = m->net_fd = -EBADF;
        m->status_dir_fd = m->control_fd = m->audit_fd = -EBADF;
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                m->clients[i].fd = -EBADF;
        m->units = calloc(set->n + 1, sizeof *m->units);
        if (!m->units)
                return -ENOMEM;
        for (size_t i = 0; i < set->n; i++) {
                m->units[m->n].listen_fd = -EBADF;
                m->units[m->n++].svc = &set->services[i];
        }

        if (cfg->payload_dir) {
                Service *p = &m->payload_service;
                snprintf(payload_exec, sizeof payload_exec, "%s/run", cfg->payload_dir);
                snprintf(payload_path_env, sizeof payload_path_env,
                         "PATH=%s/bin:/usr/sbin:/usr/bin", cfg->payload_dir);
                payload_argv[0] = payload_exec;
                snprintf(p->name, sizeof p->name, "payload");
                p->argv = payload_argv;
                p->environment = payload_env;
                p->ready = SERVICE_READY_STARTED;
                p->restart = SERVICE_RESTART_NO;
                p->stop_signal = SIGTERM;
                p->stop_timeout_s = 10;
                m->units[m->n].svc = p;
                m->units[m->n].listen_fd = -EBADF;
                m->units[m->n].is_payload = true;
                m->n++;
        }

        (void) proc_cmdline_read(cmdline, sizeof cmdline);
        for (size_t i = 0; i < m->n; i++) {
                Unit *u = &m->units[i];
                r = unit_init(m, u, cmdline);
                if (r < 0)
                        return r;
                if (u->is_payload)
                        continue;
                r = resolve(m, u->svc->after, true, &u->deps, &u->n_deps, u->svc->name);
                if (r < 0)
                        return r;
                r = resolve(m, u->svc->wants, false, &u->wants, &u->n_wants, u->svc->name);
                if (r < 0)
                        return r;
        }

        m->signal_fd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
        m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->signal_fd < 0 || m->timer_fd < 0 || m->epoll_fd < 0)
                return log_error_errno(negative_errno(), "cannot set up the event loop");
        if (cfg->notify_path) {
                m->notify_fd = notify_open(cfg->notify_path);
                if (m->notify_fd < 0)
                        log_warning_errno(m->notify_fd, "cannot bind %s, Ready=notify won't work",
                                          cfg->notify_path);
        }

        if (cfg->status_dir) {
                r = mkdir_p(cfg->status_dir, 0755);
                m->status_dir_fd =
                        r < 0 ? r : open(cfg->status_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (m->status_dir_fd < 0)
                        log_warning_errno(r < 0 ? r : negative_errno(),
                                          "cannot open %s, no service status files",
                                          cfg->status_dir);
        }
        if (cfg->control_path) {
                m->control_fd = control_open(cfg->control_path);
                if (m->control_fd < 0)
                        log_warning_errno(m->control_fd,
                                          "cannot bind %s, services cannot be controlled",
                                          cfg->control_path);
        }

        int fds[] = { m->signal_fd, m->timer_fd, m->notify_fd, m->control_fd };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
                if (fds[i] >= 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
                        return log_error_errno(negative_errno(), "epoll_ctl");
        }
        if (cfg->log_dir)
                logs_open(m);
        return 0;
}

/* Every service's stdout and stderr go through a pipe to its rotated log
 * file (logsink.h); without it, services write to our stderr. */
static void logs_open(Manager *m) {
        int r = logsink_new(m->cfg->log_dir, m->n + 1, LOGSINK_RING_DEFAULT, &m->logs);

        for (size_t i = 0; r >= 0 && i < m->n; i++) {
                const Service *s = m->units[i].svc;
                if (m->units[i].is_payload)
                        continue;
                r = logsink_add(m->logs, i, s->name, s->log_max_size ?: LOGFILE_SIZE_DEFAULT,
                                s->log_keep_set ? s->log_keep : LOGFILE_KEEP_DEFAULT);
                struct epoll_event ev = { .events = EPOLLIN,
                                          .data.fd = logsink_read_fd(m->logs, i) };
                if (r >= 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
                        r = negative_errno();
        }
        if (r >= 0)
                r = logsink_start(m->logs);
        if (r < 0) {
                log_warning_errno(r,
                                  "cannot set up service logs in %s, services write to the "
                                  "console",
                                  m->cfg->log_dir);
                m->logs = logsink_free(m->logs); /* close() leaves the epoll set too */
                return;
        }
        if (m->cfg->kernel_audit)
                audit_open(m);
}

/* The kernel audit trail (kaudit.h) as the log stream "audit", after the
 * services' streams. */
static void audit_open(Manager *m) {
        struct epoll_event ev = { .events = EPOLLIN };
        int r = logsink_add_lines(m->logs, m->n, "audit", LOGFILE_SIZE_DEFAULT,
                                  LOGFILE_KEEP_DEFAULT);

        m->audit_fd = r < 0 ? r : kaudit_open();
        ev.data.fd = m->audit_fd;
        if (m->audit_fd >= 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->audit_fd, &ev) < 0)
                m->audit_fd = safe_close(m->audit_fd);
        if (m->audit_fd == -EPROTONOSUPPORT)
                log_warning("this kernel has no audit support: no audit trail");
        else if (m->audit_fd < 0)
                log_warning_errno(m->audit_fd, "cannot turn kernel auditing on: no audit trail");
        else
                log_info("kernel audit on, %zu rules, records in %s/audit.log", kaudit_rules_n,
                         m->cfg->log_dir);
}

/* A few records per turn, so that a flood cannot starve the services. */
static void audit_read(Manager *m) {
        static char line[AUDIT_LINE_MAX];

        for (unsigned i = 0; i < 16; i++) {
                ssize_t k = kaudit_read(m->audit_fd, line, sizeof line);
                if (k < 0)
                        return;
                if (k > 0)
                        logsink_queue(m->logs, m->n, line, (size_t) k);
        }
}

/* rtnetlink events only while a Ready=network unit waits: afterwards every
 * container's veth would wake PID 1 for nothing. */
static void net_watch(Manager *m, bool on) {
        bool waiting = false;

        for (size_t i = 0; i < m->n; i++)
                if (m->units[i].state == UNIT_STARTING &&
                    m->units[i].svc->ready == SERVICE_READY_NETWORK)
                        waiting = true;
        if (!on) {
                if (!waiting && m->net_fd >= 0)
                        m->net_fd = safe_close(m->net_fd); /* close() leaves the epoll set too */
                return;
        }
        if (m->net_fd < 0) {
                m->net_fd = netready_monitor_open();
                struct epoll_event ev = { .events = EPOLLIN, .data.fd = m->net_fd };
                if (m->net_fd >= 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->net_fd, &ev) < 0)
                        m->net_fd = safe_close(m->net_fd);
                if (m->net_fd < 0)
                        log_warning("cannot watch rtnetlink, polling the network instead");
        }
        m->net_dirty = true; /* check at once: it may be up already */
}

/* ---- the child side: between fork and exec, no allocation ---- */

_noreturn_ static void exec_child(const Manager *m, const Unit *u) {
        const Service *s = u->svc;
        sigset_t empty;
        int fd;

        sigemptyset(&empty);
        (void) sigprocmask(SIG_SETMASK, &empty, NULL);
        (void) setsid();

        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                (void) dup2(fd, STDIN_FILENO);
        if (u->is_payload && m->cfg->console_fd >= 0)
                fd = m->cfg->console_fd;
        else
                fd = logsink_write_fd(m->logs, (size_t) (u - m->units));
        if (fd >= 0) {
                (void) dup2(fd, STDOUT_FILENO);
                (void) dup2(fd, STDERR_FILENO);
        }

        /* ListenStream=: the socket as fd 3 (dup2 leaves it open across
         * exec), LISTEN_PID= this process, as sd_listen_fds() expects. */
        if (u->listen_fd >= 0) {
                if (u->listen_fd == 3)
                        (void) fcntl(3, F_SETFD, 0);
                else if (dup2(u->listen_fd, 3) < 0)
                        _exit(126);
                if (u->listen_pid)
                        snprintf(u->listen_pid + strlen("LISTEN_PID="), 11, "%d", (int) getpid());
        }
        if (u->cgroup[0] && cgroup_attach_self(u->cgroup) < 0)
                dprintf(STDERR_FILENO, "berth-init: cannot join %s: %m\n", u->cgroup);
        if (s->limit_nofile > 0) {
                struct rlimit rl = { .rlim_cur = s->limit_nofile, .rlim_max = s->limit_nofile };
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        dprintf(STDERR_FILENO, "berth-init: LimitNOFILE=%llu: %m\n",
                                (unsigned long long) s->limit_nofile);
        }
        if (s->oom_score_adjust_set) {
                char buf[16];
                int k = snprintf(buf, sizeof buf, "%d", s->oom_score_adjust);
                fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, buf, (size_t) k) != k)
                        dprintf(STDERR_FILENO, "berth-init: OOMScoreAdjust=%d: %m\n",
                                s->oom_score_adjust);
        }
        if (chdir(s->working_directory ? s->working_directory : "/") < 0)
                dprintf(STDERR_FILENO, "berth-init: WorkingDirectory=%s: %m\n",
                        s->working_directory ? s->working_directory : "/");
        /* Privileges go last: everything above may need them. A service that
         * asked for a sandbox never runs without it. */
        if (sandbox_apply(&s->sandbox, &u->sandbox) < 0)
                _exit(126);

        execve(s->argv[0], s->argv, u->envp);
        dprintf(STDERR_FILENO, "berth-init: cannot execute %s: %m\n", s->argv[0]);
        _exit(127);
}

/* ---- state changes ---- */

static void unit_ready(Unit *u) {
        char ev[SERVICE_NAME_MAX + 16];
        u->state = UNIT_READY;
        u->settled = true;
        u->deadline = USEC_INFINITY;
        u->ready_usec = (uint64_t) (uptime_sec() * 1e6);
        if (!u->ready_once) {
                snprintf(ev, sizeof ev, "%s-ready", u->svc->name);
                timeline(ev);
                u->ready_once = true;
        }
        log_notice("started %s", u->svc->name);
}

static void unit_schedule_restart(Unit *u, usec_t now, const char *what);

static void unit_spawn(Manager *m, Unit *u) {
        const Service *s = u->svc;

        if (!s->argv || !s->argv[0] || u->sandbox_error < 0) {
                if (u->sandbox_error >= 0)
                        log_error("%s: no Exec=", s->name);
                u->state = UNIT_FAILED;
                u->settled = true;
                return;
        }
        pid_t pid = fork();
        if (pid < 0) {
                log_error_errno(negative_errno(), "%s: fork failed", s->name);
                unit_schedule_restart(u, now_usec(), "could not be started");
                return;
        }
        if (pid == 0)
                exec_child(m, u);

        bool on_demand = u->state == UNIT_LISTENING || u->state == UNIT_SCHEDULED;
        u->pid = pid;
        u->started_at = now_usec();
        /* Starts for a connection or on schedule are not restarts. */
        if (u->spawned && !on_demand)
                u->restarts++;
        u->spawned = true;
        if (s->listen_stream) {
                /* The socket already accepts; ready as it starts. */
                log_info("starting %s (pid %d) for a connection on %s", s->name, (int) pid,
                         s->listen_stream);
                u->state = UNIT_READY;
                u->deadline = USEC_INFINITY;
                u->ready_usec = (uint64_t) (uptime_sec() * 1e6);
                return;
        }
        log_info("starting %s (pid %d)%s", s->name, (int) pid, on_demand ? " on schedule" : "");
        if (s->ready == SERVICE_READY_STARTED) {
                unit_ready(u);
                return;
        }
        u->state = UNIT_STARTING;
        if (s->ready == SERVICE_READY_NETWORK)
                net_watch(m, true);
        u->deadline = s->ready_timeout_s > 0 ? u->started_at + s->ready_timeout_s * USEC_PER_SEC
                                             : USEC_INFINITY;
}

/* StartEvery=: the next start, StartEvery= plus a random part of StartJitter=. */
static void unit_schedule(Unit *u, usec_t now) {
        const Service *s = u->svc;
        uint32_t extra = 0;

        if (s->start_jitter_s > 0 && getrandom(&extra, sizeof extra, GRND_NONBLOCK) == sizeof extra)
                extra %= s->start_jitter_s + 1;
        else
                extra = 0;
        u->state = UNIT_SCHEDULED;
        u->settled = true;
        u->deadline = now + ((usec_t) s->start_every_s + extra) * USEC_PER_SEC;
        log_info("%s: next start in %us", s->name, s->start_every_s + extra);
}

static void format_delay(usec_t d, char *buf, size_t size) {
        if (d % USEC_PER_SEC == 0)
                snprintf(buf, size, "%llus", (unsigned long long) (d / USEC_PER_SEC));
        else
                snprintf(buf, size, "%.1fs", (double) d / (double) USEC_PER_SEC);
}

/* Restart per Restart= after the backoff, or give up. what: "exited with status 3". */
static void unit_schedule_restart(Unit *u, usec_t now, const char *what) {
        const Service *s = u->svc;
        usec_t base = unit_base_backoff(s);
        usec_t cap = MAX((usec_t) s->restart_max_sec * USEC_PER_SEC, base);
        char delay[32];

        u->settled = true;
        u->pid = 0;
        /* A service that stayed up for 10 × its backoff earned a fresh start. */
        if (u->started_at > 0 && now - u->started_at >= 10 * u->backoff)
                u->backoff = base;

        u->state = UNIT_BACKOFF;
        u->deadline = now + u->backoff;
        format_delay(u->backoff, delay, sizeof delay);
        log_notice("%s %s, restarting in %s", s->name, what, delay);
        u->backoff = MIN(u->backoff * 2, cap);
}

static void unit_exited(Manager *m, Unit *u, int status) {
        const Service *s = u->svc;
        usec_t now = now_usec();
        char what[64];
        bool failed;
        int code;

        if (WIFEXITED(status)) {
                code = WEXITSTATUS(status);
                snprintf(what, sizeof what, "exited with status %d", code);
                failed = code != 0;
                u->exit_status = code;
                u->exit_signal = 0;
        } else {
                code = 128 + WTERMSIG(status);
                u->exit_status = -1;
                u->exit_signal = WTERMSIG(status);
                snprintf(what, sizeof what, "killed by signal %s",
                         sigabbrev_np(WTERMSIG(status)) ?: "?");
                failed = true;
        }
        /* Leaving before it was ready, or after its ready timeout, is a failure. */
        if (u->state == UNIT_STARTING || u->state == UNIT_KILLING)
                failed = true;
        u->pid = 0;
        u->deadline = USEC_INFINITY;

        if (u->state == UNIT_STOPPING) {
                if (u->restart_requested && !m->stopping) {
                        /* berth service restart: start again once the
                         * dependencies allow, as at boot. */
                        u->restart_requested = false;
                        u->state = UNIT_WAITING;
                        u->backoff = unit_base_backoff(s);
                        log_info("stopped %s (%s), starting it again", s->name, what);
                        return;
                }
                u->state = UNIT_STOPPED;
                log_info("stopped %s (%s)", s->name, what);
                return;
        }
        if (u->is_payload) {
                u->state = failed ? UNIT_FAILED : UNIT_EXITED;
                log_notice("payload exited with status %d", code);
                if (m->cfg->payload_poweroff && !m->stopping) {
                        m->stopping = true;
                        m->action = SHUTDOWN_POWEROFF;
                }
                return;
        }
        if (!m->stopping && s->start_every_s > 0) {
                log_notice("%s %s", s->name, what);
                unit_schedule(u, now);
                return;
        }
        /* ListenStream=: one that leaves at once, without taking the
         * connection that started it, would be started again at once. */
        if (!m->stopping && s->listen_stream && !failed && now - u->started_at < USEC_PER_SEC) {
                unit_schedule_restart(u, now, "exited within a second of its start");
                return;
        }
        if (!m->stopping && s->listen_stream && !failed) {
                log_info("%s %s, listening on %s again", s->name, what, s->listen_stream);
                u->state = UNIT_LISTENING;
                return;
        }
        if (!m->stopping && (s->restart == SERVICE_RESTART_ALWAYS ||
                             (s->restart == SERVICE_RESTART_ON_FAILURE && failed))) {
                unit_schedule_restart(u, now, what);
                return;
        }
        u->settled = true;
        u->state = failed ? UNIT_FAILED : UNIT_EXITED;
        log_notice("%s %s%s", s->name, what, failed ? ", failed" : "");
}

static void reap(Manager *m) {
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        return;
                for (size_t i = 0; i < m->n; i++)
                        if (m->units[i].pid == pid) {
                                unit_exited(m, &m->units[i], status);
                                break;
                        }
                /* Anything else is an orphan reparented to us: reaped, done. */
        }
}

/* ---- what the loop checks every turn ---- */

static bool deps_allow_start(Manager *m, Unit *u) {
        for (size_t i = 0; i < u->n_deps; i++) {
                const Unit *d = &m->units[u->deps[i]];
                if (d->state == UNIT_FAILED || d->state == UNIT_SKIPPED) {
                        log_error("%s: not started, it needs %s which %s", u->svc->name,
                                  d->svc->name, d->state == UNIT_FAILED ? "failed" : "was skipped");
                        u->state = UNIT_FAILED;
                        u->settled = true;
                        return false;
                }
                if (d->state != UNIT_READY && d->state != UNIT_EXITED &&
                    d->state != UNIT_LISTENING && d->state != UNIT_SCHEDULED)
                        return false;
        }
        for (size_t i = 0; i < u->n_wants; i++) {
                const Unit *d = &m->units[u->wants[i]];
                if (!d->settled && !unit_final(d))
                        return false;
        }
        return true;
}

static void start_units(Manager *m) {
        bool all_settled = true;

        for (size_t i = 0; i < m->n; i++) {
                Unit *u = &m->units[i];
                if (u->is_payload)
                        continue;
                if (u->state == UNIT_WAITING && deps_allow_start(m, u)) {
                        if (u->svc->listen_stream) {
                                u->state = UNIT_LISTENING;
                                u->settled = true;
                        } else if (u->svc->start_every_s > 0)
                                unit_schedule(u, now_usec());
                        else
                                unit_spawn(m, u);
                }
                if (!u->settled && !unit_final(u))
                        all_settled = false;
        }

        if (!all_settled || !m->cfg->payload_dir || m->payload_done)
                return;
        m->payload_done = true;
        Unit *p = &m->units[m->n - 1];
        if (m->cfg->payload_mount && payload_mount(m->cfg->payload_dir) < 0) {
                log_notice("payload exited with status %d", 255);
                p->state = UNIT_FAILED;
                if (m->cfg->payload_poweroff) {
                        m->stopping = true;
                        m->action = SHUTDOWN_POWEROFF;
                }
                return;
        }
        unit_spawn(m, p);
}

static void kill_hard(Unit *u) {
        if (u->cgroup[0] && cgroup_kill(u->cgroup) >= 0)
                return;
        (void) kill(-u->pid, SIGKILL);
        (void) kill(u->pid, SIGKILL);
}

/* Runs the readiness checks that look at the system; true once u is ready. */
static bool unit_check_ready(Manager *m, Unit *u, bool *net_checked) {
        const Service *s = u->svc;
        char what[256];
        int r;

        switch (s->ready) {
        case SERVICE_READY_PATH:
                return access(s->ready_path, F_OK) == 0;
        case SERVICE_READY_SOCKET:
                r = socket_ready_check(s->ready_path);
                if (r < 0)
                        log_debug_errno(r, "%s: connecting to %s", s->name, s->ready_path);
                return r > 0;
        case SERVICE_READY_NETWORK:
                /* Once per loop turn at most, and only after rtnetlink said
                 * something changed (or without a monitor, at every poll). */
                if (!*net_checked && (m->net_dirty || m->net_fd < 0)) {
                        r = netready_check(&m->net);
                        m->net_dirty = r < 0; /* a failed dump is retried at the next poll */
                        *net_checked = true;
                        if (r < 0)
                                log_debug_errno(r, "%s: rtnetlink dump", s->name);
                }
                if (!m->net.ready)
                        return false;
                netready_describe(&m->net, what, sizeof what);
                log_notice("%s: %s", s->name, what);
                return true;
        default:
                return false;
        }
}

static void log_ready_timeout(const Manager *m, const Unit *u) {
        const Service *s = u->svc;
        char saw[256];

        switch (s->ready) {
        case SERVICE_READY_NETWORK:
                netready_describe(&m->net, saw, sizeof saw);
                log_error("%s did not become ready within %us, stopping it; it waited for an "
                          "address on an interface other than lo and a default route of the "
                          "same family, and saw: %s",
                          s->name, s->ready_timeout_s, saw);
                break;
        case SERVICE_READY_PATH:
        case SERVICE_READY_SOCKET:
                log_error("%s did not become ready within %us, stopping it; it waited for %s %s",
                          s->name, s->ready_timeout_s, s->ready_path,
                          s->ready == SERVICE_READY_PATH ? "to appear" : "to accept a connection");
                break;
        default:
                log_error("%s did not become ready within %us, stopping it; it waited for "
                          "READY=1",
                          s->name, s->ready_timeout_s);
        }
}

static void check_timeouts(Manager *m, usec_t now) {
        bool net_checked = false;

        /* A Ready=network unit that left (failed, or waits to restart) needs
         * no rtnetlink events until it starts again. */
        if (m->net_fd >= 0)
                net_watch(m, false);

        for (size_t i = 0; i < m->n; i++) {
                Unit *u = &m->units[i];
                const Service *s = u->svc;

                if (u->state == UNIT_STARTING && unit_check_ready(m, u, &net_checked)) {
                        unit_ready(u);
                        if (s->ready == SERVICE_READY_NETWORK)
                                net_watch(m, false);
                        continue;
                }
                if (u->deadline > now)
                        continue;
                u->deadline = USEC_INFINITY;
                switch (u->state) {
                case UNIT_STARTING:
                        log_ready_timeout(m, u);
                        u->state = UNIT_KILLING;
                        u->settled = true;
                        u->deadline = now + MAX(s->stop_timeout_s, 1u) * USEC_PER_SEC;
                        (void) kill(u->pid, s->stop_signal > 0 ? s->stop_signal : SIGTERM);
                        break;
                case UNIT_KILLING:
                        /* Only the main process: a crash restart must not take
                         * helpers such as containerd's shims with it. */
                        (void) kill(u->pid, SIGKILL);
                        break;
                case UNIT_STOPPING:
                        log_warning("%s did not stop within %us, killing it", s->name,
                                    s->stop_timeout_s);
                        kill_hard(u);
                        break;
                case UNIT_BACKOFF:
                        /* ListenStream=: after the delay, the next connection starts it. */
                        if (!m->stopping && s->listen_stream)
                                u->state = UNIT_LISTENING;
                        else if (!m->stopping)
                                unit_spawn(m, u);
                        break;
                case UNIT_SCHEDULED:
                        if (!m->stopping)
                                unit_spawn(m, u);
                        break;
                default:
                        break;
                }
        }
}

/* StopSignal to the main process; after StopTimeout the whole cgroup is
 * killed (check_timeouts). */
static void unit_stop(Unit *u, usec_t now) {
        const Service *s = u->svc;
        log_info("stopping %s", s->name);
        u->state = UNIT_STOPPING;
        u->deadline = now + MAX(s->stop_timeout_s, 1u) * USEC_PER_SEC;
        (void) kill(u->pid, s->stop_signal > 0 ? s->stop_signal : SIGTERM);
        (void) kill(u->pid, SIGCONT);
}

static bool has_running_dependent(const Manager *m, size_t idx) {
        for (size_t j = 0; j < m->n; j++) {
                const Unit *d = &m->units[j];
                if (!unit_running(d))
                        continue;
                for (size_t k = 0; k < d->n_deps; k++)
                        if (d->deps[k] == idx)
                                return true;
                for (size_t k = 0; k < d->n_wants; k++)
                        if (d->wants[k] == idx)
                                return true;
        }
        return false;
}

/* Returns true once nothing runs any more. */
static bool advance_stop(Manager *m, usec_t now) {
        bool any = false;
        for (size_t i = m->n; i > 0; i--) {
                Unit *u = &m->units[i - 1];
                if (!unit_running(u)) {
                        if (!unit_final(u))
                                u->state = UNIT_STOPPED;
                        continue;
                }
                any = true;
                if (u->state == UNIT_STOPPING || has_running_dependent(m, i - 1))
                        continue;
                unit_stop(u, now);
        }
        return !any;
}

static void arm_timer(Manager *m, usec_t now) {
        usec_t next = USEC_INFINITY;
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (m->clients[i].fd >= 0)
                        next = MIN(next, m->clients[i].deadline);
        for (size_t i = 0; i < m->n; i++) {
                const Unit *u = &m->units[i];
                next = MIN(next, u->deadline);
                if (u->state != UNIT_STARTING)
                        continue;
                if (u->svc->ready == SERVICE_READY_PATH || u->svc->ready == SERVICE_READY_SOCKET ||
                    (u->svc->ready == SERVICE_READY_NETWORK && (m->net_fd < 0 || m->net_dirty)))
                        next = MIN(next, now + PATH_POLL_USEC);
        }
        struct itimerspec its = {};
        if (next != USEC_INFINITY) {
                next = MAX(next, 1);
                its.it_value.tv_sec = (time_t) (next / USEC_PER_SEC);
                its.it_value.tv_nsec = (long) (next % USEC_PER_SEC) * 1000;
        }
        (void) timerfd_settime(m->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ListenStream=: the socket is bound from the unit's first start (its
 * After= ready) until it is stopped or failed, and watched while the unit
 * waits for a connection; once the service runs, the service accepts. */
static void listen_sync(Manager *m) {
        for (size_t i = 0; i < m->n; i++) {
                Unit *u = &m->units[i];
                const Service *s = u->svc;

                if (!s->listen_stream)
                        continue;
                bool open = !unit_final(u) && u->state != UNIT_WAITING;
                bool watch = open && u->state == UNIT_LISTENING && !m->stopping;
                if (open && u->listen_fd < 0) {
                        u->listen_fd = listen_open(s->listen_stream);
                        if (u->listen_fd < 0) {
                                log_error_errno(u->listen_fd, "%s: cannot listen on %s", s->name,
                                                s->listen_stream);
                                u->state = UNIT_FAILED;
                                u->listen_fd = -EBADF;
                                continue;
                        }
                        if (!u->ready_once) {
                                char ev[SERVICE_NAME_MAX + 16];
                                snprintf(ev, sizeof ev, "%s-listening", s->name);
                                timeline(ev);
                                u->ready_once = true;
                        }
                        log_notice("%s: listening on %s, started on a connection", s->name,
                                   s->listen_stream);
                }
                if (!open && u->listen_fd >= 0) {
                        u->listen_fd = safe_close(u->listen_fd); /* leaves the epoll set too */
                        u->listen_watched = false;
                        (void) unlink(s->listen_stream);
                        continue;
                }
                if (watch != u->listen_watched && u->listen_fd >= 0) {
                        struct epoll_event ev = { .events = EPOLLIN, .data.fd = u->listen_fd };
                        if (epoll_ctl(m->epoll_fd, watch ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                                      u->listen_fd, &ev) < 0)
                                log_warning_errno(negative_errno(), "%s: epoll_ctl", s->name);
                        else
                                u->listen_watched = watch;
                }
        }
}

/* The unit whose listening socket is fd, or NULL. */
static Unit *listen_unit(Manager *m, int fd) {
        for (size_t i = 0; i < m->n; i++)
                if (m->units[i].listen_fd >= 0 && m->units[i].listen_fd == fd)
                        return &m->units[i];
        return NULL;
}

/* ---- event sources ---- */

static bool pid_in_cgroup(pid_t pid, const Unit *u, const char *root) {
        char p[64], buf[512], want[PATH_MAX];
        if (!u->cgroup[0])
                return false;
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        (void) close(fd);
        if (k <= 0)
                return false;
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        snprintf(want, sizeof want, "0::%s", u->cgroup + strlen(root));
        return streq(buf, want);
}

static void handle_notify(Manager *m) {
        for (;;) {
                char buf[4096];
                union {
                        struct cmsghdr h;
                        uint8_t b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                struct ucred *cred = NULL;

                ssize_t k = recvmsg(m->notify_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (k < 0)
                        return;
                buf[k] = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET)
                                continue;
                        if (c->cmsg_type == SCM_CREDENTIALS &&
                            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (struct ucred *) CMSG_DATA(c);
                        else if (c->cmsg_type == SCM_RIGHTS) {
                                /* Nobody may park file descriptors in PID 1. */
                                int *fds = (int *) CMSG_DATA(c);
                                size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t i = 0; i < nfds; i++)
                                        safe_close(fds[i]);
                        }
                }
                if (!cred || cred->pid <= 0)
                        continue;

                Unit *u = NULL;
                for (size_t i = 0; i < m->n && !u; i++)
                        if (m->units[i].pid == cred->pid)
                                u = &m->units[i];
                for (size_t i = 0; i < m->n && !u && m->cfg->cgroup_root; i++)
                        if (unit_running(&m->units[i]) &&
                            pid_in_cgroup(cred->pid, &m->units[i], m->cfg->cgroup_root))
                                u = &m->units[i];
                if (!u) {
                        log_debug("notify message from unknown pid %d", (int) cred->pid);
                        continue;
                }
                for (char *line = buf; line && *line;) {
                        char *nl = strchr(line, '\n');
                        if (nl)
                                *nl = 0;
                        if (streq(line, "READY=1") && u->state == UNIT_STARTING)
                                unit_ready(u);
                        line = nl ? nl + 1 : NULL;
                }
        }
}

static void handle_signals(Manager *m) {
        struct signalfd_siginfo si;
        while (read(m->signal_fd, &si, sizeof si) == sizeof si) {
                ShutdownAction a = SHUTDOWN_NONE;
                switch (si.ssi_signo) {
                case SIGCHLD:
                        break; /* reaped below, always */
                case SIGTERM:
                case SIGINT:
                        a = SHUTDOWN_REBOOT;
                        break;
                case SIGUSR1:
                        a = SHUTDOWN_HALT;
                        break;
                case SIGUSR2:
                case SIGPWR:
                        a = SHUTDOWN_POWEROFF;
                        break;
                default:
                        break;
                }
                if (a != SHUTDOWN_NONE && !m->stopping) {
                        log_notice("%s requested (%s)", shutdown_action_to_string(a),
                                   sigabbrev_np((int) si.ssi_signo) ?: "?");
                        m->stopping = true;
                        m->action = a;
                }
        }
        reap(m);
}

/* ---- service state for other processes (initctl.h) ---- */

/* Rewrites the status file of every unit whose state changed since the last
 * turn: a stack buffer and a rename, no allocation. */
static void publish_status(Manager *m) {
        if (m->status_dir_fd < 0)
                return;
        for (size_t i = 0; i < m->n; i++) {
                Unit *u = &m->units[i];
                ServiceStatus st;

                if (u->is_payload)
                        continue;
                memset(&st, 0, sizeof st);
                snprintf(st.name, sizeof st.name, "%s", u->svc->name);
                snprintf(st.state, sizeof st.state, "%s", unit_state_table[u->state]);
                st.pid = u->pid;
                st.restarts = u->restarts;
                st.ready_usec = u->ready_usec;
                st.exit_status = u->exit_status;
                st.exit_signal = u->exit_signal;
                if (memcmp(&st, &u->published, sizeof st) == 0)
                        continue;
                int r = service_status_write(m->status_dir_fd, &st);
                if (r < 0) {
                        if (!m->status_warned)
                                log_warning_errno(r, "cannot write the status file of %s", st.name);
                        m->status_warned = true;
                        continue;
                }
                memcpy(&u->published, &st, sizeof st);
        }
}

/* Carries out one request; the reply says what was done or why not. */
static void control_apply(Manager *m, InitCtlVerb verb, const char *name, char *reply,
                          size_t size) {
        usec_t now = now_usec();
        ssize_t k = find_unit(m, name);
        Unit *u = k >= 0 ? &m->units[k] : NULL;

        if (!u || u->is_payload) {
                snprintf(reply, size, "error no such service: %s", name);
                return;
        }
        if (m->stopping) {
                snprintf(reply, size, "error the system is shutting down");
                return;
        }
        log_notice("%s %s requested", initctl_verb_to_string(verb), name);

        if (verb == INITCTL_STOP || (verb == INITCTL_RESTART && unit_running(u))) {
                u->restart_requested = verb == INITCTL_RESTART;
                if (unit_running(u)) {
                        if (u->state != UNIT_STOPPING)
                                unit_stop(u, now);
                } else {
                        u->state = UNIT_STOPPED;
                        u->deadline = USEC_INFINITY;
                }
                snprintf(reply, size, "ok %s %s", verb == INITCTL_STOP ? "stopping" : "restarting",
                         name);
                return;
        }

        /* start, or restart of a service that does not run */
        if (u->state == UNIT_STOPPING) {
                u->restart_requested = true;
                snprintf(reply, size, "ok starting %s once it stopped", name);
                return;
        }
        if (unit_running(u) || u->state == UNIT_WAITING || u->state == UNIT_LISTENING) {
                snprintf(reply, size, "ok %s is %s", name, unit_state_table[u->state]);
                return;
        }
        if (u->state == UNIT_BACKOFF || u->state == UNIT_SCHEDULED)
                u->deadline = now; /* skip the rest of the delay */
        else {
                u->state = UNIT_WAITING;
                u->deadline = USEC_INFINITY;
                u->backoff = unit_base_backoff(u->svc);
        }
        snprintf(reply, size, "ok starting %s", name);
}

static void control_close(Manager *m, size_t slot) {
        m->clients[slot].fd = safe_close(m->clients[slot].fd);
}

static void control_reply(int fd, const char *reply) {
        /* A fresh socket's buffer takes a short reply; if it did not, the
         * client gets nothing rather than PID 1 waiting for it. */
        (void) send(fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void control_accept(Manager *m) {
        for (;;) {
                int fd = accept4(m->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0)
                        return;

                struct ucred cred;
                socklen_t len = sizeof cred;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                    (cred.uid != 0 && cred.uid != geteuid())) {
                        control_reply(fd, "error permission denied");
                        (void) close(fd);
                        continue;
                }
                size_t slot = CONTROL_CLIENTS_MAX;
                for (size_t i = 0; i < CONTROL_CLIENTS_MAX && slot == CONTROL_CLIENTS_MAX; i++)
                        if (m->clients[i].fd < 0)
                                slot = i;
                struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
                if (slot == CONTROL_CLIENTS_MAX ||
                    epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        control_reply(fd, "error busy, try again");
                        (void) close(fd);
                        continue;
                }
                m->clients[slot].fd = fd;
                m->clients[slot].deadline = now_usec() + CONTROL_CLIENT_USEC;
        }
}

static void control_read(Manager *m, size_t slot) {
        char buf[INITCTL_LINE_MAX + 2], reply[INITCTL_REPLY_MAX], name[SERVICE_NAME_MAX];
        int fd = m->clients[slot].fd;
        InitCtlVerb verb;

        /* MSG_TRUNC: the real length of a longer message, which is refused. */
        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (k <= 0) {
                control_close(m, slot);
                return;
        }
        if ((size_t) k > sizeof buf || initctl_parse_request(buf, (size_t) k, &verb, name) < 0)
                snprintf(reply, sizeof reply,
                         "error bad request, expected: start|stop|restart NAME");
        else
                control_apply(m, verb, name, reply, sizeof reply);
        control_reply(fd, reply);
        control_close(m, slot);
}

static void control_expire(Manager *m, usec_t now) {
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (m->clients[i].fd >= 0 && m->clients[i].deadline <= now)
                        control_close(m, i);
}

/* The epoll data of a control connection, or CONTROL_CLIENTS_MAX. */
static size_t control_slot(const Manager *m, int fd) {
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (m->clients[i].fd >= 0 && m->clients[i].fd == fd)
                        return i;
        return CONTROL_CLIENTS_MAX;
}

int supervise_run(const ServiceSet *set, const SuperviseConfig *cfg, ShutdownAction *ret_action) {
        Manager m = {};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        for (int sig = 0, sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGPWR };
             sig < (int) ELEMENTSOF(sigs); sig++)
                sigaddset(&mask, sigs[sig]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        if (cfg->subreaper)
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);

        r = manager_init(&m, set, cfg, &mask);
        if (r < 0) {
                manager_done(&m);
                return r;
        }

        for (;;) {
                struct epoll_event ev[8];
                usec_t now = now_usec();

                check_timeouts(&m, now);
                control_expire(&m, now);
                if (!m.stopping)
                        start_units(&m);
                if (m.stopping && advance_stop(&m, now))
                        break;
                listen_sync(&m);
                arm_timer(&m, now);
                publish_status(&m);

                int k = epoll_wait(m.epoll_fd, ev, ELEMENTSOF(ev), -1);
                if (k < 0) {
                        if (errno != EINTR)
                                log_error_errno(negative_errno(), "epoll_wait");
                        continue;
                }
                for (int i = 0; i < k; i++) {
                        if (ev[i].data.fd == m.signal_fd)
                                handle_signals(&m);
                        else if (ev[i].data.fd == m.notify_fd)
                                handle_notify(&m);
                        else if (ev[i].data.fd == m.net_fd) {
                                netready_monitor_drain(m.net_fd);
                                m.net_dirty = true;
                        } else if (ev[i].data.fd == m.control_fd)
                                control_accept(&m);
                        else if (ev[i].data.fd == m.timer_fd) {
                                uint64_t exp;
                                (void) !read(m.timer_fd, &exp, sizeof exp);
                        } else if (control_slot(&m, ev[i].data.fd) < CONTROL_CLIENTS_MAX)
                                control_read(&m, control_slot(&m, ev[i].data.fd));
                        else if (ev[i].data.fd == m.audit_fd)
                                audit_read(&m);
                        else if (listen_unit(&m, ev[i].data.fd)) {
                                Unit *u = listen_unit(&m, ev[i].data.fd);
                                if (u->state == UNIT_LISTENING && !m.stopping)
                                        unit_spawn(&m, u);
                        } else if (logsink_stream_of(m.logs, ev[i].data.fd) >= 0)
                                (void) logsink_read(
                                        m.logs, (size_t) logsink_stream_of(m.logs, ev[i].data.fd));
                }
        }

        publish_status(&m);
        manager_done(&m);
        if (ret_action)
                *ret_action = m.action;
        return 0;
}
