/* SPDX-License-Identifier: MIT */
/* vm.h: `berth vm`, boots a composed image under QEMU: KVM when a probe shows it
 * works, TCG otherwise; UEFI (OVMF + systemd-boot from the image's ESP) by
 * default, direct kernel boot on request; the serial console on the terminal
 * or in a log file; an optional payload disk for tests. docs/vm.md has the
 * details and the guest-side contract. */
#pragma once

#include <stdbool.h>

#include "cidata.h"

typedef struct VmOptions {
        const char *image_dir;   /* a `berth build` output directory */
        bool direct;             /* direct kernel boot instead of UEFI + systemd-boot */
        bool secure_boot;        /* OVMF's Secure Boot build with SMM, the image's keys
                                  * enrolled in a new machine's variable store */
        bool setup_mode;         /* --secure-boot with an empty store: the firmware in setup
                                  * mode, the image's systemd-boot enrolls its keys */
        bool tpm;                /* a TPM 2.0 (swtpm, tpm-crb) */
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
        const char *qmp_socket;    /* QEMU's QMP monitor on this Unix socket, plus an empty
                                    * PCIe root port "hotplug0" for device_add */
        const char *user_data;     /* first-boot user data (JSON) as fw_cfg opt/berth/user-data */
        const char *cidata;        /* a config drive labelled CIDATA made from this file
                                    * (its user-data) or directory (cidata.h) */
        CidataFs cidata_fs;        /* vfat: a read-only virtio disk; iso9660: a CD-ROM */
        const char *api_socket;    /* the guest's API on this host Unix socket (a virtio-serial
                                    * port named org.berth.api, which berthd relays) */
} VmOptions;

/* Boots the image and waits for QEMU to end. Returns a negative errno on
 * failure (logged, naming the missing file or failed step), -ETIMEDOUT if the
 * timeout stopped QEMU, -EINTR if a signal did. Otherwise: with a payload, the
 * payload's exit status from the console line `berth: payload exited with
 * status N` (-EPROTO if the guest never printed it); without one, QEMU's exit
 * status (0 after a guest power-off). */
int vm_run(const VmOptions *o);

/* The plan step of vm_run, apart so that it can be tested without QEMU: checks
 * the options and the image, finds QEMU and the firmware, prepares the disk
 * overlay (or --disk-copy), the UEFI variable store, the payload image and the
 * fw_cfg command line in workdir, and picks the accelerator. It starts no
 * guest. Fills p (free with vm_plan_done) and returns 0, or a negative errno
 * (logged). */
typedef struct VmPlan {
        char *qemu;              /* the QEMU binary */
        const char *accel;       /* "kvm" or "tcg" (static) */
        char *disk;              /* what QEMU writes: an overlay or the --disk-copy */
        const char *disk_format; /* "qcow2" or "raw" (static) */
        char *fw_code; /* pflash unit 0, read-only; or the -bios image if fw_vars is NULL */
        char *fw_vars; /* template of the per-run variable store */
        char *vars;    /* the per-run variable store (or -bios copy); NULL: direct */
        char *kernel, *initrd, *append; /* direct boot only */
        char *payload;                  /* the payload disk image, or NULL */
        char *cidata;                   /* the config drive image, or NULL */
        char *fw_cmdline;               /* file with the words for opt/berth/cmdline, or NULL */
        char *tpm_dir;                  /* --tpm: swtpm's state directory */
        char *tpm_socket;               /* --tpm: swtpm's control socket, QEMU's chardev */
} VmPlan;

int vm_plan(const VmOptions *o, const char *workdir, VmPlan *p);
void vm_plan_done(VmPlan *p);
/* QEMU's argument vector for a plan (caller frees with strv_free). */
int vm_plan_argv(const VmOptions *o, const VmPlan *p, char ***ret);
