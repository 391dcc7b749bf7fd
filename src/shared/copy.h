/* SPDX-License-Identifier: MIT */
/* copy.h: the one recursive copy of berth: regular files, directories and
 * symlinks with their modes (and, on request, owners); other file types are
 * skipped. berth-init renders /etc from /usr/share/factory/etc with it, the
 * composer copies data/ files and spec [Files] Copy= with it. Needs only libc. */
#pragma once

#include <sys/types.h>

typedef enum CopyFlags {
        COPY_OWNER = 1 << 0, /* chown to the source's owner (EPERM is ignored) */
} CopyFlags;

/* Copies FROM to TO. FROM may be a directory (its contents go into TO, which
 * is created 0755 if missing; existing entries in TO are replaced, others
 * kept), a regular file or a symlink (TO is replaced). file_mode, when not 0,
 * is the mode of FROM itself if it is a regular file; everything else keeps
 * its own mode. Copies everything it can and returns the first error. */
int copy_tree(const char *from, const char *to, mode_t file_mode, CopyFlags flags);
