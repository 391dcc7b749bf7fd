/* SPDX-License-Identifier: MIT */
/* modules.h: kernel module loading for the initramfs with libkmod (modules.dep
 * and modules.softdep of /lib/modules/$(uname -r)). libkmod itself is
 * behind kmod-util.h. */
#pragma once

/* The modules the initramfs loads when /etc/berth/initrd-modules is absent. */
extern const char *const modules_initrd_default[];

/* Loads each module (with its dependencies and soft dependencies); modules
 * already loaded or built in are fine. Returns the number that failed to
 * load (each logged as a warning), or a negative errno if libkmod itself
 * can't start. */
int modules_load(const char *const *names);

/* Reads a list file (one name per line, '#' comments) and loads it; falls
 * back to modules_initrd_default if the file is absent. */
int modules_load_list_file(const char *path);

/* Loads the modules matching the modalias of every device in /sys/devices
 * (what udev does at coldplug). Returns how many were loaded. */
int modules_coldplug(void);

/* Loads every *.conf list in dir (modules-load.d format), in name order.
 * A missing dir is fine. Returns how many modules failed. */
int modules_load_dir(const char *dir);
