/* SPDX-License-Identifier: MIT */
/* service.h: berth service definitions, /usr/lib/berth/services/NAME.service,
 * in the INI dialect of src/lib/ini.h (format in docs/services.md):
 *
 *   [Service]
 *   Description=containerd
 *   Exec=/usr/bin/containerd --config /etc/containerd/config.toml
 *   After=network chrony          (start after these are ready; missing ones are errors)
 *   Wants=network                 (ordering only if present)
 *   Ready=socket:/run/containerd/containerd.sock | path:/file | network | notify | started
 *   ReadyTimeout=60               (seconds; a service that never becomes ready is failed)
 *   Restart=always | on-failure | no
 *   RestartSec=1                  (first backoff; doubles up to RestartMaxSec=30)
 *   Environment=KEY=value KEY2=value
 *   WorkingDirectory=/
 *   StopSignal=SIGTERM
 *   StopTimeout=10
 *   LimitNOFILE=1048576
 *   OOMScoreAdjust=-999
 *   LogMaxSize=1M                 (per log file, 4K to 1G; default 1M: src/shared/logfile.h)
 *   LogKeep=3                     (rotated log files kept, 0 to 16; default 3)
 *   ConditionKernelCmdline=berth.payload=1   (skip unless the word is on the cmdline)
 *   ConditionFirstBoot=yes                   (skip unless this is the machine's first boot)
 *   User=_chrony  Group=_chrony              (run as; names from /etc/passwd, /etc/group)
 *   CapabilityBoundingSet=CAP_SYS_TIME ...   (kept; "~CAP_A CAP_B": all but these)
 *   NoNewPrivileges=yes
 *   SystemCallFilter=read write ...          (allowed, others EPERM; "~a b": these EPERM)
 *   ReadOnlyPaths=/etc /var/lib/berth        (read-only in the service's mount namespace)
 *   ListenStream=/run/berth/api.sock         (PID 1 listens; starts it on a connection, fd 3)
 *   StartEvery=21600  StartJitter=3600       (started on a schedule, not at boot)
 *
 * Exec is split into words (double quotes group words; no shell). Parsed
 * services are owned by the caller (service_free / service_set_free). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "initctl.h"
#include "macro.h"
#include "sandbox.h"

typedef enum ServiceReady {
        SERVICE_READY_STARTED, /* ready as soon as it is running */
        SERVICE_READY_NOTIFY,  /* READY=1 on $NOTIFY_SOCKET */
        SERVICE_READY_PATH,    /* ready_path appears */
        SERVICE_READY_SOCKET,  /* the Unix socket ready_path accepts a connection */
        SERVICE_READY_NETWORK, /* an address off lo and a default route (rtnetlink) */
        _SERVICE_READY_MAX,
        _SERVICE_READY_INVALID = -EINVAL,
} ServiceReady;

typedef enum ServiceRestart {
        SERVICE_RESTART_NO,
        SERVICE_RESTART_ON_FAILURE,
        SERVICE_RESTART_ALWAYS,
        _SERVICE_RESTART_MAX,
        _SERVICE_RESTART_INVALID = -EINVAL,
} ServiceRestart;

typedef struct Service {
        char name[SERVICE_NAME_MAX]; /* file name without .service */
        char *description;
        char **argv;        /* Exec, split */
        char **after;       /* hard ordering + requirement */
        char **wants;       /* soft ordering */
        char **environment; /* KEY=value */
        char *working_directory;
        char *condition_cmdline;
        bool condition_first_boot_set; /* ConditionFirstBoot= given */
        bool condition_first_boot;     /* run only on (yes) or only after (no) the first boot */
        ServiceReady ready;
        char *ready_path;
        unsigned ready_timeout_s; /* 0 = wait forever */
        ServiceRestart restart;
        unsigned restart_sec;     /* first backoff, default 1 */
        unsigned restart_max_sec; /* cap, default 30 */
        int stop_signal;          /* default SIGTERM */
        unsigned stop_timeout_s;  /* default 10 */
        uint64_t limit_nofile;    /* 0 = inherit */
        int oom_score_adjust;
        bool oom_score_adjust_set;
        ServiceSandbox sandbox;  /* User=, Group=, capabilities, seccomp, read-only paths */
        uint64_t log_max_size;   /* bytes per log file; 0 = LOGFILE_SIZE_DEFAULT */
        unsigned log_keep;       /* rotated log files kept */
        bool log_keep_set;       /* LogKeep= given; else LOGFILE_KEEP_DEFAULT */
        char *listen_stream;     /* Unix stream socket PID 1 holds; NULL: started at boot */
        unsigned start_every_s;  /* > 0: started this often, not at boot */
        unsigned start_jitter_s; /* up to this much added to each StartEvery= wait */
} Service;

typedef struct ServiceSet {
        Service *services; /* in start order after service_set_order() */
        size_t n;
} ServiceSet;

Service *service_free(Service *s);
void service_done(Service *s);
ServiceSet *service_set_free(ServiceSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceSet *, service_set_free);

/* Parse one file; name is taken from the file name. Errors name path:line. */
int service_parse_file(const char *path, Service *ret);
int service_parse_string(const char *path, const char *name, const char *data, size_t size,
                         Service *ret);

/* Load every *.service in dir (sorted by name), then order them. */
int service_set_load(const char *dir, ServiceSet **ret);

/* Sort services so every service comes after what it names in After= and
 * Wants=; a missing After= target or a cycle is an error naming the services.
 * Stable: among independent services, name order. */
int service_set_order(ServiceSet *s);
