/* SPDX-License-Identifier: MIT */
/* modload.h: berth's kernel module loader (no libkmod). It reads depmod's
 * text indexes of a module tree (modules.dep, modules.alias,
 * modules.softdep, modules.builtin), resolves a module name or a device's
 * modalias to modules, and loads them with their dependencies first:
 * finit_module() for an ELF file, init_module() after decompression for an
 * xz one (the magic bytes decide, not the name: the initramfs stores its
 * modules decompressed under their .ko.xz names). The composer walks a
 * tree's dependencies with it and writes the initramfs's indexes;
 * berth-stage1 and berthd load modules with it. The index files are outside
 * input: a malformed line is an error naming its file and line (error.h). */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "macro.h"

typedef struct ModuleIndex ModuleIndex;

typedef enum ModuleFile {
        MODULE_FILE_DEP,     /* modules.dep: "PATH: DEPENDENCY-PATH ..." */
        MODULE_FILE_BUILTIN, /* modules.builtin: "kernel/.../NAME.ko" */
        MODULE_FILE_ALIAS,   /* modules.alias: "alias PATTERN NAME", PATTERN an fnmatch glob */
        MODULE_FILE_SOFTDEP, /* modules.softdep: "softdep NAME pre: NAME... post: NAME..." */
        _MODULE_FILE_MAX,
        _MODULE_FILE_INVALID = -EINVAL,
} ModuleFile;

/* "modules.dep", ... by ModuleFile. */
extern const char *const module_file_names[_MODULE_FILE_MAX];

/* Reads the indexes of moddir. moddir NULL: the running kernel's
 * (/lib/modules/$(uname -r)), and the kernel command line's module words
 * (NAME.PARAM= options, modprobe.blacklist=, module_blacklist=); a tree
 * without indexes there gives an empty index (nothing resolves). With a
 * moddir, -ENOENT if it has no modules.dep (depmod was not run). The other
 * files may be absent. */
int module_index_new(const char *moddir, ModuleIndex **ret);

/* The same from the files' texts (NUL-terminated; NULL for an absent file),
 * for a tree at moddir (NULL: no tree, module_load() cannot open files).
 * Messages name the files as moddir/modules.dep, ... */
int module_index_parse(const char *moddir, const char *const texts[_MODULE_FILE_MAX],
                       ModuleIndex **ret);

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

/* The index file WHICH, with only the lines of the modules NAMES (as
 * module_index_walk() adds them to *seen): what the initramfs, which holds
 * just those, needs. */
int module_index_format(ModuleIndex *idx, ModuleFile which, char *const *names, char **ret,
                        size_t *ret_size);

typedef enum ModuleLoadFlags {
        /* skip, quietly, modules on modprobe.blacklist= or module_blacklist=
         * (coldplug: the kernel would refuse the latter with a log line) */
        MODULE_LOAD_BLACKLIST = 1 << 0,
        MODULE_LOAD_NEW_ONLY = 1 << 1, /* skip modules already loaded */
} ModuleLoadFlags;

/* Limits module_load() to modules whose file path contains one of DIRS
 * ("/kernel/drivers/net/"), a NULL-terminated array that must outlive idx;
 * NULL lifts the limit. Dependencies of an allowed module load all the same. */
void module_index_set_only(ModuleIndex *idx, const char *const *dirs);

/* Loads the modules NAME_OR_ALIAS resolves to, each after its pre soft
 * dependencies and its dependencies (a dependency that fails fails the
 * module; a soft one does not), with the options the command line gives it.
 * Returns how many modules were inserted; 0 when it matches nothing (built
 * in or not shipped), when they were loaded already, or when the driver
 * found no device for it (-ENODEV, a driver for hardware this machine does
 * not have). On failure, a negative errno (the error object says which
 * module and why), and *ret_failed (if not NULL) points at the name of the
 * module that failed, valid until idx is freed. */
int module_load(ModuleIndex *idx, const char *name_or_alias, ModuleLoadFlags flags,
                const char **ret_failed);

/* 1 if the module NAME drives devices: one of its aliases is a bus's
 * (pci:..., virtio:..., acpi*:..., vmbus:...), which a device's modalias
 * matches; 0 if its aliases only name a file system or a device node
 * (fs-ext4, devname:...); -ENOENT if it is built in or absent. */
int module_drives_devices(ModuleIndex *idx, const char *name);

/* Adds the names of the modules NAME_OR_ALIAS resolves to (not their
 * dependencies) to *names, each once. */
int module_resolve(ModuleIndex *idx, const char *name_or_alias, char ***names);

/* What module_load() asks of the kernel; tests replace it. */
typedef struct ModuleKernel {
        /* Inserts module NAME from its open file (image NULL) or from memory
         * (fd -1). 0 or a negative errno (-EEXIST: loaded already). */
        int (*insert)(const char *name, int fd, const void *image, size_t size, const char *params,
                      void *userdata);
        /* > 0 if module NAME is in the kernel (live, loading), 0 if not. */
        int (*loaded)(const char *name, void *userdata);
        void *userdata;
} ModuleKernel;

/* NULL: the running kernel's (the default). */
void module_index_set_kernel(ModuleIndex *idx, const ModuleKernel *k);
/* The command line module_load() takes options and blacklists from (copied;
 * NULL: none). module_index_new(NULL) sets /proc/cmdline. */
int module_index_set_cmdline(ModuleIndex *idx, const char *cmdline);
