/* SPDX-License-Identifier: MIT */
/* vm.h: `berth vm`, boots a composed image under QEMU. */
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
        unsigned timeout_s;      /* kill QEMU after this long, 0 = never */
        const char *disk_copy;   /* boot a copy of the disk here (keeps the output pristine) */
        const char *extra_cmdline;
} VmOptions;

int vm_run(const VmOptions *o);
