/* SPDX-License-Identifier: MIT */
#include "seccomp-util.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

bool seccomp_syscall_known(const char *name) {
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

static void seccomp_releasep(scmp_filter_ctx *c) {
        if (*c)
                seccomp_release(*c);
}

int seccomp_build_program(char *const *names, bool deny, void **ret, size_t *ret_len) {
        __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ void *prog = NULL;
        struct stat st;
        int r;

        ctx = seccomp_init(deny ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; names && names[i]; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                if (nr == __NR_SCMP_ERROR)
                        return error_setf(EINVAL, "unknown system call '%s'", names[i]);
                r = seccomp_rule_add(ctx, deny ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        return error_setf(-r, "seccomp: cannot add '%s'", names[i]);
        }
        if (!deny) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0);
                if (r < 0 && r != -EEXIST)
                        return error_setf(-r, "seccomp: cannot allow execve");
        }
        /* libseccomp 2.5 writes the program to a file descriptor only. */
        fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return error_setf(-r, "seccomp: cannot export the program");
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0)
                return error_setf(EBADMSG, "seccomp: program of %lld bytes",
                                  (long long) st.st_size);
        prog = malloc((size_t) st.st_size);
        if (!prog)
                return -ENOMEM;
        if (pread(fd, prog, (size_t) st.st_size, 0) != st.st_size)
                return -EIO;
        *ret_len = (size_t) st.st_size / sizeof(struct sock_filter);
        *ret = TAKE_PTR(prog);
        return 0;
}
