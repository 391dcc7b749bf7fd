/* SPDX-License-Identifier: MIT */
/* supervise.h: the service supervisor, berth-init's main loop. One epoll
 * over a signalfd (SIGCHLD and the shutdown signals), the notify socket and
 * one timerfd (restart backoff, ready and stop timeouts, path polling). Every
 * table is sized before the loop starts; the loop itself does not allocate.
 *
 * Lifecycle of a service (docs/init.md): waiting for its After=/Wants= →
 * starting → ready (started: at once; path: when the path exists, polled
 * every 50 ms; notify: READY=1 from a process of the service) → on exit,
 * restart per Restart= after a backoff that doubles from RestartSec= up to
 * RestartMaxSec= and resets once the service stayed up 10 × the backoff.
 * A crash restart only ever signals the main process, never the service's
 * cgroup, so containerd's shims (and containers) survive a containerd
 * restart. Ordered stop: a service is stopped once nothing that orders after
 * it still runs; StopSignal, then after StopTimeout the whole cgroup is
 * killed (the process group when cgroups are off).
 *
 * Other processes see each service's state in status_dir/NAME, rewritten
 * (temp file + rename) whenever it changes, and ask for start, stop and
 * restart on control_path; both are served from the same loop, with a fixed
 * number of control connections, never blocking on a client
 * (docs/services.md). */
#pragma once

#include <stdbool.h>

#include "service.h"
#include "sysinit.h"

typedef struct SuperviseConfig {
        const char *log_dir; /* NAME.log per service; NULL: inherit stderr */
        const char
                *notify_path;   /* socket for Ready=notify; NULL: notify services never get ready */
        const char *status_dir; /* a status file per service (initctl.h); NULL: none */
        const char *control_path; /* control socket (initctl.h); NULL: none */
        const char *cgroup_root;  /* cgroup2 root; NULL: no per-service cgroups */
        const char *payload_dir;  /* run payload_dir/run once every service settled; NULL: none */
        bool payload_mount;       /* first mount LABEL=BERTHPAYLOAD read-only at payload_dir */
        bool payload_poweroff;    /* power off once the payload exited */
        int console_fd;           /* payload stdout/stderr; < 0: inherit stderr */
        bool subreaper;           /* not PID 1: become the child subreaper to reap orphans */
        bool first_boot;          /* the machine's first boot (ConditionFirstBoot=) */
        bool kernel_audit;        /* kernel audit records into log_dir/audit.log (kaudit.h) */
} SuperviseConfig;

/* Runs the services of set (in its start order) until SIGTERM/SIGINT (reboot),
 * SIGUSR1 (halt), SIGUSR2/SIGPWR (poweroff) or the payload asks to power off;
 * then stops them in reverse dependency order and returns 0 with the action
 * requested. Negative errno only if the loop cannot be set up at all. The set
 * must outlive the call. Signals are blocked on return. */
int supervise_run(const ServiceSet *set, const SuperviseConfig *cfg, ShutdownAction *ret_action);

/* True if the kernel command line (as a string) satisfies a
 * ConditionKernelCmdline= word: "key=value" or a bare "key". */
bool supervise_condition_cmdline(const char *cmdline, const char *word);
