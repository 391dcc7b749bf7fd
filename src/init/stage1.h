/* SPDX-License-Identifier: MIT */
/* stage1.h: berth-init in the initramfs. Mounts the API file systems, loads
 * the modules, finds the usr pair of the slot from usrhash= and the root
 * partition on the same disk, opens dm-verity, mounts root on /sysroot and
 * /usr on /sysroot/usr, grows root on first boot (firstboot.h), mounts the
 * disk's ESP read-only on /efi, renders /etc from the factory tree and
 * switches root to exec the supervisor stage.
 *
 * Any failure prints one "berth: error: ... — rebooting" line on the console
 * and reboots after 5 s (halts with berth.debug.noreboot=1), so boot counting
 * can fall back to the other slot. Never a shell. */
#pragma once

#include "macro.h"

#define STAGE1_SYSROOT "/sysroot"
#define STAGE1_MODULES_LIST "/etc/berth/initrd-modules"
#define STAGE2_PATH "/usr/lib/berth/berth-init"
/* The ESP of the boot disk, read-only (the updater remounts it writable). */
#define ESP_MOUNTPOINT "/efi"

/* Runs the initramfs stage; never returns. */
_noreturn_ void stage1_main(void);
