/* SPDX-License-Identifier: MIT */
/* sysinit.h: what PID 1 does in the real root before the first service and
 * after the last one: API file systems, cgroup2, hostname, sysctl, loopback;
 * and the final kill, unmount and reboot. Needs only libc. */
#pragma once

#include "macro.h"

typedef enum ShutdownAction {
        SHUTDOWN_NONE,
        SHUTDOWN_REBOOT,
        SHUTDOWN_POWEROFF,
        SHUTDOWN_HALT,
        _SHUTDOWN_MAX,
        _SHUTDOWN_INVALID = -EINVAL,
} ShutdownAction;

const char *shutdown_action_to_string(ShutdownAction a);

/* Mounts what is missing of /proc /sys /dev /run, /dev/pts, /dev/shm, /tmp and
 * /sys/fs/cgroup (cgroup2), sets the hostname, applies sysctl.d, brings up lo,
 * makes ctrl-alt-del send SIGINT. Failures are logged and skipped: PID 1 goes
 * on with what works. */
void sysinit_setup(void);

#define EFIVARS_PATH "/sys/firmware/efi/efivars"
/* Bounds of the scratch tmpfs mounts, in the kernel's tmpfs size= syntax: a
 * share of RAM (the kernel's default is half). */
#define SYSINIT_TMP_SIZE "25%"
#define SYSINIT_SHM_SIZE "25%"

/* Mounts efivarfs (nosuid, nodev, noexec) on EFIVARS_PATH when the machine
 * booted through UEFI. After the module lists are loaded: efivarfs is a
 * module ([Kernel] Load=), and there is no modprobe for the kernel to call. */
void sysinit_mount_efivarfs(void);

/* The sysctl.d files to apply, in order (sysctl.d(5)): the *.conf names of
 * /etc/sysctl.d and /usr/lib/sysctl.d sorted by name, /etc's file where both
 * have the name. */
int sysinit_sysctl_files(char ***ret);
/* Applies them in that order. */
void sysinit_apply_sysctl(void);

/* sethostname() from /etc/hostname (nothing if it is missing or empty). */
void sysinit_set_hostname(void);

/* SIGTERM then SIGKILL to every process left, sync, unmount, remount /
 * read-only and reboot/power off/halt. Never returns. */
_noreturn_ void sysinit_final(ShutdownAction action);
