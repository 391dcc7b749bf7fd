/* SPDX-License-Identifier: MIT */
/* seccomp-util.h: the one wrapper around libseccomp. A service's
 * SystemCallFilter= becomes a classic BPF program for this machine's
 * architecture, built by the parent once so the child only hands it to the
 * kernel (prctl(PR_SET_SECCOMP)), with no allocation after fork. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True if libseccomp knows the system call name on this architecture. */
bool seccomp_syscall_known(const char *name);

/* Builds the program: with deny=false only the names (and execve, which the
 * service needs to start) are allowed and every other call fails with EPERM;
 * with deny=true the names fail with EPERM and the rest are allowed. *ret is
 * a malloc'd struct sock_filter array of *ret_len entries. */
int seccomp_build_program(char *const *names, bool deny, void **ret, size_t *ret_len);
