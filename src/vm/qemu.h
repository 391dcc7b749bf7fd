/* SPDX-License-Identifier: MIT */
/* qemu.h: runs QEMU with its serial console on a pipe, copies the console
 * to a log file or the terminal, watches it for berth's own lines, and
 * enforces the time limits. Needs only libc. */
#pragma once

#include <stdbool.h>

typedef struct QemuRun {
        char *const *argv;       /* QEMU command line, argv[0] an absolute path */
        int log_fd;              /* console copy goes here; -1: to stdout */
        unsigned timeout_s;      /* kill QEMU after this long; 0: never */
        unsigned first_output_s; /* kill QEMU if the console is silent this long; 0: never */
} QemuRun;

typedef struct QemuResult {
        int exit_status;    /* QEMU's exit status; 128+N if killed by signal N */
        int payload_status; /* from "berth: payload exited with status N"; -1: not seen */
        bool got_output;
        unsigned failures; /* boots that failed: "berth: error: boot failed: ", kernel panics */
        char failure[256]; /* the first such line, from "boot failed" or "Kernel panic" on */
} QemuResult;

/* Lines that say the guest failed to boot (berth-init's "boot failed: ...",
 * "Kernel panic") are counted and the first one kept; QEMU goes on (a reboot
 * may boot the other slot). So are the firmware's Secure Boot refusals
 * ("Access Denied", "Security Violation"); when the firmware says nothing
 * bootable is left, QEMU is stopped at once (-ECANCELED): OVMF would wait for
 * a key press until the timeout.
 * With a log file, lines that contain "berth: " (and berth-init's errors and
 * warnings, kernel panics) are also echoed to stdout so the user sees
 * progress. Returns 0 when QEMU exited by itself,
 * -ETIMEDOUT after timeout_s, -ESTALE when the first_output_s watchdog
 * fired, -ECANCELED when the firmware gave up, -EINTR when SIGINT/SIGTERM/SIGHUP arrived (QEMU is
 * stopped in all three cases), or another negative errno. ret is filled in all cases. */
int qemu_run(const QemuRun *c, QemuResult *ret);
