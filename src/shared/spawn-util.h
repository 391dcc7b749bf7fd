/* SPDX-License-Identifier: MIT */
/* spawn-util.h: running outside programs (mkfs.erofs, gpgv, zstd, xz, qemu-img,
 * ...) and waiting for them: the one process spawner of the tools (PID 1's
 * service start stays in the supervisor, which must not allocate). Needs only
 * libc. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define SPAWN_OUTPUT_MAX (64u * 1024)

typedef struct SpawnOptions {
        char *const *env_extra; /* KEY=VALUE entries that replace or add to the environment */
        bool quiet;             /* stdout to /dev/null (unless out_fd is set) */
        bool own_group;         /* own process group: a terminal's Ctrl-C reaches only us */
        bool unblock_signals;   /* empty signal mask in the child (the caller blocks some) */
        /* File descriptors for the child's stdin, stdout, stderr and fd 3.
         * 0 means the default: stdin from /dev/null, stdout and stderr
         * inherited (or captured by spawn_run()), no fd 3. */
        int in_fd, out_fd, err_fd, fd3;
} SpawnOptions;

/* Looks name up in $PATH, then in /usr/sbin and /sbin (mkfs.* live there and
 * are not in an ordinary user's PATH). A name with a slash is taken as is.
 * -ENOENT if there is no executable of that name. */
int spawn_find_program(const char *name, char **ret_path);

/* Starts argv[0] (found with spawn_find_program) without waiting. o may be NULL. */
int spawn_start(char *const argv[], const SpawnOptions *o, pid_t *ret_pid);

/* Waits for pid: 0 if it exited with status 0; -ENOENT if it could not be
 * executed (status 127); -EPROTO for another status or a signal. ret_status
 * (may be NULL) gets the raw wait status. */
int spawn_wait(pid_t pid, int *ret_status);

/* Runs argv and waits. Unless o says otherwise, stdout and stderr are captured
 * (the first SPAWN_OUTPUT_MAX bytes): on success *ret_output (if not NULL)
 * gets them; on failure the error message carries them. */
int spawn_run(char *const argv[], const SpawnOptions *o, char **ret_output);
