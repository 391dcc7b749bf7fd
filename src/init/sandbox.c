/* SPDX-License-Identifier: MIT */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "seccomp-util.h"
#include "strv.h"

static const char *const cap_names[] = {
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
};

int capability_from_name(const char *name) {
        if (strncasecmp(name, "CAP_", 4) == 0)
                name += 4;
        for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
                if (strcasecmp(name, cap_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

void service_sandbox_done(ServiceSandbox *s) {
        free(s->user);
        free(s->group);
        strv_free(s->syscalls);
        strv_free(s->read_only_paths);
        *s = (ServiceSandbox){};
}

int sandbox_prepare(const ServiceSandbox *s, SandboxPlan *ret) {
        SandboxPlan p = {};
        int r;

        if (s->user) {
                struct passwd *pw = getpwnam(s->user);
                if (!pw)
                        return error_setf(ESRCH, "User=%s: no such user", s->user);
                p.set_ids = true;
                p.uid = pw->pw_uid;
                p.gid = pw->pw_gid;
        }
        if (s->group) {
                struct group *gr = getgrnam(s->group);
                if (!gr)
                        return error_setf(ESRCH, "Group=%s: no such group", s->group);
                if (!p.set_ids)
                        p.uid = getuid();
                p.set_ids = true;
                p.gid = gr->gr_gid;
        }
        if (s->syscalls) {
                r = seccomp_build_program(s->syscalls, s->syscalls_deny, &p.filter, &p.filter_len);
                if (r < 0)
                        return r;
        }
        *ret = p;
        return 0;
}

void sandbox_plan_done(SandboxPlan *p) {
        free(p->filter);
        *p = (SandboxPlan){};
}

static int fail(const char *what) {
        int r = -errno;
        dprintf(STDERR_FILENO, "berth-init: %s: %m\n", what);
        return r;
}

/* Each path becomes a read-only bind mount of itself in a mount namespace of
 * the service's own; the flags it had (nosuid, nodev, noexec) stay. */
static int read_only_paths(char *const *paths) {
        if (unshare(CLONE_NEWNS) < 0)
                return fail("ReadOnlyPaths=: unshare");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return fail("ReadOnlyPaths=: make / a slave");
        for (size_t i = 0; paths[i]; i++) {
                struct statvfs sv;
                unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;

                if (mount(paths[i], paths[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    statvfs(paths[i], &sv) < 0) {
                        int r = -errno;
                        dprintf(STDERR_FILENO, "berth-init: ReadOnlyPaths=%s: %m\n", paths[i]);
                        return r;
                }
                flags |= (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
                         (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
                         (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
                if (mount(NULL, paths[i], NULL, flags, NULL) < 0) {
                        int r = -errno;
                        dprintf(STDERR_FILENO, "berth-init: ReadOnlyPaths=%s: remount: %m\n",
                                paths[i]);
                        return r;
                }
        }
        return 0;
}

static int capset_all(uint64_t caps) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};
        for (unsigned i = 0; i < 2; i++)
                d[i].effective = d[i].permitted = d[i].inheritable = (uint32_t) (caps >> (32 * i));
        return (int) syscall(SYS_capset, &h, d);
}

int sandbox_apply(const ServiceSandbox *s, const SandboxPlan *p) {
        uint64_t kept = s->cap_bounding_set ? s->cap_bounding : UINT64_MAX;
        int r;

        if (s->read_only_paths) {
                r = read_only_paths(s->read_only_paths);
                if (r < 0)
                        return r;
        }

        /* The bounding set while still root (dropping needs CAP_SETPCAP). */
        if (s->cap_bounding_set)
                for (unsigned c = 0; c < 64 && prctl(PR_CAPBSET_READ, c) >= 0; c++)
                        if (!(kept & (UINT64_C(1) << c)) && prctl(PR_CAPBSET_DROP, c) < 0)
                                return fail("CapabilityBoundingSet=: drop");

        if (p->set_ids) {
                bool keep = p->uid != 0 && s->cap_bounding_set;
                if (keep && prctl(PR_SET_KEEPCAPS, 1) < 0)
                        return fail("keep capabilities");
                if (setgroups(1, &p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0)
                        return fail("Group=");
                if (setresuid(p->uid, p->uid, p->uid) < 0)
                        return fail("User=");
                /* A service that is not root keeps exactly its bounding set,
                 * as ambient capabilities that survive exec. */
                if (keep) {
                        uint64_t bset = 0;
                        for (unsigned c = 0; c < 64 && prctl(PR_CAPBSET_READ, c) >= 0; c++)
                                if (prctl(PR_CAPBSET_READ, c) == 1)
                                        bset |= UINT64_C(1) << c;
                        if (capset_all(kept & bset) < 0)
                                return fail("CapabilityBoundingSet=: capset");
                        for (unsigned c = 0; c < 64; c++)
                                if ((kept & bset & (UINT64_C(1) << c)) &&
                                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                                        return fail("CapabilityBoundingSet=: ambient");
                }
        }

        if ((s->no_new_privileges || p->filter) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail("NoNewPrivileges=");
        if (p->filter) {
                struct sock_fprog prog = { .len = (unsigned short) p->filter_len,
                                           .filter = p->filter };
                if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                        return fail("SystemCallFilter=");
        }
        return 0;
}
