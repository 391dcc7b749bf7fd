/* SPDX-License-Identifier: MIT */
/* modules.h: what berth-init loads of kernel modules, and when: the
 * initramfs's list, the modules-load.d lists, coldplug. The loader itself
 * (depmod's indexes of /lib/modules/$(uname -r), dependencies, soft
 * dependencies, xz) is modload.h. */
#pragma once

#include <stdbool.h>

/* The modules the initramfs loads when /etc/berth/initrd-modules is absent. */
extern const char *const modules_initrd_default[];

/* Loads each module (with its dependencies and soft dependencies); modules
 * already loaded or built in are fine; a module on the kernel's
 * module_blacklist= is refused with a warning. Returns the number that failed to
 * load (each logged as a warning), or a negative errno if the module index
 * cannot be read. */
int modules_load(const char *const *names);

/* The module names of a list file in modules-load.d(5) format: one or more
 * names a line; empty lines and lines starting with '#' or ';' are ignored.
 * *ret_names is NULL for a file without names. -ENOENT if it is absent. */
int modules_read_list(const char *path, char ***ret_names);

/* True once what the modules are loaded for (the boot disk) is there. */
typedef bool (*modules_found_t)(void *userdata);

/* Loads the initramfs's modules: every one that drives no device (file
 * systems, device-mapper) and, of the device drivers, only those a present
 * device's modalias asks for, one at a time in list order, until found()
 * returns true (virtio_pci, then virtio_blk, and not the AHCI, NVMe or SCSI
 * stack of a machine whose disk is virtio). If found() is still false once
 * no present device asks for another one (a disk behind an asynchronous
 * SCSI or NVMe scan), the remaining drivers are loaded all the same. Returns
 * the number of modules that failed to load, or a negative errno. */
int modules_load_until(const char *const *names, modules_found_t found, void *userdata);

/* Reads a list file and loads it with modules_load_until(); falls back to
 * modules_initrd_default if the file is absent. */
int modules_load_list_file(const char *path, modules_found_t found, void *userdata);

/* Loads the modules matching the modalias of every device in /sys/devices
 * (what udev does at coldplug); with ONLY, just those whose file path
 * contains one of its strings (module_index_set_only()). Returns how many
 * were loaded. */
int modules_coldplug(const char *const *only);

/* The names of every *.conf list in dir, files in name order, each name
 * once. -ENOENT if dir is absent. */
int modules_read_dir(const char *dir, char ***ret_names);

/* Loads every *.conf list in dir (modules-load.d format), in name order, with
 * one module index. A missing dir is fine. Returns how many modules failed. */
int modules_load_dir(const char *dir);
