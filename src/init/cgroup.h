/* SPDX-License-Identifier: MIT */
/* cgroup.h: the cgroup v2 tree of berth-init, following systemd's names:
 * PID 1 in /sys/fs/cgroup/init.scope, each service in
 * /sys/fs/cgroup/system.slice/NAME.service, the test payload in
 * /sys/fs/cgroup/payload.scope. Needs only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

/* True if path is a writable cgroup2 mount. */
bool cgroup_is_usable(const char *root);

/* Moves the calling process into ROOT/init.scope and enables the cpu, memory,
 * pids, io and cpuset controllers for ROOT's and ROOT/system.slice's
 * children (those the kernel offers; missing ones are logged at debug). */
int cgroup_setup(const char *root);

/* Formats ROOT/system.slice/NAME.service into ret; creates it. */
int cgroup_create_service(const char *root, const char *name, char *ret, size_t size);

/* Creates ROOT/NAME (a scope under the root) into ret. */
int cgroup_create_scope(const char *root, const char *name, char *ret, size_t size);

/* Writes "0" to PATH/cgroup.procs: moves the caller. Only open/write/close:
 * safe between fork and exec. */
int cgroup_attach_self(const char *path);

/* SIGKILLs every process of the cgroup (cgroup.kill, Linux 5.14+; falls back
 * to killing the pids in cgroup.procs). */
int cgroup_kill(const char *path);

/* True if the cgroup has no processes left (cgroup.events populated 0). */
bool cgroup_is_empty(const char *path);
