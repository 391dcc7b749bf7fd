/* SPDX-License-Identifier: MIT */
/* api.h: berthd's endpoints (docs/api.md), independent of the HTTP server:
 * api_handle() takes one request and gives the status and JSON body. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct Api {
        const char *settings_dir;   /* /var/lib/berth/settings */
        const char *user_data_done; /* /var/lib/berth/user-data.done (boot.h); NULL: none */
        const char *reboot_lock;    /* /var/lib/berth/update/reboot-lock: the update agent's
                                     * line on the fleet's reboot slot; NULL: none */
        const char *etc;            /* /etc */
        const char *factory;        /* /usr/share/factory/etc */
        const char *run_dir;        /* /run/berth: services/ and init.sock */
        const char *os_release;     /* /usr/lib/os-release */
        const char *cmdline;        /* /proc/cmdline */
        const char *log_dir;        /* /var/log/berth: the services' logs (logs.h) */
        pid_t init_pid;             /* signalled for reboot (SIGTERM) and power-off (SIGUSR2) */
        unsigned ready_timeout_s;   /* how long apply waits for a restarted service */
        const char *proc_sys;       /* /proc/sys: sysctls set on apply; NULL: none (tests) */
        bool set_hostname;          /* sethostname() on apply (not in tests on the host) */
        const char *esp; /* the ESP (/efi): kernel.cmdline goes to its boot entry; NULL: nowhere */
        int pending_signal; /* for init_pid once the answer is sent (reboot, power-off) */
} Api;

/* An HttpHandler (http.h); userdata is the Api. */
void api_handle(void *userdata, const char *method, const char *url, const char *body, size_t size,
                unsigned *ret_status, char **ret_body);

/* An HttpCompleted (http.h): sends a reboot or power-off signal asked for
 * once its answer has left, so the caller gets it before the node goes down. */
void api_completed(void *userdata);
