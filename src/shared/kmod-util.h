/* SPDX-License-Identifier: MIT */
/* kmod-util.h: kernel modules with libkmod, the only place in berth that
 * calls it: the composer walks a module tree's dependencies for the initramfs,
 * berth-init loads modules by name or modalias. */
#pragma once

#include "macro.h"

typedef struct ModuleIndex ModuleIndex;

/* Opens the module indexes (modules.dep, modules.alias, modules.softdep ...).
 * moddir NULL: the running kernel's, with the machine's modprobe.d
 * configuration (blacklists); otherwise the indexes in moddir only, with no
 * configuration from the build host. -ENOENT if moddir has no indexes
 * (depmod was not run). */
int module_index_new(const char *moddir, ModuleIndex **ret);
ModuleIndex *module_index_free(ModuleIndex *idx);
DEFINE_TRIVIAL_CLEANUP_FUNC(ModuleIndex *, module_index_free);

/* name: the module name; path: its file, NULL when built into the kernel. */
typedef int (*module_visit_t)(const char *name, const char *path, void *userdata);

/* Calls visit once for every module NAME_OR_ALIAS resolves to and,
 * recursively, for their dependencies and soft dependencies (pre and post),
 * skipping names already in *seen (and adding the ones visited). Stops at the
 * first error visit returns. -ENOENT if NAME_OR_ALIAS matches nothing, -ELOOP
 * if dependencies nest deeper than 64. */
int module_index_walk(ModuleIndex *idx, const char *name_or_alias, char ***seen,
                      module_visit_t visit, void *userdata);

typedef enum ModuleLoadFlags {
        MODULE_LOAD_BLACKLIST = 1 << 0, /* honour modprobe.d blacklists (coldplug) */
        MODULE_LOAD_NEW_ONLY = 1 << 1,  /* skip modules already loaded */
} ModuleLoadFlags;

/* Limits module_load() to modules whose file path contains one of DIRS
 * ("/kernel/drivers/net/"), a NULL-terminated array that must outlive idx;
 * NULL lifts the limit. Dependencies of an allowed module load all the same. */
void module_index_set_only(ModuleIndex *idx, const char *const *dirs);

/* Loads the modules NAME_OR_ALIAS resolves to, with their dependencies.
 * Returns how many were inserted; 0 when it matches nothing (built in or not
 * shipped), when they were loaded already, or when the driver found no device
 * for it (-ENODEV, a driver for hardware this machine does not have). On
 * failure, a negative errno, and *ret_failed (if not NULL) points at the name
 * of the module that failed, valid until idx is freed. */
int module_load(ModuleIndex *idx, const char *name_or_alias, ModuleLoadFlags flags,
                const char **ret_failed);

/* 1 if the module NAME drives devices: one of its aliases is a bus's
 * (pci:..., virtio:..., acpi*:..., vmbus:...), which a device's modalias
 * matches; 0 if its aliases only name a file system or a device node
 * (fs-ext4, devname:...); a negative errno if it is built in or absent. */
int module_drives_devices(ModuleIndex *idx, const char *name);

/* Adds the names of the modules NAME_OR_ALIAS resolves to (not their
 * dependencies) to *names, each once. */
int module_resolve(ModuleIndex *idx, const char *name_or_alias, char ***names);
