/* SPDX-License-Identifier: MIT */
/* sandbox.h: what a service file may take away from its service
 * (docs/services.md): User=, Group=, CapabilityBoundingSet=,
 * NoNewPrivileges=, SystemCallFilter= (seccomp, through src/shared's
 * seccomp-util), ReadOnlyPaths=. The parent (PID 1) prepares everything that
 * allocates or reads files (user lookup, the seccomp program) once per unit;
 * the child applies it between fork and exec without allocating. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ServiceSandbox {
        char *user, *group;     /* names; resolved by sandbox_prepare() */
        bool cap_bounding_set;  /* CapabilityBoundingSet= given */
        uint64_t cap_bounding;  /* the capabilities kept (bit = CAP_ number) */
        bool no_new_privileges; /* NoNewPrivileges=yes */
        char **syscalls;        /* SystemCallFilter= names */
        bool syscalls_deny;     /* "~": the names are denied, the rest allowed */
        char **read_only_paths; /* ReadOnlyPaths= */
} ServiceSandbox;

void service_sandbox_done(ServiceSandbox *s);

/* CAP_NAME (or NAME, any case) to its number; -EINVAL if unknown. */
int capability_from_name(const char *name);
/* What the child needs, made by the parent. */
typedef struct SandboxPlan {
        bool set_ids;
        uid_t uid;
        gid_t gid;
        void *filter; /* struct sock_filter[], or NULL */
        size_t filter_len;
} SandboxPlan;

/* Resolves User=/Group= (passwd and group files) and builds the seccomp
 * program. An unknown user or system call is -ESRCH/-EINVAL with the
 * error object set. */
int sandbox_prepare(const ServiceSandbox *s, SandboxPlan *ret);
void sandbox_plan_done(SandboxPlan *p);

/* In the child, after the cgroup and the limits are set, before exec: the
 * read-only paths (a private mount namespace), the bounding set, the ids
 * (keeping the bounding set's capabilities as ambient ones when the user is
 * not root), no-new-privileges (implied by a system call filter), and the
 * filter last. Writes what failed to stderr; returns a negative errno. No
 * allocation. */
int sandbox_apply(const ServiceSandbox *s, const SandboxPlan *p);
