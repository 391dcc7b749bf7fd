/* SPDX-License-Identifier: MIT */
/* firstboot.h: things done once per machine, on its first boot (or the first
 * boot that gets them done): growing the root partition, making the machine
 * ID, and later provisioning. Each task leaves a done-marker,
 * /var/lib/berth/firstboot/TASK, on the root partition; a task whose marker is
 * missing runs (again) at the next boot. Wiping /var makes the machine new.
 *
 * The boot on which the machine-id task runs is the machine's first boot:
 * stage 1 then leaves /run/berth/first-boot for what runs later in that boot
 * (docs/init.md). Needs only libc. */
#pragma once

#include <stdbool.h>

#define FIRSTBOOT_DIR "var/lib/berth/firstboot" /* relative to the root */
#define FIRSTBOOT_FLAG "/run/berth/first-boot"

#define FIRSTBOOT_TASK_GROWFS "growfs"
#define FIRSTBOOT_TASK_MACHINE_ID "machine-id"

/* True unless ROOT/var/lib/berth/firstboot/TASK exists. task: [a-z0-9-]+. */
bool firstboot_pending(const char *root, const char *task);

/* Records TASK as done for good: writes the marker (the boot ID and uptime
 * it was done at, for people) to a temporary name, fsyncs it, renames it and
 * fsyncs the directory, so a power cut leaves the task pending or done,
 * never half. */
int firstboot_done(const char *root, const char *task);
