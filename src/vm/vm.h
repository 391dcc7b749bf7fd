/* SPDX-License-Identifier: MIT */
/* vm.h: `berth vm`, boots a composed image under QEMU: KVM when a probe shows it
 * works, TCG otherwise; UEFI (OVMF + systemd-boot from the image's ESP) by
 * default, direct kernel boot on request; the serial console on the terminal
 * or in a log file; an optional payload disk for tests. docs/vm.md has the
 * details and the guest-side contract. */
#pragma once

#include <stdbool.h>

typedef struct VmOptions {
        const char *image_dir;   /* a `berth build` output directory */
        bool direct;             /* direct kernel boot instead of UEFI + systemd-boot */
        const char *console_log; /* serial console to this file; NULL: the terminal */
        const char *payload_dir; /* files for the guest, as a virtio disk */
        const char *run;         /* command the guest runs from the payload */
        unsigned memory_mib;
        unsigned cpus;
        unsigned timeout_s;        /* kill QEMU after this long, 0 = never */
        const char *disk_copy;     /* boot a copy of the disk here (keeps the output pristine) */
        const char *extra_cmdline; /* direct: appended to the kernel command line; both
                                    * modes: also in fw_cfg opt/berth/cmdline */
        bool no_reboot;            /* a guest reboot ends QEMU (default: the guest reboots) */
} VmOptions;

/* Boots the image and waits for QEMU to end. Returns a negative errno on
 * failure (logged, naming the missing file or failed step), -ETIMEDOUT if the
 * timeout stopped QEMU, -EINTR if a signal did. Otherwise: with a payload, the
 * payload's exit status from the console line `berth: payload exited with
 * status N` (-EPROTO if the guest never printed it); without one, QEMU's exit
 * status (0 after a guest power-off). */
int vm_run(const VmOptions *o);
